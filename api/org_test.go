package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"gridmap/geo/store"
)

type personRefOut struct {
	ID    int64
	Name  string
	Phone *string
}

type branchOut struct {
	ID        int64
	Grid      string
	Name      string
	Secretary *personRefOut
	ValidTo   *string `json:"valid_to"`
	Groups    int
	Members   int
}

type groupOut struct {
	ID          int64
	Branch      int64
	Name        string
	Leader      *personRefOut
	MemberCount int `json:"member_count"`
	Members     []personRefOut
}

type teamOut struct {
	Grid   struct{ Code, Name, Kind, Unit string }
	Branch *branchOut
	Groups []groupOut
	Team   []struct {
		Role  string
		ID    int64
		Name  string
		Phone *string
	}
	PartyMembers []struct {
		ID         int64
		Name       string
		Group      *int64
		Households int
	} `json:"party_members"`
	Households int
}

type conflictOut struct {
	Error struct {
		Code, Field, Message string
		Details              map[string]any
	}
}

func teamRoles(v teamOut) string {
	var parts []string
	for _, m := range v.Team {
		parts = append(parts, fmt.Sprintf("%s=%d", m.Role, m.ID))
	}
	return strings.Join(parts, " ")
}

func TestTeamReplace(t *testing.T) {
	base, clear, st := orgFixture(t)
	ctx := context.Background()
	team := base + "/api/v1/grids/" + westGrid + "/team"
	leader := mkPerson(t, base, map[string]any{"name": "赵网格长", "phone": "13900001111", "party_member": true})
	worker := mkPerson(t, base, map[string]any{"name": "钱网格员", "phone": "13900002222"})
	assistant := mkPerson(t, base, map[string]any{"name": "孙辅助员"})
	instructor := mkPerson(t, base, map[string]any{"unit": "999001001", "name": "李指导员", "party_member": true}) // from the township
	worker2 := mkPerson(t, base, map[string]any{"name": "周网格员"})
	outsider := mkPerson(t, base, map[string]any{"unit": "999001001002", "name": "吴外村"})

	v := decode[teamOut](t, send(t, "GET", team, "", nil))
	if v.Grid.Code != westGrid || v.Households != 100 || v.Branch != nil || len(v.Team) != 0 || len(v.Groups) != 0 {
		t.Fatalf("empty team %+v", v)
	}
	r := send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "worker": worker.ID, "assistant": assistant.ID, "instructor": instructor.ID}), nil)
	if r.status != 200 {
		t.Fatalf("put team: %d %s", r.status, r.body)
	}
	v = decode[teamOut](t, r)
	want := fmt.Sprintf("leader=%d worker=%d assistant=%d instructor=%d", leader.ID, worker.ID, assistant.ID, instructor.ID)
	if teamRoles(v) != want || v.Team[0].Name != "赵***" || *v.Team[0].Phone != "139****1111" {
		t.Fatalf("team %s, want %s; %+v", teamRoles(v), want, v.Team)
	}
	if c := decode[teamOut](t, send(t, "GET", strings.Replace(team, base, clear, 1), "", nil)); c.Team[0].Name != "赵网格长" {
		t.Fatalf("clear team %+v", c.Team)
	}

	// Replacing drops the old team; the instructor is optional.
	v = decode[teamOut](t, send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "worker": worker2.ID, "assistant": assistant.ID}), nil))
	want = fmt.Sprintf("leader=%d worker=%d assistant=%d", leader.ID, worker2.ID, assistant.ID)
	if teamRoles(v) != want {
		t.Fatalf("team %s, want %s", teamRoles(v), want)
	}
	var rows int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM grid_team`).Scan(&rows); err != nil || rows != 3 {
		t.Fatalf("grid_team has %d rows (%v)", rows, err)
	}
	// Staff are the people on a team.
	staff := decode[struct{ People []personOut }](t, send(t, "GET", base+"/api/v1/people?role=staff", "", nil)).People
	if len(staff) != 3 {
		t.Fatalf("staff %+v", staff)
	}

	// Refused replacements change nothing.
	wantError(t, send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "assistant": assistant.ID}), nil), 400, "invalid_parameter", "worker")
	wantError(t, send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "worker": outsider.ID, "assistant": assistant.ID}), nil), 400, "invalid_parameter", "worker")
	wantError(t, send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "worker": worker.ID, "assistant": assistant.ID, "instructor": 99999999}), nil), 400, "invalid_reference", "instructor")
	wantError(t, send(t, "PUT", team, jsonBody(map[string]any{"leader": leader.ID, "worker": worker.ID, "assistant": assistant.ID, "deputy": 1}), nil), 400, "unknown_field", "deputy")
	wantError(t, send(t, "PUT", team, `{"leader": "赵", "worker": 1, "assistant": 1}`, nil), 400, "invalid_parameter", "leader")
	wantError(t, send(t, "PUT", base+"/api/v1/grids/999001001001009/team", jsonBody(map[string]any{"leader": leader.ID, "worker": worker.ID, "assistant": assistant.ID}), nil), 404, "not_found", "")
	wantError(t, send(t, "GET", base+"/api/v1/grids/999001001001009/team", "", nil), 404, "not_found", "")
	if v := decode[teamOut](t, send(t, "GET", team, "", nil)); teamRoles(v) != want {
		t.Fatalf("refused PUT changed the team: %s", teamRoles(v))
	}
}

func TestBranchAndGroups(t *testing.T) {
	base, clear, st := orgFixture(t)
	ctx := context.Background()
	branch := base + "/api/v1/grids/" + westGrid + "/branch"
	secretary := mkPerson(t, base, map[string]any{"name": "陈书记", "party_member": true})
	member := mkPerson(t, base, map[string]any{"name": "黄党员", "party_member": true, "household": householdID(t, st, "h2_2")})
	nonParty := mkPerson(t, base, map[string]any{"name": "林群众"})

	wantError(t, send(t, "POST", branch, jsonBody(map[string]any{"name": "西片党支部", "secretary": nonParty.ID}), nil), 400, "invalid_parameter", "secretary")
	wantError(t, send(t, "POST", branch, jsonBody(map[string]any{"name": "西片党支部", "secretary": 99999999}), nil), 400, "invalid_reference", "secretary")
	wantError(t, send(t, "POST", branch, jsonBody(map[string]any{"name": " "}), nil), 400, "invalid_parameter", "name")
	wantError(t, send(t, "POST", branch, jsonBody(map[string]any{"name": "x", "secretray": 1}), nil), 400, "unknown_field", "secretray")
	wantError(t, send(t, "GET", branch, "", nil), 404, "not_found", "")
	r := send(t, "POST", branch, jsonBody(map[string]any{"name": "西片党支部", "secretary": secretary.ID}), nil)
	if r.status != 201 || r.header.Get("Location") != "/api/v1/grids/"+westGrid+"/branch" {
		t.Fatalf("create branch: %d %s", r.status, r.body)
	}
	b := decode[branchOut](t, r)
	if b.Grid != westGrid || b.Name != "西片党支部" || b.Secretary == nil || b.Secretary.ID != secretary.ID || b.Secretary.Name != "陈**" {
		t.Fatalf("branch %+v", b)
	}

	// One active branch per grid: the second is 409 naming the first.
	r = send(t, "POST", branch, jsonBody(map[string]any{"name": "第二支部"}), nil)
	c := decode[conflictOut](t, r)
	if r.status != 409 || c.Error.Code != "conflict" || c.Error.Details["branch"] != float64(b.ID) || !strings.Contains(c.Error.Message, "西片党支部") {
		t.Fatalf("second branch: %d %s", r.status, r.body)
	}
	// Rename, change the secretary (clear view), remove him.
	r = send(t, "PUT", strings.Replace(branch, base, clear, 1), jsonBody(map[string]any{"name": "西片网格党支部", "secretary": member.ID}), nil)
	if b2 := decode[branchOut](t, r); r.status != 200 || b2.Name != "西片网格党支部" || b2.Secretary.Name != "黄党员" || b2.ID != b.ID {
		t.Fatalf("update branch: %d %s", r.status, r.body)
	}
	if b2 := decode[branchOut](t, send(t, "PUT", branch, `{"secretary": null}`, nil)); b2.Secretary != nil || b2.Name != "西片网格党支部" {
		t.Fatalf("remove secretary %+v", b2)
	}
	send(t, "PUT", branch, jsonBody(map[string]any{"secretary": secretary.ID}), nil)

	// Party groups.
	groups := fmt.Sprintf("%s/api/v1/branches/%d/groups", base, b.ID)
	wantError(t, send(t, "POST", groups, jsonBody(map[string]any{"name": "第一党小组", "leader": nonParty.ID}), nil), 400, "invalid_parameter", "leader")
	r = send(t, "POST", groups, jsonBody(map[string]any{"name": "第一党小组", "leader": member.ID}), nil)
	if r.status != 201 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	g := decode[groupOut](t, r)
	if g.Branch != b.ID || g.Leader == nil || g.Leader.Name != "黄**" || r.header.Get("Location") != fmt.Sprintf("/api/v1/groups/%d", g.ID) {
		t.Fatalf("group %+v", g)
	}
	r = send(t, "POST", groups, jsonBody(map[string]any{"name": "第一党小组"}), nil)
	wantError(t, r, 409, "conflict", "name") // the database's unique constraint, explained
	g2 := decode[groupOut](t, send(t, "POST", groups, jsonBody(map[string]any{"name": "第二党小组"}), nil))

	// Members join a group by PUT person {group}; the branch follows.
	one := fmt.Sprintf("%s/api/v1/people/%d", base, member.ID)
	p := decode[personOut](t, send(t, "PUT", one, jsonBody(map[string]any{"group": g.ID}), nil))
	if p.Group == nil || *p.Group != g.ID || p.Branch == nil || *p.Branch != b.ID {
		t.Fatalf("joined %+v", p)
	}
	wantError(t, send(t, "PUT", fmt.Sprintf("%s/api/v1/people/%d", base, nonParty.ID), jsonBody(map[string]any{"group": g.ID}), nil), 400, "invalid_parameter", "group")
	if p := decode[personOut](t, send(t, "PUT", one, jsonBody(map[string]any{"branch": b.ID}), nil)); p.Group == nil || *p.Group != g.ID {
		t.Fatalf("the same branch again left the group: %+v", p)
	}
	wantError(t, send(t, "PUT", one, jsonBody(map[string]any{"branch": 99999999}), nil), 400, "invalid_reference", "branch")
	wantError(t, send(t, "PUT", one, jsonBody(map[string]any{"branch": nil, "group": g.ID}), nil), 400, "invalid_parameter", "group")
	wantError(t, send(t, "PUT", one, jsonBody(map[string]any{"party_member": false}), nil), 409, "conflict", "party_member")
	list := decode[struct {
		Branch branchOut
		Groups []groupOut
	}](t, send(t, "GET", groups, "", nil))
	if list.Branch.ID != b.ID || len(list.Groups) != 2 || list.Groups[0].MemberCount != 1 || list.Groups[1].ID != g2.ID || list.Branch.Members != 1 {
		t.Fatalf("groups %+v", list)
	}
	if got := decode[groupOut](t, send(t, "GET", fmt.Sprintf("%s/api/v1/groups/%d", clear, g.ID), "", nil)); len(got.Members) != 1 || got.Members[0].Name != "黄党员" {
		t.Fatalf("group members %+v", got)
	}
	v := decode[teamOut](t, send(t, "GET", base+"/api/v1/grids/"+westGrid+"/team", "", nil))
	if v.Branch == nil || v.Branch.ID != b.ID || len(v.Groups) != 2 || len(v.PartyMembers) != 1 || v.PartyMembers[0].ID != member.ID ||
		v.PartyMembers[0].Group == nil || *v.PartyMembers[0].Group != g.ID || v.PartyMembers[0].Name != "黄**" {
		t.Fatalf("team view %+v", v)
	}
	if r := send(t, "PUT", fmt.Sprintf("%s/api/v1/groups/%d", base, g2.ID), jsonBody(map[string]any{"name": "第一党小组"}), nil); r.status != 409 {
		t.Fatalf("rename onto a taken name: %d %s", r.status, r.body)
	}
	if got := decode[groupOut](t, send(t, "PUT", fmt.Sprintf("%s/api/v1/groups/%d", base, g2.ID), jsonBody(map[string]any{"name": "第三党小组", "leader": member.ID}), nil)); got.Name != "第三党小组" || got.Leader.ID != member.ID {
		t.Fatalf("rename group %+v", got)
	}
	// Dissolving a group releases its members.
	if r := send(t, "DELETE", fmt.Sprintf("%s/api/v1/groups/%d", base, g.ID), "", nil); r.status != 204 {
		t.Fatalf("delete group: %d %s", r.status, r.body)
	}
	if p := decode[personOut](t, send(t, "GET", one, "", nil)); p.Group != nil || p.Branch == nil || *p.Branch != b.ID {
		t.Fatalf("after dissolving %+v", p)
	}
	wantError(t, send(t, "GET", fmt.Sprintf("%s/api/v1/groups/%d", base, g.ID), "", nil), 404, "not_found", "")

	// Ending the branch frees the grid for a new one; the old stays on record.
	if r := send(t, "DELETE", branch, "", nil); r.status != 204 {
		t.Fatalf("end branch: %d %s", r.status, r.body)
	}
	wantError(t, send(t, "GET", branch, "", nil), 404, "not_found", "")
	wantError(t, send(t, "DELETE", branch, "", nil), 404, "not_found", "")
	wantError(t, send(t, "POST", groups, jsonBody(map[string]any{"name": "第四党小组"}), nil), 409, "conflict", "")
	wantError(t, send(t, "PUT", one, jsonBody(map[string]any{"group": g2.ID}), nil), 400, "invalid_parameter", "group")
	if r := send(t, "POST", branch, jsonBody(map[string]any{"name": "新西片党支部"}), nil); r.status != 201 {
		t.Fatalf("new branch: %d %s", r.status, r.body)
	}
	var total, active int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM branches`).Scan(&total, &active); err != nil || total != 2 || active != 1 {
		t.Fatalf("branches %d active %d (%v)", total, active, err)
	}
	// Two planners founding the east grid's branch at once: one wins, the other gets 409.
	statuses := make(chan int, 2)
	for i := range 2 {
		go func() {
			statuses <- sendQuiet(base+"/api/v1/grids/"+eastGrid+"/branch", jsonBody(map[string]any{"name": fmt.Sprintf("东片党支部%d", i)}))
		}()
	}
	if s1, s2 := <-statuses, <-statuses; s1+s2 != 201+409 {
		t.Fatalf("concurrent branches: %d and %d", s1, s2)
	}
	wantError(t, send(t, "GET", base+"/api/v1/branches/99999999/groups", "", nil), 404, "not_found", "")
	wantError(t, send(t, "POST", base+"/api/v1/grids/999001001001009/branch", `{"name": "x"}`, nil), 404, "not_found", "")
}

