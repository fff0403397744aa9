// The Lua side of the interpreted engine (engine/lua.ts): the chunk that
// builds each filter's sandbox (DESIGN.md §2, SECURITY.md), its fuel hook
// and the per-batch trampoline that calls filter() for every packet. Kept
// apart from the TypeScript that drives it, and as a TS string so dist/
// needs no asset copying, as data-lib.ts is.
//
/**
 * Run once per Lua state with the arguments: the data library's source, the
 * print writer (a C function), fuel, chunk name, script source, packets per
 * batch at most (MAX_BATCH), setcap (a C function) and the call-depth limit
 * (0 when the script does not count its calls). Returns run, errkind, errmsg.
 */
export const RUNTIME_LUA = String.raw`
local datasrc, write, fuel, chunkname, src, maxbatch, setcap, maxdepth = ...
local G = _G
local load, pcall, type, tostring, rawget, setmetatable, error, select, next, ipairs =
  load, pcall, type, tostring, rawget, setmetatable, error, select, next, ipairs
local sethook, getinfo, dgetmetatable = debug.sethook, debug.getinfo, debug.getmetatable
local unpack, pack, char, sub, rep = string.unpack, string.pack, string.char, string.sub, string.rep
local concat, tunpack = table.concat, table.unpack
local format, match = string.format, string.match

-- call depth (docs/SEMANTICS.md, "Call depth"): maxdepth > 0 when the
-- script was rewritten to count its calls (engine/call-depth.ts). Its first
-- line hands over the count's getter and setter; an error unwinds calls
-- without counting them back, so what catches it sets the count back:
-- pcall, xpcall, and each packet.
local getdepth, setdepth = function() return 0 end, function() end
local function restore(d, ...)
  setdepth(d)
  return ...
end

local data, internal = load(datasrc, '=data', 't')()
local S, O, N, LAY, VIEW = internal.S, internal.O, internal.N, internal.LAY, internal.VIEW

-- the sandbox (DESIGN.md §2)
string.dump = nil   -- also reachable as getmetatable('').__index.dump
-- Wasmoon is a 32-bit build: string functions cut indices to a 32-bit
-- size_t, so 2^32 + k would act as k (and 2^32 read a byte before the
-- string). An index past either end means the same as one just past it, so
-- clamp there first and keep Lua 5.4's 64-bit meaning.
local mathtype = math.type
local function clampidx(x, n)
  if mathtype(x) ~= 'integer' or (x <= n + 1 and x >= -n - 1) then return x end
  return x > 0 and n + 2 or -n - 1
end
for _, name in ipairs{ 'sub', 'byte' } do
  local f = string[name]
  string[name] = function(s, i, j, ...)
    if type(s) == 'string' then local n = #s; i, j = clampidx(i, n), clampidx(j, n) end
    return f(s, i, j, ...)
  end
end
for _, name in ipairs{ 'find', 'match', 'gmatch' } do
  local f = string[name]
  string[name] = function(s, p, init, ...)
    if type(s) == 'string' then init = clampidx(init, #s) end
    return f(s, p, init, ...)
  end
end
local env = {}
for _, k in ipairs{ 'assert', 'error', 'getmetatable', 'ipairs', 'next', 'pairs', 'pcall',
    'rawequal', 'rawget', 'rawlen', 'rawset', 'select', 'tonumber', 'tostring', 'type',
    '_VERSION' } do
  env[k] = G[k]
end
env._G = env
env.string, env.table, env.math, env.utf8 = string, table, math, utf8
-- a finalizer would run at GC time, outside any fuel budget: refuse them
env.setmetatable = function(t, mt)
  if type(mt) == 'table' and rawget(mt, '__gc') ~= nil then
    error('__gc metamethods are not available to filters', 2)
  end
  return setmetatable(t, mt)
end
-- xpcall runs its message handler where the error is raised; for the fuel
-- error that is inside the count hook, where Lua turns hooks off, so a
-- handler that loops could never be stopped. This xpcall calls the handler
-- after unwinding, under the hook like any script code (scripts have no
-- debug.traceback, so nothing observable is lost).
local function xpret(d, msgh, ok, ...)
  setdepth(d)
  if ok then return true, ... end
  local _, r = pcall(msgh, (...))
  setdepth(d)
  return false, r
end
env.xpcall = function(f, msgh, ...)
  if type(msgh) ~= 'function' then
    error("bad argument #2 to 'xpcall' (function expected, got " .. type(msgh) .. ')', 2)
  end
  return xpret(getdepth(), msgh, pcall(f, ...))
end
if maxdepth > 0 then env.pcall = function(f, ...) return restore(getdepth(), pcall(f, ...)) end end
env.require = function(name)
  if name == 'data' then return data end
  -- a library with more modules (runtime/lunatik) resolves the rest
  local m = internal.require and internal.require(name, env)
  if m ~= nil then return m end
  error("module '" .. tostring(name) .. "' not found (filters can require only 'data')", 2)
end
env.print = function(...)
  local n = select('#', ...)
  local t = { ... }
  for i = 1, n do t[i] = tostring(t[i]) end
  write(concat(t, '\t', 1, n) .. '\n')
end
for k in next, G do G[k] = nil end   -- nothing below reads globals
-- a library that calls the script's hooks itself (runtime/lunatik) may adjust the sandbox first
if internal.prepare then internal.prepare(env) end

-- fuel: one count hook, installed once, fires every K instructions and
-- charges K against the current packet's budget (reset per packet: an
-- upvalue store, where a debug.sethook per packet cost microseconds). Once
-- the budget is gone the hook fires on every instruction, so a script that
-- catches the error with pcall cannot keep running. The runtime's own
-- functions (trusted) are never interrupted.
local K = fuel < 1000 and fuel or 1000
local budget, exhausted = fuel, false
local trusted = {}
local fuelmsg = format('fuel exhausted (%d steps)', fuel)
local chunksrc = '=' .. chunkname
local chunkid = sub(chunkname, 1, 59)   -- what Lua prints for '=' .. chunkname
local prefix = chunkid .. ':'

local function fuelhook()
  if not exhausted then
    budget = budget - K
    if budget > 0 then return end
    exhausted = true
    sethook(fuelhook, '', 1)
  end
  local ar = getinfo(2, 'f')
  if ar == nil or trusted[ar.func] then return end
  -- report the script's line, even when the budget ran out inside data
  for lvl = 2, 200 do
    local a = getinfo(lvl, 'Sl')
    if a == nil then break end
    if a.source == chunksrc and a.currentline > 0 then
      error(chunkid .. ':' .. a.currentline .. ': ' .. fuelmsg, 0)
    end
  end
  error(fuelmsg, 0)
end

if maxdepth > 0 then
  local overflow = format('stack overflow (more than %d nested calls)', maxdepth)
  env.__luapf = {
    -- called by the function entered one call too deep: the error is at the script's call
    -- (level 3, or above a library function that called it: pcall, gsub, a metamethod)
    overflow = function()
      for lvl = 3, 200 do
        local a = getinfo(lvl, 'Sl')
        if a == nil then break end
        if a.source == chunksrc and a.currentline > 0 then error(chunkid .. ':' .. a.currentline .. ': ' .. overflow, 0) end
      end
      error(overflow, 0)
    end,
    -- the count's getter and setter (the runtime calls them after running out of fuel too)
    -- and the return helper are part of the runtime: the fuel hook lets them be
    register = function(get, set, ret)
      getdepth, setdepth = get, set
      trusted[get], trusted[set], trusted[ret] = true, true, true
    end,
  }
end

local function refuel()
  budget = fuel
  if exhausted then exhausted = false; sethook(fuelhook, '', K) end
end
trusted[refuel] = true

-- a library that calls the script's hooks itself (runtime/lunatik) gives its entry instead of filter
local entry = nil
local NOTHING, SCRUB = {}, 16384
local MAXMSG = 1024   -- longer messages are cut: they are copied per packet
local function errtext(e)
  local s
  local te = type(e)
  if te == 'string' then s = e
  elseif te == 'number' then s = tostring(e)
  else
    local mt = dgetmetatable(e)
    if mt and rawget(mt, '__tostring') ~= nil then
      refuel()
      local ok, r = pcall(tostring, e)
      if ok and type(r) == 'string' then s = r end
    end
    s = s or ('(error object is a ' .. te .. ' value)')
  end
  -- a runtime or data-library function reached by a tail call has no script
  -- frame above it: drop its internal position rather than show it
  local p = match(s, '^luapf:%d+: ()') or match(s, '^data:%d+: ()')
  if p then s = sub(s, p) end
  if #s > MAXMSG then s = sub(s, 1, MAXMSG) .. '...' end
  if sub(s, 1, #prefix) ~= prefix then s = chunkid .. ': ' .. s end
  return s
end
trusted[errtext] = true

-- per-packet verdicts and messages, preallocated so recording them does not
-- allocate (a script at its memory cap must not break the trampoline)
local vt, em = {}, {}
for i = 1, maxbatch do vt[i] = 0; em[i] = false end
local nomem = chunkid .. ': not enough memory'
local lens = {}
local cur, curoff = 0, 0
-- capture times of the current sub-batch, 8 bytes a packet: integer
-- nanoseconds since the Unix epoch, handed to filter as its second argument
local tsmeta = ''
local fmtcache = {}

-- the hot loop: no pcall per packet. An error unwinds to run(), which
-- records it against packet 'cur' and resumes the loop after it.
local function loop(bytes, i, n, off)
  local lens, vt, VIEW, env = lens, vt, VIEW, env
  setcap(0)   -- the script runs under its cap; run() takes headroom back
  for j = i, n do
    cur, curoff = j, off
    budget = fuel
    if exhausted then exhausted = false; sethook(fuelhook, '', K) end
    if maxdepth > 0 then setdepth(-1) end   -- filter, called here, is depth 0
    local len = lens[j]
    local f = entry or env.filter
    local r = f(setmetatable({ [S] = bytes, [O] = off, [N] = len, [LAY] = false }, VIEW), (unpack('<i8', tsmeta, 8 * j - 7)))
    vt[j] = r and 1 or 0
    off = off + len
  end
end
trusted[loop] = true

local function run(bytes, lenstr, ts, n)
  local fmt = fmtcache[n]
  if fmt == nil then fmt = '<' .. rep('I4', n); fmtcache[n] = fmt end
  lens = { unpack(fmt, lenstr) }
  tsmeta = ts
  local i, off, ne, embytes = 1, 0, 0, 0
  -- the trampoline's own allocations (lens above, verdicts below) get
  -- headroom; the script runs under its cap (setcap(0) in loop), so a
  -- script that fills its memory fails its packets, never the batch
  refuel()
  while i <= n do
    local ok, e = pcall(loop, bytes, i, n, off)
    if maxdepth > 0 then setdepth(0) end   -- (an error object's __tostring may run below)
    -- back in the runtime: headroom for recording the error (nothing
    -- below is protected by a pcall)
    setcap(1, SCRUB * 48 + 65536)
    if ok then break end
    -- the GC marks every register of a live frame, so values the failed
    -- packet left in the stack (a bomb's huge string) would stay alive, and
    -- count against the cap, until the next packets overwrite them: clear
    -- that stretch of the stack by pushing nils over it
    pcall(tunpack, NOTHING, 1, SCRUB)
    vt[cur] = 2
    if entry == nil and rawget(env, 'filter') == nil then e = "global 'filter' is not defined" end
    local ok2, msg = pcall(errtext, e)
    msg = ok2 and msg or nomem
    em[cur] = msg
    ne = ne + 1
    embytes = embytes + #msg
    i, off = cur + 1, curoff + lens[cur]
  end
  setcap(1, 64 * n + 4 * embytes + 64 * ne + 65536)
  local verdicts = char(tunpack(vt, 1, n))
  if ne == 0 then return verdicts, nil end
  local parts = {}
  for k = 1, n do
    if em[k] then parts[#parts + 1] = pack('<I4s4', k - 1, em[k]); em[k] = false end
  end
  return verdicts, concat(parts)
end
trusted[run] = true

local function loadscript()
  local fn, err = load(src, chunksrc, 't', env)
  if not fn then return 'syntax', err end
  refuel()
  sethook(fuelhook, '', K)
  local ok, e = pcall(fn)
  local msg = not ok and errtext(e)
  refuel()   -- leave the hook in its normal mode for the lines below
  if not ok then return 'load', msg end
  if internal.attach then
    local why
    entry, why = internal.attach(env)
    if entry == nil then return 'load', chunkid .. ': ' .. why end
    return nil
  end
  if type(rawget(env, 'filter')) ~= 'function' then
    return 'load', chunkid .. ": the script does not define a global function 'filter'"
  end
  return nil
end
trusted[loadscript] = true

local kind, msg = loadscript()
return run, kind, msg
`;
