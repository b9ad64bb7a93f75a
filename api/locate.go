package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/locate"
	"gridmap/geo/store"
	"gridmap/tiles"
)

// MaxLocateBatch is the most points one POST /api/v1/locate takes.
const MaxLocateBatch = 10000

// Locator answers "which grid is this point in, and who serves it?" from memory: a
// locate.Index over the active grids plus, per grid, the answer's JSON already encoded. A
// request parses, converts its CRS, looks the point up and writes cached bytes; it never
// waits for the database. Listen loads the grids and keeps them fresh.
type Locator struct {
	store *store.Store
	log   *slog.Logger
	snap  atomic.Pointer[locateSnapshot] // nil until the first load
	mu    sync.Mutex                     // serialises writers
	set   locate.Set                     // the writers' index (prepared polygons reused)
	bufs  sync.Pool
}

// locateSnapshot is one consistent state: the index and the grids it refers to.
type locateSnapshot struct {
	ix    *locate.Index
	grids map[int64]*locateGrid
}

// locateGrid is one grid as served: the encoded parts of its answer and its households.
type locateGrid struct {
	code       string
	bound      orb.Bound
	boundary   orb.MultiPolygon
	head       []byte   // {"grid":…,"units":…,"branch":…,"team":…,"member":
	members    [][]byte // encoded member objects
	households []store.LocateHousehold
	tail       []byte // ,"matches":["code"]}
}

func newLocator(st *store.Store, log *slog.Logger) *Locator {
	return &Locator{store: st, log: log, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}}
}

// Locate exposes the locate service (to start its loader and listener).
func (s *Server) Locate() *Locator { return s.locate }

// Ready reports whether the grids have been loaded.
func (l *Locator) Ready() bool { return l.snap.Load() != nil }

// Load reads every active grid from the database and replaces the served state.
func (l *Locator) Load(ctx context.Context) error {
	// Writers read under the lock too, so a slow read can never overwrite a newer one.
	l.mu.Lock()
	defer l.mu.Unlock()
	grids, err := l.store.LocateGrids(ctx, nil)
	if err != nil {
		return err
	}
	m := make(map[int64]*locateGrid, len(grids))
	entries := make([]locate.Entry, 0, len(grids))
	for _, g := range grids {
		m[g.ID] = encodeLocateGrid(g)
		entries = append(entries, locate.Entry{ID: g.ID, Geometry: g.Boundary})
	}
	if err := l.set.Replace(entries); err != nil {
		return fmt.Errorf("api: locate: build index: %w", err)
	}
	l.snap.Store(&locateSnapshot{ix: l.set.Index(), grids: m})
	return nil
}

// Refresh reloads the grids whose boxes meet box: grids still active there are replaced,
// grids that were there and are gone (retired, moved away) are dropped.
func (l *Locator) Refresh(ctx context.Context, box orb.Bound) error {
	bb := [4]float64{box.Min[0], box.Min[1], box.Max[0], box.Max[1]}
	l.mu.Lock()
	defer l.mu.Unlock()
	grids, err := l.store.LocateGrids(ctx, &bb)
	if err != nil {
		return err
	}
	old := l.snap.Load()
	if old == nil {
		return errors.New("api: locate: refresh before the first load")
	}
	fresh := make(map[int64]*store.LocateGrid, len(grids))
	for _, g := range grids {
		fresh[g.ID] = g
	}
	m := make(map[int64]*locateGrid, len(old.grids)+len(grids))
	var removed []int64
	for id, g := range old.grids {
		if _, ok := fresh[id]; !ok && g.bound.Intersects(box) {
			removed = append(removed, id)
			continue
		}
		m[id] = g
	}
	for _, g := range grids {
		m[g.ID] = encodeLocateGrid(g)
	}
	if len(grids)+len(removed) <= 8 {
		for _, id := range removed {
			l.set.Remove(id)
		}
		for _, g := range grids {
			if err := l.set.Upsert(locate.Entry{ID: g.ID, Geometry: g.Boundary}); err != nil {
				return fmt.Errorf("api: locate: update index: %w", err)
			}
		}
	} else {
		entries := make([]locate.Entry, 0, len(m))
		for id, g := range m {
			entries = append(entries, locate.Entry{ID: id, Geometry: g.boundary})
		}
		if err := l.set.Replace(entries); err != nil {
			return fmt.Errorf("api: locate: build index: %w", err)
		}
	}
	l.snap.Store(&locateSnapshot{ix: l.set.Index(), grids: m})
	return nil
}

