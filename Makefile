# gridmap — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/gridmap

.PHONY: all deps build run test bench bench-demo bench-tiles vet fmt clean bench-locate

all: build

deps:
	@scripts/install-deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/gridmap

# Serve the demo on :8080 with the embedded database under ./var (created on first run).
run: deps build
	./$(BIN) serve

# Every test, against throwaway PostgreSQL + PostGIS clusters.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

# Benchmarks (figures recorded in docs/benchmarks.md).
bench: deps bench-demo bench-tiles
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./geo/demo/

# `gridmap demo --households 1000000` into a fresh embedded cluster, timed end to end.
bench-demo: deps build
	scripts/bench-demo.sh

# Vector tiles on the 1M-household demo: wrk over z12–z16, cache off/on, against the PostGIS floor.
bench-tiles: deps
	scripts/bench-tiles.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# Locate on the 1M-household demo: wrk on GET /api/v1/locate (keep-alive) vs the PostGIS floor.
bench-locate: deps
	scripts/bench-locate.sh

# Drawing and assignment: partition.Draw on generated instances (1k–100k points) checked by
# PostGIS, against ST_ClusterKMeans with the same k; exact assignment of 100k households vs greedy.
.PHONY: bench-draw
bench-draw: deps
	scripts/bench-draw.sh

# Coverage report on the 1M-household demo: county and village, in process and over HTTP,
# against the naive per-household ST_Contains query in the same run (issue 5).
.PHONY: bench-coverage
bench-coverage: deps
	scripts/bench-coverage.sh
