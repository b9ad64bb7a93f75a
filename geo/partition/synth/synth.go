// Package synth generates synthetic drawing instances for tests and benchmarks: urban
// districts (most points are houses of 1–3 households, 30% are apartment buildings of
// 20–120) and villages (single households clustered around centres and along roads), inside
// a wavy, non-convex boundary. Everything is deterministic in (n, seed).
package synth

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"gridmap/geo/partition"
)

// The generator's origin and the sphere it measures on.
const (
	Lon0        = 120.15
	Lat0        = 30.28
	earthRadius = 6371008.8
)

// At converts metres east and north of the origin to lon/lat.
func At(x, y float64) orb.Point {
	ky := earthRadius * math.Pi / 180
	kx := ky * math.Cos(Lat0*math.Pi/180)
	return orb.Point{Lon0 + x/kx, Lat0 + y/ky}
}

// Blob is a star-shaped, non-convex polygon of about the given area (m²) with a wavy
// outline of 64 vertices, centred on the origin.
func Blob(area float64, r *rand.Rand) orb.Polygon {
	const n = 64
	r0 := math.Sqrt(area / math.Pi)
	ph1, ph2 := r.Float64()*2*math.Pi, r.Float64()*2*math.Pi
	var ring orb.Ring
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / n
		rr := r0 * (1 + 0.18*math.Sin(3*a+ph1) + 0.08*math.Sin(7*a+ph2))
		ring = append(ring, At(rr*math.Cos(a), rr*math.Sin(a)))
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

// Inside samples a point uniformly inside the polygon.
func Inside(poly orb.Polygon, r *rand.Rand) orb.Point {
	b := poly.Bound()
	for {
		p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
		if contains(poly, p) {
			return p
		}
	}
}

func contains(poly orb.Polygon, p orb.Point) bool {
	in := false
	for _, rg := range poly {
		for i := 0; i+1 < len(rg); i++ {
			a, b := rg[i], rg[i+1]
			if (a[1] > p[1]) != (b[1] > p[1]) {
				if x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]); x > p[0] {
					in = !in
				}
			}
		}
	}
	return in
}

// Urban is an urban instance of n points, about 30 m apart: 70% weigh 1–3 households,
// 30% are buildings of 20–120; residents are 2–3 per household; band 300–500 households.
func Urban(n int, seed uint64) partition.Input {
	r := rand.New(rand.NewPCG(seed, 1))
	poly := Blob(float64(n)*900, r)
	pts := make([]partition.Point, n)
	for i := range pts {
		hh := 1 + r.IntN(3)
		if r.Float64() < 0.3 {
			hh = 20 + r.IntN(101)
		}
		pts[i] = partition.Point{Loc: Inside(poly, r), Households: hh, Residents: hh*2 + r.IntN(hh+1)}
	}
	return partition.Input{Boundary: orb.MultiPolygon{poly}, Points: pts, Min: 300, Max: 500, Seed: seed}
}

// Village is a rural instance of n single-household points clustered around centres (one
// per 150 households) and along east-west roads through them; band 10–15 households (a
// party member's group).
func Village(n int, seed uint64) partition.Input {
	r := rand.New(rand.NewPCG(seed, 2))
	area := float64(n) * 2500
	poly := Blob(area, r)
	b := poly.Bound()
	nc := max(1, n/150)
	centres := make([]orb.Point, nc)
	for i := range centres {
		centres[i] = Inside(poly, r)
	}
	spread := 0.25 * math.Sqrt(area/float64(nc))
	ky := earthRadius * math.Pi / 180
	kx := ky * math.Cos(Lat0*math.Pi/180)
	pts := make([]partition.Point, 0, n)
	for len(pts) < n {
		c := centres[r.IntN(nc)]
		var p orb.Point
		if r.Float64() < 0.4 {
			p = orb.Point{c[0] + (r.Float64()-0.5)*4*spread/kx, c[1] + r.NormFloat64()*8/ky}
		} else {
			p = orb.Point{c[0] + r.NormFloat64()*spread/kx, c[1] + r.NormFloat64()*spread/ky}
		}
		if !b.Contains(p) || !contains(poly, p) {
			continue
		}
		pts = append(pts, partition.Point{Loc: p, Households: 1, Residents: 1 + r.IntN(5)})
	}
	return partition.Input{Boundary: orb.MultiPolygon{poly}, Points: pts, Min: 10, Max: 15, Seed: seed}
}
