-- icmp-names.lua: name ICMP and ICMPv6 messages and accept those whose
-- name says they are errors (unreachable, time exceeded, parameter
-- problem) or neighbour discovery; reject echo traffic and everything
-- else.
--
-- Style: lookup tables with string values and nested tables (names per
-- type, then per code), string.format building a summary
-- "icmp6 router-advertisement/0", patterns matched against that summary,
-- a default through `or`.
local data = require'data'

local NAMES = {
  [4] = {
    [0] = 'echo-reply', [3] = { [0] = 'net-unreachable', [1] = 'host-unreachable', [3] = 'port-unreachable' },
    [5] = 'redirect', [8] = 'echo-request', [11] = 'time-exceeded', [12] = 'parameter-problem',
  },
  [6] = {
    [1] = 'destination-unreachable', [3] = 'time-exceeded', [4] = 'parameter-problem',
    [128] = 'echo-request', [129] = 'echo-reply', [133] = 'router-solicitation', [134] = 'router-advertisement',
    [135] = 'neighbor-solicitation', [136] = 'neighbor-advertisement', [143] = 'mldv2-report', [130] = 'mld-query',
  },
}
local ACCEPT = { 'unreachable$', '^time%-exceeded$', 'problem$', '^router%-', '^neighbor%-' }

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local icmp = data.layout{ type = {0, 8}, code = {8, 8} }

local function name_of(family, t, code)
  local entry = NAMES[family][t]
  if type(entry) == 'table' then entry = entry[code] or 'unreachable' end
  return entry or ('type-' .. t)
end

function filter(pkt)
  local seg, family
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.proto == 1 and pkt.frag == 0 then seg, family = pkt:segment(pkt.ihl * 4), 4
  elseif v == 6 and pkt:layout(ip6).next == 58 then seg, family = pkt:segment(40), 6 end
  if seg == nil or seg:layout(icmp).code == nil then return false end
  local name = name_of(family, seg.type, seg.code)
  local summary = string.format('icmp%s %s/%d', family == 6 and '6' or '', name, seg.code)
  local kind = summary:match('^icmp6? ([%w%-]+)/')
  for _, pat in ipairs(ACCEPT) do
    if kind:find(pat) then return true end
  end
  return false
end
