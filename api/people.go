package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/store"
)

// orgHandlers serves people and the party organisation: people, grid teams, branches,
// party groups, central households and links.
type orgHandlers struct {
	store *store.Store
}

func newOrgHandlers(st *store.Store) *orgHandlers { return &orgHandlers{store: st} }

// privacy says how one caller sees personal fields (names, phones): in the clear, or
// masked by geo.MaskName and geo.MaskPhone.
type privacy struct{ show bool }

// privacy decides per caller: in the clear only for principals with the right to see
// personal data (admins and accounts or tokens granted it); masked for everyone else.
func (h *orgHandlers) privacy(c echo.Context) privacy { return privacy{show: principal(c).SeePersonal} }

func (p privacy) name(s string) string {
	if p.show {
		return s
	}
	return geo.MaskName(s)
}

func (p privacy) phone(s *string) *string {
	if p.show || s == nil {
		return s
	}
	m := geo.MaskPhone(*s)
	return &m
}

// ref masks a person shown next to something else, in place.
func (p privacy) ref(r *geo.PersonRef) {
	if r != nil {
		r.Name, r.Phone = p.name(r.Name), p.phone(r.Phone)
	}
}

// personJSON is a person as answered.
type personJSON struct {
	ID          int64             `json:"id"`
	Unit        string            `json:"unit"`
	Name        string            `json:"name"`
	Phone       *string           `json:"phone"`
	PartyMember bool              `json:"party_member"`
	Cadre       bool              `json:"cadre"`
	Household   *householdJSON    `json:"household"`
	Branch      *int64            `json:"branch"`
	Group       *int64            `json:"group"`
	CreatedAt   time.Time         `json:"created_at"`
	Roles       []store.Reference `json:"roles,omitempty"`
}

type householdJSON struct {
	ID         int64   `json:"id"`
	Unit       string  `json:"unit"`
	ExternalID string  `json:"external_id"`
	Grid       *string `json:"grid"`
}

func householdOut(h *store.HouseholdRef) *householdJSON {
	if h == nil {
		return nil
	}
	return &householdJSON{ID: h.ID, Unit: h.Unit, ExternalID: h.ExternalID, Grid: h.Grid}
}

func (p privacy) person(x *store.Person) personJSON {
	return personJSON{ID: x.ID, Unit: x.Unit, Name: p.name(x.Name), Phone: p.phone(x.Phone), PartyMember: x.PartyMember,
		Cadre: x.Cadre, Household: householdOut(x.Household), Branch: x.Branch, Group: x.Group, CreatedAt: x.CreatedAt,
		Roles: x.Roles}
}

// optField is a JSON field of a partial update: absent, null (clear it) or a value.
type optField[T any] struct {
	set, null bool
	v         T
}

func (o *optField[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.null = true
		return nil
	}
	return json.Unmarshal(b, &o.v)
}

func (o optField[T]) change() store.Change[T] {
	switch {
	case !o.set:
		return store.Change[T]{}
	case o.null:
		return store.Change[T]{Set: true}
	}
	return store.Set(o.v)
}

// householdRefJSON names a household by id (a number, or {"id"}) or by {"unit", "external_id"}.
type householdRefJSON struct{ ref store.HouseholdRef }

