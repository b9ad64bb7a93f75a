package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"gridmap/geo/coverage"
	"gridmap/geo/store"
)

// runCoverage: gridmap coverage --unit CODE [--json | --problems [--kind K,…]] prints the
// coverage report of a unit — a table of the unit and its child units (households, covered,
// linked, grids in band, errors and warnings) and its problems by kind — or the summary as
// JSON (the body of GET /api/v1/coverage), or the problems as GeoJSON.
func runCoverage(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("coverage", stderr)
	unit := fs.String("unit", "", "county, township/street or village/community code (required)")
	asJSON := fs.Bool("json", false, "print the summary as JSON (as GET /api/v1/coverage)")
	problems := fs.Bool("problems", false, "print the problems as GeoJSON (as GET /api/v1/coverage/problems)")
	kind := fs.String("kind", "", "with --problems: only these kinds (comma-separated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *unit == "" {
		fs.Usage()
		return &exitError{2, errors.New("coverage: --unit is required")}
	}
	kinds, err := coverage.ParseKinds("kind", *kind)
	if err != nil {
		return &exitError{2, fmt.Errorf("coverage: %w", err)}
	}
	st, _, done, err := openStore(ctx, cfg, log, 10*time.Minute)
	if err != nil {
		return err
	}
	defer done()
	r, err := st.Coverage(ctx, *unit, store.CoverageOptions{Kinds: kinds, Geometry: *problems})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	switch {
	case *problems:
		return enc.Encode(r.Features(kinds))
	case *asJSON:
		enc.SetIndent("", "  ")
		return enc.Encode(r.Summary())
	}
	return printCoverage(stdout, r)
}

// printCoverage writes the table: the unit, then its child units (or its grids, for a
// village/community), then the unit's problems by kind.
func printCoverage(w io.Writer, r *coverage.Report) error {
	root := r.Root
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "unit\tname\thouseholds\tcovered %\tlinked %\tgrids\tin band %\terrors\twarnings\t")
	row := func(n *coverage.Node, indent string) {
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%s\t%s\t%d\t%s\t%d\t%d\t\n", indent, n.Code, n.Name, n.Counts.Households,
			pct(n.Percent.Covered), pct(n.Percent.Linked), n.Counts.Grids, pct(n.Percent.GridsInBand), n.Errors, n.Warnings)
	}
	row(root, "")
	for _, c := range root.Children {
		row(c, "  ")
	}
	for _, g := range root.Grids {
		var errs, warns int
		for k, n := range g.Problems {
			if k.Severity() == coverage.SeverityError {
				errs += n
			} else {
				warns += n
			}
		}
		inBand := "no"
		if g.InHouseholdBand {
			inBand = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t\t%s\t\t%s\t%d\t%d\t\n", g.Code, g.Name, g.Households, pct(g.Linked), inBand, errs, warns)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("coverage: write table: %w", err)
	}
	fmt.Fprintf(w, "\nproblems of %s %s (%d errors, %d warnings):\n", root.Code, root.Name, root.Errors, root.Warnings)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range coverage.Kinds() {
		if n := root.Problems[k]; n > 0 {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", k, k.Severity(), n)
		}
	}
	if root.Errors+root.Warnings == 0 {
		fmt.Fprintln(tw, "  none")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("coverage: write table: %w", err)
	}
	return nil
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}
