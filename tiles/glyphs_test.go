package tiles

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"gridmap/geo"
)

// testGlyphs returns a glyph service over the installed fonts, skipping when none is there
// (scripts/install-deps.sh installs fonts-wqy-microhei).
func testGlyphs(t testing.TB) *Glyphs {
	t.Helper()
	for _, p := range FontPaths(os.Getenv(FontsEnv)) {
		if _, err := os.Stat(p); err == nil {
			return NewGlyphs(GlyphOptions{Fonts: []string{p}})
		}
	}
	t.Skip("no CJK font installed; run scripts/install-deps.sh or set " + FontsEnv)
	return nil
}

// pbGlyph is a decoded glyph message.
type pbGlyph struct {
	id, width, height, advance uint32
	left, top                  int32
	bitmap                     []byte
	hasBitmap                  bool
}

type pbStack struct {
	name, rng string
	glyphs    map[rune]pbGlyph
}

// decodeGlyphs reads a glyphs protobuf with protowire, independently of the encoder.
func decodeGlyphs(t testing.TB, b []byte) []pbStack {
	t.Helper()
	var stacks []pbStack
	fields(t, b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) {
		if num != 1 || typ != protowire.BytesType {
			t.Fatalf("glyphs: unexpected field %d type %d", num, typ)
		}
		s := pbStack{glyphs: map[rune]pbGlyph{}}
		fields(t, raw, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) {
			switch num {
			case 1:
				s.name = string(raw)
			case 2:
				s.rng = string(raw)
			case 3:
				var g pbGlyph
				seen := map[protowire.Number]bool{}
				fields(t, raw, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) {
					seen[num] = true
					switch num {
					case 1:
						g.id = uint32(v)
					case 2:
						g.bitmap, g.hasBitmap = raw, true
					case 3:
						g.width = uint32(v)
					case 4:
						g.height = uint32(v)
					case 5:
						g.left = int32(protowire.DecodeZigZag(v))
					case 6:
						g.top = int32(protowire.DecodeZigZag(v))
					case 7:
						g.advance = uint32(v)
					default:
						t.Fatalf("glyph: unexpected field %d", num)
					}
				})
				for _, req := range []protowire.Number{1, 3, 4, 5, 6, 7} {
					if !seen[req] {
						t.Fatalf("glyph %d: required field %d missing", g.id, req)
					}
				}
				if _, dup := s.glyphs[rune(g.id)]; dup {
					t.Fatalf("glyph %d twice", g.id)
				}
				s.glyphs[rune(g.id)] = g
			default:
				t.Fatalf("fontstack: unexpected field %d", num)
			}
		})
		stacks = append(stacks, s)
	})
	return stacks
}

func fields(t testing.TB, b []byte, fn func(protowire.Number, protowire.Type, uint64, []byte)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				t.Fatalf("varint: %v", protowire.ParseError(n))
			}
			fn(num, typ, v, nil)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatalf("bytes: %v", protowire.ParseError(n))
			}
			fn(num, typ, 0, v)
			b = b[n:]
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
	}
}

func oneStack(t testing.TB, r *GlyphRange, name, rng string) pbStack {
	t.Helper()
	stacks := decodeGlyphs(t, r.PBF)
	if len(stacks) != 1 {
		t.Fatalf("%d fontstacks, want 1", len(stacks))
	}
	s := stacks[0]
	if s.name != name || s.rng != rng {
		t.Fatalf("fontstack %q range %q, want %q %q", s.name, s.rng, name, rng)
	}
	return s
}

// checkGlyph checks the metrics MapLibre relies on and the distance field's shape: bytes
// above the edge value (191) inside, well below it in the bitmap's corners, which lie at
// least the 3 px buffer outside the outline's box.
func checkGlyph(t *testing.T, s pbStack, r rune) pbGlyph {
	t.Helper()
	g, ok := s.glyphs[r]
	if !ok {
		t.Fatalf("glyph %q (U+%04X) missing from %s", r, r, s.rng)
	}
	if g.advance == 0 || g.width == 0 || g.height == 0 || g.width > 40 || g.height > 40 {
		t.Fatalf("glyph %q: advance %d, %d×%d", r, g.advance, g.width, g.height)
	}
	w, h := int(g.width)+2*glyphBuffer, int(g.height)+2*glyphBuffer
	if len(g.bitmap) != w*h {
		t.Fatalf("glyph %q: bitmap %d bytes, want (%d+6)×(%d+6) = %d", r, len(g.bitmap), g.width, g.height, w*h)
	}
	// The bitmap's top sits on or above the baseline, below the font's line top.
	if g.top > 0 || g.top < -glyphSize {
		t.Fatalf("glyph %q: top %d", r, g.top)
	}
	var max byte
	for _, v := range g.bitmap {
		max = maxByte(max, v)
	}
	if max <= 192 {
		t.Fatalf("glyph %q: no pixel well inside (max %d)", r, max)
	}
	for _, i := range []int{0, w - 1, (h-1)*w + 0, h*w - 1} {
		if g.bitmap[i] > 128 {
			t.Fatalf("glyph %q: corner %d = %d, want outside", r, i, g.bitmap[i])
		}
	}
	return g
}

