// The `data` library (DESIGN.md §3) as Lua source, run inside the
// interpreter so field reads never cross into JS. It is plain Lua 5.4 (no C
// API), so the same text also runs under Debian's lua5.4 for cross-checks.
// Kept as a TS string so dist/ needs no asset copying.
//
// Loading the chunk returns two values: the public library table (what
// `require'data'` gives) and a private table for the engine (view keys and
// the view metatable, so the per-packet trampoline can build views inline).
//
// Decisions where DESIGN.md is silent:
// - A view is a table with private (unforgeable table) keys and a protected
//   metatable; `next(pkt)` sees only those opaque keys, `pairs(pkt)` nothing.
// - Layout tables are compiled once per table identity (weak cache); edits to
//   a table after its first use are not seen — call data.layout(t) again.
// - Field entries that are not tables are ignored; missing offset/length
//   default to 0 (so the field reads nil); a non-integer offset/length is an
//   error at layout time. Unknown type letters mean number, unknown endian
//   letters mean big (luadata ignores them too).
// - Little-endian fields wider than 8 bits whose width is not a multiple of 8
//   follow luadata's binary.c: the field's bits are cut into 8-bit groups
//   from its first (most significant) bit, the last group keeping the
//   remaining w % 8 bits, and the groups are taken in reverse order (group i,
//   counted from 0, lands at bit 8*i). For whole bytes that is the byte swap.
// - Views are read-only: assigning a field raises "data views are read-only".
export const DATA_LIB_LUA = String.raw`
local byte, sub, rep = string.byte, string.sub, string.rep
local type, setmetatable, rawget, error, tostring, next, select =
  type, setmetatable, rawget, error, tostring, next, select
local tointeger, lower = math.tointeger, string.lower

-- private keys: only this file holds these tables
local S, O, N, LAY = {}, {}, {}, {}
local VIEW = {}
local methods = {}
local compiled = setmetatable({}, { __mode = 'k' })   -- plain table -> layout
local islayout = setmetatable({}, { __mode = 'k' })   -- compiled layouts

local function mkview(s, o, n)
  return setmetatable({ [S] = s, [O] = o, [N] = n, [LAY] = false }, VIEW)
end

local function checkview(d, fname)
  if type(d) ~= 'table' or rawget(d, S) == nil then
    error("bad argument #1 to '" .. fname .. "' (data expected, got " ..
      (type(d) == 'table' and 'table' or type(d)) .. ')', 3)
  end
end

local function checkint(v, argn, fname)
  local i = tointeger(v)
  if i == nil then
    error("bad argument #" .. argn .. " to '" .. fname .. "' (" ..
      (type(v) == 'number' and 'number has no integer representation'
        or ('number expected, got ' .. type(v))) .. ')', 3)
  end
  return i
end

VIEW.__index = function(d, k)
  local m = methods[k]
  if m ~= nil then return m end
  local lay = d[LAY]
  if not lay then return nil end
  local f = lay[k]
  if f == nil then return nil end
  return f(d[S], d[O], d[N])
end
VIEW.__newindex = function(_, k)
  error("data views are read-only (cannot assign field '" .. tostring(k) .. "')", 2)
end
VIEW.__len = function(d) return d[N] end
VIEW.__tostring = function(d)
  local o = d[O]
  return sub(d[S], o + 1, o + d[N])
end
VIEW.__pairs = function() return next, {}, nil end
VIEW.__name = 'data'
VIEW.__metatable = 'data'

-- Field readers: closures specialised on the field's shape at layout time.
-- Each takes (string, view offset, view length) and never reads outside the
-- view: 'need' is the number of view bytes the field touches.
local function nilreader() return nil end
-- no view is this long (packets are under 2^32 bytes); past it, offset
-- arithmetic could wrap around and point back inside the string
local FAR = 1 << 40

local function le_groups(v, w)
  -- reverse the 8-bit groups of a w-bit value, first group = top 8 bits
  local res, sh, rem = 0, 0, w
  while rem > 0 do
    local bits = rem >= 8 and 8 or rem
    rem = rem - bits
    res = res | (((v >> rem) & ((1 << bits) - 1)) << sh)
    sh = sh + 8
  end
  return res
end

local function number_reader(bo, w, little)
  if w <= 0 or w > 64 or bo < 0 or bo >= FAR then return nilreader end
  local first, r = bo // 8, bo % 8
  local need = (bo + w + 7) // 8
  local mask = (1 << w) - 1          -- w == 64: 0 - 1 == -1, all ones
  if w > 8 and little then
    if r == 0 and w % 8 == 0 then
      local nb = w // 8
      return function(s, o, n)
        if n < need then return nil end
        local p = o + first
        local v = 0
        for i = p + nb, p + 1, -1 do v = (v << 8) | byte(s, i) end
        return v
      end
    end
    local big = number_reader(bo, w, false)
    return function(s, o, n)
      local v = big(s, o, n)
      if v == nil then return nil end
      return le_groups(v, w)
    end
  end
  if r + w <= 8 then
    local sh = 8 - r - w
    if sh == 0 and w == 8 then
      return function(s, o, n)
        if n < need then return nil end
        return byte(s, o + first + 1)
      end
    end
    return function(s, o, n)
      if n < need then return nil end
      return (byte(s, o + first + 1) >> sh) & mask
    end
  end
  if r == 0 and w == 16 then
    return function(s, o, n)
      if n < need then return nil end
      local a, b = byte(s, o + first + 1, o + first + 2)
      return (a << 8) | b
    end
  end
  if r == 0 and w == 32 then
    return function(s, o, n)
      if n < need then return nil end
      local a, b, c, d = byte(s, o + first + 1, o + first + 4)
      return (a << 24) | (b << 16) | (c << 8) | d
    end
  end
  local nb = need - first             -- bytes touched, 2..9
  if r + w <= 64 then
    local sh = nb * 8 - r - w
    return function(s, o, n)
      if n < need then return nil end
      local p = o + first
      local v = 0
      for i = p + 1, p + nb do v = (v << 8) | byte(s, i) end
      return (v >> sh) & mask
    end
  end
  -- 9 bytes: the top 64 bits start r bits into the first byte
  return function(s, o, n)
    if n < need then return nil end
    local p = o + first
    local v = 0
    for i = p + 1, p + 8 do v = (v << 8) | byte(s, i) end
    v = (v << r) | (byte(s, p + 9) >> (8 - r))
    return v >> (64 - w)
  end
end

local function string_reader(bo, len)
  if bo < 0 or len < 0 or bo >= FAR or len >= FAR then return nilreader end
  local need = bo + len
  return function(s, o, n)
    if n < need then return nil end
    return sub(s, o + bo + 1, o + need)
  end
end

local function entry_int(v, what, name, lvl)
  if v == nil then return 0 end
  local i = tointeger(v)
  if i == nil then
    error("layout field '" .. tostring(name) .. "': " .. what ..
      " must be an integer, got " .. (type(v) == 'number' and tostring(v) or type(v)), lvl + 1)
  end
  return i
end

local function first_letter(v)
  if type(v) ~= 'string' then return nil end
  return lower(sub(v, 1, 1))
end

-- lvl: error level of the script, seen from compile()
local function compile(t, lvl)
  if type(t) ~= 'table' then
    error("bad argument #1 to 'layout' (table expected, got " .. type(t) .. ')', lvl)
  end
  local lay = {}
  for name, e in next, t do
    if type(e) == 'table' then
      local off, len, ty, en = e.offset, e.length, e.type, e.endian
      if off == nil then off = e[1] end
      if len == nil then len = e[2] end
      if ty == nil then ty = e[3] end
      if en == nil then en = e[4] end
      off = entry_int(off, 'offset', name, lvl)
      len = entry_int(len, 'length', name, lvl)
      local little = first_letter(en)
      little = little == 'l' or little == 'h'
      if first_letter(ty) == 's' then
        lay[name] = string_reader(off, len)
      else
        lay[name] = number_reader(off, len, little)
      end
    end
  end
  islayout[lay] = true
  return lay
end

local function resolve(t)
  if islayout[t] then return t end
  local lay = compiled[t]
  if lay == nil then
    lay = compile(t, 4)
    compiled[t] = lay
  end
  return lay
end

function methods.layout(d, t)
  checkview(d, 'layout')
  d[LAY] = resolve(t)
  return d
end

function methods.segment(d, o, len)
  checkview(d, 'segment')
  local n = d[N]
  if o == nil then o = 0 else o = checkint(o, 1, 'segment') end
  if len == nil then len = n - o else len = checkint(len, 2, 'segment') end
  if o < 0 or o >= n or len < 0 or len > n - o then return nil end
  return mkview(d[S], d[O] + o, len)
end

local data = {}

function data.layout(t)
  if islayout[t] then return t end
  local lay = compile(t, 3)
  compiled[t] = lay
  return lay
end

function data.new(v)
  local tv = type(v)
  if tv == 'string' then return mkview(v, 0, #v) end
  if tv == 'number' then
    local n = checkint(v, 1, 'new')
    if n <= 0 then return nil end
    return mkview(rep('\0', n), 0, n)
  end
  error("bad argument #1 to 'new' (string or number expected, got " .. tv .. ')', 2)
end

local internal = { S = S, O = O, N = N, LAY = LAY, VIEW = VIEW, view = mkview }
return data, internal
`;
