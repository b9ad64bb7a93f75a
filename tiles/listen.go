package tiles

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/paulmach/orb"

	"gridmap/geo"
	"gridmap/geo/store"
)

// Channel is the PostgreSQL notification channel the database triggers announce changes on.
const Channel = "gridmap_changes"

// Change is one announced change: the WGS84 box that changed.
type Change struct {
	BBox [4]float64 `json:"bbox"`
}

// Listen keeps a dedicated connection LISTENing on Channel and invalidates the cached tiles
// of each announced area until ctx ends. After a lost connection it empties the whole cache,
// since notifications may have been missed, and reconnects with backoff. ready, if not nil,
// is closed once the first LISTEN is in place.
func (s *Service) Listen(ctx context.Context, log *slog.Logger, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, log, func() {
			if first && ready != nil {
				close(ready)
			}
			if !first {
				s.InvalidateAll()
			}
			first = false
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("tile invalidation: listen connection lost; retrying", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Service) listenOnce(ctx context.Context, log *slog.Logger, listening func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return classify(err)
	}
	// The connection stays in LISTEN mode; it never goes back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("tiles: listen: %w", err)
	}
	listening()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("tiles: wait for notification: %w", err)
		}
		var ch Change
		if err := json.Unmarshal([]byte(n.Payload), &ch); err != nil {
			log.Warn("tile invalidation: bad payload; dropping the whole cache", "payload", n.Payload)
			s.InvalidateAll()
			continue
		}
		b := orb.Bound{Min: orb.Point{ch.BBox[0], ch.BBox[1]}, Max: orb.Point{ch.BBox[2], ch.BBox[3]}}
		dropped := s.Invalidate(b)
		log.Debug("tile invalidation", "bbox", ch.BBox, "dropped", dropped)
	}
}

// classify marks database outages so the API answers 503.
func classify(err error) error {
	if store.Unavailable(err) {
		return fmt.Errorf("%w: %w", geo.ErrUnavailable, err)
	}
	return err
}
