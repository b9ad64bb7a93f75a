package locate

import "math"

// ccwErrBound is Shewchuk's bound on the relative error of the
// floating-point orientation determinant: when |det| exceeds it times the
// sum of the magnitudes of the two products, the sign of det is exact.
const ccwErrBound = (3 + 16*epsilon) * epsilon

// epsilon is half an ulp of 1 (2^-53), the unit roundoff of float64.
const epsilon = 1.0 / (1 << 53)

// orient returns the exact sign of the orientation of the triangle (a, b, c):
// +1 when c lies left of the directed line a→b, -1 when it lies right and 0
// when the three points are collinear. A floating-point filter settles
// nearly every call; the rare close calls are recomputed exactly with
// error-free transformations (Shewchuk, "Adaptive Precision Floating-Point
// Arithmetic and Fast Robust Geometric Predicates", 1997). Inputs must be
// finite and of geographic magnitude (no overflow or underflow).
func orient(ax, ay, bx, by, cx, cy float64) int {
	// The conversions round each product, keeping the compiler from fusing
	// it into the subtraction (which the error bound does not cover).
	detleft := float64((ax - cx) * (by - cy))
	detright := float64((ay - cy) * (bx - cx))
	det := detleft - detright
	var detsum float64
	switch {
	case detleft > 0:
		if detright <= 0 {
			return sign(det)
		}
		detsum = detleft + detright
	case detleft < 0:
		if detright >= 0 {
			return sign(det)
		}
		detsum = -detleft - detright
	default:
		return sign(det)
	}
	bound := ccwErrBound * detsum
	if det >= bound || -det >= bound {
		return sign(det)
	}
	return orientExact(ax, ay, bx, by, cx, cy)
}

// orientExact evaluates the orientation determinant
//
//	ax·by − ax·cy − cx·by − ay·bx + ay·cx + cy·bx
//
// as an exact floating-point expansion and returns its sign.
func orientExact(ax, ay, bx, by, cx, cy float64) int {
	var t [12]float64
	t[0], t[1] = twoProduct(ax, by)
	t[2], t[3] = twoProduct(-ax, cy)
	t[4], t[5] = twoProduct(-cx, by)
	t[6], t[7] = twoProduct(-ay, bx)
	t[8], t[9] = twoProduct(ay, cx)
	t[10], t[11] = twoProduct(cy, bx)

	// Grow a nonoverlapping expansion one term at a time; its sign is the
	// sign of its most significant nonzero component.
	var h [12]float64
	for n, q := range t {
		for i := 0; i < n; i++ {
			q, h[i] = twoSum(q, h[i])
		}
		h[n] = q
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] != 0 {
			return sign(h[i])
		}
	}
	return 0
}

// twoProduct returns p = fl(a·b) and e with a·b = p + e exactly.
func twoProduct(a, b float64) (p, e float64) {
	p = float64(a * b)
	return p, math.FMA(a, b, -p)
}

// twoSum returns s = fl(a+b) and e with a+b = s + e exactly (Knuth).
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bv := s - a
	av := s - bv
	return s, (a - av) + (b - bv)
}

func sign(f float64) int {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}
