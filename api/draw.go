package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridmap/geo"
	"gridmap/geo/drawjob"
	"gridmap/geo/partition"
	"gridmap/geo/store"
)

// Automatic drawing: POST /api/v1/draw starts a job, GET /api/v1/draw/{id} reports it,
// GET /api/v1/draw/{id}/events streams its progress (server-sent events), and
// POST /api/v1/draw/{id}/apply writes its proposal in one transaction.

// drawBody is the request of POST /api/v1/draw.
type drawBody struct {
	Unit     string          `json:"unit"`
	Min      *int            `json:"min"`
	Max      *int            `json:"max"`
	Weight   string          `json:"weight"`
	Barriers json.RawMessage `json:"barriers"`
	Keep     []string        `json:"keep"`
	Seed     *uint64         `json:"seed"`
}

// drawAppliedBy is recorded as updated_by of the grids a drawing writes.
const drawAppliedBy = "auto-draw"

// postDraw: POST /api/v1/draw → 202 {"id", "state", "progress"} with a Location header.
func (s *Server) postDraw(c echo.Context) error {
	var b drawBody
	if err := decodeStrictJSON(c.Request().Body, &b); err != nil {
		return err
	}
	req, err := drawRequest(b)
	if err != nil {
		return err
	}
	job, err := s.draws.Submit(c.Request().Context(), req)
	if errors.Is(err, drawjob.ErrBusy) {
		return &statusError{http.StatusTooManyRequests, ErrorDetail{Code: "rate_limited", Message: "too many drawing jobs are kept or running; try again later"}}
	}
	if err != nil {
		return err
	}
	loc := "/api/v1/draw/" + job.ID
	c.Response().Header().Set(echo.HeaderLocation, loc)
	st := job.Status()
	return c.JSON(http.StatusAccepted, map[string]any{
		"id": job.ID, "unit": req.Unit, "state": st.State, "progress": st.Progress,
		"links": map[string]string{"self": loc, "events": loc + "/events", "apply": loc + "/apply"},
	})
}

// drawRequest validates a request body; errors name the field.
func drawRequest(b drawBody) (drawjob.Request, error) {
	req := drawjob.Request{Unit: strings.TrimSpace(b.Unit), Keep: b.Keep, Seed: 1}
	if req.Unit == "" {
		return req, geo.Invalid("unit", "unit is required: a village/community (12 digits) or a township/street (9 digits)")
	}
	depth, err := geo.LevelOfCode("unit", req.Unit)
	if err != nil {
		return req, err
	}
	if depth == 6 {
		return req, geo.Invalid("unit", "draw a village/community (12 digits) or a township/street (9 digits), not a county")
	}
	if b.Min != nil {
		if *b.Min <= 0 {
			return req, geo.Invalid("min", fmt.Sprintf("min %d must be positive", *b.Min))
		}
		req.Min = *b.Min
	}
	if b.Max != nil {
		if *b.Max <= 0 {
			return req, geo.Invalid("max", fmt.Sprintf("max %d must be positive", *b.Max))
		}
		req.Max = *b.Max
	}
	if b.Min != nil && b.Max != nil && req.Max < req.Min {
		return req, geo.Invalid("max", fmt.Sprintf("max %d is below min %d", req.Max, req.Min))
	}
	if req.Weight, err = partition.ParseWeightKind(b.Weight); err != nil {
		return req, geo.Invalid("weight", fmt.Sprintf("weight %q: want households or residents", b.Weight))
	}
	if b.Seed != nil {
		req.Seed = *b.Seed
	}
	for i, k := range req.Keep {
		if len(k) != 15 || strings.Trim(k, "0123456789") != "" {
			return req, geo.Invalid("keep", fmt.Sprintf("keep[%d] %q is not a 15-digit grid code", i, k))
		}
	}
	if req.Barriers, err = drawBarriers(b.Barriers); err != nil {
		return req, err
	}
	return req, nil
}

// drawBarriers reads a GeoJSON FeatureCollection of lines (polygons count by their outline).
func drawBarriers(raw json.RawMessage) ([]orb.LineString, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil || fc.Type != "FeatureCollection" {
		return nil, &geo.InputError{Code: "invalid_geometry", Field: "barriers", Reason: "barriers must be a GeoJSON FeatureCollection of lines"}
	}
	var ls []orb.LineString
	for i, f := range fc.Features {
		switch g := f.Geometry.(type) {
		case orb.LineString:
			ls = append(ls, g)
		case orb.MultiLineString:
			ls = append(ls, g...)
		case orb.Polygon:
			for _, r := range g {
				ls = append(ls, orb.LineString(r))
			}
		case orb.MultiPolygon:
			for _, p := range g {
				for _, r := range p {
					ls = append(ls, orb.LineString(r))
				}
			}
		default:
			return nil, &geo.InputError{Code: "invalid_geometry", Field: "barriers",
				Reason: fmt.Sprintf("feature %d: a barrier is a line (LineString or MultiLineString), not %T", i, f.Geometry)}
		}
	}
	for _, l := range ls {
		for _, p := range l {
			if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 || math.IsNaN(p[0]) || math.IsNaN(p[1]) {
				return nil, &geo.InputError{Code: "invalid_geometry", Field: "barriers", Reason: "barrier coordinates out of range: longitude −180…180, latitude −90…90"}
			}
		}
	}
	return ls, nil
}

