-- wrk script: realistic purchase traffic over N members (created beforehand):
-- orders of 1-10 lines over 5 categories, 5 % retries of an earlier event
-- (same id and body: answered from the stored result) and 2 % refunds of an
-- earlier order. Usage: wrk -s bench/mixed.lua ... -- <members> <key>
local counter = 0
local members, key
local thread_id = 0
-- The last RING purchases of this thread (body and order id), for retries and
-- refunds; these reach back at least LAG purchases, so the original was
-- answered before they are sent (a refund of an order still in flight would
-- be refused as unknown, and the run stopped for an error answer).
local RING, LAG = 1200, 200
local sent = {}      -- bodies, by purchase number % RING
local orders = {}    -- order ids, the same
local purchases = 0
-- wrk calls request() once in its first thread before the run, to count the
-- requests it returns, and never sends that one: it is not kept for refunds.
local counted = false
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

local function purchase(keep)
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
  if not keep then return body end
  purchases = purchases + 1
  sent[purchases % RING] = body
  orders[purchases % RING] = id
  return body
end

-- A slot of the ring at least LAG purchases back, or nil while there is none.
local function earlier()
  local span = math.min(purchases - LAG, RING - LAG)
  if span < 1 then return nil end
  return (purchases - LAG - math.random(0, span - 1)) % RING
end

function request()
  local r, body, old = math.random(), nil, earlier()
  if tid == 0 and not counted then
    counted = true
    body = purchase(false)
  elseif r < 0.05 and old then
    body = sent[old]
  elseif r < 0.07 and old then
    counter = counter + 1
    body = string.format('{"id":"rf%d-%d-%d","type":"refund","order_id":"%s","amount":"1.00"}',
      tid, counter, math.random(1, 1000000000), orders[old])
  else
    body = purchase(true)
  end
  return wrk.format("POST", "/v1/events", {["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json"}, body)
end
