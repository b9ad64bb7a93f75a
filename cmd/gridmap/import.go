package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/ingest"
	"gridmap/geo/store"
)

// runImport is `gridmap import households FILE [--crs gcj02] [--unit CODE] [--skip-invalid]
// [--encoding gbk]`: the whole file in one transaction, as POST /api/v1/import/households.
func runImport(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitError{2, errors.New("import: say what to import: gridmap import households FILE")}
	}
	switch args[0] {
	case "households":
		return importHouseholds(ctx, cfg, log, args[1:], stdout, stderr)
	case "grids":
		return errors.New("import grids: not implemented yet")
	}
	return &exitError{2, fmt.Errorf("import: unknown kind %q: want households", args[0])}
}

func importHouseholds(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import households", stderr)
	crsName := fs.String("crs", "wgs84", "coordinate system of the file: wgs84, gcj02 or bd09")
	unit := fs.String("unit", "", "12-digit village/community code for every household (default: by location)")
	skip := fs.Bool("skip-invalid", false, "load the good rows of a file with bad ones, and report the bad ones")
	enc := fs.String("encoding", "", "text encoding: utf-8 or gbk (default: detected)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gridmap import households FILE [--crs gcj02] [--unit CODE] [--skip-invalid] [--encoding gbk]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the file name.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return &exitError{2, err}
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return &exitError{2, errors.New("import households: give exactly one FILE (- for standard input)")}
	}
	crs, err := coord.Parse(*crsName)
	if err != nil {
		return &exitError{2, fmt.Errorf("import households: --crs: %w", err)}
	}
	name := files[0]
	var in io.Reader = os.Stdin
	var size int64
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import households: %w", err)
		}
		defer f.Close()
		in = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	format := ingest.FormatAuto
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		format = ingest.FormatCSV
	case ".geojson", ".json":
		format = ingest.FormatGeoJSON
	}
	p, err := ingest.NewParser(in, ingest.Options{Format: format, CRS: crs, Encoding: *enc})
	if err != nil {
		return describeImportError(name, err, stderr)
	}

	st, _, done, err := openStore(ctx, cfg, log, 30*time.Minute)
	if err != nil {
		return err
	}
	defer done()
	t0 := time.Now()
	res, err := st.ImportHouseholds(ctx, p, store.ImportOptions{Unit: *unit, SkipInvalid: *skip, SizeHint: size})
	if err != nil {
		return describeImportError(name, err, stderr)
	}
	printProblems(stderr, name, res.Report.Rows)
	how := ""
	if res.Bulk {
		how = ", bulk load"
	}
	fmt.Fprintf(stdout, "imported %s (%s, %s, %s%s): %d inserted, %d updated, %d unchanged, %d skipped in %.1f s\n",
		name, p.Format(), p.Encoding(), crs, how, res.Inserted, res.Updated, res.Unchanged, res.Skipped, time.Since(t0).Seconds())
	return nil
}

// describeImportError prints a bad-row report and says what was wrong with the file.
func describeImportError(name string, err error, stderr io.Writer) error {
	var in *geo.InputError
	if !errors.As(err, &in) {
		return err
	}
	if in.Code == "invalid_rows" {
		if rows, ok := in.Details["rows"].([]ingest.Problem); ok {
			printProblems(stderr, name, rows)
		}
		return fmt.Errorf("import households: %s: %s", name, in.Reason)
	}
	if in.Field != "" {
		return fmt.Errorf("import households: %s: %s: %s", name, in.Field, in.Reason)
	}
	return fmt.Errorf("import households: %s: %s", name, in.Reason)
}

func printProblems(w io.Writer, name string, rows []ingest.Problem) {
	for _, p := range rows {
		fmt.Fprintf(w, "%s:%d: %s: %s\n", name, p.Line, p.Field, p.Reason)
	}
}
