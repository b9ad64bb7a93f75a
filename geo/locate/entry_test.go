package locate

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestEntryValidate(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"no geometry", Entry{ID: 1}, ""},
		{"empty polygon", Entry{ID: 1, Geometry: orb.MultiPolygon{{}}}, ""},
		{"square", Entry{ID: 1, Geometry: orb.MultiPolygon{{square}}}, ""},
		{"NaN x", Entry{ID: 2, Geometry: orb.MultiPolygon{{square}, {{{math.NaN(), 0}}}}}, "locate: entry 2: polygon 1 ring 0 point 0: non-finite coordinate"},
		{"infinite y in a hole", Entry{ID: 3, Geometry: orb.MultiPolygon{{square, {{1, 1}, {1, math.Inf(1)}}}}}, "locate: entry 3: polygon 0 ring 1 point 1: non-finite coordinate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.validate()
			if got := errString(err); got != tt.want {
				t.Errorf("validate = %q, want %q", got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFinite(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want bool
	}{{0, true}, {-1e308, true}, {math.MaxFloat64, true}, {math.SmallestNonzeroFloat64, true}, {math.NaN(), false}, {math.Inf(1), false}, {math.Inf(-1), false}} {
		if got := finite(tt.f); got != tt.want {
			t.Errorf("finite(%v) = %v, want %v", tt.f, got, tt.want)
		}
	}
}