type linkOut struct {
	Kind       string
	Member     int64
	Cadre      int64
	Central    int64 `json:"central_household"`
	Households []int64
	Members    []int64
	Moved      []struct{ ID, From int64 }
}

func linkedHouseholds(t *testing.T, st *store.Store, member int64) []int64 {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT household_id FROM member_household_links WHERE member_id = $1 ORDER BY 1`, member)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func TestLinks(t *testing.T) {
	base, clear, st := orgFixture(t)
	links := base + "/api/v1/links/"
	h := func(ext string) int64 { return householdID(t, st, ext) }
	a := mkPerson(t, base, map[string]any{"name": "党员甲", "party_member": true, "household": h("h0_0")})
	b := mkPerson(t, base, map[string]any{"name": "党员乙", "party_member": true, "household": h("h0_1")})
	cadre := mkPerson(t, base, map[string]any{"name": "村干部", "party_member": true, "cadre": true})
	plain := mkPerson(t, base, map[string]any{"name": "群众丙"})

	// Member → households.
	r := send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": a.ID, "households": []int64{h("h1_0"), h("h1_1"), h("h1_2")}}), nil)
	if l := decode[linkOut](t, r); r.status != 200 || l.Member != a.ID || len(l.Households) != 3 || len(l.Moved) != 0 {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	// A household already linked to another member: 409 naming it, unless moved.
	r = send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": b.ID, "households": []int64{h("h2_0"), h("h1_2")}}), nil)
	c := decode[conflictOut](t, r)
	if r.status != 409 || c.Error.Field != "households" || !strings.Contains(c.Error.Message, fmt.Sprintf("household %d", h("h1_2"))) ||
		!strings.Contains(c.Error.Message, fmt.Sprintf("member %d", a.ID)) || c.Error.Details["linked"] == nil {
		t.Fatalf("taken household: %d %s", r.status, r.body)
	}
	if got := linkedHouseholds(t, st, b.ID); len(got) != 0 {
		t.Fatalf("refused link wrote %v", got)
	}
	r = send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": b.ID, "households": []int64{h("h2_0"), h("h1_2")}, "move": true}), nil)
	l := decode[linkOut](t, r)
	if r.status != 200 || len(l.Moved) != 1 || l.Moved[0].ID != h("h1_2") || l.Moved[0].From != a.ID || fmt.Sprint(l.Households) != fmt.Sprint(sortIDs(h("h2_0"), h("h1_2"))) {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	if got := linkedHouseholds(t, st, a.ID); fmt.Sprint(got) != fmt.Sprint(sortIDs(h("h1_0"), h("h1_1"))) {
		t.Fatalf("a keeps %v", got)
	}

	// A change failing half-way (after the move and the clearing) leaves everything as it was.
	r = send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": b.ID, "households": []int64{h("h1_0"), h("h3_3"), 99999999}, "move": true}), nil)
	wantError(t, r, 400, "invalid_reference", "households")
	if !strings.Contains(string(r.body), "99999999") {
		t.Fatalf("the bad household is not named: %s", r.body)
	}
	if got := linkedHouseholds(t, st, a.ID); fmt.Sprint(got) != fmt.Sprint(sortIDs(h("h1_0"), h("h1_1"))) {
		t.Fatalf("a after the failed change %v", got)
	}
	if got := linkedHouseholds(t, st, b.ID); fmt.Sprint(got) != fmt.Sprint(sortIDs(h("h2_0"), h("h1_2"))) {
		t.Fatalf("b after the failed change %v", got)
	}

	// The database refuses links to non-party members and non-cadres; the field is named.
	wantError(t, send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": plain.ID, "households": []int64{h("h5_5")}}), nil), 400, "invalid_parameter", "member")
	r = send(t, "PUT", links+"cadre-members", jsonBody(map[string]any{"cadre": cadre.ID, "members": []int64{a.ID, plain.ID}}), nil)
	wantError(t, r, 400, "invalid_reference", "members")
	if !strings.Contains(string(r.body), fmt.Sprintf("person %d is not a party member", plain.ID)) {
		t.Fatalf("non-party member not named: %s", r.body)
	}
	wantError(t, send(t, "PUT", links+"cadre-members", jsonBody(map[string]any{"cadre": a.ID, "members": []int64{b.ID}}), nil), 400, "invalid_parameter", "cadre")
	wantError(t, send(t, "PUT", links+"cadre-members", jsonBody(map[string]any{"cadre": cadre.ID, "members": []int64{cadre.ID}}), nil), 400, "invalid_parameter", "members")
	wantError(t, send(t, "PUT", links+"cadre-members", jsonBody(map[string]any{"cadre": cadre.ID, "members": []int64{a.ID, a.ID}}), nil), 400, "invalid_parameter", "members")
	r = send(t, "PUT", links+"cadre-members", jsonBody(map[string]any{"cadre": cadre.ID, "members": []int64{a.ID, b.ID}}), nil)
	if l := decode[linkOut](t, r); r.status != 200 || l.Cadre != cadre.ID || len(l.Members) != 2 {
		t.Fatalf("cadre links: %d %s", r.status, r.body)
	}

	// Central households and their members.
	wantError(t, send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": h("h0_1"), "person": a.ID}), nil), 400, "invalid_parameter", "household")
	wantError(t, send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": h("h0_0")}), nil), 400, "invalid_parameter", "person")
	wantError(t, send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": h("h5_5"), "person": plain.ID}), nil), 400, "invalid_parameter", "person")
	wantError(t, send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": h("h0_0"), "person": a.ID, "branch": 99999999}), nil), 400, "invalid_reference", "branch")
	r = send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": map[string]any{"unit": village, "external_id": "h0_0"}, "person": a.ID}), nil)
	if r.status != 201 {
		t.Fatalf("central household: %d %s", r.status, r.body)
	}
	central := decode[struct {
		ID     int64
		Person personRefOut
	}](t, r)
	if central.Person.ID != a.ID || central.Person.Name != "党**" {
		t.Fatalf("central %+v", central)
	}
	r = send(t, "POST", base+"/api/v1/central-households", jsonBody(map[string]any{"household": h("h0_0"), "person": a.ID}), nil)
	wantError(t, r, 409, "conflict", "household")
	r = send(t, "PUT", links+"central-members", jsonBody(map[string]any{"central_household": central.ID, "members": []int64{b.ID}}), nil)
	if l := decode[linkOut](t, r); r.status != 200 || l.Central != central.ID || fmt.Sprint(l.Members) != fmt.Sprint([]int64{b.ID}) {
		t.Fatalf("central links: %d %s", r.status, r.body)
	}
	wantError(t, send(t, "PUT", links+"central-members", jsonBody(map[string]any{"central_household": 99999999, "members": []int64{b.ID}}), nil), 400, "invalid_reference", "central_household")
	wantError(t, send(t, "PUT", links+"central-members", jsonBody(map[string]any{"central_household": central.ID, "members": []int64{plain.ID}}), nil), 400, "invalid_reference", "members")

	// Listing by kind and unit, masked or clear.
	type listOut struct {
		Kind  string
		Links []map[string]any
		Next  string
	}
	ls := decode[listOut](t, send(t, "GET", base+"/api/v1/links?kind=member-households&unit="+village, "", nil))
	if ls.Kind != "member-households" || len(ls.Links) != 2 || !strings.Contains(fmt.Sprint(ls.Links[0]["member"]), "党**") {
		t.Fatalf("links %+v", ls)
	}
	pg := decode[listOut](t, send(t, "GET", clear+"/api/v1/links?kind=member-households&limit=1", "", nil))
	if len(pg.Links) != 1 || pg.Next == "" || !strings.Contains(fmt.Sprint(pg.Links[0]["member"]), "党员甲") {
		t.Fatalf("page %+v", pg)
	}
	if pg2 := decode[listOut](t, send(t, "GET", clear+pg.Next, "", nil)); len(pg2.Links) != 1 || pg2.Next != "" || !strings.Contains(fmt.Sprint(pg2.Links[0]["member"]), "党员乙") {
		t.Fatalf("second page %+v", pg2)
	}
	cm := decode[listOut](t, send(t, "GET", base+"/api/v1/links?kind=central-members&unit=999001", "", nil))
	if len(cm.Links) != 1 || cm.Links[0]["central_household"] == nil || len(cm.Links[0]["members"].([]any)) != 1 {
		t.Fatalf("central links %+v", cm)
	}
	if cl := decode[listOut](t, send(t, "GET", base+"/api/v1/links?kind=cadre-members&unit=999001001002", "", nil)); len(cl.Links) != 0 {
		t.Fatalf("other village's cadre links %+v", cl)
	}
	wantError(t, send(t, "GET", base+"/api/v1/links?unit="+village, "", nil), 400, "invalid_parameter", "kind")
	wantError(t, send(t, "GET", base+"/api/v1/links?kind=friends", "", nil), 400, "invalid_parameter", "kind")
	wantError(t, send(t, "PUT", links+"friends", `{}`, nil), 400, "invalid_parameter", "kind")
	wantError(t, send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": a.ID, "households": []int64{}, "members": []int64{}}), nil), 400, "unknown_field", "members")
	wantError(t, send(t, "PUT", links+"member-households", jsonBody(map[string]any{"member": a.ID}), nil), 400, "invalid_parameter", "households")
	wantError(t, send(t, "PUT", links+"member-households", jsonBody(map[string]any{"households": []int64{}}), nil), 400, "invalid_parameter", "member")

	// Deleting a central household removes its member links.
	if r := send(t, "DELETE", fmt.Sprintf("%s/api/v1/central-households/%d", base, central.ID), "", nil); r.status != 204 {
		t.Fatalf("delete central: %d %s", r.status, r.body)
	}
	wantError(t, send(t, "GET", fmt.Sprintf("%s/api/v1/central-households/%d", base, central.ID), "", nil), 404, "not_found", "")
}

func sortIDs(ids ...int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func TestPersonDeleteRefusedWhileReferenced(t *testing.T) {
	base, _, st := orgFixture(t)
	member := mkPerson(t, base, map[string]any{"name": "党员甲", "party_member": true, "cadre": true})
	other := mkPerson(t, base, map[string]any{"name": "党员乙", "party_member": true})
	worker := mkPerson(t, base, map[string]any{"name": "网格员"})
	one := fmt.Sprintf("%s/api/v1/people/%d", base, member.ID)
	send(t, "PUT", base+"/api/v1/links/member-households", jsonBody(map[string]any{"member": member.ID, "households": []int64{householdID(t, st, "h4_4")}}), nil)
	send(t, "PUT", base+"/api/v1/links/cadre-members", jsonBody(map[string]any{"cadre": member.ID, "members": []int64{other.ID}}), nil)
	send(t, "POST", base+"/api/v1/grids/"+westGrid+"/branch", jsonBody(map[string]any{"name": "西片党支部", "secretary": member.ID}), nil)
	send(t, "PUT", base+"/api/v1/grids/"+westGrid+"/team", jsonBody(map[string]any{"leader": member.ID, "worker": worker.ID, "assistant": worker.ID}), nil)

	r := send(t, "DELETE", one, "", nil)
	c := decode[conflictOut](t, r)
	if r.status != 409 || c.Error.Code != "conflict" {
		t.Fatalf("delete referenced: %d %s", r.status, r.body)
	}
	var kinds []string
	for _, ref := range c.Error.Details["references"].([]any) {
		kinds = append(kinds, ref.(map[string]any)["kind"].(string))
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "cadre,member,secretary,team" || !strings.Contains(c.Error.Message, "secretary of branch") ||
		!strings.Contains(c.Error.Message, "leader of grid "+westGrid) {
		t.Fatalf("references %v: %s", kinds, c.Error.Message)
	}
	if got := decode[personOut](t, send(t, "GET", one, "", nil)); len(got.Roles) != 4 {
		t.Fatalf("roles %+v", got.Roles)
	}
	// Taking party membership or cadre status away is refused the same way.
	wantError(t, send(t, "PUT", one, `{"party_member": false}`, nil), 409, "conflict", "party_member")
	wantError(t, send(t, "PUT", one, `{"cadre": false}`, nil), 409, "conflict", "cadre")
	wantError(t, send(t, "DELETE", fmt.Sprintf("%s/api/v1/people/%d", base, other.ID), "", nil), 409, "conflict", "")

	// Unlinking everything makes the person deletable.
	send(t, "PUT", base+"/api/v1/links/member-households", `{"member": `+fmt.Sprint(member.ID)+`, "households": []}`, nil)
	send(t, "PUT", base+"/api/v1/links/cadre-members", `{"cadre": `+fmt.Sprint(member.ID)+`, "members": []}`, nil)
	send(t, "PUT", base+"/api/v1/grids/"+westGrid+"/branch", `{"secretary": null}`, nil)
	send(t, "PUT", base+"/api/v1/grids/"+westGrid+"/team", jsonBody(map[string]any{"leader": worker.ID, "worker": worker.ID, "assistant": worker.ID}), nil)
	if r := send(t, "DELETE", one, "", nil); r.status != 204 {
		t.Fatalf("delete after unlinking: %d %s", r.status, r.body)
	}
	if r := send(t, "DELETE", fmt.Sprintf("%s/api/v1/people/%d", base, other.ID), "", nil); r.status != 204 {
		t.Fatalf("delete the former cadre member: %d %s", r.status, r.body)
	}
}

// TestOrgConstraintsAreExplained: every integrity constraint of the people and organisation
// tables has an explanation naming a request field, and every explanation a constraint.
func TestOrgConstraintsAreExplained(t *testing.T) {
	_, st, _ := newServer(t, 0)
	rows, err := st.Pool().Query(context.Background(), `
		SELECT conname FROM pg_constraint
		WHERE conrelid::regclass::text IN ('people', 'branches', 'party_groups', 'grid_team', 'central_households',
		                                   'cadre_member_links', 'central_member_links', 'member_household_links')
		  AND contype IN ('c', 'f', 'u', 'p')
		UNION
		SELECT indexrelid::regclass::text FROM pg_index
		WHERE indisunique AND indrelid::regclass::text IN ('branches')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	inDB := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		inDB[n] = true
	}
	known := map[string]bool{}
	for _, n := range store.ConstraintNames() {
		known[n] = true
		if !inDB[n] {
			t.Errorf("explained constraint %s does not exist", n)
		}
	}
	for n := range inDB {
		if !known[n] {
			t.Errorf("constraint %s has no explanation", n)
		}
	}
}

