package tiles

import (
	"image"
	"image/draw"
	"math"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Glyph metrics and distance fields follow the convention MapLibre reads from glyph PBFs (the
// one node-fontnik established): glyphs drawn at 24 px per em, a 3 px buffer around each
// bitmap that width and height leave out, distances encoded within a radius of 8 px with a
// quarter of the range inside the outline, so the outline sits at 191.25 of 255.
// Oversampling 2× keeps the bytes within 2.6 on average (9 at worst) of an 8× field, at
// about 35 ms per CJK range of 256 glyphs; 4× halves the error at three times the cost.
const (
	glyphSize     = 24   // px per em
	glyphBuffer   = 3    // px around the bitmap; MapLibre adds 2×3 to width and height
	sdfRadius     = 8.0  // px of distance the bytes span
	sdfCutoff     = 0.25 // share of the range given to the inside
	sdfOversample = 2    // the outline is rasterised at 2× and the field averaged back down
	sdfFar        = 1e20 // "no seed here" in the squared-distance grids
)

// glyphBitmap is one rendered glyph in MapLibre's metrics: pixels at 24 px, left and top of
// the bitmap relative to the pen position and the baseline (top measured up, less the
// font's ascender as fontnik does), bitmap (width+6)×(height+6) bytes, rows top down.
type glyphBitmap struct {
	width, height int
	left, top     int
	advance       int
	bitmap        []byte // nil for a glyph without ink (a space)
}

// sdfScratch holds the buffers one goroutine reuses from glyph to glyph.
type sdfScratch struct {
	sfnt   sfnt.Buffer
	raster vector.Rasterizer
	alpha  image.Alpha
	outer  []float64
	inner  []float64
	f, d   []float64
	z      []float64
	v      []int
}

// renderGlyph draws glyph x of f as a signed distance field. ascender is the font's ascender
// in whole pixels at 24 px.
func renderGlyph(f *sfnt.Font, x sfnt.GlyphIndex, ascender int, s *sdfScratch) (glyphBitmap, error) {
	ppem := fixed.I(glyphSize)
	adv, err := f.GlyphAdvance(&s.sfnt, x, ppem, 0)
	if err != nil {
		return glyphBitmap{}, err
	}
	g := glyphBitmap{advance: max(0, int(math.Round(float64(adv)/64)))}
	segs, err := f.LoadGlyph(&s.sfnt, x, ppem, nil)
	if err != nil {
		return glyphBitmap{}, err
	}
	if len(segs) == 0 {
		return g, nil
	}
	// The outline's box in pixels (y down), rounded to whole pixels as fontnik does: the
	// bitmap then starts on the pixel grid and the outline keeps its sub-pixel position.
	box := segs.Bounds()
	x0 := int(math.Round(float64(box.Min.X) / 64))
	y0 := int(math.Round(float64(box.Min.Y) / 64))
	x1 := int(math.Round(float64(box.Max.X) / 64))
	y1 := int(math.Round(float64(box.Max.Y) / 64))
	g.width, g.height = max(1, x1-x0), max(1, y1-y0) // a hairline keeps one pixel
	g.left, g.top = x0, -y0-ascender
	w, h := g.width+2*glyphBuffer, g.height+2*glyphBuffer
	const k = sdfOversample
	W, H := w*k, h*k

	// Rasterise at k× with the outline's box corner at (buffer, buffer).
	dx, dy := float32(glyphBuffer-x0), float32(glyphBuffer-y0)
	pt := func(p fixed.Point26_6) (float32, float32) {
		return (float32(p.X)/64 + dx) * k, (float32(p.Y)/64 + dy) * k
	}
	z := &s.raster
	z.Reset(W, H)
	z.DrawOp = draw.Src
	for _, seg := range segs {
		ax, ay := pt(seg.Args[0])
		switch seg.Op {
		case sfnt.SegmentOpMoveTo:
			z.MoveTo(ax, ay)
		case sfnt.SegmentOpLineTo:
			z.LineTo(ax, ay)
		case sfnt.SegmentOpQuadTo:
			bx, by := pt(seg.Args[1])
			z.QuadTo(ax, ay, bx, by)
		case sfnt.SegmentOpCubeTo:
			bx, by := pt(seg.Args[1])
			cx, cy := pt(seg.Args[2])
			z.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	z.ClosePath()
	s.alpha.Pix = grow(s.alpha.Pix, W*H)
	s.alpha.Stride, s.alpha.Rect = W, image.Rect(0, 0, W, H)
	z.Draw(&s.alpha, s.alpha.Rect, image.Opaque, image.Point{})

	dist := s.distances(s.alpha.Pix, W, H)
	g.bitmap = make([]byte, w*h)
	for row := range h {
		for col := range w {
			// The signed distance at the pixel's centre: the mean over its k×k samples.
			var sum float64
			for j := range k {
				o := (row*k+j)*W + col*k
				for i := range k {
					sum += dist[o+i]
				}
			}
			d := sum / (k * k) / k // in output pixels, positive outside
			g.bitmap[row*w+col] = sdfByte(d)
		}
	}
	return g, nil
}

// sdfByte encodes a signed distance in pixels (positive outside the outline).
func sdfByte(d float64) byte {
	v := math.Round(255 - 255*(d/sdfRadius+sdfCutoff))
	return byte(min(255, max(0, v)))
}

// distances returns, for each sample of the coverage image, its signed Euclidean distance to
// the outline in samples, positive outside. Fully covered and empty samples seed the two
// transforms; partly covered ones seed both with their coverage as a sub-sample offset from
// the edge, which keeps the field smooth where a plain threshold would step.
func (s *sdfScratch) distances(cover []byte, w, h int) []float64 {
	n := w * h
	s.outer, s.inner = grow(s.outer, n), grow(s.inner, n)
	for i, c := range cover {
		switch c {
		case 255:
			s.outer[i], s.inner[i] = 0, sdfFar
		case 0:
			s.outer[i], s.inner[i] = sdfFar, 0
		default:
			e := 0.5 - float64(c)/255
			s.outer[i], s.inner[i] = 0, 0
			if e > 0 {
				s.outer[i] = e * e
			} else {
				s.inner[i] = e * e
			}
		}
	}
	s.transform(s.outer, w, h)
	s.transform(s.inner, w, h)
	for i := range n {
		s.outer[i] = math.Sqrt(s.outer[i]) - math.Sqrt(s.inner[i])
	}
	return s.outer
}

// transform turns a grid of squared seed distances into squared distances to the nearest
// seed, in place: the separable exact transform, columns then rows.
func (s *sdfScratch) transform(grid []float64, w, h int) {
	m := max(w, h)
	s.f, s.d = grow(s.f, m), grow(s.d, m)
	s.z, s.v = grow(s.z, m+1), grow(s.v, m)
	for x := range w {
		for y := range h {
			s.f[y] = grid[y*w+x]
		}
		s.lowerEnvelope(h)
		for y := range h {
			grid[y*w+x] = s.d[y]
		}
	}
	for y := range h {
		row := grid[y*w : (y+1)*w]
		copy(s.f, row)
		s.lowerEnvelope(w)
		copy(row, s.d[:w])
	}
}

// lowerEnvelope is the one-dimensional distance transform of Felzenszwalb and Huttenlocher
// ("Distance Transforms of Sampled Functions", 2012): d[q] = min over p of (q-p)² + f[p],
// found as the lower envelope of the parabolas rooted at each p.
func (s *sdfScratch) lowerEnvelope(n int) {
	f, d, z, v := s.f, s.d, s.z, s.v
	// intersect is where the parabolas rooted at p and q (p < q) cross.
	intersect := func(p, q int) float64 {
		return (f[q] + float64(q*q) - f[p] - float64(p*p)) / float64(2*(q-p))
	}
	k := 0
	v[0], z[0], z[1] = 0, math.Inf(-1), math.Inf(1)
	for q := 1; q < n; q++ {
		c := intersect(v[k], q)
		for c <= z[k] {
			k--
			c = intersect(v[k], q)
		}
		k++
		v[k], z[k], z[k+1] = q, c, math.Inf(1)
	}
	k = 0
	for q := range n {
		for z[k+1] < float64(q) {
			k++
		}
		r := float64(q - v[k])
		d[q] = r*r + f[v[k]]
	}
}

// grow returns b resized to n, reallocating only when its capacity is short.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}
