// Command genhouseholds writes a GeoJSON FeatureCollection of synthetic households for the
// import benchmark: points strictly inside the villages and communities of the demo county
// that `gridmap demo --households H --seed S` loads (same H and S), with external ids of
// their own so they add to the demo's households.
//
//	go run ./scripts/genhouseholds -n 1000000 -o big.geojson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"gridmap/geo"
	"gridmap/geo/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genhouseholds:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 1000000, "households to write")
	out := flag.String("o", "households.geojson", "output file")
	demoHouseholds := flag.Int("demo-households", 20000, "the --households of the demo county the points fall in")
	seed := flag.Uint64("seed", 1, "the --seed of the demo county")
	prefix := flag.String("prefix", "BIG", "prefix of the external ids")
	flag.Parse()

	opts := demo.DefaultOptions()
	opts.Households, opts.Seed = *demoHouseholds, *seed
	c, err := demo.Generate(opts)
	if err != nil {
		return fmt.Errorf("genhouseholds: generate the demo county: %w", err)
	}
	var units []demo.Unit
	for _, u := range c.Units {
		if u.Level == geo.LevelVillage || u.Level == geo.LevelCommunity {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return fmt.Errorf("genhouseholds: the demo county has no villages")
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("genhouseholds: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(*seed, 42))
	w.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	var b []byte
	for i := range *n {
		u := units[rng.IntN(len(units))]
		// Strictly inside the unit's box: a point on a shared edge would be ambiguous.
		dx, dy := u.Box.Max[0]-u.Box.Min[0], u.Box.Max[1]-u.Box.Min[1]
		lon := u.Box.Min[0] + dx*(0.001+0.998*rng.Float64())
		lat := u.Box.Min[1] + dy*(0.001+0.998*rng.Float64())
		b = b[:0]
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, lon, 'f', 7, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, lat, 'f', 7, 64)
		b = append(b, `]},"properties":{"external_id":"`...)
		b = append(b, *prefix...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","address":"`...)
		b = append(b, u.Name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(rng.IntN(300)+1), 10)
		b = append(b, `号","residents":`...)
		b = strconv.AppendInt(b, int64(rng.IntN(6)+1), 10)
		b = append(b, `,"party":`...)
		b = strconv.AppendBool(b, rng.IntN(100) < 8)
		b = append(b, "}}"...)
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("genhouseholds: write: %w", err)
		}
	}
	w.WriteString("\n]}\n")
	if err := w.Flush(); err != nil {
		return fmt.Errorf("genhouseholds: write: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("genhouseholds: %w", err)
	}
	return nil
}
