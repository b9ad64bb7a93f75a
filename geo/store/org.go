package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gridmap/geo"
)

// The party organisation of a grid: its branch (一格一支部), party groups, the team 一长三员,
// central households and the links cadre → member, central household → member and
// member → household.

// GridRef names a grid.
type GridRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	Unit string `json:"unit"`
}

// Branch is a grid's party branch.
type Branch struct {
	ID        int64          `json:"id"`
	Grid      string         `json:"grid"`
	Name      string         `json:"name"`
	Secretary *geo.PersonRef `json:"secretary"`
	ValidFrom time.Time      `json:"valid_from"`
	ValidTo   *time.Time     `json:"valid_to,omitempty"`
	Groups    int            `json:"groups"`
	Members   int            `json:"members"`
}

// BranchInput creates a branch (Name required) or changes the fields that are Set.
type BranchInput struct {
	Name      Change[string]
	Secretary Change[int64]
}

// Group is a party group of a branch. Members is filled when one group is read.
type Group struct {
	ID          int64           `json:"id"`
	Branch      int64           `json:"branch"`
	Name        string          `json:"name"`
	Leader      *geo.PersonRef  `json:"leader"`
	MemberCount int             `json:"member_count"`
	Members     []geo.PersonRef `json:"members,omitempty"`
}

// GroupInput creates a party group (Name required) or changes the fields that are Set.
type GroupInput struct {
	Name   Change[string]
	Leader Change[int64]
}

// TeamMember holds one role of the grid team.
type TeamMember struct {
	Role string `json:"role"`
	geo.PersonRef
}

// GridMember is a party member of a grid: living in it or belonging to its branch.
type GridMember struct {
	geo.PersonRef
	Group      *int64 `json:"group"`
	Households int    `json:"households"` // linked households
}

// TeamView is a grid's organisation: branch, party groups, team 一长三员, party members and
// household count.
type TeamView struct {
	Grid         GridRef      `json:"grid"`
	Branch       *Branch      `json:"branch"`
	Groups       []Group      `json:"groups"`
	Team         []TeamMember `json:"team"`
	PartyMembers []GridMember `json:"party_members"`
	Households   int          `json:"households"`
}

// CentralHousehold is a party member's household that guides other members (党员中心户).
type CentralHousehold struct {
	ID        int64         `json:"id"`
	Household HouseholdRef  `json:"-"`
	Person    geo.PersonRef `json:"person"`
	Branch    *int64        `json:"branch"`
	Members   []int64       `json:"members"`
}

// CentralInput creates a central household.
type CentralInput struct {
	Household HouseholdRef
	Person    int64
	Branch    *int64 // default: the person's branch
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Team returns the organisation of an active grid.
func (s *Store) Team(ctx context.Context, code string) (*TeamView, error) {
	var out *TeamView
	err := s.tx(ctx, "grid team", func(tx pgx.Tx) error {
		var err error
		out, err = teamView(ctx, tx, code)
		return err
	})
	return out, err
}

func teamView(ctx context.Context, q querier, code string) (*TeamView, error) {
	v := TeamView{Groups: []Group{}, Team: []TeamMember{}, PartyMembers: []GridMember{}}
	var gridID int64
	err := q.QueryRow(ctx, `
		SELECT g.id, g.code, g.name, g.kind, g.unit_code, (SELECT count(*) FROM households h WHERE h.grid_id = g.id)
		FROM grids g WHERE g.code = $1 AND g.valid_to IS NULL`, code).
		Scan(&gridID, &v.Grid.Code, &v.Grid.Name, &v.Grid.Kind, &v.Grid.Unit, &v.Households)
	if err != nil {
		return nil, notFoundIfNoRows(err, "grid", code)
	}
	b, err := scanBranch(q.QueryRow(ctx, `SELECT `+branchColumns+` WHERE b.grid_id = $1 AND b.valid_to IS NULL`, gridID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("grid branch: %w", err)
	default:
		v.Branch = b
		if v.Groups, err = branchGroups(ctx, q, b.ID); err != nil {
			return nil, err
		}
	}
	rows, err := q.Query(ctx, `
		SELECT t.role, p.id, p.name, p.phone FROM grid_team t JOIN people p ON p.id = t.person_id
		WHERE t.grid_id = $1
		ORDER BY array_position(ARRAY['leader', 'worker', 'assistant', 'instructor'], t.role), p.id`, gridID)
	if err != nil {
		return nil, fmt.Errorf("grid team: %w", err)
	}
	team, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TeamMember, error) {
		var m TeamMember
		return m, row.Scan(&m.Role, &m.ID, &m.Name, &m.Phone)
	})
	if err != nil {
		return nil, fmt.Errorf("grid team: %w", err)
	}
	v.Team = append(v.Team, team...)
	var branchID *int64
	if v.Branch != nil {
		branchID = &v.Branch.ID
	}
	rows, err = q.Query(ctx, `
		SELECT p.id, p.name, p.phone, p.group_id, (SELECT count(*) FROM member_household_links l WHERE l.member_id = p.id)
		FROM people p
		WHERE p.party_member
		  AND (p.household_id IN (SELECT h.id FROM households h WHERE h.grid_id = $1) OR p.branch_id = $2)
		ORDER BY p.id`, gridID, branchID)
	if err != nil {
		return nil, fmt.Errorf("grid party members: %w", err)
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GridMember, error) {
		var m GridMember
		return m, row.Scan(&m.ID, &m.Name, &m.Phone, &m.Group, &m.Households)
	})
	if err != nil {
		return nil, fmt.Errorf("grid party members: %w", err)
	}
	v.PartyMembers = append(v.PartyMembers, members...)
	return &v, nil
}

