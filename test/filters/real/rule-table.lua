-- rule-table.lua: a first-match rule set written as data: each rule is a
-- record { field, op, value, action }; the first rule whose test holds
-- decides ('pass' accepts, 'drop' rejects), and the default drops.
--
-- Style: a dispatch table of operator functions (ops[rule.op]), rules as
-- records in an array, a packet's fields looked up by name in a record
-- (fields[rule.field]), sets as tables inside rules, functions stored in
-- table fields and called with arguments of mixed types.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, ttl = {64, 8}, proto = {72, 8}, frag = {51, 13}, dst = {128, 32} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }

local ops = {
  eq = function(a, b) return a == b end,
  lt = function(a, b) return a ~= nil and a < b end,
  ge = function(a, b) return a ~= nil and a >= b end,
  ['in'] = function(a, set) return a ~= nil and set[a] == true end,
  range = function(a, r) return a ~= nil and a >= r[1] and a <= r[2] end,
  prefix = function(a, p) return a ~= nil and a >> (32 - p.bits) == p.net >> (32 - p.bits) end,
}

local RULES = {
  { field = 'proto', op = 'eq', value = 1, action = 'pass' },
  { field = 'ttl', op = 'lt', value = 2, action = 'drop' },
  { field = 'dport', op = 'in', value = { [53] = true, [123] = true, [5060] = true }, action = 'pass' },
  { field = 'dst', op = 'prefix', value = { net = 0xE0000000, bits = 4 }, action = 'pass' },   -- multicast
  { field = 'sport', op = 'range', value = { 1, 1023 }, action = 'drop' },
  { field = 'dport', op = 'ge', value = 49152, action = 'pass' },
}

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 then return false end
  local fields = { proto = pkt.proto, ttl = pkt.ttl, dst = pkt.dst }
  if pkt.frag == 0 and (pkt.proto == 6 or pkt.proto == 17) then
    local seg = pkt:segment(pkt.ihl * 4)
    if seg then
      seg:layout(ports)
      fields.sport, fields.dport = seg.sport, seg.dport
    end
  end
  for _, rule in ipairs(RULES) do
    if ops[rule.op](fields[rule.field], rule.value) then
      return rule.action == 'pass'
    end
  end
  return false
end
