-- wrk script: realistic purchase traffic over N members (created beforehand):
-- orders of 1-10 lines over 5 categories, 5 % retries of an earlier event
-- (same id and body: answered from the stored result) and 2 % refunds of an
-- earlier order. Usage: wrk -s bench/mixed.lua ... -- <members> <key>
local counter = 0
local members, key
local thread_id = 0
local sent = {}      -- bodies sent, for retries
local orders = {}    -- order ids, for refunds
local CATEGORIES = {"shoes", "socks", "hats", "bags", "coats"}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  members = tonumber(args[1] or "1000")
  key = args[2]
  math.randomseed(tid * 7919 + os.time())
end

local function purchase()
  counter = counter + 1
  local id = string.format("x%d-%d-%d", tid, counter, math.random(1, 1000000000))
  local n, lines, total = math.random(1, 10), {}, 0
  for i = 1, n do
    local price = math.random(100, 20000)
    local qty = math.random(1, 3)
    total = total + price * qty
    lines[i] = string.format('{"sku":"SKU-%d","category":"%s","quantity":%d,"unit_price":"%d.%02d"}',
      math.random(1, 500), CATEGORIES[math.random(1, 5)], qty, math.floor(price / 100), price % 100)
  end
  local body = string.format(
    '{"id":"%s","type":"purchase","external_id":"m%d","channel":"%s","order":{"id":"%s","total":"%d.%02d","currency":"EUR","lines":[%s]}}',
    id, math.random(1, members), math.random() < 0.5 and "web" or "store", id, math.floor(total / 100), total % 100,
    table.concat(lines, ","))
  if #sent < 1000 then sent[#sent + 1] = body else sent[math.random(1, 1000)] = body end
  if #orders < 1000 then orders[#orders + 1] = id else orders[math.random(1, 1000)] = id end
  return body
end

function request()
  local r, body = math.random(), nil
  if r < 0.05 and #sent > 0 then
    body = sent[math.random(1, #sent)]
  elseif r < 0.07 and #orders > 0 then
    counter = counter + 1
    body = string.format('{"id":"rf%d-%d-%d","type":"refund","order_id":"%s","amount":"1.00"}',
      tid, counter, math.random(1, 1000000000), orders[math.random(1, #orders)])
  else
    body = purchase()
  end
  return wrk.format("POST", "/v1/events", {["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json"}, body)
end
