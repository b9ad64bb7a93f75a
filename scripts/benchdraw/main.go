// Command benchdraw measures automatic drawing and assignment (issue 6) on generated
// instances and prints a Markdown report: for urban and village instances of 1,000, 10,000
// and 100,000 points, partition.Draw's grids, % in band, % single-polygon, gap and overlap
// area (judged by PostGIS ST_Union/ST_Intersection in a throwaway cluster), Polsby-Popper,
// seconds and peak heap; beside it PostGIS ST_ClusterKMeans on the same points with the
// same k (weighted by households through the M coordinate) and its % in band and
// compactness (convex hulls of the clusters); then the exact assignment of 100,000
// households to party members against the greedy nearest-member baseline.
//
//	go run ./scripts/benchdraw [-sizes 1000,10000,100000] [-kmeans-timeout 5m]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"gridmap/geo/assign"
	"gridmap/geo/partition"
	"gridmap/geo/partition/synth"
	"gridmap/geo/store"
	"gridmap/geo/store/pgcluster"
)

func main() {
	sizes := flag.String("sizes", "1000,10000,100000", "points per instance, comma-separated")
	kmTimeout := flag.Duration("kmeans-timeout", 5*time.Minute, "give up on one ST_ClusterKMeans after this")
	assignN := flag.Int("assign", 100000, "households in the assignment benchmark (0 skips it)")
	flag.Parse()
	if err := run(*sizes, *kmTimeout, *assignN); err != nil {
		fmt.Fprintln(os.Stderr, "benchdraw:", err)
		os.Exit(1)
	}
}

