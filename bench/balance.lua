-- wrk script: GET /v1/members/{id} (balance, pending, tier) of random members 1..N.
-- Usage: wrk -s bench/balance.lua ... -- <members> <key>
local members, key

function init(args)
  members = tonumber(args[1] or "1000")
  key = args[2]
end

function request()
  return wrk.format("GET", "/v1/members/" .. math.random(1, members),
    {["Authorization"] = "Bearer " .. key})
end
