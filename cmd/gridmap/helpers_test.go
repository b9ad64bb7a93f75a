package main

import (
	"bytes"
	"context"
	"testing"

	"gridmap/geo/demo"
	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

// demoDatabase starts a throwaway PostGIS holding a small demo county, points DATABASE_URL
// at it for the test, and returns its store.
func demoDatabase(t *testing.T, households int, seed uint64) *store.Store {
	t.Helper()
	ctx := context.Background()
	pg, err := storetest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	dsn := pg.DSN(t)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	c, err := demo.Generate(demo.Options{Households: households, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, st.Pool(), c); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", dsn)
	return st
}

// runArgs runs the binary's command line in process and returns stdout, stderr and the error.
func runArgs(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}
