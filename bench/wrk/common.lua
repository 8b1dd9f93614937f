-- Shared by the bench's wrk scripts: a monotonic clock, per-thread tallies, and a result file
-- that bench/run.py reads. Each wrk thread has one connection (-t N -c N), so every response
-- belongs to the request this thread sent last and a ticket's latency can be timed exactly.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

function read_file(path)
  local file = assert(io.open(path, "rb"), "cannot read " .. path)
  local content = file:read("*a")
  file:close()
  return content
end

function url_encode(text)
  return (tostring(text):gsub("[^%w%-%._~]", function(char)
    return string.format("%%%02X", string.byte(char))
  end))
end

-- Tallies live in each thread's own Lua state; done() collects them through thread:get().
proved = 0      -- tickets whose creation (or, for views, whose page) a response proved
refused = 0     -- complete answers that prove nothing: an error page, a form shown again
latencies = {}  -- seconds from a ticket's first request to the response that proved it

function record_proof(started)
  proved = proved + 1
  latencies[#latencies + 1] = now() - started
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local all = {}
  local total_proved, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_proved = total_proved + thread:get("proved")
    total_refused = total_refused + thread:get("refused")
    for _, seconds in ipairs(thread:get("latencies")) do
      all[#all + 1] = string.format("%.6f", seconds)
    end
  end
  local errors = summary.errors
  local out = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "proved": %d, "refused": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latencies": [%s]}\n',
    summary.duration, summary.requests, total_proved, total_refused,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    table.concat(all, ",")))
  out:close()
end