// ReplaceTeam replaces a grid's team in one transaction: team maps roles (leader, worker,
// assistant, instructor) to person ids. Each person must belong to the grid's unit or a
// unit above it.
func (s *Store) ReplaceTeam(ctx context.Context, code string, team map[string]int64) (*TeamView, error) {
	var out *TeamView
	err := s.orgTx(ctx, "replace grid team", func(tx pgx.Tx) error {
		gridID, unit, err := lockActiveGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		var ids []int64
		var roles []string
		for _, role := range geo.TeamRoles() {
			id, ok := team[role]
			if !ok {
				continue
			}
			p, err := lookPerson(ctx, tx, role, id)
			if err != nil {
				return err
			}
			if err := p.inChain(role, unit); err != nil {
				return err
			}
			ids, roles = append(ids, id), append(roles, role)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grid_team WHERE grid_id = $1`, gridID); err != nil {
			return fmt.Errorf("clear team: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO grid_team (grid_id, person_id, role)
			SELECT $1, p, r FROM unnest($2::bigint[], $3::text[]) AS x (p, r)`, gridID, ids, roles)
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		out, err = teamView(ctx, tx, code)
		return err
	})
	return out, err
}

// lockActiveGrid locks an active grid's row against concurrent organisation changes (not
// against references to it) and returns its id and unit.
func lockActiveGrid(ctx context.Context, tx pgx.Tx, code string) (int64, string, error) {
	var id int64
	var unit string
	err := tx.QueryRow(ctx, `SELECT id, unit_code FROM grids WHERE code = $1 AND valid_to IS NULL FOR NO KEY UPDATE`, code).Scan(&id, &unit)
	if err != nil {
		return 0, "", notFoundIfNoRows(err, "grid", code)
	}
	return id, unit, nil
}

// personFacts is what the organisation rules need to know of a person.
type personFacts struct {
	id           int64
	unit         string
	party, cadre bool
	household    *int64
	branch       *int64
}

// lookPerson reads a person named by a request field; a missing one is an invalid reference.
func lookPerson(ctx context.Context, tx pgx.Tx, field string, id int64) (*personFacts, error) {
	p := personFacts{id: id}
	err := tx.QueryRow(ctx, `SELECT unit_code, party_member, cadre, household_id, branch_id FROM people WHERE id = $1`, id).
		Scan(&p.unit, &p.party, &p.cadre, &p.household, &p.branch)
	if err != nil {
		return nil, missingRef(err, field, "person", id)
	}
	return &p, nil
}

// inChain requires the person to belong to unit or a unit above it.
func (p *personFacts) inChain(field, unit string) error {
	if !strings.HasPrefix(unit, p.unit) {
		return geo.Invalid(field, fmt.Sprintf("person %d belongs to unit %s, neither the grid's unit %s nor one above it", p.id, p.unit, unit))
	}
	return nil
}

func (p *personFacts) mustBeParty(field string) error {
	if !p.party {
		return geo.Invalid(field, fmt.Sprintf("person %d is not a party member", p.id))
	}
	return nil
}

const branchColumns = `b.id, g.code, b.name, b.secretary_id, sp.name, sp.phone, b.valid_from, b.valid_to,
	(SELECT count(*) FROM party_groups pg WHERE pg.branch_id = b.id),
	(SELECT count(*) FROM people m WHERE m.branch_id = b.id)
	FROM branches b JOIN grids g ON g.id = b.grid_id LEFT JOIN people sp ON sp.id = b.secretary_id`

func scanBranch(row pgx.Row) (*Branch, error) {
	var b Branch
	var sid *int64
	var sname, sphone *string
	if err := row.Scan(&b.ID, &b.Grid, &b.Name, &sid, &sname, &sphone, &b.ValidFrom, &b.ValidTo, &b.Groups, &b.Members); err != nil {
		return nil, err
	}
	if sid != nil {
		b.Secretary = &geo.PersonRef{ID: *sid, Name: orZero(sname), Phone: sphone}
	}
	return &b, nil
}

