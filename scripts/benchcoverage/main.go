// Command benchcoverage supports scripts/bench-coverage.sh: on a loaded database it times
// the coverage report (issue 5) of the whole county and of one village — the summary (no
// geometry) and the problems (with geometry), each encoded as the API sends it — and, in the
// same run, the naive way of answering the first question of coverage: for each household,
// which active grids contain it (one ST_Contains probe of the grids' GiST index per
// household). It prints the best of -runs runs of each and the ratio naive / report.
//
// With -url it also times the two endpoints over HTTP (GET /api/v1/coverage and
// /api/v1/coverage/problems, gzip as a browser asks for it).
//
//	benchcoverage -dsn DSN [-url http://127.0.0.1:8080] [-unit COUNTY] [-village CODE] [-runs 3] [-naive-runs 1]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"gridmap/geo/coverage"
	"gridmap/geo/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchcoverage:", err)
		os.Exit(1)
	}
}

func run() error {
	dsn := flag.String("dsn", "", "database")
	unit := flag.String("unit", "", "county code (default: the first county)")
	village := flag.String("village", "", "village/community code (default: the county's first village with grids)")
	runs := flag.Int("runs", 3, "runs of each measurement (the best is printed)")
	naiveRuns := flag.Int("naive-runs", 1, "runs of the naive query (about a minute each on the county)")
	url := flag.String("url", "", "a gridmap server on the same database, to time the endpoints over HTTP")
	flag.Parse()
	ctx := context.Background()
	st, err := store.Open(ctx, *dsn, store.Options{StatementTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer st.Close()
	pool := st.Pool()
	if *unit == "" {
		if err := pool.QueryRow(ctx, `SELECT code FROM units WHERE level = 'county' ORDER BY code LIMIT 1`).Scan(unit); err != nil {
			return fmt.Errorf("find county: %w", err)
		}
	}
	if *village == "" {
		err := pool.QueryRow(ctx, `SELECT unit_code FROM grids WHERE valid_to IS NULL AND unit_code BETWEEN $1 AND $1 || '999999'
			GROUP BY unit_code ORDER BY count(*) DESC, unit_code LIMIT 1`, *unit).Scan(village)
		if err != nil {
			return fmt.Errorf("find village: %w", err)
		}
	}
	var grids, households int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM grids WHERE valid_to IS NULL), (SELECT count(*) FROM households)`).
		Scan(&grids, &households); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	fmt.Printf("# %d active grids, %d households; county %s, village %s; best of %d runs\n", grids, households, *unit, *village, *runs)

	report := func(code string) (summary, problems time.Duration, sum coverage.Summary, fc coverage.FeatureCollection, err error) {
		t0 := time.Now()
		r, err := st.Coverage(ctx, code, store.CoverageOptions{})
		if err != nil {
			return
		}
		sum = r.Summary()
		if err = json.NewEncoder(io.Discard).Encode(sum); err != nil {
			return
		}
		summary = time.Since(t0)
		t1 := time.Now()
		r2, err := st.Coverage(ctx, code, store.CoverageOptions{Geometry: true})
		if err != nil {
			return
		}
		fc = r2.Features(nil)
		if err = json.NewEncoder(io.Discard).Encode(fc); err != nil {
			return
		}
		problems = time.Since(t1)
		return
	}
	type timing struct{ summary, problems time.Duration }
	best := func(code string) (timing, coverage.Summary, coverage.FeatureCollection, error) {
		var b timing
		var sum coverage.Summary
		var fc coverage.FeatureCollection
		for i := 0; i < *runs; i++ {
			s, p, su, f, err := report(code)
			if err != nil {
				return b, sum, fc, err
			}
			if i == 0 || s+p < b.summary+b.problems {
				b = timing{s, p}
			}
			sum, fc = su, f
		}
		return b, sum, fc, nil
	}
	county, csum, cfc, err := best(*unit)
	if err != nil {
		return fmt.Errorf("county report: %w", err)
	}
	vill, _, vfc, err := best(*village)
	if err != nil {
		return fmt.Errorf("village report: %w", err)
	}
	c := csum.Counts
	fmt.Printf("county %s: %d households, covered %s%%, linked %s%%, %d grids, in band %s%%, %d problems (%d features)\n",
		*unit, c.Households, pct(csum.Percent.Covered), pct(csum.Percent.Linked), c.Grids, pct(csum.Percent.GridsInBand),
		csum.Errors+csum.Warnings, len(cfc.Features))
	fmt.Printf("report county:  summary %7.1f ms  problems %7.1f ms  both %7.1f ms  (target ≤ 2000 ms)\n",
		ms(county.summary), ms(county.problems), ms(county.summary+county.problems))
	fmt.Printf("report village: summary %7.1f ms  problems %7.1f ms  both %7.1f ms  (target ≤ 100 ms; %d features)\n",
		ms(vill.summary), ms(vill.problems), ms(vill.summary+vill.problems), len(vfc.Features))

	naive := func(code string) (time.Duration, int, int, error) {
		var d time.Duration
		var none, multi int
		for i := 0; i < *naiveRuns; i++ {
			t0 := time.Now()
			err := pool.QueryRow(ctx, naiveSQL, code).Scan(&none, &multi)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("naive query: %w", err)
			}
			if e := time.Since(t0); i == 0 || e < d {
				d = e
			}
		}
		return d, none, multi, nil
	}
	if *url != "" {
		for _, code := range []string{*unit, *village} {
			for _, path := range []string{"/api/v1/coverage?unit=", "/api/v1/coverage/problems?unit="} {
				d, size, err := httpBest(*url+path+code, *runs)
				if err != nil {
					return err
				}
				fmt.Printf("http %-48s %7.1f ms  %9d bytes (gzip)\n", path+code, ms(d), size)
			}
		}
	}
	nc, none, multi, err := naive(*unit)
	if err != nil {
		return err
	}
	fmt.Printf("naive county:   %7.1f ms  (households in no grid %d, in more than one %d)\n", ms(nc), none, multi)
	nv, _, _, err := naive(*village)
	if err != nil {
		return err
	}
	fmt.Printf("naive village:  %7.1f ms\n", ms(nv))
	fmt.Printf("ratio naive / report summary: county %.1fx, village %.1fx\n", ms(nc)/ms(county.summary), ms(nv)/ms(vill.summary))
	fmt.Printf("ratio naive / report summary+problems: county %.1fx, village %.1fx\n",
		ms(nc)/ms(county.summary+county.problems), ms(nv)/ms(vill.summary+vill.problems))
	return nil
}

// httpBest GETs url runs times (gzip accepted) and returns the best time and the size sent.
func httpBest(url string, runs int) (time.Duration, int64, error) {
	var best time.Duration
	var size int64
	for i := 0; i < runs; i++ {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("request: %w", err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		if tok := os.Getenv("GRIDMAP_TOKEN"); tok != "" { // gridmap token create
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		t0 := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, fmt.Errorf("GET %s: %w", url, err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("GET %s: %w", url, err)
		}
		if res.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: status %d", url, res.StatusCode)
		}
		if d := time.Since(t0); i == 0 || d < best {
			best, size = d, n
		}
	}
	return best, size, nil
}

// naiveSQL asks, for each household of the unit, which active grids contain it (one GiST
// probe per household), and counts the households in none and in more than one.
const naiveSQL = `
	SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1)
	FROM (SELECT h.id, (SELECT count(*) FROM grids g
	                    WHERE g.valid_to IS NULL AND g.boundary && h.location
	                      AND ST_Contains(g.boundary, h.location)) AS n
	      FROM households h
	      WHERE h.unit_code BETWEEN $1 AND $1 || '999999') x`

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *p)
}
