package locate

// axis cuts the interval [min, min + n/scale] into n equal slices and maps a
// coordinate to its slice. The mapping is monotonic (non-decreasing) in the
// coordinate for every float64, NaN aside, which is what makes the edge
// index and the raster exact: when a ≤ v ≤ b then slice(a) ≤ slice(v) ≤
// slice(b), so anything recorded in the slices from slice(a) to slice(b)
// is found again from any v between.
type axis struct {
	min   float64
	scale float64 // slices per unit
	last  int     // n − 1
}

// newAxis returns an axis of n slices over [lo, hi]. A degenerate interval
// gets a single slice.
func newAxis(lo, hi float64, n int) axis {
	if !(hi > lo) || n < 1 {
		return axis{min: lo}
	}
	return axis{min: lo, scale: float64(n) / (hi - lo), last: n - 1}
}

// slice returns the slice of v, clamped to [0, n−1]; NaN maps to 0.
func (a axis) slice(v float64) int {
	f := (v - a.min) * a.scale
	if !(f > 0) {
		return 0
	}
	if f >= float64(a.last) {
		return a.last
	}
	return int(f)
}

// n returns the number of slices.
func (a axis) n() int { return a.last + 1 }

// centre returns the middle of slice i.
func (a axis) centre(i int) float64 {
	if a.scale == 0 {
		return a.min
	}
	return a.min + (float64(i)+0.5)/a.scale
}
