package demo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gridmap/geo/demo"
)

// BenchmarkGenerateAndLoad times generation and the COPY load of a whole county into a fresh
// database, as `gridmap demo --households N` does. Run with -benchtime=1x for the 1M figure.
func BenchmarkGenerateAndLoad(b *testing.B) {
	for _, n := range []int{20000, 1000000} {
		b.Run(fmt.Sprintf("households=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st := pg.Store(b)
				b.StartTimer()
				t0 := time.Now()
				c, err := demo.Generate(demo.Options{Households: n, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				gen := time.Since(t0)
				if _, err := demo.Load(context.Background(), st.Pool(), c); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(gen.Seconds(), "generate-s")
				b.ReportMetric(time.Since(t0).Seconds(), "total-s")
				b.ReportMetric(float64(len(c.Grids)), "grids")
			}
		})
	}
}
