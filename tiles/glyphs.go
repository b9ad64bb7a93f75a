package tiles

import (
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/sync/singleflight"
	"google.golang.org/protobuf/encoding/protowire"

	"gridmap/geo"
)

// FontsEnv names the environment variable that lists the font files glyphs are drawn from,
// separated by colons, in order of preference.
const FontsEnv = "GRIDMAP_FONTS"

// DefaultFonts are Debian's paths of fonts that cover Chinese and Latin text;
// scripts/install-deps.sh installs the first (fonts-wqy-microhei).
func DefaultFonts() []string {
	return []string{
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	}
}

// ErrNoFonts is returned when none of the configured font files can be read.
var ErrNoFonts = errors.New("tiles: no usable font file")

// glyphCacheRanges is the default number of glyph ranges kept in memory: a CJK range is
// about 200 KiB.
const glyphCacheRanges = 64

// GlyphOptions tune the glyph service.
type GlyphOptions struct {
	// Fonts lists font files (TrueType, OpenType, or collections: the first face is used) in
	// order of preference; each glyph comes from the first font that has it. Empty: the
	// colon-separated list in $GRIDMAP_FONTS, or else DefaultFonts.
	Fonts []string
	// CacheRanges bounds the ranges kept in memory; 0 means 64.
	CacheRanges int
	Logger      *slog.Logger
}

// Glyphs serves the glyph ranges MapLibre asks for at glyphs URL …/{fontstack}/{range}.pbf.
// Whatever fonts a style names, the glyphs are drawn from the configured font files: the
// deployment has no font server, and every label should show rather than none.
type Glyphs struct {
	paths []string
	log   *slog.Logger
	group singleflight.Group

	mu    sync.Mutex
	fonts []glyphFont // loaded lazily; nil until a file could be read
	cache *rangeCache
}

// glyphFont is a parsed font with its ascender in whole pixels at 24 px.
type glyphFont struct {
	path     string
	font     *sfnt.Font
	ascender int
}

// GlyphRange is one encoded range: a glyphs protobuf and its strong ETag.
type GlyphRange struct {
	PBF  []byte
	ETag string
}

// NewGlyphs returns a glyph service. Fonts are read at the first request, so a missing file
// makes requests fail with ErrNoFonts rather than the server refuse to start.
func NewGlyphs(opts GlyphOptions) *Glyphs {
	paths := opts.Fonts
	if len(paths) == 0 {
		paths = FontPaths(os.Getenv(FontsEnv))
	}
	if opts.CacheRanges <= 0 {
		opts.CacheRanges = glyphCacheRanges
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Glyphs{paths: paths, log: opts.Logger, cache: newRangeCache(opts.CacheRanges)}
}

// FontPaths reads a colon-separated list of font files; an empty list gives DefaultFonts.
func FontPaths(list string) []string {
	var out []string
	for _, p := range filepath.SplitList(list) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return DefaultFonts()
	}
	return out
}

// ParseGlyphRange reads a range "start-end" as MapLibre requests it: start a multiple of 256,
// end = start+255, end ≤ 65535. It returns start.
func ParseGlyphRange(s string) (int, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	switch {
	case !ok || err1 != nil || err2 != nil || strings.Trim(a+b, "0123456789") != "":
		return 0, geo.Invalid("range", fmt.Sprintf("%q is not a glyph range such as 0-255", s))
	case start < 0 || start%256 != 0 || end != start+255:
		return 0, geo.Invalid("range", fmt.Sprintf("%q: a range is 256 code points from a multiple of 256, such as 256-511", s))
	case end > 65535:
		return 0, geo.Invalid("range", fmt.Sprintf("%q: glyph ranges end at 65535", s))
	}
	return start, nil
}

// maxFontstack bounds the fontstack name echoed into the protobuf.
const maxFontstack = 512

// Range returns the glyphs of code points start…start+255 for the fontstack (the
// comma-separated font names of a style's text-font, echoed in the answer).
func (g *Glyphs) Range(ctx context.Context, fontstack string, start int) (*GlyphRange, error) {
	if fontstack == "" || len(fontstack) > maxFontstack {
		return nil, geo.Invalid("fontstack", fmt.Sprintf("a font stack has 1–%d bytes", maxFontstack))
	}
	if start < 0 || start%256 != 0 || start > 65535-255 {
		return nil, geo.Invalid("range", fmt.Sprintf("%d is not the start of a glyph range (0, 256, … 65280)", start))
	}
	r, err := g.rendered(ctx, start)
	if err != nil {
		return nil, err
	}
	return r.encode(fontstack, start), nil
}

