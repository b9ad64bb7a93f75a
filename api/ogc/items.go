package ogc

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/store"
)

// itemParams are the parameters of /items besides property filters.
func itemParams() []string {
	return []string{"limit", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "filter-crs", "cursor"}
}

// cursor is the keyset position of the next page: the last key sent and the total matched
// (counted once, on the first page). It travels base64url-encoded, opaque to clients.
type cursor struct {
	after   int64
	matched int64
}

func (c cursor) encode() string {
	var b [17]byte
	b[0] = 1 // version
	binary.BigEndian.PutUint64(b[1:], uint64(c.after))
	binary.BigEndian.PutUint64(b[9:], uint64(c.matched))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 17 || b[0] != 1 {
		return cursor{}, geo.Invalid("cursor", "not a cursor from a next link of this service")
	}
	return cursor{after: int64(binary.BigEndian.Uint64(b[1:])), matched: int64(binary.BigEndian.Uint64(b[9:]))}, nil
}

// where collects the conditions of an items query.
type where struct {
	conds []string
	args  args
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// filters reads bbox, datetime, property filters and filter into conditions over t.
func (s *Service) filters(c echo.Context, coll *collection) (*where, error) {
	w := new(where)
	q := c.QueryParams()
	if raw := q.Get("bbox"); raw != "" {
		b, err := parseBBox(raw)
		if err != nil {
			return nil, err
		}
		bc, err := parseCRS("bbox-crs", q.Get("bbox-crs"))
		if err != nil {
			return nil, err
		}
		if bc.latLon {
			b = [4]float64{b[1], b[0], b[3], b[2]}
			bc.latLon = false
		}
		if bc.srid == 4326 && (b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
			return nil, geo.Invalid("bbox", "coordinates out of range: longitude −180…180, latitude −90…90")
		}
		env := fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s)", w.args.add(b[0]), w.args.add(b[1]), w.args.add(b[2]), w.args.add(b[3]))
		w.conds = append(w.conds, "ST_Intersects(t.geom, "+bc.toStored(env)+")")
	} else if q.Get("bbox-crs") != "" {
		return nil, geo.Invalid("bbox-crs", "bbox-crs needs bbox")
	}

	if raw := q.Get("datetime"); raw != "" {
		if !coll.Temporal {
			return nil, geo.Invalid("datetime", fmt.Sprintf("collection %s has no time; datetime applies to grids", coll.ID))
		}
		from, to, err := parseDatetime(raw)
		if err != nil {
			return nil, err
		}
		if to != nil {
			w.conds = append(w.conds, "t.valid_from <= "+w.args.add(*to))
		}
		if from != nil {
			if to != nil && from.Equal(*to) { // an instant: valid then
				w.conds = append(w.conds, "(t.valid_to IS NULL OR t.valid_to > "+w.args.add(*from)+")")
			} else {
				w.conds = append(w.conds, "(t.valid_to IS NULL OR t.valid_to >= "+w.args.add(*from)+")")
			}
		}
	} else if coll.Temporal {
		w.conds = append(w.conds, "t.valid_to IS NULL")
	}

	for _, p := range coll.Props {
		raw, ok := q[p.Name]
		if !ok {
			continue
		}
		var lit any = raw[0]
		var err error
		switch p.Type {
		case "integer":
			lit, err = strconv.ParseInt(raw[0], 10, 64)
		case "number":
			lit, err = strconv.ParseFloat(raw[0], 64)
		case "boolean":
			lit, err = strconv.ParseBool(raw[0])
		case "date-time":
			lit, err = parseTime(raw[0])
		}
		if err != nil {
			return nil, geo.Invalid(p.Name, fmt.Sprintf("%q is not a valid %s", raw[0], p.Type))
		}
		w.conds = append(w.conds, col(p.Name)+" = "+w.args.add(lit)+castOf(p.Type))
	}

	if src := q.Get("filter"); src != "" {
		if lang := q.Get("filter-lang"); lang != "" && lang != "cql2-text" {
			return nil, geo.Invalid("filter-lang", fmt.Sprintf("%q is not supported; use cql2-text", lang))
		}
		fc, err := parseCRS("filter-crs", q.Get("filter-crs"))
		if err != nil {
			return nil, err
		}
		cond, err := parseFilter(src, coll, &w.args, fc)
		if err != nil {
			return nil, err
		}
		w.conds = append(w.conds, cond)
	}
	s.scopeFilter(c, coll, w)
	return w, nil
}

