-- wrk script: POSTs one GraphQL request, again and again, and counts answers that carry
-- GraphQL errors (they come with status 200, so wrk's own non-2xx count misses them).
--   VERSUS_BODY  a file holding the JSON body ({"query": ..., "variables": ...})
--   VERSUS_TOKEN an access token, sent as `authorization: Bearer ...` when set
local file = assert(io.open(assert(os.getenv("VERSUS_BODY"), "VERSUS_BODY is not set"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["content-type"] = "application/json"
local token = os.getenv("VERSUS_TOKEN")
if token and token ~= "" then
  wrk.headers["authorization"] = "Bearer " .. token
end

-- Each thread has its own Lua state: keep them to add their counts up in done().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

errors = 0
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
    if errors == 1 then io.stderr:write("first failed answer: " .. status .. " " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("errors")
  end
  io.write(string.format("graphql_errors %d\n", total))
end
