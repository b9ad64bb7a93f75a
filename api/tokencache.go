package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gridmap/geo/auth"
)

// tokenChannel is where the database announces revoked or changed API tokens.
const tokenChannel = "gridmap_tokens"

// tokenCache remembers resolved API tokens, but only while a LISTEN connection would tell
// it of a revocation: without a listener every request asks the database, so a revoked
// token stops working at once either way. The generation guards against a lookup that
// started before a flush storing what it found after it.
type tokenCache struct {
	mu   sync.Mutex
	live bool
	gen  uint64
	m    map[string]cachedToken
	max  int
	ttl  time.Duration
}

type cachedToken struct {
	p  auth.Principal
	at time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{m: map[string]cachedToken{}, max: 10000, ttl: 5 * time.Minute}
}

// get returns a cached principal, and the generation to hand back to put.
func (c *tokenCache) get(digest []byte) (auth.Principal, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(digest)]
	if !c.live || !ok || time.Since(e.at) > c.ttl {
		return auth.Principal{}, false, c.gen
	}
	return e.p, true, c.gen
}

func (c *tokenCache) put(digest []byte, p auth.Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		c.m = map[string]cachedToken{}
	}
	c.m[string(digest)] = cachedToken{p: p, at: time.Now()}
}

// flush forgets everything (a token changed, or the listener came or went).
func (c *tokenCache) flush() {
	c.mu.Lock()
	c.gen++
	c.m = map[string]cachedToken{}
	c.mu.Unlock()
}

func (c *tokenCache) setLive(live bool) {
	c.mu.Lock()
	c.live = live
	c.gen++
	c.m = map[string]cachedToken{}
	c.mu.Unlock()
}

// ListenTokens lets the server cache API token lookups until ctx ends: it LISTENs for
// token changes on a dedicated connection and drops the cache on each one, and stops
// caching while the connection is lost. ready, if not nil, is closed once listening.
func (s *Server) ListenTokens(ctx context.Context, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenTokensOnce(ctx, func() {
			if ready != nil {
				close(ready)
				ready = nil
			}
			backoff = 100 * time.Millisecond
		})
		s.tokens.setLive(false)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("tokens: listen connection lost; not caching tokens until it is back", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Server) listenTokensOnce(ctx context.Context, listening func()) error {
	conn, err := s.store.Pool().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("api: tokens: acquire listen connection: %w", err)
	}
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+tokenChannel); err != nil {
		return fmt.Errorf("api: tokens: listen: %w", err)
	}
	s.tokens.setLive(true)
	listening()
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("api: tokens: wait for notification: %w", err)
		}
		s.tokens.flush()
	}
}