func (h *householdRefJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		var id int64
		if err := json.Unmarshal(b, &id); err != nil || id <= 0 {
			return geo.Invalid("household", "a household is its id (a positive number) or {\"unit\", \"external_id\"}")
		}
		h.ref = store.HouseholdRef{ID: id}
		return nil
	}
	var o struct {
		ID         int64  `json:"id"`
		Unit       string `json:"unit"`
		ExternalID string `json:"external_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return err
	}
	if o.ID <= 0 && (o.Unit == "" || o.ExternalID == "") {
		return geo.Invalid("household", "a household is its id (a positive number) or {\"unit\", \"external_id\"}")
	}
	h.ref = store.HouseholdRef{ID: o.ID, Unit: o.Unit, ExternalID: o.ExternalID}
	return nil
}

// personBody is what a client sends to create or change a person.
type personBody struct {
	Unit        optField[string]           `json:"unit"`
	Name        optField[string]           `json:"name"`
	Phone       optField[string]           `json:"phone"`
	PartyMember optField[bool]             `json:"party_member"`
	Cadre       optField[bool]             `json:"cadre"`
	Household   optField[householdRefJSON] `json:"household"`
	Branch      optField[int64]            `json:"branch"`
	Group       optField[int64]            `json:"group"`
}

func (b personBody) input() store.PersonInput {
	in := store.PersonInput{Unit: b.Unit.change(), Name: b.Name.change(), Phone: b.Phone.change(),
		PartyMember: b.PartyMember.change(), Cadre: b.Cadre.change(), Branch: b.Branch.change(), Group: b.Group.change()}
	if b.Household.set {
		in.Household = store.Change[store.HouseholdRef]{Set: true}
		if !b.Household.null {
			ref := b.Household.v.ref
			in.Household.Value = &ref
		}
	}
	return in
}

// decodeOrgBody decodes a JSON object strictly: unknown fields, trailing data and an empty
// body are errors naming the field.
func decodeOrgBody(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var in *geo.InputError
		switch {
		case errors.As(err, &in):
			return in
		case errors.Is(err, io.EOF):
			return &geo.InputError{Code: "malformed_json", Field: "body", Reason: "the body is empty: want a JSON object"}
		}
		return bodyError(err)
	}
	if dec.More() {
		return &geo.InputError{Code: "malformed_json", Field: "body", Reason: "trailing data after the JSON object"}
	}
	return nil
}

// orgError gives a conflict that names a field its own body (409 with field and details);
// other errors go to the error handler as they are.
func orgError(err error) error {
	var ce *geo.ConflictError
	if errors.As(err, &ce) {
		return &statusError{Status: http.StatusConflict,
			Detail: ErrorDetail{Code: "conflict", Message: ce.Reason, Field: ce.Field, Details: ce.Details}}
	}
	return err
}

// idOnly reads the {id} path parameter of a route that takes no query parameters.
func idOnly(c echo.Context) (int64, error) {
	if err := onlyParams(c); err != nil {
		return 0, err
	}
	return pathID(c, "id")
}

// pathID reads a positive integer id from the path.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, geo.Invalid(name, fmt.Sprintf("%q is not an id (a positive number)", c.Param(name)))
	}
	return id, nil
}

// pageParams reads limit (1–1000, default 100) and after (an id, default 0).
func pageParams(c echo.Context) (limit int, after int64, err error) {
	limit = 100
	if raw := c.QueryParam("limit"); raw != "" {
		limit, err = strconv.Atoi(raw)
		if err != nil || limit < 1 || limit > 1000 {
			return 0, 0, geo.Invalid("limit", "limit takes a number from 1 to 1000")
		}
	}
	if raw := c.QueryParam("after"); raw != "" {
		after, err = strconv.ParseInt(raw, 10, 64)
		if err != nil || after < 0 {
			return 0, 0, geo.Invalid("after", "after takes the last id of the previous page")
		}
	}
	return limit, after, nil
}

// nextPage is the URL of the page after the id last, keeping the other parameters.
func nextPage(c echo.Context, last int64) string {
	q := url.Values{}
	for k, v := range c.QueryParams() {
		q[k] = v
	}
	q.Set("after", strconv.FormatInt(last, 10))
	return c.Request().URL.Path + "?" + q.Encode()
}

// createPerson: POST /api/v1/people → 201 with the person and its Location.
func (h *orgHandlers) createPerson(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var b personBody
	if err := decodeOrgBody(c, &b); err != nil {
		return err
	}
	p, err := h.store.CreatePerson(c.Request().Context(), b.input())
	if err != nil {
		return orgError(err)
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/people/%d", p.ID))
	return c.JSON(http.StatusCreated, h.privacy(c).person(p))
}

// listPeople: GET /api/v1/people?unit=&role=&limit=&after= → a page by id, with next.
func (h *orgHandlers) listPeople(c echo.Context) error {
	if err := onlyParams(c, "unit", "role", "limit", "after"); err != nil {
		return err
	}
	unit, err := unitParam(c, "unit")
	if err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	people, more, err := h.store.People(c.Request().Context(), store.PeopleFilter{Unit: unit, Role: c.QueryParam("role"), After: after, Limit: limit, Scope: listScope(c)})
	if err != nil {
		return err
	}
	pv := h.privacy(c)
	out := make([]personJSON, len(people))
	for i := range people {
		out[i] = pv.person(&people[i])
	}
	body := map[string]any{"people": out}
	if more {
		body["next"] = nextPage(c, people[len(people)-1].ID)
	}
	return c.JSON(http.StatusOK, body)
}

// getPerson: GET /api/v1/people/{id} → the person with what refers to them (roles).
func (h *orgHandlers) getPerson(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	p, err := h.store.Person(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.privacy(c).person(p))
}

// updatePerson: PUT /api/v1/people/{id} changes the fields the body carries; null clears
// phone, household, branch or group. Joining a party group is {"group": id}.
func (h *orgHandlers) updatePerson(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	var b personBody
	if err := decodeOrgBody(c, &b); err != nil {
		return err
	}
	p, err := h.store.UpdatePerson(c.Request().Context(), id, b.input())
	if err != nil {
		return orgError(err)
	}
	return c.JSON(http.StatusOK, h.privacy(c).person(p))
}

// deletePerson: DELETE /api/v1/people/{id} → 204; 409 listing what still refers to them.
func (h *orgHandlers) deletePerson(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	if err := h.store.DeletePerson(c.Request().Context(), id); err != nil {
		return orgError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
