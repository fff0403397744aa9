-- tostring-tonumber.lua: accept TCP/UDP packets whose port pair, written
-- as text, looks "round" (a port whose decimal form ends in 0 or that
-- repeats a digit three times), or whose source port's hex form starts
-- with a letter; reject the rest.
--
-- Style: numbers turned into text and back: tostring(port), ("%x"):format,
-- tonumber(s, 16), tonumber of text with spaces, math.type on the
-- results, string.rep and string.reverse on the text forms, `..` on
-- integers.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local ip6 = data.layout{ next = {48, 8} }
local ports = data.layout{ sport = {0, 16}, dport = {16, 16} }

local function round(port)
  local text = tostring(port)
  if text:sub(-1) == '0' then return true end
  for d = 0, 9 do
    if text:find(string.rep(tostring(d), 3), 1, true) then return true end
  end
  return false
end

function filter(pkt)
  local seg, proto
  local v = pkt:layout(ip4).version
  if v == 4 and pkt.frag == 0 then proto, seg = pkt.proto, pkt:segment(pkt.ihl * 4)
  elseif v == 6 then proto, seg = pkt:layout(ip6).next, pkt:segment(40) end
  if seg == nil or (proto ~= 6 and proto ~= 17) then return false end
  seg:layout(ports)
  if seg.dport == nil then return false end
  local pair = seg.sport .. ':' .. seg.dport
  local a, b = pair:match('^(%d+):(%d+)$')
  local sport, dport = tonumber(a), tonumber(' ' .. b .. ' ')
  if math.type(sport) ~= 'integer' or dport ~= seg.dport then return false end
  if round(sport) or round(dport) then return true end
  local hex = ('%x'):format(sport)
  if tonumber(hex, 16) ~= sport then return false end
  return hex:sub(1, 1):find('%a') ~= nil and hex:reverse() ~= hex
end
