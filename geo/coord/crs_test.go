package coord

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    CRS
		wantErr bool
	}{
		{"wgs84", WGS84, false},
		{"WGS84", WGS84, false},
		{"gcj02", GCJ02, false},
		{"GcJ02", GCJ02, false},
		{" bd09 ", BD09, false},
		{"BD09", BD09, false},
		{"", 0, true},
		{"epsg:4326", 0, true},
		{"gcj-02", 0, true},
		{"bd09mc", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error", tc.in, got)
				}
				if !errors.Is(err, ErrUnknownCRS) {
					t.Errorf("error %v does not wrap ErrUnknownCRS", err)
				}
				for _, name := range []string{"coord:", "wgs84", "gcj02", "bd09"} {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error %q does not mention %q", err, name)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCRSString(t *testing.T) {
	cases := []struct {
		c    CRS
		want string
	}{
		{WGS84, "wgs84"},
		{GCJ02, "gcj02"},
		{BD09, "bd09"},
		{CRS(9), "CRS(9)"},
	}
	for _, tc := range cases {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%d.String() = %q, want %q", uint8(tc.c), got, tc.want)
		}
		if tc.c.Valid() != (tc.want != "CRS(9)") {
			t.Errorf("%v.Valid() = %v", tc.c, tc.c.Valid())
		}
	}
	var zero CRS
	if zero != WGS84 {
		t.Errorf("zero CRS is %v, want wgs84 (the API default)", zero)
	}
}

func TestCRSText(t *testing.T) {
	type req struct {
		CRS CRS `json:"crs"`
	}
	for _, c := range []CRS{WGS84, GCJ02, BD09} {
		b, err := json.Marshal(req{c})
		if err != nil {
			t.Fatal(err)
		}
		var back req
		if err := json.Unmarshal(b, &back); err != nil || back.CRS != c {
			t.Errorf("round trip of %v via %s = %v, %v", c, b, back.CRS, err)
		}
	}
	var r req
	if err := json.Unmarshal([]byte(`{"crs":"BD09"}`), &r); err != nil || r.CRS != BD09 {
		t.Errorf("unmarshal BD09 = %v, %v", r.CRS, err)
	}
	if err := json.Unmarshal([]byte(`{"crs":"mars"}`), &r); !errors.Is(err, ErrUnknownCRS) {
		t.Errorf("unmarshal mars: err = %v, want ErrUnknownCRS", err)
	}
	if _, err := json.Marshal(req{CRS(7)}); err == nil {
		t.Error("marshal CRS(7): want error")
	}
}