// TestTeamOfDemoGrid reads the organisation the demo county gives a grid and checks it
// against the database; nothing personal shows by default.
func TestTeamOfDemoGrid(t *testing.T) {
	ts, st, _ := newServer(t, 600)
	ctx := context.Background()
	var code string
	var members int
	err := st.Pool().QueryRow(ctx, `
		SELECT s.code, s.party_members FROM grid_stats s JOIN branches b ON b.grid_id = s.grid_id AND b.valid_to IS NULL
		ORDER BY s.party_members DESC, s.code LIMIT 1`).Scan(&code, &members)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, "GET", ts.URL+"/api/v1/grids/"+code+"/team", "", nil)
	v := decode[teamOut](t, r)
	if r.status != 200 || v.Branch == nil || v.Branch.Secretary == nil || len(v.Groups) == 0 || len(v.Team) != 4 ||
		len(v.PartyMembers) != members || v.Households == 0 {
		t.Fatalf("demo team: %d %+v (want %d members)", r.status, v, members)
	}
	rows, err := st.Pool().Query(ctx, `SELECT name FROM people`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if len([]rune(name)) > 1 && strings.Contains(string(r.body), `"`+name+`"`) {
			t.Fatalf("team view shows the name %q", name)
		}
	}
	// The secretary is referenced, so deleting them is refused.
	wantError(t, send(t, "DELETE", fmt.Sprintf("%s/api/v1/people/%d", ts.URL, v.Branch.Secretary.ID), "", nil), 409, "conflict", "")
}

// sendQuiet POSTs body and returns the status (for goroutines, which must not call t.Fatal).
func sendQuiet(url, body string) int {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+defaultToken(url))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
