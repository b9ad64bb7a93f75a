package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/store"
)

// maskTeam masks the personal fields of a grid's organisation.
func (p privacy) maskTeam(v *store.TeamView) {
	if v.Branch != nil {
		p.ref(v.Branch.Secretary)
	}
	p.maskGroups(v.Groups)
	for i := range v.Team {
		p.ref(&v.Team[i].PersonRef)
	}
	for i := range v.PartyMembers {
		p.ref(&v.PartyMembers[i].PersonRef)
	}
}

func (p privacy) maskGroups(groups []store.Group) {
	for i := range groups {
		p.maskGroup(&groups[i])
	}
}

func (p privacy) maskGroup(g *store.Group) {
	p.ref(g.Leader)
	for j := range g.Members {
		p.ref(&g.Members[j])
	}
}

// getTeam: GET /api/v1/grids/{code}/team → branch, party groups, 一长三员, party members,
// household count.
func (h *orgHandlers) getTeam(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	v, err := h.store.Team(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	h.privacy(c).maskTeam(v)
	return c.JSON(http.StatusOK, v)
}

// teamBody is the grid team 一长三员 by person id; the instructor is optional.
type teamBody struct {
	Leader     *int64 `json:"leader"`
	Worker     *int64 `json:"worker"`
	Assistant  *int64 `json:"assistant"`
	Instructor *int64 `json:"instructor"`
}

// replaceTeam: PUT /api/v1/grids/{code}/team replaces the whole team in one transaction.
func (h *orgHandlers) replaceTeam(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var b teamBody
	if err := decodeOrgBody(c, &b); err != nil {
		return err
	}
	team := map[string]int64{}
	for _, r := range []struct {
		role     string
		id       *int64
		optional bool
	}{{"leader", b.Leader, false}, {"worker", b.Worker, false}, {"assistant", b.Assistant, false}, {"instructor", b.Instructor, true}} {
		switch {
		case r.id == nil && r.optional:
		case r.id == nil:
			return geo.Invalid(r.role, fmt.Sprintf("the grid team needs a %s: give a person id", r.role))
		case *r.id <= 0:
			return geo.Invalid(r.role, "a person id is a positive number")
		default:
			team[r.role] = *r.id
		}
	}
	v, err := h.store.ReplaceTeam(c.Request().Context(), c.Param("code"), team)
	if err != nil {
		return orgError(err)
	}
	h.privacy(c).maskTeam(v)
	return c.JSON(http.StatusOK, v)
}

// branchBody creates or changes a branch; secretary null removes the secretary.
type branchBody struct {
	Name      optField[string] `json:"name"`
	Secretary optField[int64]  `json:"secretary"`
}

func (b branchBody) input() store.BranchInput {
	return store.BranchInput{Name: b.Name.change(), Secretary: b.Secretary.change()}
}

func (h *orgHandlers) writeBranch(c echo.Context, status int, b *store.Branch) error {
	h.privacy(c).ref(b.Secretary)
	return c.JSON(status, b)
}

// getBranch: GET /api/v1/grids/{code}/branch → the grid's active branch.
func (h *orgHandlers) getBranch(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	b, err := h.store.GridBranch(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return h.writeBranch(c, http.StatusOK, b)
}

// createBranch: POST /api/v1/grids/{code}/branch {name, secretary} → 201; a second active
// branch is 409 naming the first.
func (h *orgHandlers) createBranch(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var body branchBody
	if err := decodeOrgBody(c, &body); err != nil {
		return err
	}
	b, err := h.store.CreateBranch(c.Request().Context(), c.Param("code"), body.input())
	if err != nil {
		return orgError(err)
	}
	c.Response().Header().Set("Location", "/api/v1/grids/"+b.Grid+"/branch")
	return h.writeBranch(c, http.StatusCreated, b)
}

// updateBranch: PUT /api/v1/grids/{code}/branch renames the branch or changes its secretary.
func (h *orgHandlers) updateBranch(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var body branchBody
	if err := decodeOrgBody(c, &body); err != nil {
		return err
	}
	b, err := h.store.UpdateBranch(c.Request().Context(), c.Param("code"), body.input())
	if err != nil {
		return orgError(err)
	}
	return h.writeBranch(c, http.StatusOK, b)
}

// endBranch: DELETE /api/v1/grids/{code}/branch ends the active branch (valid_to).
func (h *orgHandlers) endBranch(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	if err := h.store.EndBranch(c.Request().Context(), c.Param("code")); err != nil {
		return orgError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// groupBody creates or changes a party group; leader null removes the leader.
type groupBody struct {
	Name   optField[string] `json:"name"`
	Leader optField[int64]  `json:"leader"`
}

func (b groupBody) input() store.GroupInput {
	return store.GroupInput{Name: b.Name.change(), Leader: b.Leader.change()}
}

func (h *orgHandlers) writeGroup(c echo.Context, status int, g *store.Group) error {
	h.privacy(c).maskGroup(g)
	if g.Members == nil {
		g.Members = []geo.PersonRef{}
	}
	return c.JSON(status, g)
}

// listGroups: GET /api/v1/branches/{id}/groups → the branch and its party groups.
func (h *orgHandlers) listGroups(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	b, groups, err := h.store.BranchGroups(c.Request().Context(), id)
	if err != nil {
		return err
	}
	pv := h.privacy(c)
	pv.ref(b.Secretary)
	pv.maskGroups(groups)
	return c.JSON(http.StatusOK, map[string]any{"branch": b, "groups": groups})
}

// createGroup: POST /api/v1/branches/{id}/groups {name, leader} → 201.
func (h *orgHandlers) createGroup(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	var body groupBody
	if err := decodeOrgBody(c, &body); err != nil {
		return err
	}
	g, err := h.store.CreateGroup(c.Request().Context(), id, body.input())
	if err != nil {
		return orgError(err)
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/groups/%d", g.ID))
	return h.writeGroup(c, http.StatusCreated, g)
}

// getGroup: GET /api/v1/groups/{id} → the party group with its members.
func (h *orgHandlers) getGroup(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	g, err := h.store.Group(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.writeGroup(c, http.StatusOK, g)
}

// updateGroup: PUT /api/v1/groups/{id} renames the group or changes its leader.
func (h *orgHandlers) updateGroup(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	var body groupBody
	if err := decodeOrgBody(c, &body); err != nil {
		return err
	}
	g, err := h.store.UpdateGroup(c.Request().Context(), id, body.input())
	if err != nil {
		return orgError(err)
	}
	return h.writeGroup(c, http.StatusOK, g)
}

// deleteGroup: DELETE /api/v1/groups/{id} dissolves the group; its members leave it.
func (h *orgHandlers) deleteGroup(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteGroup(c.Request().Context(), id); err != nil {
		return orgError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// centralBody makes a party member's household a central household.
type centralBody struct {
	Household *householdRefJSON `json:"household"`
	Person    *int64            `json:"person"`
	Branch    *int64            `json:"branch"`
}

func (h *orgHandlers) writeCentral(c echo.Context, status int, ch *store.CentralHousehold) error {
	h.privacy(c).ref(&ch.Person)
	return c.JSON(status, map[string]any{"id": ch.ID, "household": householdOut(&ch.Household), "person": ch.Person,
		"branch": ch.Branch, "members": ch.Members})
}

// createCentral: POST /api/v1/central-households {household, person, branch} → 201.
func (h *orgHandlers) createCentral(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var b centralBody
	if err := decodeOrgBody(c, &b); err != nil {
		return err
	}
	switch {
	case b.Household == nil:
		return geo.Invalid("household", "name the household: its id or {\"unit\", \"external_id\"}")
	case b.Person == nil || *b.Person <= 0:
		return geo.Invalid("person", "name the party member who keeps the household: a person id")
	case b.Branch != nil && *b.Branch <= 0:
		return geo.Invalid("branch", "a branch id is a positive number")
	}
	ch, err := h.store.CreateCentralHousehold(c.Request().Context(), store.CentralInput{Household: b.Household.ref, Person: *b.Person, Branch: b.Branch})
	if err != nil {
		return orgError(err)
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/central-households/%d", ch.ID))
	return h.writeCentral(c, http.StatusCreated, ch)
}

// getCentral: GET /api/v1/central-households/{id} → the central household and its members.
func (h *orgHandlers) getCentral(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	ch, err := h.store.CentralHousehold(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.writeCentral(c, http.StatusOK, ch)
}

// deleteCentral: DELETE /api/v1/central-households/{id} removes it with its member links.
func (h *orgHandlers) deleteCentral(c echo.Context) error {
	id, err := idOnly(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteCentralHousehold(c.Request().Context(), id); err != nil {
		return orgError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// linkKind reads a link kind from the path or the query.
func linkKind(field, name string) (store.LinkKind, error) {
	k, ok := store.LinkKinds()[name]
	if !ok {
		return k, geo.Invalid(field, fmt.Sprintf("link kind %q: want member-households, cadre-members or central-members", name))
	}
	return k, nil
}

// replaceLinks: PUT /api/v1/links/{kind} {owner, targets, move} replaces one owner's links:
// member-households {member, households}, cadre-members {cadre, members},
// central-members {central_household, members}. A target linked to another owner is 409
// naming it unless "move": true.
func (h *orgHandlers) replaceLinks(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	kind, err := linkKind("kind", c.Param("kind"))
	if err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := decodeOrgBody(c, &raw); err != nil {
		return err
	}
	var unknown []string
	for k := range raw {
		if k != kind.FromField && k != kind.ToField && k != "move" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		e := geo.Invalid(unknown[0], fmt.Sprintf("unknown field; %s links take %s, %s and move", kind.Name, kind.FromField, kind.ToField))
		e.Code = "unknown_field"
		return e
	}
	var from int64
	if v, ok := raw[kind.FromField]; !ok || json.Unmarshal(v, &from) != nil || from <= 0 {
		return geo.Invalid(kind.FromField, "give the id (a positive number) whose links to replace")
	}
	var to []int64
	if v, ok := raw[kind.ToField]; !ok || string(v) == "null" || json.Unmarshal(v, &to) != nil {
		return geo.Invalid(kind.ToField, "give the list of ids to link (an empty list removes them all)")
	}
	if len(to) > 10000 {
		return geo.Invalid(kind.ToField, "at most 10,000 ids at once")
	}
	var move bool
	if v, ok := raw["move"]; ok && json.Unmarshal(v, &move) != nil {
		return geo.Invalid("move", "move takes true or false")
	}
	set, err := h.store.ReplaceLinks(c.Request().Context(), kind, from, to, move)
	if err != nil {
		return orgError(err)
	}
	moved := make([]map[string]int64, len(set.Moved))
	for i, m := range set.Moved {
		moved[i] = map[string]int64{"id": m.To, "from": m.From}
	}
	return c.JSON(http.StatusOK, map[string]any{"kind": kind.Name, kind.FromField: set.From, kind.ToField: set.To, "moved": moved})
}

// listLinks: GET /api/v1/links?kind=&unit=&limit=&after= → links grouped by owner, a page
// of owners by id, with next.
func (h *orgHandlers) listLinks(c echo.Context) error {
	if err := onlyParams(c, "kind", "unit", "limit", "after"); err != nil {
		return err
	}
	if c.QueryParam("kind") == "" {
		return geo.Invalid("kind", "kind is required: member-households, cadre-members or central-members")
	}
	kind, err := linkKind("kind", c.QueryParam("kind"))
	if err != nil {
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
	groups, more, err := h.store.Links(c.Request().Context(), kind, unit, after, limit)
	if err != nil {
		return err
	}
	pv := h.privacy(c)
	links := make([]map[string]any, len(groups))
	var last int64
	for i := range groups {
		g := &groups[i]
		pv.ref(&g.Person)
		if kind.FromField == "central_household" {
			links[i] = map[string]any{"central_household": map[string]any{"id": g.Central, "person": g.Person}, kind.ToField: g.To}
			last = g.Central
		} else {
			links[i] = map[string]any{kind.FromField: g.Person, kind.ToField: g.To}
			last = g.Person.ID
		}
	}
	body := map[string]any{"kind": kind.Name, "links": links}
	if more {
		body["next"] = nextPage(c, last)
	}
	return c.JSON(http.StatusOK, body)
}

// orgOps documents the people and organisation routes for the OpenAPI document.
func orgOps() []apiOp {
	unitQ := "unit: statistical code of a county (6 digits), township/street (9) or village/community (12); its whole subtree"
	limitQ := "limit: page size, 1–1000 (default 100)"
	afterQ := "after: the last id of the previous page (keyset paging; follow next)"
	masked := " Names and phones are masked (张**, 138****5678) unless the caller may see them."
	return []apiOp{
		{"POST", "/api/v1/people", "people", "Create a person {unit, name, phone, party_member, cadre, household (id or {unit, external_id}), branch, group}." + masked, nil, "application/json", 201, "application/json", []int{400, 409}},
		{"GET", "/api/v1/people", "people", "People by id, a page at a time." + masked, []string{unitQ, "role: party_member, cadre or staff (on a grid team)", limitQ, afterQ}, "", 200, "application/json", []int{400, 404}},
		{"GET", "/api/v1/people/{id}", "people", "One person with what refers to them (roles)." + masked, nil, "", 200, "application/json", []int{400, 404}},
		{"PUT", "/api/v1/people/{id}", "people", "Change the fields sent (null clears phone, household, branch, group); {group} joins a party group", nil, "application/json", 200, "application/json", []int{400, 404, 409}},
		{"DELETE", "/api/v1/people/{id}", "people", "Delete a person; 409 listing what still refers to them (secretary, team, links)", nil, "", 204, "", []int{400, 404, 409}},
		{"GET", "/api/v1/grids/{code}/team", "organisation", "A grid's branch, party groups, team 一长三员, party members and household count." + masked, nil, "", 200, "application/json", []int{404}},
		{"PUT", "/api/v1/grids/{code}/team", "organisation", "Replace the team {leader, worker, assistant, instructor (optional)} in one transaction", nil, "application/json", 200, "application/json", []int{400, 404}},
		{"GET", "/api/v1/grids/{code}/branch", "organisation", "The grid's active party branch", nil, "", 200, "application/json", []int{404}},
		{"POST", "/api/v1/grids/{code}/branch", "organisation", "Found the grid's party branch {name, secretary}; a second active branch is 409", nil, "application/json", 201, "application/json", []int{400, 404, 409}},
		{"PUT", "/api/v1/grids/{code}/branch", "organisation", "Rename the branch or change its secretary", nil, "application/json", 200, "application/json", []int{400, 404}},
		{"DELETE", "/api/v1/grids/{code}/branch", "organisation", "End the grid's branch (valid_to); it stays on record", nil, "", 204, "", []int{404}},
		{"GET", "/api/v1/branches/{id}/groups", "organisation", "A branch and its party groups", nil, "", 200, "application/json", []int{400, 404}},
		{"POST", "/api/v1/branches/{id}/groups", "organisation", "Add a party group {name, leader} to an active branch", nil, "application/json", 201, "application/json", []int{400, 404, 409}},
		{"GET", "/api/v1/groups/{id}", "organisation", "A party group with its members", nil, "", 200, "application/json", []int{400, 404}},
		{"PUT", "/api/v1/groups/{id}", "organisation", "Rename a party group or change its leader", nil, "application/json", 200, "application/json", []int{400, 404, 409}},
		{"DELETE", "/api/v1/groups/{id}", "organisation", "Dissolve a party group; its members leave it", nil, "", 204, "", []int{400, 404}},
		{"POST", "/api/v1/central-households", "organisation", "Make a party member's home a central household {household, person, branch}", nil, "application/json", 201, "application/json", []int{400, 409}},
		{"GET", "/api/v1/central-households/{id}", "organisation", "A central household and its members", nil, "", 200, "application/json", []int{400, 404}},
		{"DELETE", "/api/v1/central-households/{id}", "organisation", "Remove a central household with its member links", nil, "", 204, "", []int{400, 404}},
		{"GET", "/api/v1/links", "organisation", "Links grouped by owner, a page of owners at a time." + masked, []string{"kind: member-households, cadre-members or central-members", unitQ, limitQ, afterQ}, "", 200, "application/json", []int{400, 404}},
		{"PUT", "/api/v1/links/{kind}", "organisation", "Replace one owner's links in one transaction: member-households {member, households}, cadre-members {cadre, members}, central-members {central_household, members}; a target linked elsewhere is 409 unless {\"move\": true}", nil, "application/json", 200, "application/json", []int{400, 409}},
	}
}