// GridBranch returns the active branch of an active grid.
func (s *Store) GridBranch(ctx context.Context, code string) (*Branch, error) {
	b, err := scanBranch(s.pool.QueryRow(ctx, `SELECT `+branchColumns+` WHERE g.code = $1 AND g.valid_to IS NULL AND b.valid_to IS NULL`, code))
	if err != nil {
		return nil, classify("get branch", notFoundIfNoRows(err, "branch of grid", code))
	}
	return b, nil
}

// CreateBranch founds the party branch of a grid. A grid has one active branch: a second is
// a *geo.ConflictError naming the first.
func (s *Store) CreateBranch(ctx context.Context, code string, in BranchInput) (*Branch, error) {
	if !in.Name.Set || in.Name.Value == nil || strings.TrimSpace(*in.Name.Value) == "" {
		return nil, geo.Invalid("name", "a branch needs a name")
	}
	var out *Branch
	err := s.orgTx(ctx, "create branch", func(tx pgx.Tx) error {
		gridID, unit, err := lockActiveGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		var other int64
		var otherName string
		err = tx.QueryRow(ctx, `SELECT id, name FROM branches WHERE grid_id = $1 AND valid_to IS NULL`, gridID).Scan(&other, &otherName)
		switch {
		case err == nil:
			return &geo.ConflictError{
				Reason:  fmt.Sprintf("grid %s already has the active branch %d (%s): change it with PUT or end it with DELETE first", code, other, otherName),
				Details: map[string]any{"branch": other, "name": otherName}}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up active branch: %w", err)
		}
		secretary, err := branchSecretary(ctx, tx, in.Secretary, unit, nil)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO branches (grid_id, name, secretary_id) VALUES ($1, $2, $3) RETURNING id`,
			gridID, strings.TrimSpace(*in.Name.Value), secretary).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert branch: %w", err)
		}
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchColumns+` WHERE b.id = $1`, id))
		return err
	})
	return out, err
}

// branchSecretary checks a secretary change: a party member of the grid's unit or above.
func branchSecretary(ctx context.Context, tx pgx.Tx, c Change[int64], unit string, cur *int64) (*int64, error) {
	if !c.Set {
		return cur, nil
	}
	if c.Value == nil {
		return nil, nil
	}
	p, err := lookPerson(ctx, tx, "secretary", *c.Value)
	if err != nil {
		return nil, err
	}
	if err := p.mustBeParty("secretary"); err != nil {
		return nil, err
	}
	if err := p.inChain("secretary", unit); err != nil {
		return nil, err
	}
	return c.Value, nil
}

// UpdateBranch renames the active branch of a grid or changes its secretary.
func (s *Store) UpdateBranch(ctx context.Context, code string, in BranchInput) (*Branch, error) {
	var out *Branch
	err := s.orgTx(ctx, "update branch", func(tx pgx.Tx) error {
		gridID, unit, err := lockActiveGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		var id int64
		var name string
		var secretary *int64
		err = tx.QueryRow(ctx, `SELECT id, name, secretary_id FROM branches WHERE grid_id = $1 AND valid_to IS NULL FOR UPDATE`, gridID).
			Scan(&id, &name, &secretary)
		if err != nil {
			return notFoundIfNoRows(err, "branch of grid", code)
		}
		if in.Name.Set {
			if in.Name.Value == nil || strings.TrimSpace(*in.Name.Value) == "" {
				return geo.Invalid("name", "a branch needs a name")
			}
			name = strings.TrimSpace(*in.Name.Value)
		}
		if secretary, err = branchSecretary(ctx, tx, in.Secretary, unit, secretary); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE branches SET name = $2, secretary_id = $3 WHERE id = $1`, id, name, secretary); err != nil {
			return fmt.Errorf("update branch: %w", err)
		}
		out, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchColumns+` WHERE b.id = $1`, id))
		return err
	})
	return out, err
}

// EndBranch ends the active branch of a grid (valid_to = now). It stays in the records with
// its groups; the grid may found a new one.
func (s *Store) EndBranch(ctx context.Context, code string) error {
	return s.orgTx(ctx, "end branch", func(tx pgx.Tx) error {
		gridID, _, err := lockActiveGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `UPDATE branches SET valid_to = now() WHERE grid_id = $1 AND valid_to IS NULL RETURNING id`, gridID).Scan(&id)
		return notFoundIfNoRows(err, "branch of grid", code)
	})
}

// activeBranch returns the grid unit of a branch named by a request field; a missing or
// ended branch is an *geo.InputError on field.
func activeBranch(ctx context.Context, tx pgx.Tx, field string, id int64) (string, error) {
	var unit string
	var ended bool
	err := tx.QueryRow(ctx, `SELECT g.unit_code, b.valid_to IS NOT NULL FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = $1`, id).
		Scan(&unit, &ended)
	if err != nil {
		return "", missingRef(err, field, "branch", id)
	}
	if ended {
		return "", geo.Invalid(field, fmt.Sprintf("branch %d has ended", id))
	}
	return unit, nil
}