func maxByte(a, b byte) byte {
	if a > b {
		return a
	}
	return b
}

func TestGlyphsLatin(t *testing.T) {
	g := testGlyphs(t)
	r, err := g.Range(context.Background(), "Noto Sans Regular", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := oneStack(t, r, "Noto Sans Regular", "0-255")
	a := checkGlyph(t, s, 'A')
	// 'A' stands on the baseline: its bottom (top - height, measured up from the line top
	// less the ascender) is the same for 'A' and 'H'; 'g' descends further.
	hg := checkGlyph(t, s, 'H')
	gg := checkGlyph(t, s, 'g')
	if a.top-int32(a.height) != hg.top-int32(hg.height) {
		t.Errorf("A bottom %d, H bottom %d", a.top-int32(a.height), hg.top-int32(hg.height))
	}
	if gg.top-int32(gg.height) >= hg.top-int32(hg.height) {
		t.Errorf("g does not descend below H: %d vs %d", gg.top-int32(gg.height), hg.top-int32(hg.height))
	}
	// Far outside is 0: the top-left corner of 'A' is more than 6 px (radius × (1 − cutoff))
	// from its slanted strokes.
	if a.bitmap[0] > 8 {
		t.Errorf("A top-left corner %d, want ≈0", a.bitmap[0])
	}
	if a.advance < 10 || a.advance > 24 {
		t.Errorf("A advance %d px at 24 px", a.advance)
	}
	sp, ok := s.glyphs[' ']
	if !ok {
		t.Fatal("no space glyph")
	}
	if sp.advance == 0 || sp.hasBitmap || sp.width != 0 || sp.height != 0 {
		t.Fatalf("space: %+v", sp)
	}
}

func TestGlyphsCJK(t *testing.T) {
	g := testGlyphs(t)
	ctx := context.Background()
	r, err := g.Range(ctx, "Noto Sans Regular,Arial Unicode MS Regular", 32512)
	if err != nil {
		t.Fatal(err)
	}
	s := oneStack(t, r, "Noto Sans Regular,Arial Unicode MS Regular", "32512-32767")
	wang := checkGlyph(t, s, '网')
	if wang.advance < 20 || wang.advance > 26 {
		t.Errorf("网 advance %d, want about one em (24)", wang.advance)
	}
	// 网's frame fills its box, so the bitmap's corner pixel centre is 2.5 px from the box's
	// corner on each axis: 2.5·√2 px outside, byte 255 − 255·(3.54/8 + 0.25) ≈ 78.
	if c := wang.bitmap[0]; c < 70 || c > 86 {
		t.Errorf("网 corner %d, want ≈78", c)
	}
	// The field grows monotonically into the glyph: along the middle row, from the left edge
	// of the bitmap, bytes rise to above the edge value before the first stroke is crossed.
	w := int(wang.width) + 2*glyphBuffer
	mid := (int(wang.height) + 2*glyphBuffer) / 2
	row := wang.bitmap[mid*w : (mid+1)*w]
	i := 0
	for i+1 < len(row) && row[i+1] >= row[i] && row[i] < 192 {
		i++
	}
	if row[0] > 128 || row[i] < 192 {
		t.Errorf("middle row of 网 does not rise from ~0 to inside: %v", row)
	}

	// A second request is a cache hit: the same bytes and ETag.
	again, err := g.Range(ctx, "Noto Sans Regular,Arial Unicode MS Regular", 32512)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.PBF, r.PBF) || again.ETag != r.ETag || g.cache.len() != 1 {
		t.Fatalf("second request differs (etag %s vs %s, cache %d)", again.ETag, r.ETag, g.cache.len())
	}
	// Another fontstack shares the rendered range but has its own name and ETag.
	other, err := g.Range(ctx, "Open Sans Bold", 32512)
	if err != nil {
		t.Fatal(err)
	}
	oneStack(t, other, "Open Sans Bold", "32512-32767")
	if other.ETag == r.ETag || g.cache.len() != 1 {
		t.Fatalf("other fontstack: etag %s, cache %d", other.ETag, g.cache.len())
	}
}

