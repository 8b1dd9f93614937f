-- One request per ticket (API OpenTicket) or per page (the view), proved by the answer's body.
--   BENCH_METHOD      POST or GET
--   BENCH_TARGETS     file of lines "path<TAB>text the answer must contain"; a thread picks one
--                     at random for each request (the view), or uses the only line (the API)
--   BENCH_BODY_FILE   the url-encoded POST body, sent as is
--   BENCH_RESULT      where done() writes the JSON result
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local method = os.getenv("BENCH_METHOD")
local body = nil
local targets = {}
local expected = nil
local started = 0

function init(args)
  local body_file = os.getenv("BENCH_BODY_FILE")
  if body_file and body_file ~= "" then
    body = read_file(body_file)
  end
  for line in read_file(os.getenv("BENCH_TARGETS")):gmatch("[^\n]+") do
    local path, proof = line:match("^([^\t]+)\t(.+)$")
    targets[#targets + 1] = { path = path, proof = proof }
  end
  math.randomseed(os.time() + tonumber(tostring(args):match("0x(%x+)") or "0", 16))
end

function request()
  local target = targets[math.random(#targets)]
  expected = target.proof
  started = now()
  local headers = {}
  if body then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, target.path, headers, body)
end

function response(status, headers, answer)
  if status == 200 and answer:find(expected, 1, true) then
    record_proof(started)
  else
    refused = refused + 1
  end
end
