-- wrk script for scripts/bench-locate.sh: cycles through the "lon lat" points in
-- $LOCATE_POINTS (each thread from its own offset), asking GET /api/v1/locate with
-- keep-alive. Requests are formatted once, up front, so the load generator spends its CPU
-- on the wire. Prints one line: req/s, p50, p99 and the non-2xx count (404 = in no grid).
-- $GRIDMAP_TOKEN, when set, goes in Authorization (anonymous locate is rate-limited).
local reqs = {}
local token = os.getenv("GRIDMAP_TOKEN")
local headers = {}
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 997)
end
local i = 0
init = function()
  for line in io.lines(os.getenv("LOCATE_POINTS")) do
    local lon, lat = line:match("(%S+)%s+(%S+)")
    reqs[#reqs + 1] = wrk.format("GET", "/api/v1/locate?lon=" .. lon .. "&lat=" .. lat, headers)
  end
  i = offset or 0
end
request = function()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
done = function(summary, latency)
  io.write(string.format("gridmap: %.0f req/s p50 %.2f ms p99 %.2f ms non-2xx %d errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