// renderedRange is a range's glyph messages, already encoded, shared by every fontstack.
type renderedRange struct {
	glyphs []byte // repeated field 3 of message fontstack
	hash   uint64
}

// rendered returns the range's glyphs from the cache, or renders them once however many
// requests ask at the same time. A caller that leaves stops waiting; the render goes on for
// the cache.
func (g *Glyphs) rendered(ctx context.Context, start int) (*renderedRange, error) {
	if r, ok := g.cache.get(start); ok {
		return r, nil
	}
	ch := g.group.DoChan(strconv.Itoa(start), func() (any, error) {
		if r, ok := g.cache.get(start); ok {
			return r, nil
		}
		fonts, err := g.loadFonts()
		if err != nil {
			return nil, err
		}
		r := g.renderRange(fonts, start)
		g.cache.put(start, r)
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*renderedRange), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("tiles: glyphs %d-%d: %w", start, start+255, ctx.Err())
	}
}

// loadFonts reads the configured font files once one of them can be read; until then it
// tries again at each call, so installing the font needs no restart.
func (g *Glyphs) loadFonts() ([]glyphFont, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fonts != nil {
		return g.fonts, nil
	}
	var fonts []glyphFont
	var errs []error
	for _, path := range g.paths {
		f, err := loadFont(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fonts = append(fonts, f)
	}
	if len(fonts) == 0 {
		return nil, fmt.Errorf("%w: set %s to font files (tried %s): %w",
			ErrNoFonts, FontsEnv, strings.Join(g.paths, ":"), errors.Join(errs...))
	}
	for _, err := range errs {
		g.log.Debug("glyphs: font skipped", "error", err)
	}
	g.log.Info("glyphs: fonts loaded", "first", fonts[0].path, "count", len(fonts))
	g.fonts = fonts
	return fonts, nil
}

// loadFont parses a TrueType or OpenType file or collection (its first face).
func loadFont(path string) (glyphFont, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return glyphFont{}, fmt.Errorf("tiles: font: %w", err)
	}
	f, err := parseFont(data)
	if err != nil {
		// Some fonts (WenQuanYi's among them) place tables off the four-byte boundaries
		// x/image/font/sfnt insists on; a copy with the tables realigned reads fine.
		aligned, aerr := realignFont(data)
		if aerr != nil {
			return glyphFont{}, fmt.Errorf("tiles: font %s: %w (realigning: %w)", path, err, aerr)
		}
		if f, err = parseFont(aligned); err != nil {
			return glyphFont{}, fmt.Errorf("tiles: font %s: %w", path, err)
		}
	}
	m, err := f.Metrics(nil, fixed.I(glyphSize), 0)
	if err != nil {
		return glyphFont{}, fmt.Errorf("tiles: font %s: metrics: %w", path, err)
	}
	// FreeType rounds the scaled ascender up to a whole pixel; fontnik subtracts it from top.
	asc := int(math.Ceil(float64(m.Ascent) / 64))
	return glyphFont{path: path, font: f, ascender: asc}, nil
}

func parseFont(data []byte) (*sfnt.Font, error) {
	c, err := sfnt.ParseCollection(data)
	if err != nil {
		return nil, err
	}
	return c.Font(0)
}

