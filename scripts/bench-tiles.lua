-- wrk script for scripts/bench-tiles.sh: cycles through the tile paths in $TILE_PATHS,
-- asking for /tiles/$TILE_LAYERS/z/x/y.mvt with gzip, as MapLibre does.
local paths = {}
local layers = os.getenv("TILE_LAYERS") or "grids"
for line in io.lines(os.getenv("TILE_PATHS")) do
  paths[#paths + 1] = "/tiles/" .. layers .. "/" .. line .. ".mvt"
end
-- $GRIDMAP_TOKEN, when set, goes in Authorization (households and other layers need it).
local headers = { ["Accept-Encoding"] = "gzip" }
local token = os.getenv("GRIDMAP_TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
local errors = 0
response = function(status)
  if status ~= 200 and status ~= 204 then errors = errors + 1 end
end
done = function(summary, latency)
  io.write(string.format("wrk: %.0f req/s p50 %.2f ms p99 %.2f ms non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status))
end
