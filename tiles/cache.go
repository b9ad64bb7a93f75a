package tiles

import (
	"container/list"
	"sync"

	"github.com/paulmach/orb"
)

// cache is an LRU of rendered tiles bounded in bytes. Each entry keeps its WGS84 box so an
// area can be invalidated; a generation counter keeps a render that raced an invalidation
// from being stored.
type cache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	gen   uint64
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key   string
	tile  *Tile
	bound orb.Bound
}

func newCache(maxBytes int64) *cache {
	return &cache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

func entrySize(e *cacheEntry) int64 {
	return int64(len(e.tile.Gzip) + len(e.tile.Plain) + len(e.key) + 128)
}

func (c *cache) get(key string) (*Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).tile, true
}

func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores the tile unless an invalidation happened since generation gen was read.
func (c *cache) put(key string, t *Tile, b orb.Bound, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	e := &cacheEntry{key, t, b}
	c.items[key] = c.ll.PushFront(e)
	c.size += entrySize(e)
	for c.size > c.max && c.ll.Len() > 0 {
		c.remove(c.ll.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.size -= entrySize(e)
}

// invalidate drops every tile whose box meets b and returns how many.
func (c *cache) invalidate(b orb.Bound) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*cacheEntry).bound.Intersects(b) {
			c.remove(el)
			n++
		}
		el = next
	}
	return n
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.ll.Init()
	c.items = map[string]*list.Element{}
	c.size = 0
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