const groupColumns = `pg.id, pg.branch_id, pg.name, pg.leader_id, lp.name, lp.phone,
	(SELECT count(*) FROM people m WHERE m.group_id = pg.id)
	FROM party_groups pg LEFT JOIN people lp ON lp.id = pg.leader_id`

func scanGroup(row pgx.Row) (Group, error) {
	var g Group
	var lid *int64
	var lname, lphone *string
	if err := row.Scan(&g.ID, &g.Branch, &g.Name, &lid, &lname, &lphone, &g.MemberCount); err != nil {
		return g, err
	}
	if lid != nil {
		g.Leader = &geo.PersonRef{ID: *lid, Name: orZero(lname), Phone: lphone}
	}
	return g, nil
}

func branchGroups(ctx context.Context, q querier, branch int64) ([]Group, error) {
	rows, err := q.Query(ctx, `SELECT `+groupColumns+` WHERE pg.branch_id = $1 ORDER BY pg.id`, branch)
	if err != nil {
		return nil, fmt.Errorf("party groups: %w", err)
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Group, error) { return scanGroup(row) })
	if err != nil {
		return nil, fmt.Errorf("party groups: %w", err)
	}
	return append([]Group{}, groups...), nil
}

// BranchGroups returns a branch (active or ended) and its party groups.
func (s *Store) BranchGroups(ctx context.Context, branch int64) (*Branch, []Group, error) {
	var b *Branch
	var groups []Group
	err := s.tx(ctx, "branch groups", func(tx pgx.Tx) error {
		var err error
		b, err = scanBranch(tx.QueryRow(ctx, `SELECT `+branchColumns+` WHERE b.id = $1`, branch))
		if err != nil {
			return notFoundIfNoRows(err, "branch", fmt.Sprint(branch))
		}
		groups, err = branchGroups(ctx, tx, branch)
		return err
	})
	return b, groups, err
}

// Group returns a party group with its members.
func (s *Store) Group(ctx context.Context, id int64) (*Group, error) {
	var out *Group
	err := s.tx(ctx, "get party group", func(tx pgx.Tx) error {
		var err error
		out, err = readGroup(ctx, tx, id)
		return err
	})
	return out, err
}

func readGroup(ctx context.Context, tx pgx.Tx, id int64) (*Group, error) {
	g, err := scanGroup(tx.QueryRow(ctx, `SELECT `+groupColumns+` WHERE pg.id = $1`, id))
	if err != nil {
		return nil, notFoundIfNoRows(err, "party group", fmt.Sprint(id))
	}
	rows, err := tx.Query(ctx, `SELECT id, name, phone FROM people WHERE group_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("group members: %w", err)
	}
	g.Members, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.PersonRef, error) {
		var p geo.PersonRef
		return p, row.Scan(&p.ID, &p.Name, &p.Phone)
	})
	if err != nil {
		return nil, fmt.Errorf("group members: %w", err)
	}
	g.Members = append([]geo.PersonRef{}, g.Members...)
	return &g, nil
}

// CreateGroup adds a party group to an active branch; names are unique within the branch.
func (s *Store) CreateGroup(ctx context.Context, branch int64, in GroupInput) (*Group, error) {
	if !in.Name.Set || in.Name.Value == nil || strings.TrimSpace(*in.Name.Value) == "" {
		return nil, geo.Invalid("name", "a party group needs a name")
	}
	var out *Group
	err := s.orgTx(ctx, "create party group", func(tx pgx.Tx) error {
		unit, ended, err := lockBranch(ctx, tx, branch)
		if err != nil {
			return err
		}
		if ended {
			return fmt.Errorf("branch %d has ended: %w", branch, geo.ErrConflict)
		}
		leader, err := groupLeader(ctx, tx, in.Leader, unit, nil)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO party_groups (branch_id, name, leader_id) VALUES ($1, $2, $3) RETURNING id`,
			branch, strings.TrimSpace(*in.Name.Value), leader).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert party group: %w", err)
		}
		out, err = readGroup(ctx, tx, id)
		return err
	})
	return out, err
}

// lockBranch locks a branch named in the URL and returns its grid's unit and whether it
// has ended.
func lockBranch(ctx context.Context, tx pgx.Tx, id int64) (string, bool, error) {
	var unit string
	var ended bool
	err := tx.QueryRow(ctx, `
		SELECT g.unit_code, b.valid_to IS NOT NULL FROM branches b JOIN grids g ON g.id = b.grid_id
		WHERE b.id = $1 FOR NO KEY UPDATE OF b`, id).Scan(&unit, &ended)
	if err != nil {
		return "", false, notFoundIfNoRows(err, "branch", fmt.Sprint(id))
	}
	return unit, ended, nil
}

