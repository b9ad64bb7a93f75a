package drawjob

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gridmap/geo"
	"gridmap/geo/partition"
	"gridmap/geo/partition/synth"
	"gridmap/geo/store"
)

// fakeStore serves one generated unit; LoadDrawUnit waits for gate when it is set.
type fakeStore struct {
	unit    *store.DrawUnit
	gate    chan struct{}
	applied [][]store.DrawApply
}

func (f *fakeStore) DrawScope(_ context.Context, unit string, keep []string) ([]string, error) {
	if unit != f.unit.Code {
		return nil, geo.NotFound("unit", unit)
	}
	return []string{unit}, nil
}

func (f *fakeStore) LoadDrawUnit(ctx context.Context, code string, keep []string) (*store.DrawUnit, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	u := *f.unit
	return &u, nil
}

func (f *fakeStore) ApplyDraw(_ context.Context, plans []store.DrawApply, by string) (*store.AppliedDraw, error) {
	f.applied = append(f.applied, plans)
	out := &store.AppliedDraw{}
	for _, p := range plans {
		for i := range p.Grids {
			out.Created = append(out.Created, store.AppliedGrid{Code: fmt.Sprintf("%s%03d", p.Unit, i+1), Unit: p.Unit})
		}
	}
	return out, nil
}

// genUnit turns a generated urban instance of n points into a community whose households
// sit in two current grids split at the boundary's centre line (west "…001", east "…002").
func genUnit(n int) *store.DrawUnit {
	in := synth.Urban(n, 5)
	u := &store.DrawUnit{Code: "999001001001", Name: "测试社区", Level: geo.LevelCommunity, Boundary: in.Boundary,
		HouseholdsMin: 300, HouseholdsMax: 500, ResidentsMin: 1000, ResidentsMax: 2000, NextSeq: 3, Fingerprint: "f1"}
	c := in.Boundary.Bound().Center()
	id := int64(0)
	for _, p := range in.Points {
		grid := "999001001001001"
		if p.Loc[0] > c[0] {
			grid = "999001001001002"
		}
		for range p.Households {
			id++
			u.Households = append(u.Households, store.DrawHousehold{ID: id, ExternalID: fmt.Sprintf("H%d", id), Loc: p.Loc,
				Residents: 3, Grid: grid})
		}
	}
	return u
}

func TestRunProposal(t *testing.T) {
	st := &fakeStore{unit: genUnit(300)}
	var steps []float64
	res, err := Run(context.Background(), st, Request{Unit: st.unit.Code, Seed: 1}, []string{st.unit.Code},
		func(f float64, _ string) { steps = append(steps, f) })
	if err != nil {
		t.Fatal(err)
	}
	if res.State() != Done || len(res.Units) != 1 || len(steps) < 3 || steps[len(steps)-1] != 1 {
		t.Fatalf("state %s, %d units, progress %v", res.State(), len(res.Units), steps)
	}
	u := res.Units[0]
	m := res.Metrics()
	if u.Min != 300 || u.Max != 500 || m.PctInBand != 100 || m.Households != len(st.unit.Households) || m.Grids < 2 {
		t.Fatalf("band %d-%d, metrics %+v", u.Min, u.Max, m)
	}
	// Codes continue the unit's sequence, features carry them.
	fc := res.FeatureCollection()
	for i, g := range u.Grids {
		want := fmt.Sprintf("999001001001%03d", 3+i)
		if g.Code != want || fc.Features[i].Properties["code"] != want || !g.InBand {
			t.Fatalf("grid %d: %+v", i, g)
		}
	}
	// A change never names a household that stays with its grid's majority, and every
	// household that does not is listed.
	changed := map[int64]bool{}
	for _, c := range u.Changes {
		changed[c.ID] = true
		if c.From == "" || c.To == "" {
			t.Fatalf("change %+v", c)
		}
	}
	if len(changed) == 0 || len(changed) == len(st.unit.Households) {
		t.Fatalf("%d of %d households change grid", len(changed), len(st.unit.Households))
	}
	plans := res.Plans()
	if len(plans) != 1 || plans[0].Fingerprint != "f1" || len(plans[0].Grids) != len(u.Grids) {
		t.Fatalf("plans %+v", plans)
	}
}