// parseDatetime reads an instant or an interval start/end with ".." or "" for open ends.
func parseDatetime(raw string) (from, to *time.Time, err error) {
	bad := func() error {
		return geo.Invalid("datetime", fmt.Sprintf("%q is not an RFC 3339 date-time or an interval start/end (open ends: ..)", raw))
	}
	one := func(s string) (*time.Time, error) {
		if s == "" || s == ".." {
			return nil, nil
		}
		t, err := parseTime(s)
		if err != nil {
			return nil, bad()
		}
		return &t, nil
	}
	a, b, interval := strings.Cut(raw, "/")
	if !interval {
		t, err := one(a)
		if err != nil || t == nil {
			return nil, nil, bad()
		}
		return t, t, nil
	}
	if from, err = one(a); err != nil {
		return nil, nil, err
	}
	if to, err = one(b); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && from.After(*to) {
		return nil, nil, geo.Invalid("datetime", "the interval's start is after its end")
	}
	return from, to, nil
}

// items: GET /ogc/collections/{id}/items — one page of features in key order.
func (s *Service) items(c echo.Context) error {
	coll, err := s.collectionParam(c)
	if err != nil {
		return err
	}
	known := itemParams()
	for _, p := range coll.Props {
		known = append(known, p.Name)
	}
	if err := checkParams(c, known...); err != nil {
		return err
	}
	limit := s.opts.DefaultLimit
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return geo.Invalid("limit", fmt.Sprintf("limit must be an integer from 1 to %d", s.opts.MaxLimit))
		}
		limit = min(n, s.opts.MaxLimit) // Part 1: a larger limit is capped, not refused
	}
	outCRS, err := parseCRS("crs", c.QueryParam("crs"))
	if err != nil {
		return err
	}
	w, err := s.filters(c, coll)
	if err != nil {
		return err
	}
	var cur cursor
	hasCursor := false
	if raw := c.QueryParam("cursor"); raw != "" {
		if cur, err = decodeCursor(raw); err != nil {
			return err
		}
		hasCursor = true
	}
	ctx := c.Request().Context()
	from := " FROM (" + coll.View + ") t"
	if !hasCursor {
		if err := s.pool.QueryRow(ctx, "SELECT count(*)"+from+w.sql(), w.args...).Scan(&cur.matched); err != nil {
			return classify("count "+coll.ID, err)
		}
	}

	geom, prec := outCRS.geomSQL("t.geom")
	page := *w
	page.args = append(args{}, w.args...)
	if hasCursor {
		page.conds = append(append([]string{}, w.conds...), "t.k > "+page.args.add(cur.after))
	}
	// Property keys are bound as parameters, values come from the view's columns.
	obj := make([]string, 0, len(coll.Props))
	for _, p := range coll.Props {
		obj = append(obj, page.args.add(p.Name)+"::text, "+col(p.Name))
	}
	sql := "SELECT t.k, t.fid, ST_AsGeoJSON(" + geom + ", " + strconv.Itoa(prec) + "), json_build_object(" +
		strings.Join(obj, ", ") + ")::text" + from + page.sql() + " ORDER BY t.k LIMIT " + page.args.add(limit+1)
	rows, err := s.pool.Query(ctx, sql, page.args...)
	if err != nil {
		return classify("list "+coll.ID, err)
	}
	defer rows.Close()

	resp := c.Response()
	h := resp.Header()
	h.Set("Content-Crs", "<"+outCRS.uri+">")
	h.Set("Access-Control-Allow-Origin", "*")
	buf := new(bytes.Buffer)
	fmt.Fprintf(buf, `{"type":"FeatureCollection","numberMatched":%d,"features":[`, cur.matched)
	streaming := false
	var (
		k        int64
		fid      string
		g, props []byte
		n        int
		last     int64
		more     bool
		writeErr error
	)
	for rows.Next() {
		if err := rows.Scan(&k, &fid, &g, &props); err != nil {
			return classify("list "+coll.ID, err)
		}
		if n == limit {
			more = true
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"type":"Feature","id":`)
		if coll.NumericID {
			buf.WriteString(fid)
		} else {
			writeJSONString(buf, fid)
		}
		buf.WriteString(`,"geometry":`)
		if g == nil {
			buf.WriteString("null")
		} else {
			buf.Write(g)
		}
		buf.WriteString(`,"properties":`)
		buf.Write(props)
		buf.WriteByte('}')
		n++
		last = k
		if buf.Len() > s.opts.StreamAbove {
			if !streaming {
				streaming = true
				h.Set(echo.HeaderContentType, mimeGeoJSON)
				resp.WriteHeader(http.StatusOK)
			}
			if _, writeErr = resp.Write(buf.Bytes()); writeErr != nil {
				return nil // the client went away
			}
			buf.Reset()
		}
	}
	if err := rows.Err(); err != nil {
		if streaming {
			s.opts.Logger.Error("ogc: items failed after the response started", "collection", coll.ID, "error", err)
			return nil
		}
		return classify("list "+coll.ID, err)
	}
	rows.Close()

	self := c.Scheme() + "://" + c.Request().Host + c.Request().URL.RequestURI()
	links := []link{{self, "self", mimeGeoJSON, "this page"}}
	if more {
		next := cursor{after: last, matched: cur.matched}
		links = append(links, link{pageURL(c, next.encode()), "next", mimeGeoJSON, "next page"})
	}
	lb, err := jsonMarshal(links)
	if err != nil {
		return err
	}
	fmt.Fprintf(buf, `],"numberReturned":%d,"timeStamp":%q,"links":%s}`, n, time.Now().UTC().Format(time.RFC3339), lb)
	if streaming {
		_, _ = resp.Write(buf.Bytes())
		return nil
	}
	// A whole page in memory gets an ETag over everything but the time stamp.
	return writePage(c, buf.Bytes())
}

// pageURL is the request URL with cursor replaced.
func pageURL(c echo.Context, cur string) string {
	q := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "cursor" {
			q[k] = v
		}
	}
	q.Set("cursor", cur)
	return c.Scheme() + "://" + c.Request().Host + c.Request().URL.Path + "?" + q.Encode()
}

// writePage sends a page with an ETag computed without its time stamp.
func writePage(c echo.Context, b []byte) error {
	stable := b
	if i := bytes.LastIndex(b, []byte(`,"timeStamp":`)); i >= 0 {
		if j := bytes.IndexByte(b[i+14:], '"'); j >= 0 {
			stable = append(append([]byte{}, b[:i]...), b[i+14+j+1:]...)
		}
	}
	etag := hashETag(stable)
	hd := c.Response().Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "no-cache")
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, mimeGeoJSON, b)
}

// item: GET /ogc/collections/{id}/items/{fid}.
func (s *Service) item(c echo.Context) error {
	coll, err := s.collectionParam(c)
	if err != nil {
		return err
	}
	if err := checkParams(c, "crs"); err != nil {
		return err
	}
	outCRS, err := parseCRS("crs", c.QueryParam("crs"))
	if err != nil {
		return err
	}
	fid := c.Param("fid")
	var a args
	geom, prec := outCRS.geomSQL("t.geom")
	obj := make([]string, 0, len(coll.Props))
	for _, p := range coll.Props {
		obj = append(obj, a.add(p.Name)+"::text, "+col(p.Name))
	}
	var cond string
	if coll.NumericID { // compare keys so the primary key index serves
		n, err := strconv.ParseInt(fid, 10, 64)
		if err != nil {
			return geo.NotFound(coll.ID+" feature", fid)
		}
		cond = "t.k = " + a.add(n)
	} else {
		cond = "t.fid = " + a.add(fid)
	}
	sw := &where{args: a}
	s.scopeFilter(c, coll, sw)
	a = sw.args
	for _, sc := range sw.conds {
		cond += " AND " + sc
	}
	var g, props []byte
	err = s.pool.QueryRow(c.Request().Context(), "SELECT ST_AsGeoJSON("+geom+", "+strconv.Itoa(prec)+"), json_build_object("+
		strings.Join(obj, ", ")+")::text FROM ("+coll.View+") t WHERE "+cond, a...).Scan(&g, &props)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.NotFound(coll.ID+" feature", fid)
	}
	if err != nil {
		return classify("get "+coll.ID+" feature", err)
	}
	b := s.base(c)
	var id bytes.Buffer
	if coll.NumericID {
		id.WriteString(fid)
	} else {
		writeJSONString(&id, fid)
	}
	links, err := jsonMarshal([]link{
		{b + "/collections/" + coll.ID + "/items/" + url.PathEscape(fid), "self", mimeGeoJSON, "this feature"},
		{b + "/collections/" + coll.ID, "collection", mimeJSON, coll.Title},
	})
	if err != nil {
		return err
	}
	if g == nil {
		g = []byte("null")
	}
	body := fmt.Sprintf(`{"type":"Feature","id":%s,"geometry":%s,"properties":%s,"links":%s}`, id.Bytes(), g, props, links)
	c.Response().Header().Set("Content-Crs", "<"+outCRS.uri+">")
	return writeBody(c, mimeGeoJSON, []byte(body))
}

// writeJSONString writes s as a JSON string.
func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	b.Write(q)
}

// classify wraps a database error, marking outages so the API answers 503.
func classify(op string, err error) error {
	if store.Unavailable(err) {
		return fmt.Errorf("ogc: %s: %w: %w", op, geo.ErrUnavailable, err)
	}
	return fmt.Errorf("ogc: %s: %w", op, err)
}

// scopeFilter keeps a scoped caller to its unit subtrees (or grids): collections with a
// scope column answer only the features whose code lies under one of them. A feature
// outside every scope is not found, as if it did not exist.
func (s *Service) scopeFilter(c echo.Context, coll *collection, w *where) {
	if s.opts.Scope == nil || coll.ScopeCol == "" {
		return
	}
	codes := s.opts.Scope(c)
	if codes == nil {
		return
	}
	w.conds = append(w.conds, "EXISTS (SELECT 1 FROM unnest("+w.args.add(codes)+"::text[]) sc WHERE "+col(coll.ScopeCol)+" LIKE sc || '%')")
}
