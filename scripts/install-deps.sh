#!/usr/bin/env bash
# Installs what gridmap needs beyond Go and the PostgreSQL server binaries: PostGIS for the
# newest installed PostgreSQL, GDAL (tests with real GIS tools), wrk (benchmarks) and the
# map label font (fonts-wqy-microhei). Idempotent and quiet when everything is present.
set -euo pipefail

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
if [ -z "$major" ]; then
  echo "install-deps: no PostgreSQL server under /usr/lib/postgresql; installing postgresql-15" >&2
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq postgresql-15 >/dev/null
  major=15
fi

if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  echo "install-deps: installing postgresql-$major-postgis-3" >&2
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
fi

# GDAL's ogrinfo/ogr2ogr check that GIS tools read our tiles and OGC API; wrk drives benchmarks;
# WenQuanYi Micro Hei (Chinese and Latin, 1.6 MB) is the font /fonts draws map labels from.
missing=()
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
command -v wrk >/dev/null || missing+=(wrk)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  echo "install-deps: go is not on PATH (expected /usr/local/go/bin)" >&2
  exit 1
fi
