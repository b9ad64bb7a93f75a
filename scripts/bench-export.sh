#!/usr/bin/env bash
# Export benchmark (issue 3): streams 1,000,000 households as CSV and GeoJSON from a served
# demo county and prints rows/s and the server's peak memory (VmHWM) before and after, which
# stays flat when the export streams. Reuses $BENCH_DATA if it holds a loaded cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${BENCH_DATA:-}
if [ -z "$data" ]; then
  data=$(mktemp -d /tmp/gridmap-bench-export-XXXXXX)
  trap 'rm -rf "$data"' EXIT
fi
go build -o bin/gridmap ./cmd/gridmap
[ -d "$data/pg/pgdata" ] || GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap demo --households 1000000
# Exports need a token: a read-only admin one.
token=$(GRIDMAP_DATA="$data" DATABASE_URL= ./bin/gridmap token create --role admin --read-only --name bench 2>/dev/null)
port=18766
GRIDMAP_DATA="$data" DATABASE_URL= GRIDMAP_ADDR=127.0.0.1:$port GRIDMAP_LOG=warn ./bin/gridmap serve >/dev/null 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
hwm() { awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$pid/status"; }
rows=$(curl -s "http://127.0.0.1:$port/api/v1/units/999001" | sed 's/.*"households":\([0-9]*\).*/\1/')
echo "# $(date -u +%F) $(nproc) cores; $rows households; server peak RSS before: $(hwm)"
for format in csv geojson; do
  for enc in identity gzip; do
    out=$(curl -s -o /dev/null -H "Accept-Encoding: $enc" -H "Authorization: Bearer $token" -w '%{time_total} %{size_download}' \
      "http://127.0.0.1:$port/api/v1/export/households?format=$format")
    set -- $out
    awk -v t="$1" -v b="$2" -v n="$rows" -v f="$format" -v e="$enc" \
      'BEGIN { printf "export households %-7s %-8s %8.0f rows/s  %6.2f s  %7.1f MB sent\n", f, e, n / t, t, b / 1048576 }'
  done
done
echo "server peak RSS after: $(hwm)"