// Listen loads the grids and keeps them fresh until ctx ends: it LISTENs on the change
// channel on a dedicated connection, gathers the areas announced within a short window and
// reloads the grids there. After a lost connection it reloads everything (notifications may
// have been missed) and reconnects with backoff. ready, if not nil, is closed after the
// first load.
func (l *Locator) Listen(ctx context.Context, ready chan<- struct{}) {
	changes := make(chan orb.Bound, 256)
	go l.apply(ctx, changes)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listenOnce(ctx, changes, func() {
			if ready != nil {
				close(ready)
				ready = nil
			}
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("locate: listen connection lost; retrying", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce LISTENs, then (re)loads every grid, then forwards announced areas.
func (l *Locator) listenOnce(ctx context.Context, changes chan<- orb.Bound, loaded func()) error {
	conn, err := l.store.Pool().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("api: locate: acquire listen connection: %w", err)
	}
	pc := conn.Hijack() // stays in LISTEN mode; never returns to the pool
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+tiles.Channel); err != nil {
		return fmt.Errorf("api: locate: listen: %w", err)
	}
	t0 := time.Now()
	if err := l.Load(ctx); err != nil {
		return err
	}
	l.log.Info("locate: grids loaded", "grids", l.snap.Load().ix.Len(), "took", time.Since(t0).Round(time.Millisecond))
	loaded()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("api: locate: wait for notification: %w", err)
		}
		var ch tiles.Change
		b := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
		if err := json.Unmarshal([]byte(n.Payload), &ch); err == nil {
			b = orb.Bound{Min: orb.Point{ch.BBox[0], ch.BBox[1]}, Max: orb.Point{ch.BBox[2], ch.BBox[3]}}
		}
		select {
		case changes <- b:
		default: // the applier is far behind: it will reload everything
			l.log.Warn("locate: change queue full; reloading everything")
			select {
			case changes <- orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// apply reloads the announced areas, merging the announcements of a burst: it waits
// 30 ms after the first, then reloads the union of all that arrived meanwhile. Every
// fullReload it reloads everything, for the few edits no trigger announces (renaming a team
// member, say).
func (l *Locator) apply(ctx context.Context, changes <-chan orb.Bound) {
	const window = 30 * time.Millisecond
	const fullReload = 10 * time.Minute
	full := time.NewTicker(fullReload)
	defer full.Stop()
	for {
		var box orb.Bound
		select {
		case <-ctx.Done():
			return
		case <-full.C:
			if err := l.Load(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("locate: periodic reload failed", "error", err)
			}
			continue
		case box = <-changes:
		}
		timer := time.NewTimer(window)
	gather:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case b := <-changes:
				box = box.Union(b)
			case <-timer.C:
				break gather
			}
		}
		t0 := time.Now()
		if err := l.Refresh(ctx, box); err != nil {
			if ctx.Err() != nil {
				return
			}
			l.log.Error("locate: refresh failed; reloading everything", "error", err)
			if err := l.Load(ctx); err != nil {
				l.log.Error("locate: reload failed", "error", err)
			}
			continue
		}
		l.log.Debug("locate: refreshed", "bbox", box, "took", time.Since(t0))
	}
}

// encodeLocateGrid encodes the constant parts of a grid's answer.
func encodeLocateGrid(g *store.LocateGrid) *locateGrid {
	type unit struct {
		Code  string    `json:"code"`
		Name  string    `json:"name"`
		Level geo.Level `json:"level"`
	}
	type branch struct {
		Name      string `json:"name"`
		Secretary string `json:"secretary,omitempty"`
	}
	type teamMember struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}
	head := struct {
		Grid struct {
			Code string `json:"code"`
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"grid"`
		Units  []unit       `json:"units"`
		Branch *branch      `json:"branch"`
		Team   []teamMember `json:"team"`
	}{Units: []unit{}, Team: []teamMember{}}
	head.Grid.Code, head.Grid.Name, head.Grid.Kind = g.Code, g.Name, g.Kind
	for _, u := range g.Units {
		head.Units = append(head.Units, unit{u.Code, u.Name, u.Level})
	}
	if g.Branch != nil {
		head.Branch = &branch{g.Branch.Name, g.Branch.Secretary}
	}
	for _, t := range g.Team {
		head.Team = append(head.Team, teamMember{t.Role, t.Name})
	}
	hb, _ := json.Marshal(head) // strings only: cannot fail
	out := &locateGrid{code: g.Code, bound: g.Boundary.Bound(), boundary: g.Boundary, households: g.Households}
	out.head = append(hb[:len(hb)-1:len(hb)-1], `,"member":`...)
	for _, m := range g.Members {
		mb, _ := json.Marshal(struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}{m.ID, m.Name})
		out.members = append(out.members, mb)
	}
	code, _ := json.Marshal(g.Code)
	out.tail = append(append([]byte(`,"matches":[`), code...), "]}"...)
	return out
}

// nearestMember returns the encoded member responsible for the grid's household nearest to
// p (distances on a local equirectangular plane), or "null".
func (g *locateGrid) nearestMember(p orb.Point) []byte {
	if len(g.households) == 0 {
		return []byte("null")
	}
	kx := math.Cos(p[1] * math.Pi / 180)
	kx *= kx
	best, bi := math.Inf(1), 0
	for i := range g.households {
		dx, dy := g.households[i].Point[0]-p[0], g.households[i].Point[1]-p[1]
		if d := dx*dx*kx + dy*dy; d < best {
			best, bi = d, i
		}
	}
	return g.members[g.households[bi].Member]
}

// appendAnswer appends the answer for p to dst; ok is false when p is in no grid.
func (sn *locateSnapshot) appendAnswer(dst []byte, p orb.Point, ids []int64) ([]byte, []int64, bool) {
	ids = sn.ix.Lookup(p, ids[:0])
	if len(ids) == 0 {
		return dst, ids, false
	}
	g := sn.grids[ids[0]]
	dst = append(dst, g.head...)
	dst = append(dst, g.nearestMember(p)...)
	if len(ids) == 1 {
		return append(dst, g.tail...), ids, true
	}
	dst = append(dst, `,"matches":[`...)
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, sn.grids[id].code)
	}
	return append(dst, "]}"...), ids, true
}

// snapshot returns the served state, or a 503 error before the first load.
func (l *Locator) snapshot() (*locateSnapshot, error) {
	sn := l.snap.Load()
	if sn == nil {
		return nil, &statusError{Status: http.StatusServiceUnavailable,
			Detail: ErrorDetail{Code: "unavailable", Message: "the locate index is loading; try again shortly"}}
	}
	return sn, nil
}

// notInGrid is the 404 for a point outside every grid, naming the nearest grid.
func (sn *locateSnapshot) notInGrid(p orb.Point) error {
	e := &statusError{Status: http.StatusNotFound,
		Detail: ErrorDetail{Code: "not_found", Message: "the point is in no grid"}}
	if id, d, ok := sn.ix.Nearest(p); ok {
		e.Detail.Details = map[string]any{"nearest_grid": sn.grids[id].code, "distance_m": math.Round(d*10) / 10}
	}
	return e
}

// getLocate: GET /api/v1/locate?lon=&lat=&crs=wgs84|gcj02|bd09.
func (l *Locator) get(c echo.Context) error {
	rawLon, rawLat, rawCRS, ok := splitLocateQuery(c.Request().URL.RawQuery)
	if !ok { // escapes, repeats or other parameters: the general path
		q := c.QueryParams()
		if err := onlyParams(c, "lon", "lat", "crs"); err != nil {
			return err
		}
		rawLon, rawLat, rawCRS = q.Get("lon"), q.Get("lat"), q.Get("crs")
	}
	lon, err := coordParam(rawLon, "lon", 180)
	if err != nil {
		return err
	}
	lat, err := coordParam(rawLat, "lat", 90)
	if err != nil {
		return err
	}
	crs, err := crsParam(rawCRS)
	if err != nil {
		return err
	}
	sn, err := l.snapshot()
	if err != nil {
		return err
	}
	p := orb.Point{lon, lat}
	if crs != coord.WGS84 {
		p = coord.ToWGS84(p, crs)
	}
	bp := l.bufs.Get().(*[]byte)
	defer l.bufs.Put(bp)
	var ids [4]int64
	buf, _, ok := sn.appendAnswer((*bp)[:0], p, ids[:0])
	*bp = buf
	if !ok {
		return sn.notInGrid(p)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf)
}

// splitLocateQuery reads lon, lat and crs from a plain query string without allocating;
// ok is false when it holds anything else, a repeat or an escape.
func splitLocateQuery(q string) (lon, lat, crs string, ok bool) {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if strings.ContainsAny(kv, "%+;") {
			return "", "", "", false
		}
		k, v, _ := strings.Cut(kv, "=")
		var dst *string
		switch k {
		case "lon":
			dst = &lon
		case "lat":
			dst = &lat
		case "crs":
			dst = &crs
		default:
			return "", "", "", false
		}
		if *dst != "" {
			return "", "", "", false
		}
		*dst = v
	}
	return lon, lat, crs, true
}

// locateBatch is the body of POST /api/v1/locate.
type locateBatch struct {
	CRS    string       `json:"crs"`
	Points [][2]float64 `json:"points"`
}

// post: POST /api/v1/locate with {"crs":"gcj02","points":[[lon,lat],…]} (at most
// MaxLocateBatch points) → {"results":[answer | {"grid":null,"matches":[],"nearest":{…}}]}
// in the order of the points.
func (l *Locator) post(c echo.Context) error {
	if err := onlyParams(c, "crs"); err != nil {
		return err
	}
	var in locateBatch
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		var he *echo.HTTPError
		if errors.As(err, &he) { // the BodyLimit middleware's 413
			return he
		}
		if errors.As(err, &mbe) {
			return &statusError{Status: http.StatusRequestEntityTooLarge, Detail: ErrorDetail{Code: "body_too_large",
				Field: "points", Message: fmt.Sprintf("the body is too large; send at most %d points per request", MaxLocateBatch)}}
		}
		if errors.Is(err, io.EOF) {
			return geo.Invalid("points", `the body must be JSON: {"crs":"wgs84","points":[[lon,lat],…]}`)
		}
		return geo.Invalid("points", "the body must be JSON {\"crs\":…,\"points\":[[lon,lat],…]}: "+err.Error())
	}
	if len(in.Points) > MaxLocateBatch {
		return &statusError{Status: http.StatusRequestEntityTooLarge, Detail: ErrorDetail{Code: "too_many_points",
			Field: "points", Message: fmt.Sprintf("%d points; send at most %d per request", len(in.Points), MaxLocateBatch),
			Details: map[string]any{"points": len(in.Points), "max": MaxLocateBatch}}}
	}
	crsName := in.CRS
	if q := c.QueryParam("crs"); q != "" {
		crsName = q
	}
	crs, err := crsParam(crsName)
	if err != nil {
		return err
	}
	for i, p := range in.Points {
		if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			e := geo.Invalid("points", fmt.Sprintf("point %d: coordinates out of range: longitude −180…180, latitude −90…90", i))
			e.Details = map[string]any{"index": i}
			return e
		}
	}
	sn, err := l.snapshot()
	if err != nil {
		return err
	}
	out := make([]byte, 0, 64+len(in.Points)*512)
	out = append(out, `{"results":[`...)
	ids := make([]int64, 0, 4)
	for i, p := range in.Points {
		if i > 0 {
			out = append(out, ',')
		}
		wp := orb.Point(p)
		if crs != coord.WGS84 {
			wp = coord.ToWGS84(wp, crs)
		}
		var ok bool
		out, ids, ok = sn.appendAnswer(out, wp, ids)
		if ok {
			continue
		}
		out = append(out, `{"grid":null,"matches":[],"nearest":`...)
		if id, d, found := sn.ix.Nearest(wp); found {
			out = append(out, `{"grid":`...)
			out = strconv.AppendQuote(out, sn.grids[id].code)
			out = append(out, `,"distance_m":`...)
			out = strconv.AppendFloat(out, math.Round(d*10)/10, 'f', -1, 64)
			out = append(out, "}}"...)
		} else {
			out = append(out, "null}"...)
		}
	}
	out = append(out, "]}"...)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out)
}

// coordParam parses a required longitude or latitude.
func coordParam(raw, name string, limit float64) (float64, error) {
	if raw == "" {
		return 0, geo.Invalid(name, name+" is required")
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(v >= -limit && v <= limit) {
		return 0, geo.Invalid(name, fmt.Sprintf("%q is not a number between −%g and %g", raw, limit, limit))
	}
	return v, nil
}

// crsParam parses crs=wgs84|gcj02|bd09 (default wgs84).
func crsParam(raw string) (coord.CRS, error) {
	if raw == "" {
		return coord.WGS84, nil
	}
	c, err := coord.Parse(raw)
	if err != nil {
		return 0, geo.Invalid("crs", fmt.Sprintf("unknown coordinate system %q: use wgs84, gcj02 or bd09", raw))
	}
	return c, nil
}