func groupLeader(ctx context.Context, tx pgx.Tx, c Change[int64], unit string, cur *int64) (*int64, error) {
	if !c.Set {
		return cur, nil
	}
	if c.Value == nil {
		return nil, nil
	}
	p, err := lookPerson(ctx, tx, "leader", *c.Value)
	if err != nil {
		return nil, err
	}
	if err := p.mustBeParty("leader"); err != nil {
		return nil, err
	}
	if err := p.inChain("leader", unit); err != nil {
		return nil, err
	}
	return c.Value, nil
}

// UpdateGroup renames a party group or changes its leader.
func (s *Store) UpdateGroup(ctx context.Context, id int64, in GroupInput) (*Group, error) {
	var out *Group
	err := s.orgTx(ctx, "update party group", func(tx pgx.Tx) error {
		var unit, name string
		var leader *int64
		err := tx.QueryRow(ctx, `
			SELECT g.unit_code, pg.name, pg.leader_id
			FROM party_groups pg JOIN branches b ON b.id = pg.branch_id JOIN grids g ON g.id = b.grid_id
			WHERE pg.id = $1 FOR UPDATE OF pg`, id).Scan(&unit, &name, &leader)
		if err != nil {
			return notFoundIfNoRows(err, "party group", fmt.Sprint(id))
		}
		if in.Name.Set {
			if in.Name.Value == nil || strings.TrimSpace(*in.Name.Value) == "" {
				return geo.Invalid("name", "a party group needs a name")
			}
			name = strings.TrimSpace(*in.Name.Value)
		}
		if leader, err = groupLeader(ctx, tx, in.Leader, unit, leader); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE party_groups SET name = $2, leader_id = $3 WHERE id = $1`, id, name, leader); err != nil {
			return fmt.Errorf("update party group: %w", err)
		}
		out, err = readGroup(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteGroup dissolves a party group; its members stay in the branch without a group.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	return s.orgTx(ctx, "delete party group", func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM party_groups WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return notFoundIfNoRows(err, "party group", fmt.Sprint(id))
		}
		if _, err := tx.Exec(ctx, `UPDATE people SET group_id = NULL WHERE group_id = $1`, id); err != nil {
			return fmt.Errorf("release group members: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM party_groups WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete party group: %w", err)
		}
		return nil
	})
}

// CentralHousehold returns a central household with its members.
func (s *Store) CentralHousehold(ctx context.Context, id int64) (*CentralHousehold, error) {
	var out *CentralHousehold
	err := s.tx(ctx, "get central household", func(tx pgx.Tx) error {
		var err error
		out, err = readCentral(ctx, tx, id)
		return err
	})
	return out, err
}

func readCentral(ctx context.Context, tx pgx.Tx, id int64) (*CentralHousehold, error) {
	var c CentralHousehold
	err := tx.QueryRow(ctx, `
		SELECT c.id, h.id, h.unit_code, h.external_id, g.code, p.id, p.name, p.phone, c.branch_id,
		       coalesce((SELECT array_agg(l.member_id ORDER BY l.member_id) FROM central_member_links l
		                 WHERE l.central_household_id = c.id), '{}')
		FROM central_households c JOIN households h ON h.id = c.household_id LEFT JOIN grids g ON g.id = h.grid_id
		JOIN people p ON p.id = c.person_id
		WHERE c.id = $1`, id).
		Scan(&c.ID, &c.Household.ID, &c.Household.Unit, &c.Household.ExternalID, &c.Household.Grid,
			&c.Person.ID, &c.Person.Name, &c.Person.Phone, &c.Branch, &c.Members)
	if err != nil {
		return nil, notFoundIfNoRows(err, "central household", fmt.Sprint(id))
	}
	return &c, nil
}

// CreateCentralHousehold makes a party member's home a central household.
func (s *Store) CreateCentralHousehold(ctx context.Context, in CentralInput) (*CentralHousehold, error) {
	var out *CentralHousehold
	err := s.orgTx(ctx, "create central household", func(tx pgx.Tx) error {
		hid, err := resolveHousehold(ctx, tx, "household", in.Household)
		if err != nil {
			return err
		}
		p, err := lookPerson(ctx, tx, "person", in.Person)
		if err != nil {
			return err
		}
		if err := p.mustBeParty("person"); err != nil {
			return err
		}
		if p.household == nil || *p.household != hid {
			return geo.Invalid("household", fmt.Sprintf("household %d is not the home of person %d: a central household is a party member's own household", hid, in.Person))
		}
		branch := in.Branch
		if branch == nil {
			branch = p.branch
		} else if _, err := activeBranch(ctx, tx, "branch", *branch); err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO central_households (household_id, person_id, branch_id) VALUES ($1, $2, $3) RETURNING id`,
			hid, in.Person, branch).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert central household: %w", err)
		}
		out, err = readCentral(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteCentralHousehold removes a central household and its member links.
func (s *Store) DeleteCentralHousehold(ctx context.Context, id int64) error {
	return s.orgTx(ctx, "delete central household", func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM central_households WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return notFoundIfNoRows(err, "central household", fmt.Sprint(id))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM central_member_links WHERE central_household_id = $1`, id); err != nil {
			return fmt.Errorf("delete central member links: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM central_households WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete central household: %w", err)
		}
		return nil
	})
}

// LinkKind describes one kind of link: its table and columns (fixed identifiers, never
// input) and the request fields of its two ends.
type LinkKind struct {
	Name      string // member-households, cadre-members, central-members
	FromField string // member, cadre, central_household
	ToField   string // households, members
	table     string
	from, to  string
	toWhat    string
}

// LinkKinds returns the link kinds by name.
func LinkKinds() map[string]LinkKind {
	return map[string]LinkKind{
		"member-households": {Name: "member-households", FromField: "member", ToField: "households",
			table: "member_household_links", from: "member_id", to: "household_id", toWhat: "household"},
		"cadre-members": {Name: "cadre-members", FromField: "cadre", ToField: "members",
			table: "cadre_member_links", from: "cadre_id", to: "member_id", toWhat: "party member"},
		"central-members": {Name: "central-members", FromField: "central_household", ToField: "members",
			table: "central_member_links", from: "central_household_id", to: "member_id", toWhat: "party member"},
	}
}

// Move is a link taken from another owner by a replace with move.
type Move struct {
	To   int64
	From int64
}

// LinkSet is the links of one owner after a replace.
type LinkSet struct {
	Kind  LinkKind
	From  int64
	To    []int64
	Moved []Move
}

// ReplaceLinks replaces the links of one owner (a member's households, a cadre's members, a
// central household's members) in one transaction. A target already linked to another owner
// is a *geo.ConflictError naming it, unless move takes it over.
func (s *Store) ReplaceLinks(ctx context.Context, kind LinkKind, from int64, to []int64, move bool) (*LinkSet, error) {
	seen := make(map[int64]bool, len(to))
	for _, id := range to {
		if seen[id] {
			return nil, geo.Invalid(kind.ToField, fmt.Sprintf("%s %d is listed twice", kind.toWhat, id))
		}
		seen[id] = true
	}
	if to == nil {
		to = []int64{}
	}
	table, fromCol, toCol := pgx.Identifier{kind.table}.Sanitize(), pgx.Identifier{kind.from}.Sanitize(), pgx.Identifier{kind.to}.Sanitize()
	out := &LinkSet{Kind: kind, From: from, Moved: []Move{}}
	err := s.orgTx(ctx, "replace "+kind.Name+" links", func(tx pgx.Tx) error {
		if err := lockLinkOwner(ctx, tx, kind, from); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+toCol+`, `+fromCol+` FROM `+table+`
			WHERE `+toCol+` = ANY ($2) AND `+fromCol+` <> $1 ORDER BY `+toCol+` FOR UPDATE`, from, to)
		if err != nil {
			return fmt.Errorf("look up links: %w", err)
		}
		taken, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Move, error) {
			var m Move
			return m, row.Scan(&m.To, &m.From)
		})
		if err != nil {
			return fmt.Errorf("look up links: %w", err)
		}
		if len(taken) > 0 && !move {
			return linkedElsewhere(kind, taken)
		}
		if len(taken) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+toCol+` = ANY ($2) AND `+fromCol+` <> $1`, from, to); err != nil {
				return fmt.Errorf("move links: %w", err)
			}
			out.Moved = taken
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+fromCol+` = $1`, from); err != nil {
			return fmt.Errorf("clear links: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+fromCol+`, `+toCol+`) SELECT $1, x FROM unnest($2::bigint[]) x`, from, to); err != nil {
			return fmt.Errorf("insert links: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT `+toCol+` FROM `+table+` WHERE `+fromCol+` = $1 ORDER BY 1`, from)
		if err != nil {
			return fmt.Errorf("read links: %w", err)
		}
		out.To, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return nil, err
	}
	out.To = append([]int64{}, out.To...)
	return out, nil
}

