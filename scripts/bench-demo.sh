#!/usr/bin/env bash
# Times `gridmap demo --households N` (default 1,000,000) into a fresh embedded cluster:
# initdb, start, migrate, generate, COPY, analyze, stop. Prints the wall time.
set -euo pipefail
n=${1:-1000000}
dir=$(mktemp -d /tmp/gridmap-bench-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s%N)
GRIDMAP_DATA="$dir" DATABASE_URL= ./bin/gridmap demo --households "$n"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'bench-demo: %d households loaded in %d.%03d s (fresh embedded cluster, %s, %d cores)\n' \
  "$n" $((ms / 1000)) $((ms % 1000)) "$(date -u +%F)" "$(nproc)"