func run(sizesFlag string, kmTimeout time.Duration, assignN int) error {
	var sizes []int
	for _, s := range strings.Split(sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		sizes = append(sizes, n)
	}
	ctx := context.Background()
	st, stop, err := startPostGIS(ctx)
	if err != nil {
		return err
	}
	defer stop()

	fmt.Printf("machine: %s, GOMAXPROCS %d, %s\n\n", cpuModel(), runtime.GOMAXPROCS(0), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| instance | points | grids | % in band | % single polygon | gap m² | overlap m² | PP mean | PP min | seconds | peak MB | k-means % in band | k-means PP mean | k-means PP min | k-means s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, kind := range []string{"urban", "village"} {
		for _, n := range sizes {
			in := synth.Urban(n, 42)
			if kind == "village" {
				in = synth.Village(n, 42)
			}
			if err := benchInstance(ctx, st, kind, in, kmTimeout); err != nil {
				return fmt.Errorf("%s-%d: %w", kind, n, err)
			}
		}
	}
	fmt.Println()
	fmt.Println("k-means: PostGIS ST_ClusterKMeans(point with M = households, k = our grid count) over the same points in a local metric frame; compactness is the Polsby-Popper of each cluster's convex hull (clusters of 1–2 points count 0); k-means clusters are not a tiling.")
	if assignN > 0 {
		fmt.Println()
		return benchAssign(ctx, assignN)
	}
	return nil
}

// startPostGIS starts a throwaway cluster, creates a migrated database and opens a store.
func startPostGIS(ctx context.Context) (*store.Store, func(), error) {
	dir, err := os.MkdirTemp("", "gridmap-benchdraw-")
	if err != nil {
		return nil, nil, err
	}
	cl, err := pgcluster.New(dir, pgcluster.Options{Throwaway: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cleanup := func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = cl.Stop(sctx)
		_ = cl.Remove()
	}
	if _, err := cl.Init(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := cl.Start(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	conn, err := pgx.Connect(ctx, cl.DSN("postgres"))
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE bench")
	conn.Close(ctx)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := store.Migrate(ctx, cl.DSN("bench")); err != nil {
		cleanup()
		return nil, nil, err
	}
	st, err := store.Open(ctx, cl.DSN("bench"), store.Options{StatementTimeout: 30 * time.Minute})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return st, func() { st.Close(); cleanup() }, nil
}

func benchInstance(ctx context.Context, st *store.Store, kind string, in partition.Input, kmTimeout time.Duration) error {
	var res *partition.Result
	var err error
	var elapsed time.Duration
	peak := peakHeap(func() {
		t0 := time.Now()
		res, err = partition.Draw(ctx, in)
		elapsed = time.Since(t0)
	})
	if err != nil {
		return err
	}
	parts := make([]orb.MultiPolygon, 0, len(res.Grids)+len(res.Empty))
	single := 0
	for _, g := range res.Grids {
		parts = append(parts, orb.MultiPolygon{g.Polygon})
	}
	for _, e := range res.Empty {
		parts = append(parts, orb.MultiPolygon{e})
	}
	rep, err := st.CheckTiling(ctx, in.Boundary, parts)
	if err != nil {
		return err
	}
	single = len(parts) - rep.MultiPart - rep.Invalid
	s := res.Summary
	km, err := kmeans(ctx, st, in, s.Grids, kmTimeout)
	kmCols := "| timeout | | | "
	if err == nil {
		kmCols = fmt.Sprintf("| %.1f | %.3f | %.3f | %.2f ", km.pctInBand, km.meanPP, km.minPP, km.seconds)
	} else if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "statement timeout") {
		return err
	}
	fmt.Printf("| %s | %d | %d | %.1f | %.1f | %.2g | %.2g | %.3f | %.3f | %.3f | %.0f %s|\n",
		kind, len(in.Points), s.Grids, s.PctInBand, 100*float64(single)/float64(len(parts)), rep.GapM2, rep.OverlapM2,
		s.MeanPP, s.MinPP, elapsed.Seconds(), peak, kmCols)
	return nil
}

type kmResult struct {
	pctInBand, meanPP, minPP, seconds float64
}

// kmeans clusters the instance's points with PostGIS ST_ClusterKMeans (weights in M) into
// k clusters and measures them like our grids.
func kmeans(ctx context.Context, st *store.Store, in partition.Input, k int, timeout time.Duration) (kmResult, error) {
	var out kmResult
	c := in.Boundary.Bound().Center()
	ky := 6371008.8 * math.Pi / 180
	kx := ky * math.Cos(c[1]*math.Pi/180)
	rows := make([][]any, len(in.Points))
	for i, p := range in.Points {
		w := p.Households
		if in.Weight == partition.Residents {
			w = p.Residents
		}
		rows[i] = []any{(p.Loc[0] - c[0]) * kx, (p.Loc[1] - c[1]) * ky, int32(w)}
	}
	pool := st.Pool()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return out, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS km_points; CREATE TABLE km_points (x float8, y float8, w integer)`); err != nil {
		return out, err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"km_points"}, []string{"x", "y", "w"}, pgx.CopyFromRows(rows)); err != nil {
		return out, err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", timeout.Milliseconds())); err != nil {
		return out, err
	}
	defer conn.Exec(context.Background(), "RESET statement_timeout")
	t0 := time.Now()
	var n, inBand int
	err = conn.QueryRow(ctx, `
		WITH c AS (
		    SELECT w, x, y, ST_ClusterKMeans(ST_MakePointM(x, y, greatest(w, 1)), $1) OVER () AS cid FROM km_points
		), g AS (
		    SELECT cid, sum(w) AS w, ST_ConvexHull(ST_Collect(ST_MakePoint(x, y))) AS hull FROM c GROUP BY cid
		), m AS (
		    SELECT w, CASE WHEN ST_Area(hull) > 0 THEN 4 * pi() * ST_Area(hull) / ST_Perimeter(hull) ^ 2 ELSE 0 END AS pp FROM g
		)
		SELECT count(*), count(*) FILTER (WHERE w BETWEEN $2 AND $3), coalesce(avg(pp), 0), coalesce(min(pp), 0) FROM m`,
		k, in.Min, in.Max).Scan(&n, &inBand, &out.meanPP, &out.minPP)
	if err != nil {
		return out, err
	}
	out.seconds = time.Since(t0).Seconds()
	if n > 0 {
		out.pctInBand = 100 * float64(inBand) / float64(n)
	}
	return out, nil
}

// peakHeap samples the heap every millisecond while f runs and returns the highest live heap
// above the heap at the start, in MB.
func peakHeap(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms)
	p := max(peak.Load(), ms.HeapAlloc)
	if p < base {
		return 0
	}
	return float64(p-base) / (1 << 20)
}

// benchAssign assigns n households (villages of 400, 8% party members, on a lattice 2 km
// apart) to party members with 10–15 each: per village, as gridmap does, and as one
// township-sized problem; exact min-cost flow against greedy.
func benchAssign(ctx context.Context, n int) error {
	const per = 400
	villages := max(1, n/per)
	rng := rand.New(rand.NewPCG(2026, 6))
	side := int(math.Ceil(math.Sqrt(float64(villages))))
	var all assign.Problem
	var each []assign.Problem
	for i := range villages {
		hh, mem := genVillage(rng, per, 0.08)
		dx, dy := float64(i%side)*0.02+113-hh[0][0], float64(i/side)*0.018+30-hh[0][1]
		var p assign.Problem
		for _, h := range hh {
			p.Clients = append(p.Clients, orb.Point{h[0] + dx, h[1] + dy})
		}
		for _, m := range mem {
			p.Servers = append(p.Servers, orb.Point{m[0] + dx, m[1] + dy})
		}
		p.Min, p.Max = assign.HouseholdMin, assign.HouseholdMax
		each = append(each, p)
		all.Clients = append(all.Clients, p.Clients...)
		all.Servers = append(all.Servers, p.Servers...)
	}
	all.Min, all.Max = assign.HouseholdMin, assign.HouseholdMax
	fmt.Printf("Assignment: %d households, %d party members (%d villages of %d, 8%% members), span %d–%d households per member.\n\n",
		len(all.Clients), len(all.Servers), villages, per, assign.HouseholdMin, assign.HouseholdMax)
	fmt.Println("| problem | method | total distance km | mean m | ratio to optimum | % members within 10–15 | members above 15 | seconds | peak MB |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|")
	type agg struct {
		total         float64
		inSpan, above int
		servers       int
		secs, mb      float64
	}
	row := func(name, method string, a agg, opt float64) {
		fmt.Printf("| %s | %s | %.1f | %.1f | %.4f | %.1f | %d | %.2f | %.0f |\n", name, method, a.total/1000, a.total/float64(len(all.Clients)),
			a.total/opt, 100*float64(a.inSpan)/float64(a.servers), a.above, a.secs, a.mb)
	}
	solveAll := func(ps []assign.Problem, f func(assign.Problem) (assign.Result, error)) (agg, error) {
		var a agg
		var err error
		a.mb = peakHeap(func() {
			t0 := time.Now()
			for _, p := range ps {
				var r assign.Result
				if r, err = f(p); err != nil {
					return
				}
				a.total += r.Total
				a.inSpan += r.InSpan()
				a.servers += len(r.Loads)
				for _, l := range r.Loads {
					if l > assign.HouseholdMax {
						a.above++
					}
				}
			}
			a.secs = time.Since(t0).Seconds()
		})
		return a, err
	}
	exact := func(p assign.Problem) (assign.Result, error) { return assign.Solve(ctx, p) }
	for _, c := range []struct {
		name string
		ps   []assign.Problem
	}{
		{fmt.Sprintf("%d villages, each solved alone", villages), each},
		{"one township-sized problem", []assign.Problem{all}},
	} {
		opt, err := solveAll(c.ps, exact)
		if err != nil {
			return err
		}
		gr, err := solveAll(c.ps, assign.Greedy)
		if err != nil {
			return err
		}
		row(c.name, "exact min-cost flow", opt, opt.total)
		row(c.name, "greedy nearest member", gr, opt.total)
	}
	return nil
}

// genVillage is geo/assign's benchmark village: 45% of households in a core around the
// centre (σ 200 m), 35% along three roads (0.8–1.8 km, 25 m either side), 20% in two
// hamlets 0.7–1.3 km out (σ 70 m); a fraction of the households are party members' homes.
func genVillage(rng *rand.Rand, n int, memberFrac float64) (households, members []orb.Point) {
	lon0, lat0 := 108+rng.Float64()*12, 24+rng.Float64()*12
	ky := 6371008.8 * math.Pi / 180
	kx := ky * math.Cos(lat0*math.Pi/180)
	at := func(x, y float64) orb.Point { return orb.Point{lon0 + x/kx, lat0 + y/ky} }
	type road struct{ dx, dy, length float64 }
	roads := make([]road, 3)
	for i := range roads {
		a := rng.Float64() * 2 * math.Pi
		roads[i] = road{math.Cos(a), math.Sin(a), 800 + rng.Float64()*1000}
	}
	hamlets := make([][2]float64, 2)
	for i := range hamlets {
		a, d := rng.Float64()*2*math.Pi, 700+rng.Float64()*600
		hamlets[i] = [2]float64{d * math.Cos(a), d * math.Sin(a)}
	}
	households = make([]orb.Point, n)
	for i := range households {
		switch u := rng.Float64(); {
		case u < 0.45:
			households[i] = at(rng.NormFloat64()*200, rng.NormFloat64()*200)
		case u < 0.80:
			r := roads[rng.IntN(len(roads))]
			t, off := rng.Float64()*r.length, rng.NormFloat64()*25
			households[i] = at(t*r.dx-off*r.dy, t*r.dy+off*r.dx)
		default:
			h := hamlets[rng.IntN(len(hamlets))]
			households[i] = at(h[0]+rng.NormFloat64()*70, h[1]+rng.NormFloat64()*70)
		}
	}
	for _, i := range rng.Perm(n)[:int(math.Round(memberFrac*float64(n)))] {
		members = append(members, households[i])
	}
	return households, members
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "model name") {
			if i := strings.Index(line, ":"); i >= 0 {
				return strings.TrimSpace(line[i+1:]) + fmt.Sprintf(" × %d", runtime.NumCPU())
			}
		}
	}
	return runtime.GOARCH
}
