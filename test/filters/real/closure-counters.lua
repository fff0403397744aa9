-- closure-counters.lua: deterministic sampling with closures: accept every
-- 3rd TCP packet, every 2nd UDP packet and every 5th packet of any other
-- IP protocol, each class counted by its own counter; non-IP is rejected.
--
-- Style: a factory returning closures over a local (make_sampler(n)
-- returns a function that counts calls and says when to sample), a table
-- of samplers built by calling the factory, an upvalue shared by two
-- closures (a total and its reader), functions returned from functions.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, proto = {72, 8} }
local ip6 = data.layout{ next = {48, 8} }

local function make_sampler(every)
  local count = 0
  return function()
    count = count + 1
    if count == every then
      count = 0
      return true
    end
    return false
  end
end

local function make_total()
  local total = 0
  local function add(n) total = total + n end
  local function get() return total end
  return add, get
end

local samplers = { [6] = make_sampler(3), [17] = make_sampler(2) }
local other = make_sampler(5)
local add_bytes, total_bytes = make_total()

function filter(pkt)
  local v = pkt:layout(ip4).version
  local proto
  if v == 4 then proto = pkt.proto
  elseif v == 6 then proto = pkt:layout(ip6).next
  else return false end
  add_bytes(#pkt)
  local sample = samplers[proto] or other
  return sample() and total_bytes() > 0
end
