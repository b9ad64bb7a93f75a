package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gridmap/geo/partition"
)

// TestRunDrawDatabase drives `gridmap draw --unit` against a throwaway PostGIS holding a
// small demo county: a drawing without --apply changes nothing, an infeasible band exits
// 3, --apply replaces the unit's grids.
func TestRunDrawDatabase(t *testing.T) {
	ctx := context.Background()
	st := demoDatabase(t, 2000, 3)
	runCmd := runArgs
	active := func() string {
		var codes string
		if err := st.Pool().QueryRow(ctx, `SELECT string_agg(code, ' ' ORDER BY code) FROM grids
			WHERE unit_code = '999001001002' AND valid_to IS NULL`).Scan(&codes); err != nil {
			t.Fatal(err)
		}
		return codes
	}
	before := active()
	outFile := filepath.Join(t.TempDir(), "grids.geojson")
	_, stderr, err := runCmd("draw", "--unit", "999001001002", "--min", "150", "--max", "250", "--out", outFile)
	if err != nil || !strings.Contains(stderr, "100.0% in band 150-250") {
		t.Fatalf("draw: %v\n%s", err, stderr)
	}
	if active() != before {
		t.Fatal("a drawing without --apply changed the grids")
	}
	if _, err := readFeatures(outFile); err != nil {
		t.Fatalf("--out: %v", err)
	}

	_, stderr, err = runCmd("draw", "--unit", "999001003001", "--min", "400", "--max", "500")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 || !errors.Is(err, partition.ErrInfeasible) || !strings.Contains(stderr, "lighter than min") {
		t.Fatalf("infeasible: %v\n%s", err, stderr)
	}
	if _, _, err = runCmd("draw", "--unit", "999001"); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("county: %v", err)
	}
	if _, _, err = runCmd("draw", "--unit", "999001001002", "--boundary", "b.geojson"); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("--unit with --boundary: %v", err)
	}

	out, stderr, err := runCmd("draw", "--unit", "999001001002", "--min", "150", "--max", "250", "--apply")
	if err != nil || !strings.Contains(out, "applied: retired 2 grid(s) "+before) {
		t.Fatalf("apply: %v\n%s\n%s", err, out, stderr)
	}
	after := active()
	if after == before || !strings.HasPrefix(after, "999001001002003") {
		t.Fatalf("grids after apply: %s (before %s)", after, before)
	}
}
