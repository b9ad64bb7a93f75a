package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
)

// Person is one person as stored: a party member, a village cadre or grid staff. Name and
// Phone are personal fields; the API decides whether a caller sees them in the clear.
type Person struct {
	ID          int64
	Unit        string
	Name        string
	Phone       *string
	PartyMember bool
	Cadre       bool
	Household   *HouseholdRef // home
	Branch      *int64
	Group       *int64
	CreatedAt   time.Time
	Roles       []Reference // what refers to the person; filled by Person, not by lists
}

// HouseholdRef names a household by ID, or by Unit and ExternalID. Grid is the code of the
// grid it lies in (read only).
type HouseholdRef struct {
	ID         int64
	Unit       string
	ExternalID string
	Grid       *string
}

// Change is one field of a partial update: Set says the request carries the field; a nil
// Value clears it.
type Change[T any] struct {
	Set   bool
	Value *T
}

// Set returns a Change that sets v.
func Set[T any](v T) Change[T] { return Change[T]{Set: true, Value: &v} }

// PersonInput creates a person (Unit and Name required) or changes the fields that are Set.
// Group implies the group's branch.
type PersonInput struct {
	Unit        Change[string]
	Name        Change[string]
	Phone       Change[string]
	PartyMember Change[bool]
	Cadre       Change[bool]
	Household   Change[HouseholdRef]
	Branch      Change[int64]
	Group       Change[int64]
}

// Reference is something that refers to a person and keeps it from being deleted.
type Reference struct {
	Kind  string `json:"kind"`            // secretary, group_leader, team, central_household, cadre, cadre_member, central_member, member
	ID    int64  `json:"id,omitempty"`    // the branch, party group, central household or cadre
	Grid  string `json:"grid,omitempty"`  // the grid, for secretary and team
	Role  string `json:"role,omitempty"`  // the team role
	Count int    `json:"count,omitempty"` // linked members (cadre) or households (member)
	Ended bool   `json:"ended,omitempty"` // an ended branch or a retired grid
}

func (r Reference) String() string {
	ended := ""
	if r.Ended {
		ended = " (ended)"
	}
	switch r.Kind {
	case "secretary":
		return fmt.Sprintf("secretary of branch %d of grid %s%s", r.ID, r.Grid, ended)
	case "group_leader":
		return fmt.Sprintf("leader of party group %d", r.ID)
	case "team":
		return fmt.Sprintf("%s of grid %s%s", r.Role, r.Grid, ended)
	case "central_household":
		return fmt.Sprintf("keeper of central household %d", r.ID)
	case "cadre":
		return fmt.Sprintf("cadre linking %d party members", r.Count)
	case "cadre_member":
		return fmt.Sprintf("member linked to cadre %d", r.ID)
	case "central_member":
		return fmt.Sprintf("member linked to central household %d", r.ID)
	case "member":
		return fmt.Sprintf("party member linking %d households", r.Count)
	}
	return r.Kind
}

const personColumns = `p.id, p.unit_code, p.name, p.phone, p.party_member, p.cadre, p.household_id, h.unit_code,
	h.external_id, g.code, p.branch_id, p.group_id, p.created_at
	FROM people p LEFT JOIN households h ON h.id = p.household_id LEFT JOIN grids g ON g.id = h.grid_id`

func scanPerson(row pgx.Row) (*Person, error) {
	var p Person
	var hid *int64
	var hunit, hext, hgrid *string
	err := row.Scan(&p.ID, &p.Unit, &p.Name, &p.Phone, &p.PartyMember, &p.Cadre, &hid, &hunit, &hext, &hgrid,
		&p.Branch, &p.Group, &p.CreatedAt)
	if err != nil {
		return nil, err
	}
	if hid != nil {
		p.Household = &HouseholdRef{ID: *hid, Unit: orZero(hunit), ExternalID: orZero(hext), Grid: hgrid}
	}
	return &p, nil
}

