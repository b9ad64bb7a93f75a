package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"gridmap/geo"
)

// AssignKind says what is assigned to whom.
type AssignKind string

// The assignments a village or community keeps.
const (
	// AssignHouseholds links every household to a party member (户联系党员).
	AssignHouseholds AssignKind = "households"
	// AssignCadres links every party member who is not a cadre to a village cadre.
	AssignCadres AssignKind = "cadres"
)

// AssignPoint is one client or server of an assignment, at its home.
type AssignPoint struct {
	ID    int64
	Label string // a household's external id, a person's name
	Loc   orb.Point
}

// AssignData is what an assignment of one unit works on.
type AssignData struct {
	Unit    string
	Kind    AssignKind
	Clients []AssignPoint // households, or party members (kind cadres)
	Servers []AssignPoint // party members, or cadres, with a home household
	// Homeless counts the people who could serve but have no home household (no location).
	Homeless int
	// Min and Max are the span in force (effective_span_policy).
	Min, Max int
}

// AssignData reads the clients and servers of an assignment in a village or community.
func (s *Store) AssignData(ctx context.Context, unit string, kind AssignKind) (*AssignData, error) {
	var d *AssignData
	err := s.drawSnapshot(ctx, "load assignment", func(tx pgx.Tx) error {
		var err error
		d, err = loadAssign(ctx, tx, unit, kind, false)
		return err
	})
	return d, err
}

// ApplyAssign replaces the unit's links of that kind in one transaction: it locks the unit,
// reads the data again, lets solve pick the server of each client (indexes into Servers),
// deletes the old links (of the unit's households, or of its party members) and inserts the
// new ones. An error from solve rolls everything back and is returned as it is.
func (s *Store) ApplyAssign(ctx context.Context, unit string, kind AssignKind, solve func(*AssignData) ([]int, error)) (*AssignData, []int, error) {
	var d *AssignData
	var serverOf []int
	err := s.tx(ctx, "apply assignment", func(tx pgx.Tx) error {
		var err error
		if d, err = loadAssign(ctx, tx, unit, kind, true); err != nil {
			return err
		}
		if serverOf, err = solve(d); err != nil {
			return err
		}
		if len(serverOf) != len(d.Clients) {
			return fmt.Errorf("assignment has %d clients, want %d", len(serverOf), len(d.Clients))
		}
		servers := make([]int64, len(serverOf))
		clients := make([]int64, len(serverOf))
		for i, j := range serverOf {
			clients[i], servers[i] = d.Clients[i].ID, d.Servers[j].ID
		}
		switch kind {
		case AssignHouseholds:
			if _, err := tx.Exec(ctx, `
				DELETE FROM member_household_links
				WHERE household_id IN (SELECT id FROM households WHERE unit_code = $1)`, unit); err != nil {
				return fmt.Errorf("delete member links: %w", err)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO member_household_links (member_id, household_id)
				SELECT * FROM unnest($1::bigint[], $2::bigint[])`, servers, clients); err != nil {
				return fmt.Errorf("insert member links: %w", err)
			}
		case AssignCadres:
			if _, err := tx.Exec(ctx, `
				DELETE FROM cadre_member_links
				WHERE member_id IN (SELECT id FROM people WHERE unit_code = $1)`, unit); err != nil {
				return fmt.Errorf("delete cadre links: %w", err)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO cadre_member_links (cadre_id, member_id)
				SELECT * FROM unnest($1::bigint[], $2::bigint[])`, servers, clients); err != nil {
				return fmt.Errorf("insert cadre links: %w", err)
			}
		}
		after, _ := json.Marshal(map[string]any{"kind": kind, "links": len(clients)})
		return audit(ctx, tx, AuditEntry{Action: "apply", Entity: "assignment", EntityID: fmt.Sprint(kind), Unit: unit, After: after})
	})
	if err != nil {
		return nil, nil, err
	}
	return d, serverOf, nil
}

func loadAssign(ctx context.Context, tx pgx.Tx, unit string, kind AssignKind, lock bool) (*AssignData, error) {
	if depth, err := geo.LevelOfCode("unit", unit); err != nil {
		return nil, err
	} else if depth != 12 {
		return nil, geo.Invalid("unit", fmt.Sprintf("assignments are made in a village or community (12 digits), not %s", unit))
	}
	if kind != AssignHouseholds && kind != AssignCadres {
		return nil, geo.Invalid("kind", fmt.Sprintf("kind %q: want households or cadres", kind))
	}
	if lock {
		if _, err := lockUnit(ctx, tx, unit); err != nil {
			return nil, err
		}
	}
	d := &AssignData{Unit: unit, Kind: kind}
	err := tx.QueryRow(ctx, `
		SELECT CASE WHEN $2 = 'cadres' THEN cadre_members_min ELSE member_households_min END,
		       CASE WHEN $2 = 'cadres' THEN cadre_members_max ELSE member_households_max END
		FROM effective_span_policy($1)`, unit, string(kind)).Scan(&d.Min, &d.Max)
	if err != nil {
		return nil, fmt.Errorf("span policy of %s: %w", unit, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, unit).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up unit: %w", err)
	}
	if !exists {
		return nil, geo.NotFound("unit", unit)
	}
	scan := func(r pgx.CollectableRow) (AssignPoint, error) {
		var p AssignPoint
		return p, r.Scan(&p.ID, &p.Label, &p.Loc[0], &p.Loc[1])
	}
	var clientSQL, serverSQL string
	switch kind {
	case AssignHouseholds:
		clientSQL = `SELECT id, external_id, ST_X(location), ST_Y(location) FROM households WHERE unit_code = $1 ORDER BY id`
		serverSQL = `SELECT p.id, p.name, ST_X(h.location), ST_Y(h.location)
			FROM people p JOIN households h ON h.id = p.household_id
			WHERE p.unit_code = $1 AND p.party_member ORDER BY p.id`
		err = tx.QueryRow(ctx, `SELECT count(*) FROM people WHERE unit_code = $1 AND party_member AND household_id IS NULL`, unit).Scan(&d.Homeless)
	case AssignCadres:
		clientSQL = `SELECT p.id, p.name, ST_X(h.location), ST_Y(h.location)
			FROM people p JOIN households h ON h.id = p.household_id
			WHERE p.unit_code = $1 AND p.party_member AND NOT p.cadre ORDER BY p.id`
		serverSQL = `SELECT p.id, p.name, ST_X(h.location), ST_Y(h.location)
			FROM people p JOIN households h ON h.id = p.household_id
			WHERE p.unit_code = $1 AND p.cadre ORDER BY p.id`
		err = tx.QueryRow(ctx, `SELECT count(*) FROM people WHERE unit_code = $1 AND cadre AND household_id IS NULL`, unit).Scan(&d.Homeless)
	default:
		return nil, geo.Invalid("kind", fmt.Sprintf("kind %q: want households or cadres", kind))
	}
	if err != nil {
		return nil, fmt.Errorf("count people without a home: %w", err)
	}
	rows, err := tx.Query(ctx, clientSQL, unit)
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	if d.Clients, err = pgx.CollectRows(rows, scan); err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	rows, err = tx.Query(ctx, serverSQL, unit)
	if err != nil {
		return nil, fmt.Errorf("read servers: %w", err)
	}
	if d.Servers, err = pgx.CollectRows(rows, scan); err != nil {
		return nil, fmt.Errorf("read servers: %w", err)
	}
	return d, nil
}
