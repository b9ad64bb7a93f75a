package partition

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap samples the live heap every millisecond while f runs and returns
// the highest value above the heap at the start, in MB.
func peakHeap(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms)
	p := max(peak.Load(), ms.HeapAlloc)
	if p < base {
		return 0
	}
	return float64(p-base) / (1 << 20)
}

func benchDraw(b *testing.B, gen func(int, uint64) Input, n int) {
	in := gen(n, 42)
	var res *Result
	var err error
	// one measured run for the peak heap, outside the timed loop
	mb := peakHeap(func() { res, err = Draw(context.Background(), in) })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res, err = Draw(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s := res.Summary
	b.ReportMetric(float64(s.Grids), "grids")
	b.ReportMetric(s.PctInBand, "pct_in_band")
	b.ReportMetric(s.MeanPP, "mean_pp")
	b.ReportMetric(s.MinPP, "min_pp")
	b.ReportMetric(mb, "MB")
}

func BenchmarkDraw(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("urban-%d", n), func(b *testing.B) { benchDraw(b, urban, n) })
		b.Run(fmt.Sprintf("village-%d", n), func(b *testing.B) { benchDraw(b, village, n) })
	}
}