func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Person returns one person with what refers to them.
func (s *Store) Person(ctx context.Context, id int64) (*Person, error) {
	var out *Person
	err := s.tx(ctx, "get person", func(tx pgx.Tx) error {
		p, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` WHERE p.id = $1`, id))
		if err != nil {
			return notFoundIfNoRows(err, "person", fmt.Sprint(id))
		}
		if p.Roles, err = personReferences(ctx, tx, id); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// PeopleFilter selects people: Unit (a code and everything below it), Role (party_member,
// cadre, staff = on the team of an active grid), a page of Limit after the id After.
type PeopleFilter struct {
	Unit  string
	Scope []string // when set: only people of these unit subtrees (the caller's scope)
	Role  string
	After int64
	Limit int
}

// People lists people by id; more says whether another page follows.
func (s *Store) People(ctx context.Context, f PeopleFilter) (people []Person, more bool, err error) {
	if f.Unit != "" {
		if err := s.unitMustExist(ctx, f.Unit); err != nil {
			return nil, false, err
		}
	}
	var q whereBuilder
	q.where("p.id > " + q.arg(f.After))
	if f.Unit != "" {
		u := q.arg(f.Unit)
		q.where("p.unit_code BETWEEN " + u + " AND " + u + " || '999999'")
	}
	if f.Scope != nil {
		q.where("EXISTS (SELECT 1 FROM unnest(" + q.arg(f.Scope) + "::text[]) sc WHERE p.unit_code LIKE sc || '%')")
	}
	switch f.Role {
	case "":
	case "party_member":
		q.where("p.party_member")
	case "cadre":
		q.where("p.cadre")
	case "staff":
		q.where("EXISTS (SELECT 1 FROM grid_team t JOIN grids tg ON tg.id = t.grid_id AND tg.valid_to IS NULL WHERE t.person_id = p.id)")
	default:
		return nil, false, geo.Invalid("role", fmt.Sprintf("role %q: want party_member, cadre or staff", f.Role))
	}
	rows, err := s.pool.Query(ctx, `SELECT `+personColumns+q.sql()+` ORDER BY p.id LIMIT `+q.arg(f.Limit+1), q.args...)
	if err != nil {
		return nil, false, classify("list people", err)
	}
	people, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Person, error) {
		p, err := scanPerson(row)
		if err != nil {
			return Person{}, err
		}
		return *p, nil
	})
	if err != nil {
		return nil, false, classify("list people", err)
	}
	if len(people) > f.Limit {
		return people[:f.Limit], true, nil
	}
	return people, false, nil
}

// CreatePerson inserts a person; Unit and Name are required.
func (s *Store) CreatePerson(ctx context.Context, in PersonInput) (*Person, error) {
	if !in.Unit.Set || in.Unit.Value == nil {
		return nil, geo.Invalid("unit", "a person belongs to a unit: give its code")
	}
	if !in.Name.Set || in.Name.Value == nil {
		return nil, geo.Invalid("name", "a person needs a name")
	}
	var out *Person
	err := s.orgTx(ctx, "create person", func(tx pgx.Tx) error {
		var row personRow
		if err := row.apply(ctx, tx, in); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO people (unit_code, name, phone, party_member, cadre, household_id, branch_id, group_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			row.unit, row.name, row.phone, row.party, row.cadre, row.household, row.branch, row.group).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert person: %w", err)
		}
		out, err = scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` WHERE p.id = $1`, id))
		return err
	})
	return out, err
}

