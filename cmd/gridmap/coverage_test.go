package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestRunCoverage drives `gridmap coverage` against a throwaway PostGIS holding a small demo
// county: the table, the JSON summary, the problems and the usage errors.
func TestRunCoverage(t *testing.T) {
	ctx := context.Background()
	st := demoDatabase(t, 3000, 5)
	// One household moved out of every grid.
	if _, err := st.Pool().Exec(ctx, `UPDATE households SET location = ST_SetSRID(ST_MakePoint(0, 0), 4326)
		WHERE id = (SELECT min(id) FROM households)`); err != nil {
		t.Fatal(err)
	}
	run1 := func(args ...string) (string, string, error) { return runArgs(append([]string{"coverage"}, args...)...) }

	out, _, err := run1("--unit", "999001")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"covered %", "999001", "99.97", "household_no_grid", "error"} {
		if !strings.Contains(out, want) {
			t.Fatalf("table lacks %q:\n%s", want, out)
		}
	}

	out, _, err = run1("--unit", "999001", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Code     string
		Counts   struct{ Households int }
		Problems map[string]int
		Children []json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if sum.Code != "999001" || sum.Counts.Households != 3000 || sum.Problems["household_no_grid"] != 1 || len(sum.Children) == 0 {
		t.Fatalf("summary %s", out)
	}

	out, _, err = run1("--unit", "999001", "--problems", "--kind", "household_no_grid")
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct{ Properties struct{ Kind string } }
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 1 ||
		fc.Features[0].Properties.Kind != "household_no_grid" {
		t.Fatalf("problems %v: %s", err, out)
	}

	if _, _, err := run1(); err == nil {
		t.Fatal("no --unit: want an error")
	}
	if _, _, err := run1("--unit", "999001", "--problems", "--kind", "holes"); err == nil || !strings.Contains(err.Error(), "holes") {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, _, err := run1("--unit", "999002"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown unit: %v", err)
	}
}