func TestRunInfeasibleAndBand(t *testing.T) {
	st := &fakeStore{unit: genUnit(300)}
	total := len(st.unit.Households)
	res, err := Run(context.Background(), st, Request{Unit: st.unit.Code, Min: total + 1, Max: total + 100}, []string{st.unit.Code}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report()
	if res.State() != Infeasible || rep == nil || len(rep.Units) != 1 || rep.Units[0].Items[0].Weight != total {
		t.Fatalf("state %s report %+v", res.State(), rep)
	}
	if _, err := Apply(context.Background(), st, res, "t"); !errors.Is(err, geo.ErrConflict) || len(st.applied) != 0 {
		t.Fatalf("apply of an infeasible drawing: %v", err)
	}
	// A building above the ceiling is reported with its household.
	heavy := genUnit(300)
	for i := range 700 {
		heavy.Households = append(heavy.Households, store.DrawHousehold{ID: int64(100000 + i), ExternalID: "B", Loc: heavy.Households[0].Loc})
	}
	res, err = Run(context.Background(), &fakeStore{unit: heavy}, Request{Unit: heavy.Code}, []string{heavy.Code}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := res.Report(); rep == nil || rep.Units[0].Items[0].Reason != string(partition.ReasonHeavyPoint) ||
		rep.Units[0].Items[0].Weight < 700 || rep.Units[0].Items[0].Household == 0 {
		t.Fatalf("heavy building: %+v", rep)
	}
	// A max below the policy's min is bad input naming max.
	_, err = Run(context.Background(), st, Request{Unit: st.unit.Code, Max: 100}, []string{st.unit.Code}, nil)
	var in *geo.InputError
	if !errors.As(err, &in) || in.Field != "max" {
		t.Fatalf("max below the policy's min: %v", err)
	}
	// Residents: the policy's resident band applies.
	res, err = Run(context.Background(), st, Request{Unit: st.unit.Code, Weight: partition.Residents}, []string{st.unit.Code}, nil)
	if err != nil || res.Units[0].Min != 1000 || res.Units[0].Max != 2000 {
		t.Fatalf("residents: %v %+v", err, res)
	}
}

func TestRegistry(t *testing.T) {
	st := &fakeStore{unit: genUnit(200), gate: make(chan struct{})}
	r := NewRegistry(st, Options{MaxJobs: 2, TTL: time.Hour})
	ctx := context.Background()
	if _, err := r.Submit(ctx, Request{Unit: "999001009009"}); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("unknown unit: %v", err)
	}
	a, err := r.Submit(ctx, Request{Unit: st.unit.Code})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Submit(ctx, Request{Unit: st.unit.Code, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Two unfinished jobs fill it.
	if _, err := r.Submit(ctx, Request{Unit: st.unit.Code}); !errors.Is(err, ErrBusy) {
		t.Fatalf("third job: %v", err)
	}
	if _, err := r.Apply(ctx, a.ID, "t"); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("apply while running: %v", err)
	}
	st0, changed := a.Watch()
	if st0.State != Running {
		t.Fatalf("state %s", st0.State)
	}
	close(st.gate)
	for _, j := range []*Job{a, b} {
		deadline := time.After(30 * time.Second)
		for {
			s, ch := j.Watch()
			if s.Terminal() {
				if s.State != Done || s.Progress != 1 {
					t.Fatalf("job %s: %s %v", j.ID, s.State, s.Err)
				}
				break
			}
			select {
			case <-ch:
			case <-deadline:
				t.Fatal("job did not finish")
			}
		}
	}
	select {
	case <-changed:
	default:
		t.Fatal("watch channel not closed by a change")
	}
	if _, err := r.Apply(ctx, a.ID, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(ctx, a.ID, "t"); !errors.Is(err, geo.ErrConflict) || len(st.applied) != 1 {
		t.Fatalf("second apply: %v (%d applies)", err, len(st.applied))
	}
	// Full of finished jobs: the oldest finished one makes room.
	c, err := r.Submit(ctx, Request{Unit: st.unit.Code})
	if err != nil {
		t.Fatal(err)
	}
	older, newer := a, b
	if b.Status().Finished.Before(a.Status().Finished) {
		older, newer = b, a
	}
	if _, err := r.Get(older.ID); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("oldest job kept: %v", err)
	}
	if _, err := r.Get(newer.ID); err != nil {
		t.Fatalf("newer job dropped: %v", err)
	}
	if _, err := r.Get(c.ID); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if s := c.Status(); !s.Terminal() {
		t.Fatalf("job still %s after Close", s.State)
	}
}

func TestRegistryTTLAndClose(t *testing.T) {
	st := &fakeStore{unit: genUnit(200), gate: make(chan struct{})}
	r := NewRegistry(st, Options{TTL: time.Nanosecond})
	ctx := context.Background()
	a, err := r.Submit(ctx, Request{Unit: st.unit.Code})
	if err != nil {
		t.Fatal(err)
	}
	// Close cancels a job that waits for the database: it fails, nothing hangs.
	r.Close()
	if s := a.Status(); s.State != Failed || !errors.Is(s.Err, context.Canceled) {
		t.Fatalf("after Close: %s %v", s.State, s.Err)
	}
	if _, err := r.Submit(ctx, Request{Unit: st.unit.Code}); err == nil {
		t.Fatal("a closed registry took a job")
	}
	// The failed job is older than the TTL: the next Submit drops it.
	r2 := NewRegistry(st, Options{TTL: time.Nanosecond})
	defer r2.Close()
	r2.mu.Lock()
	r2.jobs[a.ID] = a
	r2.mu.Unlock()
	time.Sleep(time.Millisecond)
	close(st.gate)
	if _, err := r2.Submit(ctx, Request{Unit: st.unit.Code}); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Get(a.ID); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("expired job kept: %v", err)
	}
}
