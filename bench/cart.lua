-- wrk script: cart redemptions, each a new order using the shared code BENCH10
-- (a 10 % campaign without limits) for a member of N.
-- Usage: wrk -s bench/cart.lua ... -- <members> <key>
local counter = 0
local members, key
local thread_id = 0

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  members = tonumber(args[1] or "1000")
  key = args[2]
  math.randomseed(tid * 104729 + os.time())
end

function request()
  counter = counter + 1
  local id = string.format("c%d-%d-%d", tid, counter, math.random(1, 1000000000))
  local body = string.format(
    '{"member_id":%d,"codes":["BENCH10"],"order":{"id":"%s","shipping":"4.90","lines":[' ..
    '{"sku":"SHOE-%d","category":"shoes","quantity":1,"unit_price":"%d.00"},' ..
    '{"sku":"SOCK-1","category":"socks","quantity":2,"unit_price":"7.50"}]}}',
    math.random(1, members), id, math.random(1, 50), math.random(20, 200))
  return wrk.format("POST", "/v1/carts/redeem", {["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json"}, body)
end