// realignFont copies the first face of a font or collection into a single font whose tables
// each start on a four-byte boundary. Offsets inside tables are relative to their table, so
// moving whole tables keeps the font intact.
func realignFont(data []byte) ([]byte, error) {
	u16 := func(o int) int { return int(binary.BigEndian.Uint16(data[o:])) }
	u32 := func(o int) int { return int(binary.BigEndian.Uint32(data[o:])) }
	if len(data) < 12 {
		return nil, errors.New("too short")
	}
	face := 0
	if string(data[:4]) == "ttcf" {
		if len(data) < 16 || u32(8) == 0 {
			return nil, errors.New("empty collection")
		}
		face = u32(12)
	}
	if face < 0 || face+12 > len(data) {
		return nil, errors.New("face offset out of range")
	}
	n := u16(face + 4)
	dir := face + 12
	if dir+16*n > len(data) {
		return nil, errors.New("table directory out of range")
	}
	size := 12 + 16*n
	for i := range n {
		size += (u32(dir+16*i+12) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	copy(out, data[face:face+12])
	for i := range n {
		rec := dir + 16*i
		off, length := u32(rec+8), u32(rec+12)
		if off < 0 || length < 0 || off+length > len(data) {
			return nil, fmt.Errorf("table %q out of range", data[rec:rec+4])
		}
		copy(out[12+16*i:], data[rec:rec+8]) // tag, checksum
		binary.BigEndian.PutUint32(out[12+16*i+8:], uint32(len(out)))
		binary.BigEndian.PutUint32(out[12+16*i+12:], uint32(length))
		out = append(out, data[off:off+length]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// renderRange draws every code point of the range that one of the fonts maps, each from the
// first font that draws it, and encodes them as glyph messages. A glyph no font can draw (a
// colour emoji, a broken outline) is left out, as MapLibre expects of a missing glyph.
func (g *Glyphs) renderRange(fonts []glyphFont, start int) *renderedRange {
	var s sdfScratch
	var out []byte
	for cp := start; cp < start+256; cp++ {
		for _, f := range fonts {
			x, err := f.font.GlyphIndex(&s.sfnt, rune(cp))
			if err != nil || x == 0 {
				continue
			}
			gl, err := renderGlyph(f.font, x, f.ascender, &s)
			if err != nil {
				g.log.Debug("glyphs: glyph skipped", "code_point", fmt.Sprintf("U+%04X", cp), "font", f.path, "error", err)
				continue
			}
			out = appendGlyph(out, uint32(cp), gl)
			break
		}
	}
	h := fnv.New64a()
	h.Write(out)
	return &renderedRange{glyphs: out, hash: h.Sum64()}
}

// encode wraps the range's glyphs in glyphs { fontstack { name, range, glyph… } }.
func (r *renderedRange) encode(fontstack string, start int) *GlyphRange {
	rng := fmt.Sprintf("%d-%d", start, start+255)
	inner := protowire.SizeTag(1) + protowire.SizeBytes(len(fontstack)) +
		protowire.SizeTag(2) + protowire.SizeBytes(len(rng)) + len(r.glyphs)
	b := make([]byte, 0, protowire.SizeTag(1)+protowire.SizeBytes(inner))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // glyphs.stacks
	b = protowire.AppendVarint(b, uint64(inner))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // fontstack.name
	b = protowire.AppendString(b, fontstack)
	b = protowire.AppendTag(b, 2, protowire.BytesType) // fontstack.range
	b = protowire.AppendString(b, rng)
	b = append(b, r.glyphs...) // fontstack.glyphs
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%016x", fontstack, rng, r.hash)
	return &GlyphRange{PBF: b, ETag: fmt.Sprintf(`"g%016x"`, h.Sum64())}
}

// appendGlyph appends field 3 of message fontstack: glyph { id = 1; bitmap = 2; width = 3;
// height = 4; left = 5 (sint32); top = 6 (sint32); advance = 7 }.
func appendGlyph(b []byte, id uint32, g glyphBitmap) []byte {
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, uint64(id))
	if g.bitmap != nil {
		m = protowire.AppendTag(m, 2, protowire.BytesType)
		m = protowire.AppendBytes(m, g.bitmap)
	}
	for _, f := range []struct {
		num protowire.Number
		v   uint64
	}{
		{3, uint64(g.width)},
		{4, uint64(g.height)},
		{5, protowire.EncodeZigZag(int64(g.left))},
		{6, protowire.EncodeZigZag(int64(g.top))},
		{7, uint64(g.advance)},
	} {
		m = protowire.AppendTag(m, f.num, protowire.VarintType)
		m = protowire.AppendVarint(m, f.v)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// rangeCache is an LRU of rendered glyph ranges, keyed by their first code point.
type rangeCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[int]*list.Element
}

type rangeEntry struct {
	start int
	r     *renderedRange
}

func newRangeCache(n int) *rangeCache {
	return &rangeCache{max: n, ll: list.New(), items: map[int]*list.Element{}}
}

func (c *rangeCache) get(start int) (*renderedRange, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[start]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*rangeEntry).r, true
}

func (c *rangeCache) put(start int, r *renderedRange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[start]; ok {
		el.Value.(*rangeEntry).r = r
		c.ll.MoveToFront(el)
		return
	}
	c.items[start] = c.ll.PushFront(&rangeEntry{start, r})
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		c.ll.Remove(el)
		delete(c.items, el.Value.(*rangeEntry).start)
	}
}

func (c *rangeCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
