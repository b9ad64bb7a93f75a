package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/singleflight"

	"gridmap/geo"
)

// Tile is a rendered tile with a strong ETag. Tiles smaller than gzipMin are kept as they
// are (Plain): compressing them costs more time than the bytes it saves. Larger ones are
// kept gzipped (Gzip). An empty tile has neither.
type Tile struct {
	Gzip  []byte
	Plain []byte
	ETag  string
	Raw   int // size before compression
}

// gzipMin is the smallest tile worth compressing.
const gzipMin = 1400

// Empty reports whether the tile holds no feature.
func (t *Tile) Empty() bool { return t.Raw == 0 }

// Options tune the service.
type Options struct {
	// CacheBytes bounds the in-process cache of gzipped tiles; 0 disables it.
	CacheBytes int64
}

// Service renders tiles from PostGIS and caches them.
type Service struct {
	pool   *pgxpool.Pool
	layers map[string]*Layer
	order  []string
	cache  *cache // nil when disabled
	group  singleflight.Group
	gzips  sync.Pool // *gzip.Writer: a new one allocates ~1 MB, more than a tile costs to render
}

// New returns a tile service over the pool.
func New(pool *pgxpool.Pool, opts Options) *Service {
	s := &Service{pool: pool, layers: map[string]*Layer{}}
	for _, l := range Layers() {
		l := l
		s.layers[l.Name] = &l
		s.order = append(s.order, l.Name)
	}
	if opts.CacheBytes > 0 {
		s.cache = newCache(opts.CacheBytes)
	}
	return s
}

// Layer returns a layer by name.
func (s *Service) Layer(name string) (*Layer, bool) {
	l, ok := s.layers[name]
	return l, ok
}

// LayerNames lists the layers in drawing order.
func (s *Service) LayerNames() []string { return append([]string(nil), s.order...) }

// ParseLayers reads "grids,households" into known layer names, deduplicated, in the order
// asked. An unknown layer is geo.ErrNotFound.
func (s *Service) ParseLayers(list string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		if _, ok := s.layers[name]; !ok {
			return nil, geo.NotFound("layer", name+" (layers: "+strings.Join(s.order, ", ")+")")
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// CheckTile validates z/x/y: 0 ≤ z ≤ MaxZoom and 0 ≤ x, y < 2^z.
func CheckTile(z, x, y int) error {
	if z < 0 || z > MaxZoom {
		return geo.Invalid("z", fmt.Sprintf("zoom %d is outside 0–%d", z, MaxZoom))
	}
	n := 1 << z
	if x < 0 || x >= n {
		return geo.Invalid("x", fmt.Sprintf("x %d is outside 0–%d at zoom %d", x, n-1, z))
	}
	if y < 0 || y >= n {
		return geo.Invalid("y", fmt.Sprintf("y %d is outside 0–%d at zoom %d", y, n-1, z))
	}
	return nil
}

// Get returns the tile of the layers at z/x/y, from the cache when it holds it. scope
// limits the rows of scoped (non-public) layers to those subtrees; nil means everything.
func (s *Service) Get(ctx context.Context, layers []string, z, x, y int, scope []string) (*Tile, error) {
	if err := CheckTile(z, x, y); err != nil {
		return nil, err
	}
	scopeKey := "*"
	if scope != nil && s.anyScoped(layers) {
		sorted := append([]string(nil), scope...)
		sort.Strings(sorted)
		scopeKey = "[" + strings.Join(sorted, ",") + "]"
	} else {
		scope = nil
	}
	key := fmt.Sprintf("%s/%d/%d/%d/%s", strings.Join(layers, ","), z, x, y, scopeKey)
	if s.cache != nil {
		if t, ok := s.cache.get(key); ok {
			return t, nil
		}
	}
	// Concurrent misses of one tile render it once; the render outlives a client that leaves
	// only as long as another still waits for it.
	v, err, _ := s.group.Do(key, func() (any, error) {
		gen := s.cacheGen()
		t, err := s.render(ctx, layers, z, x, y, scope)
		if err == nil && s.cache != nil {
			s.cache.put(key, t, tileBound(z, x, y), gen)
		}
		return t, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*Tile), nil
}

func (s *Service) cacheGen() uint64 {
	if s.cache == nil {
		return 0
	}
	return s.cache.generation()
}

// Render builds the tile in PostGIS without the cache.
func (s *Service) render(ctx context.Context, layers []string, z, x, y int, scope []string) (*Tile, error) {
	var raw []byte
	for _, name := range layers {
		l := s.layers[name]
		q := l.query(z)
		if q == "" {
			continue
		}
		args := []any{z, x, y}
		if l.Scoped {
			args = append(args, scope)
		}
		var mvt []byte
		if err := s.pool.QueryRow(ctx, q, args...).Scan(&mvt); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("tiles: render %s %d/%d/%d: %w", name, z, x, y, classify(err))
		}
		raw = append(raw, mvt...) // MVT layers concatenate into one tile
	}
	t := &Tile{Raw: len(raw)}
	if len(raw) == 0 {
		return t, nil
	}
	h := fnv.New64a()
	h.Write(raw)
	t.ETag = fmt.Sprintf(`"%016x"`, h.Sum64())
	if len(raw) < gzipMin {
		t.Plain = raw
		return t, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	} else {
		zw.Reset(&buf)
	}
	zw.Write(raw)
	err := zw.Close()
	s.gzips.Put(zw)
	if err != nil {
		return nil, fmt.Errorf("tiles: gzip: %w", err)
	}
	t.Gzip = buf.Bytes()
	return t, nil
}

func (s *Service) anyScoped(layers []string) bool {
	for _, name := range layers {
		if s.layers[name].Scoped {
			return true
		}
	}
	return false
}

// Invalidate drops the cached tiles that overlap the WGS84 box.
func (s *Service) Invalidate(b orb.Bound) int {
	if s.cache == nil {
		return 0
	}
	return s.cache.invalidate(b)
}

// InvalidateAll empties the cache (after missed notifications).
func (s *Service) InvalidateAll() {
	if s.cache != nil {
		s.cache.clear()
	}
}

// CacheLen is the number of cached tiles.
func (s *Service) CacheLen() int {
	if s.cache == nil {
		return 0
	}
	return s.cache.len()
}

// tileBound is the tile's WGS84 box with the 64/4096 render buffer.
func tileBound(z, x, y int) orb.Bound {
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)).Bound(64.0 / 4096)
}
