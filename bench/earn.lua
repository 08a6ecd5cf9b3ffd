-- wrk script: unique purchase events spread over N members (created beforehand).
-- Usage: wrk -s bench/earn.lua ... -- <members> <key>
local counter = 0
local members, key
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  members = tonumber(args[1] or "1000")
  key = args[2]
  math.randomseed(tid * 7919 + os.time())
end

function request()
  counter = counter + 1
  local id = string.format("w%d-%d-%d", tid, counter, math.random(1, 1000000000))
  local m = math.random(1, members)
  local body = string.format(
    '{"id":"%s","type":"purchase","external_id":"m%d","order":{"id":"%s","total":"%d.%02d","currency":"EUR"}}',
    id, m, id, math.random(1, 300), math.random(0, 99))
  return wrk.format("POST", "/v1/events", {["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json"}, body)
end
