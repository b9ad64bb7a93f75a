// Package loadgen drives an operation from several goroutines for a fixed time and reports
// its rate and latency percentiles: the closed-loop load the benchmark helpers under
// scripts/ use to time the database floor.
package loadgen

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a run measured.
type Result struct {
	Done     int
	Duration time.Duration
	P50, P99 time.Duration
}

// Rate is operations per second.
func (r Result) Rate() float64 { return float64(r.Done) / r.Duration.Seconds() }

// String prints "N req/s p50 X ms p99 Y ms".
func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s p50 %.2f ms p99 %.2f ms", r.Rate(), ms(r.P50), ms(r.P99))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run calls op(i) with increasing i from conc goroutines until dur has passed. Any failed
// operation fails the run.
func Run(conc int, dur time.Duration, op func(i int) error) (Result, error) {
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<14)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(int(next.Add(1))); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return Result{}, fmt.Errorf("loadgen: %d operations failed, the first: %v", n, firstErr.Load())
	}
	if len(lat) == 0 {
		return Result{}, fmt.Errorf("loadgen: no operation finished in %s", dur)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Done: len(lat), Duration: dur, P50: lat[len(lat)/2], P99: lat[len(lat)*99/100]}, nil
}
