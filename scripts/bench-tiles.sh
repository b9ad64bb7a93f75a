#!/usr/bin/env bash
# Tile benchmark (issue 7): loads the 1,000,000-household demo into a fresh embedded cluster
# (or reuses $BENCH_DATA if it holds one), serves it with the tile cache off and on, drives
# it with wrk over fixed lists of z12–z16 tiles, and in the same run times the database
# floor (a plain ST_AsMVT, and gridmap's own layer SQL, straight through pgx).
# Prints req/s, p50, p99 and tile sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-16}
data=${BENCH_DATA:-}
if [ -z "$data" ]; then
  data=$(mktemp -d /tmp/gridmap-bench-tiles-XXXXXX)
  trap 'rm -rf "$data"' EXIT
fi
go build -o bin/gridmap ./cmd/gridmap
go build -o bin/benchtiles ./scripts/benchtiles
if [ ! -d "$data/pg/pgdata" ]; then
  GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap demo --households 1000000
fi
# Non-public endpoints need a token (anonymous locate is also rate-limited): a read-only one.
export GRIDMAP_TOKEN=$(GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap token create --role admin --read-only --name bench 2>/dev/null)
dsn="host=$data/pg/run user=postgres dbname=gridmap"
lists=$(mktemp -d)
port=18765

serve() { # $1 = tile cache MiB
  GRIDMAP_DATA="$data" DATABASE_URL= GRIDMAP_ADDR=127.0.0.1:$port GRIDMAP_TILE_CACHE_MB=$1 GRIDMAP_LOG=warn \
    ./bin/gridmap serve >"$lists/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.5; done
  echo "server did not start"; cat "$lists/serve.log"; exit 1
}
stop() { kill -INT "$pid"; wait "$pid" || true; }
load() { # $1 = label, $2 = layers, $3 = list
  printf '%-28s ' "$1"
  TILE_PATHS="$3" TILE_LAYERS="$2" wrk -t2 -c"$conns" -d"$dur" -s scripts/bench-tiles.lua "http://127.0.0.1:$port" | tail -1
}

echo "# $(date -u +%F) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
serve 0
for z in 12 13 14 15 16; do ./bin/benchtiles list -dsn "$dsn" -z $z -max 1500 >"$lists/z$z.txt"; done
cat "$lists"/z1[2-6].txt >"$lists/mixed.txt"
for z in 12 14 16; do ./bin/benchtiles sizes -base "http://127.0.0.1:$port" -layers grids -paths "$lists/z$z.txt" | sed "s/^/z$z /"; done
for z in 12 13 14 15 16; do ./bin/benchtiles sizes -base "http://127.0.0.1:$port" -layers households -paths "$lists/z$z.txt" | sed "s/^/z$z /"; done
load "grids z14 cold" grids "$lists/z14.txt"
load "grids z12-z16 cold" grids "$lists/mixed.txt"
load "households z14 cold" households "$lists/z14.txt"
load "households z16 cold" households "$lists/z16.txt"
# The floor, while the (idle) server keeps the embedded cluster up.
./bin/benchtiles floor -dsn "$dsn" -layers grids -paths "$lists/z14.txt" -conc "$conns" -dur "$dur" -plain
./bin/benchtiles floor -dsn "$dsn" -layers grids -paths "$lists/z14.txt" -conc "$conns" -dur "$dur"
stop
serve 512
load "grids z14 warm (prime)" grids "$lists/z14.txt" >/dev/null
load "grids z14 warm" grids "$lists/z14.txt"
load "grids z12-z16 warm" grids "$lists/mixed.txt"
stop
rm -rf "$lists"