// TestGlyphsConcurrent: simultaneous requests for a range render it once and agree.
func TestGlyphsConcurrent(t *testing.T) {
	g := testGlyphs(t)
	const n = 8
	got := make([]*GlyphRange, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := g.Range(context.Background(), "Noto Sans Regular", 256)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = r
		})
	}
	wg.Wait()
	for _, r := range got[1:] {
		if r == nil || got[0] == nil || !bytes.Equal(r.PBF, got[0].PBF) || r.ETag != got[0].ETag {
			t.Fatal("concurrent requests disagree")
		}
	}
	if g.cache.len() != 1 {
		t.Fatalf("cache holds %d ranges", g.cache.len())
	}
	if _, err := g.Range(context.Background(), "Noto Sans Regular", 100); err == nil {
		t.Fatal("start 100 accepted")
	}
}

// TestRangeCacheEvicts: the cache keeps the most recently used ranges only.
func TestRangeCacheEvicts(t *testing.T) {
	c := newRangeCache(2)
	for _, start := range []int{0, 256, 0, 512} { // 0 is used again, so 256 goes
		c.put(start, &renderedRange{})
		c.get(0)
	}
	if _, ok := c.get(256); ok || c.len() != 2 {
		t.Fatalf("256 kept or len %d", c.len())
	}
	if _, ok := c.get(0); !ok {
		t.Fatal("0 evicted")
	}
}

func TestSDFByte(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want byte
	}{
		{0, 191},  // on the outline: 255·(1−cutoff)
		{-2, 255}, // 2 px inside: clamped
		{-1, 223}, // 1 px inside
		{6, 0},    // radius·(1−cutoff) outside and beyond: 0
		{2, 128},  // 2 px outside
		{100, 0},  // far outside
		{-100, 255} /* far inside */} {
		if got := sdfByte(c.d); got != c.want {
			t.Errorf("sdfByte(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

// TestDistances checks the transform on a square: distances exact along rows and columns.
func TestDistances(t *testing.T) {
	const n = 21
	cover := make([]byte, n*n)
	for y := 8; y < 13; y++ {
		for x := 8; x < 13; x++ {
			cover[y*n+x] = 255
		}
	}
	var s sdfScratch
	d := s.distances(cover, n, n)
	for _, c := range []struct {
		x, y int
		want float64
	}{
		{10, 10, -3}, // centre: 3 samples to the nearest outside sample
		{8, 10, -1},
		{7, 10, 1},
		{0, 10, 8},
		{4, 4, 5.656854249492381}, // diagonal to the corner sample (8,8)
	} {
		if got := d[c.y*n+c.x]; got != c.want {
			t.Errorf("distance at (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestParseGlyphRange(t *testing.T) {
	for s, want := range map[string]int{"0-255": 0, "256-511": 256, "32512-32767": 32512, "65280-65535": 65280} {
		got, err := ParseGlyphRange(s)
		if err != nil || got != want {
			t.Errorf("ParseGlyphRange(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "0-256", "1-256", "256-255", "-256--1", "65536-65791", "a-b", "0-255-511", " 0-255", "+0-255", "0-+255"} {
		_, err := ParseGlyphRange(s)
		var in *geo.InputError
		if !errors.As(err, &in) || in.Field != "range" {
			t.Errorf("ParseGlyphRange(%q): %v, want an invalid range", s, err)
		}
	}
}

func TestGlyphsNoFont(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.ttf")
	g := NewGlyphs(GlyphOptions{Fonts: []string{missing}})
	_, err := g.Range(context.Background(), "Noto Sans Regular", 0)
	if !errors.Is(err, ErrNoFonts) {
		t.Fatalf("err %v, want ErrNoFonts", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(FontsEnv)) {
		t.Fatalf("error does not name %s: %v", FontsEnv, err)
	}
	if _, err := g.Range(context.Background(), "", 0); err == nil {
		t.Fatal("empty fontstack accepted")
	}
}

func TestFontPaths(t *testing.T) {
	if got := FontPaths(""); len(got) == 0 || got[0] != DefaultFonts()[0] {
		t.Errorf("FontPaths(\"\") = %v", got)
	}
	if got := FontPaths("/a.ttf::/b.otf"); len(got) != 2 || got[0] != "/a.ttf" || got[1] != "/b.otf" {
		t.Errorf("FontPaths = %v", got)
	}
}

func BenchmarkGlyphRangeCJK(b *testing.B) {
	g := testGlyphs(b)
	fonts, err := g.loadFonts()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.renderRange(fonts, 32512)
	}
}
