package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"gridmap/geo/coord"
	"gridmap/geo/demo"
	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

// TestRunImport drives `gridmap import households` against a throwaway PostGIS holding a
// small demo county.
func TestRunImport(t *testing.T) {
	ctx := context.Background()
	pg, err := storetest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() }) // after the test database is dropped
	dsn := pg.DSN(t)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := demo.Generate(demo.Options{Households: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, st.Pool(), c); err != nil {
		t.Fatal(err)
	}
	var lon, lat float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p FROM units WHERE level = 'village' ORDER BY code LIMIT 1) x`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", dsn)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gcj := coord.WGS84ToGCJ02([2]float64{lon, lat})
	text := fmt.Sprintf("户号,经度,纬度,地址\nK1,%.12f,%.12f,一组\nK2,%.12f,%.12f,二组\n", gcj[0], gcj[1], gcj[0], gcj[1])
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	good := write("good.csv", gbk)
	bad := write("bad.csv", []byte(fmt.Sprintf("external_id,lon,lat\nB1,%f,%f\nB2,abc,30\n", lon, lat)))

	runCmd := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, args, &out, &errb)
		return out.String(), errb.String(), err
	}
	out, _, err := runCmd("import", "households", good, "--crs", "gcj02", "--encoding", "gbk")
	if err != nil || !strings.Contains(out, "2 inserted, 0 updated, 0 unchanged, 0 skipped") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, _, err = runCmd("import", "households", "--crs=gcj02", good)
	if err != nil || !strings.Contains(out, "0 inserted, 0 updated, 2 unchanged") || !strings.Contains(out, "gbk") {
		t.Fatalf("again: %v\n%s", err, out)
	}
	var d float64
	if err := st.Pool().QueryRow(ctx, `SELECT max(greatest(abs(ST_X(location) - $1), abs(ST_Y(location) - $2))) FROM households WHERE external_id IN ('K1', 'K2')`, lon, lat).Scan(&d); err != nil || d > 1e-7 {
		t.Fatalf("stored %g° off (%v)", d, err)
	}

	_, stderr, err := runCmd("import", "households", bad)
	if err == nil || !strings.Contains(err.Error(), "1 bad rows; nothing was imported") || !strings.Contains(stderr, "bad.csv:3: lon:") {
		t.Fatalf("bad file: %v\n%s", err, stderr)
	}
	out, stderr, err = runCmd("import", "households", bad, "--skip-invalid")
	if err != nil || !strings.Contains(stderr, "bad.csv:3: lon:") || !strings.Contains(out, "1 inserted, 0 updated, 0 unchanged, 1 skipped") {
		t.Fatalf("skip invalid: %v\n%s\n%s", err, out, stderr)
	}
	_, _, err = runCmd("import", "households", filepath.Join(dir, "missing.csv"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: %v", err)
	}
	_, _, err = runCmd("import", "households", write("x.csv", []byte("lon,lat\n1,2\n")))
	if err == nil || !strings.Contains(err.Error(), "external_id: missing column") {
		t.Fatalf("no id column: %v", err)
	}
	if _, _, err = runCmd("import", "grids", good); err == nil || err.Error() != "import grids: not implemented yet" {
		t.Fatalf("import grids: %v", err)
	}
	if _, _, err = runCmd("import", "households"); err == nil {
		t.Fatal("no file accepted")
	}
	if _, _, err = runCmd("import", "households", good, "--crs", "mars"); err == nil {
		t.Fatal("unknown crs accepted")
	}
}
