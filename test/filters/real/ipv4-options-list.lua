-- ipv4-options-list.lua: parse IPv4 options into an array of records and
-- accept packets carrying Router Alert, Record Route, Timestamp or a
-- source route; reject packets without options, with malformed options,
-- and non-IPv4.
--
-- Style: an array of records { type, len, copied } built while walking
-- the options string, then scanned with a helper taking a predicate;
-- a set of wanted option numbers; bit tests on the option type.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4} }
local WANTED = { [148] = 'router-alert', [7] = 'record-route', [68] = 'timestamp', [131] = 'lsrr', [137] = 'ssrr' }

local function parse(opts)
  local list, i = {}, 1
  while i <= #opts do
    local t = opts:byte(i)
    if t == 0 then break end
    if t == 1 then
      list[#list + 1] = { type = 1, len = 1, copied = false }
      i = i + 1
    else
      local len = opts:byte(i + 1)
      if len == nil or len < 2 or i + len - 1 > #opts then return nil end
      list[#list + 1] = { type = t, len = len, copied = t & 0x80 ~= 0 }
      i = i + len
    end
  end
  return list
end

local function find(list, pred)
  for i, o in ipairs(list) do
    if pred(o) then return o, i end
  end
  return nil
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.ihl == nil or pkt.ihl <= 5 then return false end
  local opts = pkt:segment(20, pkt.ihl * 4 - 20)
  if opts == nil then return false end
  local list = parse(tostring(opts))
  if list == nil then return false end
  local hit = find(list, function(o) return WANTED[o.type] ~= nil end)
  return hit ~= nil
end