func linkedElsewhere(kind LinkKind, taken []Move) error {
	more := ""
	if len(taken) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(taken)-1)
	}
	linked := make([]map[string]int64, len(taken))
	for i, m := range taken {
		linked[i] = map[string]int64{kind.ToField: m.To, kind.FromField: m.From}
	}
	return &geo.ConflictError{Field: kind.ToField,
		Reason: fmt.Sprintf("%s %d is already linked to %s %d%s; send \"move\": true to move it",
			kind.toWhat, taken[0].To, strings.ReplaceAll(kind.FromField, "_", " "), taken[0].From, more),
		Details: map[string]any{"linked": linked}}
}

// lockLinkOwner checks and locks the owner of the links being replaced.
func lockLinkOwner(ctx context.Context, tx pgx.Tx, kind LinkKind, id int64) error {
	if kind.table == "central_member_links" {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM central_households WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
		return missingRef(err, kind.FromField, "central household", id)
	}
	var party, cadre bool
	err := tx.QueryRow(ctx, `SELECT party_member, cadre FROM people WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&party, &cadre)
	if err != nil {
		return missingRef(err, kind.FromField, "person", id)
	}
	if kind.table == "cadre_member_links" && !cadre {
		return geo.Invalid(kind.FromField, fmt.Sprintf("person %d is not a cadre", id))
	}
	if kind.table == "member_household_links" && !party {
		return geo.Invalid(kind.FromField, fmt.Sprintf("person %d is not a party member", id))
	}
	return nil
}

// LinkGroup is one owner's links as listed: the owner (for central households, the keeper
// is Person and the household's id Central) and its targets.
type LinkGroup struct {
	Central int64
	Person  geo.PersonRef
	To      []int64
}

// Links lists the links of one kind whose owner belongs to unit (or below it), by owner
// id, a page of limit owners after the owner id after.
func (s *Store) Links(ctx context.Context, kind LinkKind, unit string, after int64, limit int) (out []LinkGroup, more bool, err error) {
	if unit != "" {
		if err := s.unitMustExist(ctx, unit); err != nil {
			return nil, false, err
		}
	}
	var q whereBuilder
	var sql string
	switch kind.table {
	case "central_member_links":
		q.where("c.id > " + q.arg(after))
		if unit != "" {
			u := q.arg(unit)
			q.where("p.unit_code BETWEEN " + u + " AND " + u + " || '999999'")
		}
		sql = `SELECT c.id, p.id, p.name, p.phone, array_agg(l.member_id ORDER BY l.member_id)
			FROM central_member_links l JOIN central_households c ON c.id = l.central_household_id
			JOIN people p ON p.id = c.person_id` + q.sql() + `
			GROUP BY c.id, p.id ORDER BY c.id LIMIT ` + q.arg(limit+1)
	default:
		table, fromCol, toCol := pgx.Identifier{kind.table}.Sanitize(), pgx.Identifier{kind.from}.Sanitize(), pgx.Identifier{kind.to}.Sanitize()
		q.where("p.id > " + q.arg(after))
		if unit != "" {
			u := q.arg(unit)
			q.where("p.unit_code BETWEEN " + u + " AND " + u + " || '999999'")
		}
		sql = `SELECT 0, p.id, p.name, p.phone, array_agg(l.` + toCol + ` ORDER BY l.` + toCol + `)
			FROM ` + table + ` l JOIN people p ON p.id = l.` + fromCol + q.sql() + `
			GROUP BY p.id ORDER BY p.id LIMIT ` + q.arg(limit+1)
	}
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, false, classify("list links", err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LinkGroup, error) {
		var g LinkGroup
		return g, row.Scan(&g.Central, &g.Person.ID, &g.Person.Name, &g.Person.Phone, &g.To)
	})
	if err != nil {
		return nil, false, classify("list links", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// orgTx is s.tx with the integrity violations of the organisation tables explained and
// the request's pending audit entry (WithPendingAudit) recorded in the same transaction.
func (s *Store) orgTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	return constraintError(s.tx(ctx, op, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return auditPending(ctx, tx)
	}))
}

// constraintRule explains one named constraint: the request field it concerns and why it
// refused; {id} stands for the key value the database reports.
type constraintRule struct {
	field, reason string
}

// constraintRules maps the constraints of the people and organisation tables to request
// fields. A test checks that every such constraint is here.
func constraintRules() map[string]constraintRule {
	return map[string]constraintRule{
		"people_pkey":                                        {"id", "person {id} exists already"},
		"people_unit_code_fkey":                              {"unit", "no unit {id}"},
		"people_name_check":                                  {"name", "a name must not be blank"},
		"people_phone_check":                                 {"phone", "a phone number has 5–20 digits, spaces or dashes, optionally after a +"},
		"people_household_id_fkey":                           {"household", "no household {id}"},
		"people_id_party_member_key":                         {"id", "person {id} exists already"},
		"people_id_cadre_key":                                {"id", "person {id} exists already"},
		"people_branch_fk":                                   {"branch", "no branch {id}"},
		"people_group_fk":                                    {"group", "no party group {id}"},
		"people_group_needs_party":                           {"group", "only party members belong to a party group"},
		"branches_pkey":                                      {"id", "branch {id} exists already"},
		"branches_grid_id_fkey":                              {"grid", "no grid {id}"},
		"branches_name_check":                                {"name", "a branch name must not be blank"},
		"branches_secretary_id_fkey":                         {"secretary", "no person {id}"},
		"branches_check":                                     {"valid_to", "a branch cannot end before it began"},
		"branches_one_active_per_grid":                       {"grid", "the grid has an active branch already"},
		"party_groups_pkey":                                  {"id", "party group {id} exists already"},
		"party_groups_branch_id_fkey":                        {"branch", "no branch {id}"},
		"party_groups_name_check":                            {"name", "a party group name must not be blank"},
		"party_groups_leader_id_fkey":                        {"leader", "no person {id}"},
		"party_groups_branch_id_name_key":                    {"name", "the branch has a party group of that name already"},
		"grid_team_pkey":                                     {"team", "the person holds that role already"},
		"grid_team_grid_id_fkey":                             {"grid", "no grid {id}"},
		"grid_team_person_id_fkey":                           {"team", "no person {id}"},
		"grid_team_role_check":                               {"role", "a role is leader, worker, assistant or instructor"},
		"central_households_pkey":                            {"id", "central household {id} exists already"},
		"central_households_household_id_key":                {"household", "household {id} is a central household already"},
		"central_households_household_id_fkey":               {"household", "no household {id}"},
		"central_households_person_party_check":              {"person", "the keeper of a central household must be a party member"},
		"central_households_branch_id_fkey":                  {"branch", "no branch {id}"},
		"central_households_person_id_person_party_fkey":     {"person", "person {id} is not a party member"},
		"cadre_member_links_pkey":                            {"members", "party member {id} is linked to this cadre already"},
		"cadre_member_links_cadre_flag_check":                {"cadre", "the cadre must be a cadre"},
		"cadre_member_links_member_party_check":              {"members", "the member must be a party member"},
		"cadre_member_links_member_id_key":                   {"members", "party member {id} is linked to another cadre"},
		"cadre_member_links_check":                           {"members", "a cadre cannot be linked to themselves"},
		"cadre_member_links_cadre_id_cadre_flag_fkey":        {"cadre", "person {id} is not a cadre"},
		"cadre_member_links_member_id_member_party_fkey":     {"members", "person {id} is not a party member"},
		"central_member_links_pkey":                          {"members", "party member {id} is linked to this central household already"},
		"central_member_links_central_household_id_fkey":     {"central_household", "no central household {id}"},
		"central_member_links_member_party_check":            {"members", "the member must be a party member"},
		"central_member_links_member_id_key":                 {"members", "party member {id} is linked to another central household"},
		"central_member_links_member_id_member_party_fkey":   {"members", "person {id} is not a party member"},
		"member_household_links_pkey":                        {"households", "household {id} is linked to this member already"},
		"member_household_links_member_party_check":          {"member", "the member must be a party member"},
		"member_household_links_household_id_key":            {"households", "household {id} is linked to another member"},
		"member_household_links_household_id_fkey":           {"households", "no household {id}"},
		"member_household_links_member_id_member_party_fkey": {"member", "person {id} is not a party member"},
	}
}

// ConstraintNames lists the constraints constraintError explains (for tests).
func ConstraintNames() []string {
	var names []string
	for n := range constraintRules() {
		names = append(names, n)
	}
	return names
}

// keyID reads the first key value of a violation's detail, "Key (member_id, …)=(17, …) …",
// when it is a number.
func keyID(detail string) (int64, bool) {
	i := strings.Index(detail, ")=(")
	if i < 0 {
		return 0, false
	}
	rest := detail[i+3:]
	j := strings.IndexAny(rest, ",)")
	if j < 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(rest[:j], 10, 64)
	return id, err == nil
}

// constraintError turns an integrity violation on a known constraint into a 4xx error that
// names the request field (foreign key and check: *geo.InputError; unique: *geo.ConflictError);
// the SQL text never reaches the caller. Other errors pass through.
func constraintError(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23503", "23505", "23514":
	default:
		return err
	}
	if pe.Code == "23503" && strings.HasPrefix(pe.Message, "update or delete") {
		return &geo.ConflictError{Reason: "still referenced from " + strings.ReplaceAll(pe.TableName, "_", " ")}
	}
	rule, ok := constraintRules()[pe.ConstraintName]
	if !ok {
		return err
	}
	var details map[string]any
	reason := strings.ReplaceAll(rule.reason, " {id}", "")
	if id, ok := keyID(pe.Detail); ok {
		reason = strings.ReplaceAll(rule.reason, "{id}", strconv.FormatInt(id, 10))
		details = map[string]any{"id": id}
	}
	switch pe.Code {
	case "23505":
		return &geo.ConflictError{Field: rule.field, Reason: reason, Details: details}
	case "23503":
		return &geo.InputError{Code: "invalid_reference", Field: rule.field, Reason: reason, Details: details}
	}
	return &geo.InputError{Code: "invalid_parameter", Field: rule.field, Reason: reason, Details: details}
}
