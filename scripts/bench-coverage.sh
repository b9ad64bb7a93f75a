#!/usr/bin/env bash
# Coverage benchmark (issue 5): loads the 1,000,000-household demo into a fresh embedded
# cluster (or reuses $BENCH_DATA if it holds one), serves it, and times the coverage report
# of the whole county and of one village — in process (store + JSON) and over HTTP — and, in
# the same run and on the same data, the naive per-household ST_Contains query (for each
# household, which active grids contain it). Prints the figures and the ratio.
# Targets: county ≤ 2 s, village ≤ 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
households=${BENCH_HOUSEHOLDS:-1000000}
data=${BENCH_DATA:-}
if [ -z "$data" ]; then
  data=$(mktemp -d /tmp/gridmap-bench-coverage-XXXXXX)
fi
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && { kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
  [ -z "${BENCH_DATA:-}" ] && rm -rf "$data"
  return 0
}
trap cleanup EXIT
go build -o bin/gridmap ./cmd/gridmap
go build -o bin/benchcoverage ./scripts/benchcoverage
echo "# $(date -u '+%F %H:%M') UTC, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [ ! -d "$data/pg/pgdata" ]; then
  start=$(date +%s%N)
  GRIDMAP_DATA="$data" DATABASE_URL= GRIDMAP_LOG=warn ./bin/gridmap demo --households "$households"
  echo "demo loaded in $(( ($(date +%s%N) - start) / 1000000 )) ms (coverage caches filled in the same transaction)"
fi
# Non-public endpoints need a token (anonymous locate is also rate-limited): a read-only one.
export GRIDMAP_TOKEN=$(GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap token create --role admin --read-only --name bench 2>/dev/null)
port=${BENCH_PORT:-18767}
GRIDMAP_DATA="$data" DATABASE_URL= GRIDMAP_ADDR=127.0.0.1:$port GRIDMAP_LOG=warn \
  ./bin/gridmap serve >"$work/serve.log" 2>&1 &
pid=$!
code=
for _ in $(seq 1 240); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done
[ "$code" = 200 ] || { echo "the server did not start"; cat "$work/serve.log"; exit 1; }
sleep 5 # let the server finish loading its in-memory indexes
./bin/benchcoverage -dsn "host=$data/pg/run user=postgres dbname=gridmap" -url "http://127.0.0.1:$port" \
  -runs "$runs" -naive-runs "${BENCH_NAIVE_RUNS:-1}"
