#!/usr/bin/env bash
# Locate benchmark (issue 8): loads the 1,000,000-household demo into a fresh embedded
# cluster (or reuses $BENCH_DATA if it holds one), serves it, drives GET /api/v1/locate with
# wrk (keep-alive, 2 threads, 50 connections, a fixed list of points over the county), and in
# the same run times the same points as a prepared PostGIS ST_Intersects query through pgx
# (the database floor). Prints req/s, p50, p99 of both and the ratio; then the in-process
# figures (go test -bench).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}
data=${BENCH_DATA:-}
if [ -z "$data" ]; then
  data=$(mktemp -d /tmp/gridmap-bench-locate-XXXXXX)
  trap 'rm -rf "$data"' EXIT
fi
go build -o bin/gridmap ./cmd/gridmap
go build -o bin/benchlocate ./scripts/benchlocate
if [ ! -d "$data/pg/pgdata" ]; then
  GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap demo --households 1000000
fi
# Non-public endpoints need a token (anonymous locate is also rate-limited): a read-only one.
export GRIDMAP_TOKEN=$(GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap token create --role admin --read-only --name bench 2>/dev/null)
dsn="host=$data/pg/run user=postgres dbname=gridmap"
work=$(mktemp -d)
port=${BENCH_PORT:-18766}

serve() { # $@ = a prefix for the server command (taskset …) and its environment
  env GRIDMAP_DATA="$data" DATABASE_URL= GRIDMAP_ADDR=127.0.0.1:$port GRIDMAP_LOG=warn "$@" \
    ./bin/gridmap serve >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/locate?lon=0&lat=0" || true)
    [ "$code" = 404 ] && return # the index answers (503 while it loads)
    sleep 0.5
  done
  echo "the locate index did not load"; cat "$work/serve.log"; exit 1
}
stop() { kill -INT "$pid"; wait "$pid" || true; pid=; }
drive() { # $1 = label, then an optional prefix for wrk (taskset …)
  local label=$1; shift
  LOCATE_POINTS="$work/points.txt" "$@" wrk -t"$threads" -c"$conns" -d2s -s scripts/bench-locate.lua "http://127.0.0.1:$port" >/dev/null
  LOCATE_POINTS="$work/points.txt" "$@" wrk -t"$threads" -c"$conns" -d"$dur" -s scripts/bench-locate.lua "http://127.0.0.1:$port" |
    tail -1 | sed "s/^gridmap:/gridmap ($label):/"
}
pid=
trap '[ -n "$pid" ] && kill -INT $pid 2>/dev/null; rm -rf "$work"; [ -z "${BENCH_DATA:-}" ] && rm -rf "$data"' EXIT

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
serve
./bin/benchlocate points -dsn "$dsn" -n 10000 >"$work/points.txt"
p=$(sed -n 1p "$work/points.txt")
curl -s "http://127.0.0.1:$port/api/v1/locate?lon=${p% *}&lat=${p#* }"; echo
http=$(drive "shared cores")
echo "$http"
# The floor, while the (idle) server keeps the embedded cluster up.
floor=$(./bin/benchlocate floor -dsn "$dsn" -points "$work/points.txt" -conc "$conns" -dur "$dur")
echo "$floor"
a=$(echo "$http" | sed 's/.*): //' | awk '{print $1}')
b=$(echo "$floor" | awk '{print $2}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio: gridmap HTTP / PostGIS floor = %.1fx\n", a / b }'
stop
# The same with the server on CPU 0 (GOMAXPROCS=1) and wrk on CPU 1, so they do not preempt
# each other (the tail latency on a 2-core machine is mostly that).
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  serve taskset -c 0 env GOMAXPROCS=1
  drive "server on cpu0, wrk on cpu1" taskset -c 1
  stop
fi

echo "# in process (go test -bench, 1 core and all cores)"
go test -run '^$' -bench 'BenchmarkSetLookup|BenchmarkLookup' -benchtime 1s -cpu 1 ./geo/locate/ | grep -E '^Benchmark' || true
go test -run '^$' -bench 'BenchmarkLocateHandler' -benchtime 2s -cpu 1,2 ./api/ | grep -E '^Benchmark' || true
