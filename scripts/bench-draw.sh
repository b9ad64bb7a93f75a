#!/usr/bin/env bash
# Drawing and assignment benchmark (issue 6): generated urban and village instances at
# 1,000, 10,000 and 100,000 points drawn by partition.Draw, checked by PostGIS
# (ST_Union/ST_Intersection in a throwaway cluster), against PostGIS ST_ClusterKMeans with
# the same k; then 100,000 households assigned to party members, exact vs greedy.
# Prints Markdown tables (figures recorded in docs/benchmarks.md).
#
#   scripts/bench-draw.sh [sizes] [assign-households]     e.g. scripts/bench-draw.sh 1000,10000 20000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-1000,10000,100000}
households=${2:-100000}
go build -o bin/benchdraw ./scripts/benchdraw
exec bin/benchdraw -sizes "$sizes" -assign "$households"
