package tiles

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
)

func tileOf(n int) *Tile { return &Tile{Gzip: make([]byte, n), Raw: n, ETag: fmt.Sprint(n)} }

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newCache(3 * (1000 + 8 + 128)) // room for three 1000-byte tiles with 8-byte keys
	b := tileBound(14, 0, 0)
	for i := range 3 {
		c.put(fmt.Sprintf("grids/%d", i), tileOf(1000), b, c.generation())
	}
	if _, ok := c.get("grids/0"); !ok { // touch 0 so 1 is the oldest
		t.Fatal("tile 0 missing")
	}
	c.put("grids/3", tileOf(1000), b, c.generation())
	if _, ok := c.get("grids/1"); ok {
		t.Fatal("least recently used tile kept")
	}
	for _, k := range []string{"grids/0", "grids/2", "grids/3"} {
		if _, ok := c.get(k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
}

func TestCacheInvalidatesByArea(t *testing.T) {
	c := newCache(1 << 20)
	// Two z14 tiles far apart, and the z10 tile that holds the first.
	near := tileBound(14, 13390, 6742)
	far := tileBound(14, 100, 100)
	parent := tileBound(10, 13390>>4, 6742>>4)
	c.put("a", tileOf(10), near, c.generation())
	c.put("b", tileOf(10), far, c.generation())
	c.put("p", tileOf(10), parent, c.generation())
	centre := near.Center()
	n := c.invalidate(orb.Bound{Min: centre, Max: centre})
	if n != 2 || c.len() != 1 {
		t.Fatalf("dropped %d, kept %d; want the tile and its parent dropped", n, c.len())
	}
	if _, ok := c.get("b"); !ok {
		t.Fatal("the far tile was dropped")
	}
}

func TestCacheRefusesARenderThatRacedAnInvalidation(t *testing.T) {
	c := newCache(1 << 20)
	gen := c.generation() // a render starts
	c.invalidate(orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}})
	c.put("late", tileOf(10), tileBound(14, 13390, 6742), gen) // and finishes after the change
	if _, ok := c.get("late"); ok {
		t.Fatal("a tile rendered before an invalidation was cached after it")
	}
	c.clear()
	if c.len() != 0 {
		t.Fatal("clear left tiles")
	}
}

func TestCheckTile(t *testing.T) {
	for _, tc := range []struct {
		z, x, y int
		ok      bool
	}{{0, 0, 0, true}, {22, 1<<22 - 1, 0, true}, {23, 0, 0, false}, {-1, 0, 0, false}, {3, 8, 0, false}, {3, 0, 8, false}, {3, -1, 0, false}} {
		if err := CheckTile(tc.z, tc.x, tc.y); (err == nil) != tc.ok {
			t.Errorf("%d/%d/%d: %v", tc.z, tc.x, tc.y, err)
		}
	}
}
