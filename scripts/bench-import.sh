#!/usr/bin/env bash
# Import benchmark: N households (default 1,000,000) as one GeoJSON file, loaded by
# `gridmap import households` (batched COPY into staging, unit and grid placement by point in
# polygon, upsert, grid statistics, one transaction) and, in the same run against the same
# PostgreSQL, by `ogr2ogr -f PostgreSQL` into a plain table. Prints both times and the ratio.
#
# The database is a fresh embedded cluster (as `gridmap serve` makes it) holding the demo
# county: units, grids and 20,000 households. The cluster is kept running with pg_ctl while
# both tools load into it over its Unix socket.
set -euo pipefail
n=${1:-1000000}
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/gridmap-bench-import-XXXXXX)
data="$work/var"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
started=
cleanup() {
  [ -n "$started" ] && as_pg "$pgbin/pg_ctl" -D "$data/pg/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s%N; }
secs() { local ms=$(( ($2 - $1) / 1000000 )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

go build -o bin/gridmap ./cmd/gridmap
go run ./scripts/genhouseholds -n "$n" -o "$work/big.geojson" -demo-households 20000 -seed 1
printf 'bench-import: %d households, %d MB of GeoJSON\n' "$n" $(( $(stat -c %s "$work/big.geojson") / 1000000 ))

export GRIDMAP_LOG=warn
DATABASE_URL= GRIDMAP_DATA="$data" ./bin/gridmap demo --households 20000 --seed 1

# Start the embedded cluster the way gridmap does (see geo/store/pgcluster) and keep it up.
sock="$data/pg/run"
as_pg "$pgbin/pg_ctl" -D "$data/pg/pgdata" -l "$data/pg/postgres.log" -w -t 60 \
  -o "-c listen_addresses='' -k $sock -c unix_socket_permissions=0770 -c max_connections=200" start >/dev/null
started=1
dsn="host=$sock user=postgres dbname=gridmap sslmode=disable"

t0=$(now)
DATABASE_URL="$dsn" ./bin/gridmap import households "$work/big.geojson"
t1=$(now)
ogr2ogr -f PostgreSQL PG:"host=$sock dbname=gridmap user=postgres" "$work/big.geojson" -nln ogr_households
t2=$(now)

"$pgbin/psql" -X -q -A -t -h "$sock" -U postgres -d gridmap -c "
  SELECT format('check: %s imported households (%s placed in a grid, %s off grid_at), %s rows in ogr_households',
    (SELECT count(*) FROM households WHERE external_id LIKE 'BIG%'),
    (SELECT count(*) FROM households WHERE external_id LIKE 'BIG%' AND grid_id IS NOT NULL),
    (SELECT count(*) FROM households WHERE external_id LIKE 'BIG%' AND grid_id IS DISTINCT FROM grid_at(location)),
    (SELECT count(*) FROM ogr_households))"

g=$(secs "$t0" "$t1")
o=$(secs "$t1" "$t2")
printf 'bench-import: gridmap import %s s, ogr2ogr %s s, ratio ogr2ogr/gridmap %s (%s, %d cores, load %s)\n' \
  "$g" "$o" "$(awk -v g="$g" -v o="$o" 'BEGIN { printf "%.2f", o / g }')" "$(date -u +%F)" "$(nproc)" \
  "$(cut -d' ' -f1 /proc/loadavg)"