// decodeStrictJSON decodes one JSON object into v; unknown fields and wrong types are
// *geo.InputError values naming the field.
func decodeStrictJSON(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return echo.ErrStatusRequestEntityTooLarge
		}
		return geo.Invalid("body", "could not read the request body")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return geo.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return geo.Invalid(te.Field, fmt.Sprintf("%s must be a %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value))
		case errors.As(err, &se):
			return geo.Invalid("body", fmt.Sprintf("invalid JSON at byte %d", se.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			e := geo.Invalid(field, "unknown field")
			e.Code = "unknown_parameter"
			return e
		}
		return geo.Invalid("body", "invalid JSON: "+err.Error())
	}
	if dec.More() {
		return geo.Invalid("body", "one JSON object expected")
	}
	return nil
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "slice":
		return "list"
	case k == "struct", k == "map":
		return "object"
	}
	return k
}

// drawView is the JSON of GET /api/v1/draw/{id}.
type drawView struct {
	ID         string                     `json:"id"`
	Unit       string                     `json:"unit"`
	State      drawjob.State              `json:"state"`
	Progress   float64                    `json:"progress"`
	Stage      string                     `json:"stage"`
	Created    time.Time                  `json:"created"`
	Finished   *time.Time                 `json:"finished,omitempty"`
	Error      string                     `json:"error,omitempty"`
	Band       *drawBand                  `json:"band,omitempty"`
	Metrics    *drawjob.Metrics           `json:"metrics,omitempty"`
	Proposal   *geojson.FeatureCollection `json:"proposal,omitempty"`
	Changes    *[]drawjob.Change          `json:"changes,omitempty"`
	Skipped    []drawSkipped              `json:"skipped,omitempty"`
	Infeasible *drawjob.InfeasibleReport  `json:"infeasible,omitempty"`
	Applied    *store.AppliedDraw         `json:"applied,omitempty"`
}

type drawBand struct {
	Min    int    `json:"min"`
	Max    int    `json:"max"`
	Weight string `json:"weight"`
}

type drawSkipped struct {
	Unit   string `json:"unit"`
	Reason string `json:"reason"`
}

func newDrawView(st drawjob.Status, full bool) drawView {
	v := drawView{ID: st.ID, Unit: st.Unit, State: st.State, Progress: st.Progress, Stage: st.Stage, Created: st.Created,
		Applied: st.Applied}
	if st.Terminal() {
		f := st.Finished
		v.Finished = &f
	}
	if st.Err != nil {
		v.Error = drawErrorMessage(st.Err)
	}
	if r := st.Result; r != nil {
		m := r.Metrics()
		v.Metrics = &m
		if len(r.Units) > 0 {
			u := r.Units[0]
			v.Band = &drawBand{Min: u.Min, Max: u.Max, Weight: r.Request.Weight.String()}
		}
		for _, u := range r.Units {
			if u.Skipped != "" {
				v.Skipped = append(v.Skipped, drawSkipped{u.Unit, u.Skipped})
			}
		}
		v.Infeasible = r.Report()
		if full {
			v.Proposal = r.FeatureCollection()
			cs := r.Changes()
			v.Changes = &cs
		}
	}
	return v
}

// drawErrorMessage says why a job failed without internal prefixes.
func drawErrorMessage(err error) string {
	var in *geo.InputError
	if errors.As(err, &in) {
		if in.Field != "" {
			return in.Field + ": " + in.Reason
		}
		return in.Reason
	}
	if errors.Is(err, geo.ErrUnavailable) {
		return "the database did not answer"
	}
	msg := err.Error()
	for _, p := range []string{"drawjob: ", "store: ", "partition: ", "geo: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// getDraw: GET /api/v1/draw/{id} → state, progress and, when finished, the proposal with
// metrics and changes (or the infeasibility report). ?proposal=false leaves out the
// proposal and the changes.
func (s *Server) getDraw(c echo.Context) error {
	if err := onlyParams(c, "proposal"); err != nil {
		return err
	}
	full := true
	switch c.QueryParam("proposal") {
	case "", "true":
	case "false":
		full = false
	default:
		return geo.Invalid("proposal", "proposal takes true or false")
	}
	job, err := s.draws.Get(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newDrawView(job.Status(), full))
}

// drawEvents: GET /api/v1/draw/{id}/events → text/event-stream: a "progress" event
// ({"state","progress","stage"}) at every change, then one "done" event with the final
// state and metrics, after which the stream ends.
func (s *Server) drawEvents(c echo.Context) error {
	job, err := s.draws.Get(c.Param("id"))
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := c.Request().Context()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	send := func(event string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	lastProgress, lastStage := -1.0, ""
	for {
		st, changed := job.Watch()
		if st.Progress != lastProgress || st.Stage != lastStage {
			lastProgress, lastStage = st.Progress, st.Stage
			if err := send("progress", map[string]any{"state": st.State, "progress": st.Progress, "stage": st.Stage}); err != nil {
				return nil // the client went away
			}
		}
		if st.Terminal() {
			v := newDrawView(st, false)
			_ = send("done", v)
			return nil
		}
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-ctx.Done():
			return nil
		}
	}
}

// applyDraw: POST /api/v1/draw/{id}/apply → 200 {"id","retired":[codes],"created":[grids]};
// 409 when the job is not done, was applied already, or the unit's grids changed since.
func (s *Server) applyDraw(c echo.Context) error {
	out, err := s.draws.Apply(c.Request().Context(), c.Param("id"), drawAppliedBy)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "retired": out.Retired, "created": out.Created})
}
