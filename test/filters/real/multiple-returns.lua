-- multiple-returns.lua: accept IPv4 packets between hosts of the same /16
-- or to a multicast group, and IPv6 packets whose source and destination
-- share their first 32 bits; reject the rest.
--
-- Style: multiple results everywhere: s:byte(i, j) into several locals,
-- a function returning (ok, a, b), `local a, b = f()`, a call adjusted to
-- one value with parentheses `(f())`, string.find's start, end and
-- capture, table constructors {f()} keeping every result, and swapping
-- with multiple assignment.
local data = require'data'

local function addresses(s)
  local v = s:byte(1) >> 4
  if v == 4 and #s >= 20 then
    return true, { s:byte(13, 16) }, { s:byte(17, 20) }
  elseif v == 6 and #s >= 40 then
    return true, { s:byte(9, 24) }, { s:byte(25, 40) }
  end
  return false
end

local function common_prefix(a, b)
  local n = 0
  for i = 1, math.min(#a, #b) do
    if a[i] ~= b[i] then return n, i end
    n = n + 1
  end
  return n, nil
end

function filter(pkt)
  local s = tostring(pkt)
  if #s == 0 then return false end
  local ok, src, dst = addresses(s)
  if not ok then return false end
  if #src == 4 then
    local first = (string.byte(string.char(dst[1])))
    if first >= 224 and first <= 239 then return true end
    if src[1] > dst[1] then src, dst = dst, src end
    local same = (common_prefix(src, dst))
    return same >= 2
  end
  local _, _, hi = string.find(string.format('%02x%02x', src[1], src[2]), '^(%x%x)')
  local same, at = common_prefix(src, dst)
  return hi ~= nil and same >= 4 and at ~= nil
end