// UpdatePerson changes the fields of in that are Set. A person who still holds roles that
// need a party member (or a cadre) cannot stop being one: that is a *geo.ConflictError.
func (s *Store) UpdatePerson(ctx context.Context, id int64, in PersonInput) (*Person, error) {
	var out *Person
	err := s.orgTx(ctx, "update person", func(tx pgx.Tx) error {
		var row personRow
		err := tx.QueryRow(ctx, `
			SELECT unit_code, name, phone, party_member, cadre, household_id, branch_id, group_id
			FROM people WHERE id = $1 FOR UPDATE`, id).
			Scan(&row.unit, &row.name, &row.phone, &row.party, &row.cadre, &row.household, &row.branch, &row.group)
		if err != nil {
			return notFoundIfNoRows(err, "person", fmt.Sprint(id))
		}
		wasParty, wasCadre := row.party, row.cadre
		if err := row.apply(ctx, tx, in); err != nil {
			return err
		}
		if (wasParty && !row.party) || (wasCadre && !row.cadre) {
			refs, err := personReferences(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := stillNeeded(id, refs, wasParty && !row.party, wasCadre && !row.cadre); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE people SET unit_code = $2, name = $3, phone = $4, party_member = $5, cadre = $6,
			       household_id = $7, branch_id = $8, group_id = $9
			WHERE id = $1`, id, row.unit, row.name, row.phone, row.party, row.cadre, row.household, row.branch, row.group)
		if err != nil {
			return fmt.Errorf("update person: %w", err)
		}
		out, err = scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` WHERE p.id = $1`, id))
		return err
	})
	return out, err
}

// stillNeeded refuses to take party membership (or cadre status) from a person whose roles
// need it.
func stillNeeded(id int64, refs []Reference, party, cadre bool) error {
	var field string
	var blocking []Reference
	for _, r := range refs {
		switch {
		case party && !r.Ended && (r.Kind == "secretary" || r.Kind == "group_leader" || r.Kind == "central_household" ||
			r.Kind == "cadre_member" || r.Kind == "central_member" || r.Kind == "member"):
			field = "party_member"
			blocking = append(blocking, r)
		case cadre && r.Kind == "cadre":
			if field == "" {
				field = "cadre"
			}
			blocking = append(blocking, r)
		}
	}
	if len(blocking) == 0 {
		return nil
	}
	return &geo.ConflictError{Field: field, Reason: fmt.Sprintf("person %d is still %s: unlink first", id, describeRefs(blocking)),
		Details: map[string]any{"references": blocking}}
}

// DeletePerson deletes a person nothing refers to; otherwise it is a *geo.ConflictError
// listing the references (secretary, team roles, links, …).
func (s *Store) DeletePerson(ctx context.Context, id int64) error {
	return s.orgTx(ctx, "delete person", func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM people WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return notFoundIfNoRows(err, "person", fmt.Sprint(id))
		}
		refs, err := personReferences(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &geo.ConflictError{Reason: fmt.Sprintf("person %d is still referenced: %s", id, describeRefs(refs)),
				Details: map[string]any{"references": refs}}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM people WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete person: %w", err)
		}
		return nil
	})
}

func describeRefs(refs []Reference) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, "; ")
}

// personReferences lists everything that refers to a person.
func personReferences(ctx context.Context, tx pgx.Tx, id int64) ([]Reference, error) {
	rows, err := tx.Query(ctx, `
		SELECT 'secretary', b.id, g.code, '', 0, b.valid_to IS NOT NULL
		FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.secretary_id = $1
		UNION ALL
		SELECT 'group_leader', pg.id, '', '', 0, false FROM party_groups pg WHERE pg.leader_id = $1
		UNION ALL
		SELECT 'team', 0, g.code, t.role, 0, g.valid_to IS NOT NULL
		FROM grid_team t JOIN grids g ON g.id = t.grid_id WHERE t.person_id = $1
		UNION ALL
		SELECT 'central_household', c.id, '', '', 0, false FROM central_households c WHERE c.person_id = $1
		UNION ALL
		SELECT 'cadre', 0, '', '', count(*)::int, false FROM cadre_member_links WHERE cadre_id = $1 HAVING count(*) > 0
		UNION ALL
		SELECT 'cadre_member', l.cadre_id, '', '', 0, false FROM cadre_member_links l WHERE l.member_id = $1
		UNION ALL
		SELECT 'central_member', l.central_household_id, '', '', 0, false FROM central_member_links l WHERE l.member_id = $1
		UNION ALL
		SELECT 'member', 0, '', '', count(*)::int, false FROM member_household_links WHERE member_id = $1 HAVING count(*) > 0`, id)
	if err != nil {
		return nil, fmt.Errorf("person references: %w", err)
	}
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reference, error) {
		var r Reference
		return r, row.Scan(&r.Kind, &r.ID, &r.Grid, &r.Role, &r.Count, &r.Ended)
	})
	if err != nil {
		return nil, fmt.Errorf("person references: %w", err)
	}
	return refs, nil
}

// personRow is a people row being written.
type personRow struct {
	unit, name               string
	phone                    *string
	party, cadre             bool
	household, branch, group *int64
}

// apply applies the fields of in that are Set, resolving a household given by unit and
// external id and the branch of a group.
func (r *personRow) apply(ctx context.Context, tx pgx.Tx, in PersonInput) error {
	if in.Unit.Set {
		if in.Unit.Value == nil {
			return geo.Invalid("unit", "a person belongs to a unit: it cannot be null")
		}
		if _, err := geo.LevelOfCode("unit", *in.Unit.Value); err != nil {
			return err
		}
		r.unit = *in.Unit.Value
	}
	if in.Name.Set {
		if in.Name.Value == nil || strings.TrimSpace(*in.Name.Value) == "" {
			return geo.Invalid("name", "a person needs a name")
		}
		r.name = strings.TrimSpace(*in.Name.Value)
		if len([]rune(r.name)) > 100 {
			return geo.Invalid("name", "a name has at most 100 characters")
		}
	}
	if in.Phone.Set {
		r.phone = in.Phone.Value
		if r.phone != nil && strings.TrimSpace(*r.phone) == "" {
			r.phone = nil
		}
	}
	if in.PartyMember.Set {
		r.party = in.PartyMember.Value != nil && *in.PartyMember.Value
	}
	if in.Cadre.Set {
		r.cadre = in.Cadre.Value != nil && *in.Cadre.Value
	}
	if in.Household.Set {
		r.household = nil
		if in.Household.Value != nil {
			id, err := resolveHousehold(ctx, tx, "household", *in.Household.Value)
			if err != nil {
				return err
			}
			r.household = &id
		}
	}
	if in.Branch.Set {
		same := r.branch != nil && in.Branch.Value != nil && *r.branch == *in.Branch.Value
		r.branch = in.Branch.Value
		if r.branch != nil {
			if _, err := activeBranch(ctx, tx, "branch", *r.branch); err != nil {
				return err
			}
		}
		if !same && !in.Group.Set {
			r.group = nil // another branch: the old branch's party group is left
		}
	}
	if in.Group.Set {
		r.group = in.Group.Value
		if r.group != nil {
			var branch int64
			var ended bool
			err := tx.QueryRow(ctx, `
				SELECT pg.branch_id, b.valid_to IS NOT NULL FROM party_groups pg JOIN branches b ON b.id = pg.branch_id
				WHERE pg.id = $1`, *r.group).Scan(&branch, &ended)
			if err != nil {
				return missingRef(err, "group", "party group", *r.group)
			}
			if ended {
				return geo.Invalid("group", fmt.Sprintf("party group %d belongs to branch %d, which has ended", *r.group, branch))
			}
			if in.Branch.Set && (r.branch == nil || *r.branch != branch) {
				return geo.Invalid("group", fmt.Sprintf("party group %d belongs to branch %d, not the branch given", *r.group, branch))
			}
			r.branch = &branch
		}
	}
	return nil
}

// resolveHousehold returns the id of a household given by id or by unit and external id;
// one that does not exist is an *geo.InputError on field.
func resolveHousehold(ctx context.Context, tx pgx.Tx, field string, ref HouseholdRef) (int64, error) {
	var id int64
	var err error
	switch {
	case ref.ID > 0:
		err = tx.QueryRow(ctx, `SELECT id FROM households WHERE id = $1`, ref.ID).Scan(&id)
		if err != nil {
			return 0, missingRef(err, field, "household", ref.ID)
		}
	case ref.Unit != "" && ref.ExternalID != "":
		err = tx.QueryRow(ctx, `SELECT id FROM households WHERE unit_code = $1 AND external_id = $2`, ref.Unit, ref.ExternalID).Scan(&id)
		if err != nil {
			return 0, missingRef(err, field, "household", ref.Unit+"/"+ref.ExternalID)
		}
	default:
		return 0, geo.Invalid(field, "name a household by its id, or by {\"unit\", \"external_id\"}")
	}
	return id, nil
}

// missingRef turns "no rows" for a referenced object into an *geo.InputError on field.
func missingRef(err error, field, what string, key any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &geo.InputError{Code: "invalid_reference", Field: field, Reason: fmt.Sprintf("no %s %v", what, key)}
	}
	return fmt.Errorf("look up %s: %w", what, err)
}

// whereBuilder builds a WHERE clause and numbers its own placeholders.
type whereBuilder struct {
	conds []string
	args  []any
}

func (q *whereBuilder) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *whereBuilder) where(cond string) { q.conds = append(q.conds, cond) }

func (q *whereBuilder) sql() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}
