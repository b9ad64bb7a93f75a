package drawjob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gridmap/geo"
	"gridmap/geo/store"
)

// ErrBusy is returned by Submit when the registry holds as many unfinished jobs as it may.
var ErrBusy = errors.New("drawjob: too many drawing jobs; try again later")

// Options bound a Registry.
type Options struct {
	MaxJobs     int           // jobs kept, finished or not (default 100)
	TTL         time.Duration // finished jobs are dropped after this (default 1 h)
	Concurrency int           // drawings that run at once (default 1; others wait)
	Logger      *slog.Logger
}

// Registry holds drawing jobs in memory and runs them in the background. It is owned by
// the API server; Close cancels the running jobs and waits for them.
type Registry struct {
	st   Store
	opts Options
	sem  chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*Job
}

// NewRegistry returns an empty registry drawing from st.
func NewRegistry(st Store, opts Options) *Registry {
	if opts.MaxJobs <= 0 {
		opts.MaxJobs = 100
	}
	if opts.TTL <= 0 {
		opts.TTL = time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{st: st, opts: opts, sem: make(chan struct{}, opts.Concurrency), ctx: ctx, cancel: cancel,
		jobs: map[string]*Job{}}
}

// Job is one drawing in the registry.
type Job struct {
	ID      string
	Request Request
	Created time.Time

	mu       sync.Mutex
	state    State
	progress float64
	stage    string
	err      error
	result   *Result
	finished time.Time
	applied  *store.AppliedDraw
	applying bool
	changed  chan struct{} // closed and replaced on every change
}

// Status is a snapshot of a job.
type Status struct {
	ID       string
	Unit     string
	State    State
	Progress float64
	Stage    string
	Err      error
	Created  time.Time
	Finished time.Time
	Result   *Result            // when Done or Infeasible
	Applied  *store.AppliedDraw // after Apply
}

// Terminal reports whether the job has finished (done, failed or infeasible).
func (s Status) Terminal() bool { return s.State != Running }

// Submit checks the request's unit and kept grids (errors come back at once) and starts the
// drawing in the background.
func (r *Registry) Submit(ctx context.Context, req Request) (*Job, error) {
	units, err := r.st.DrawScope(ctx, req.Unit, req.Keep)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	j := &Job{ID: id, Request: req, Created: time.Now(), state: Running, stage: "queued", changed: make(chan struct{})}
	r.mu.Lock()
	r.prune(time.Now())
	if len(r.jobs) >= r.opts.MaxJobs {
		r.mu.Unlock()
		return nil, ErrBusy
	}
	if err := r.ctx.Err(); err != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("drawjob: registry closed: %w", err)
	}
	r.jobs[id] = j
	r.wg.Add(1)
	r.mu.Unlock()
	go r.run(j, units)
	return j, nil
}

func (r *Registry) run(j *Job, units []string) {
	defer r.wg.Done()
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-r.ctx.Done():
		j.finish(nil, r.ctx.Err())
		return
	}
	res, err := Run(r.ctx, r.st, j.Request, units, j.setProgress)
	if err != nil {
		r.opts.Logger.Warn("drawing failed", "job", j.ID, "unit", j.Request.Unit, "error", err)
	}
	j.finish(res, err)
}

// prune drops finished jobs older than the TTL, then the oldest finished ones while the
// registry is full. r.mu is held.
func (r *Registry) prune(now time.Time) {
	var oldest *Job
	for id, j := range r.jobs {
		st := j.Status()
		if !st.Terminal() {
			continue
		}
		if now.Sub(st.Finished) > r.opts.TTL {
			delete(r.jobs, id)
			continue
		}
		if oldest == nil || st.Finished.Before(oldest.Status().Finished) {
			oldest = j
		}
	}
	for len(r.jobs) >= r.opts.MaxJobs && oldest != nil {
		delete(r.jobs, oldest.ID)
		oldest = nil
		for _, j := range r.jobs {
			if st := j.Status(); st.Terminal() && (oldest == nil || st.Finished.Before(oldest.Status().Finished)) {
				oldest = j
			}
		}
	}
}

// Get returns a job; an unknown or dropped one is geo.ErrNotFound.
func (r *Registry) Get(id string) (*Job, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	if !ok {
		return nil, geo.NotFound("drawing job", id)
	}
	return j, nil
}

// Apply applies a done job's proposal once; a job that is not done, was applied already, or
// whose units' grids changed since the drawing is geo.ErrConflict.
func (r *Registry) Apply(ctx context.Context, id, by string) (*store.AppliedDraw, error) {
	j, err := r.Get(id)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	switch {
	case j.state == Running:
		j.mu.Unlock()
		return nil, fmt.Errorf("drawing job %s is still running: %w", id, geo.ErrConflict)
	case j.applied != nil || j.applying:
		j.mu.Unlock()
		return nil, fmt.Errorf("drawing job %s was applied already: %w", id, geo.ErrConflict)
	case j.state == Failed:
		j.mu.Unlock()
		return nil, fmt.Errorf("drawing job %s failed; there is nothing to apply: %w", id, geo.ErrConflict)
	}
	j.applying = true
	res := j.result
	j.mu.Unlock()

	out, err := Apply(ctx, r.st, res, by)
	j.mu.Lock()
	j.applying = false
	if err == nil {
		j.applied = out
	}
	j.mu.Unlock()
	if err == nil {
		j.notify()
	}
	return out, err
}

// Close cancels the running jobs and waits for them to stop.
func (r *Registry) Close() {
	r.cancel()
	r.wg.Wait()
}

// Status returns a snapshot of the job.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status()
}

func (j *Job) status() Status {
	return Status{ID: j.ID, Unit: j.Request.Unit, State: j.state, Progress: j.progress, Stage: j.stage, Err: j.err,
		Created: j.Created, Finished: j.finished, Result: j.result, Applied: j.applied}
}

// Watch returns a snapshot and a channel that is closed at the job's next change.
func (j *Job) Watch() (Status, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status(), j.changed
}

func (j *Job) notify() {
	j.mu.Lock()
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
}

func (j *Job) setProgress(f float64, stage string) {
	j.mu.Lock()
	// Drawing dominates: reading takes the first tenth of each unit, partition the rest.
	j.progress = min(max(j.progress, f), 0.99)
	j.stage = stage
	j.mu.Unlock()
	j.notify()
}

func (j *Job) finish(res *Result, err error) {
	j.mu.Lock()
	j.finished = time.Now()
	switch {
	case err != nil:
		j.state, j.err, j.stage = Failed, err, "failed"
	default:
		j.state, j.result, j.progress, j.stage = res.State(), res, 1, string(res.State())
	}
	j.mu.Unlock()
	j.notify()
}

func newID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("drawjob: job id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
