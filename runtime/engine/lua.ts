// The reference engine: a full Lua 5.4 (Wasmoon) per filter, with the `data`
// library implemented in Lua (runtime/engine/data-lib.ts).
//
// Hot path: one JS→Wasm call per sub-batch of up to MAX_BATCH packets. The
// packets go into the Lua heap back to back as ONE Lua string
// (lua_pushlstring from malloc'd memory: binary-safe, unlike Wasmoon's UTF-8
// string conversion), with their lengths and timestamps as two packed
// strings. A Lua trampoline (RUNTIME_LUA) loops over them, builds each pkt
// view over the shared string and calls filter() with no pcall per packet
// (a pcall costs a JS round trip in Emscripten's setjmp emulation): an error
// unwinds to one pcall around the loop, which records it and resumes after
// the failing packet. It returns one verdict byte per packet plus the packed
// error messages.
//
// Limits: fuel is one count hook installed from Lua (debug.sethook, kept as
// a private upvalue before `debug` disappears) that charges a per-packet
// budget; memory is capped by a JS allocator handed to lua_newstate, which
// refuses growth past the cap so Lua raises "not enough memory" in the
// failing packet. Known gap: the hook only counts VM instructions, so a
// single C call (a pathological str:match) is not interrupted.
import { DEFAULT_LIMITS, ERROR, type Filter, type FilterError, type FilterLimits, type PacketBatch } from './filter.js';
import { DATA_LIB_LUA } from './data-lib.js';
import { ScriptError } from '../errors.js';
import { MAX_CALL_DEPTH, countedSource } from './call-depth.js';
import { LUA_OK, LUA_TSTRING, loadLuaModule, type LuaApi, type LuaModule, type LuaState, type Ptr } from './lua-raw.js';
import { LuaMessages } from './position.js';

/** packets per call into Lua (the trampoline preallocates this many slots) */
export const MAX_BATCH = 4096;
const TS_BYTES = 8; // i64 nanoseconds since the Unix epoch: filter's second argument

// Runs once per state. Arguments: data library source, print writer (a C
// function), fuel, chunk name, script source. Returns run, errkind, errmsg.
const RUNTIME_LUA = String.raw`
local datasrc, write, fuel, chunkname, src, maxbatch, setcap, maxdepth = ...
local G = _G
local load, pcall, type, tostring, rawget, setmetatable, error, select, next, ipairs =
  load, pcall, type, tostring, rawget, setmetatable, error, select, next, ipairs
local sethook, getinfo, dgetmetatable = debug.sethook, debug.getinfo, debug.getmetatable
local unpack, pack, char, sub, rep = string.unpack, string.pack, string.char, string.sub, string.rep
local concat, tunpack = table.concat, table.unpack
local format, match = string.format, string.match

-- call depth (docs/SEMANTICS.md, "Call depth"): maxdepth > 0 when the
-- script was rewritten to count its calls (runtime/engine/call-depth.ts).
-- Its first line hands over the count's getter and setter; an error unwinds
-- calls without counting them back, so what catches it sets the count back:
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
  error("module '" .. tostring(name) .. "' not found (filters can require only 'data')", 2)
end
env.print = function(...)
  local n = select('#', ...)
  local t = { ... }
  for i = 1, n do t[i] = tostring(t[i]) end
  write(concat(t, '\t', 1, n) .. '\n')
end
for k in next, G do G[k] = nil end   -- nothing below reads globals

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
    register = function(get, set) getdepth, setdepth = get, set end,
  }
end

local function refuel()
  budget = fuel
  if exhausted then exhausted = false; sethook(fuelhook, '', K) end
end
trusted[refuel] = true

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
    local f = env.filter
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
    if rawget(env, 'filter') == nil then e = "global 'filter' is not defined" end
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
  if type(rawget(env, 'filter')) ~= 'function' then
    return 'load', chunkid .. ": the script does not define a global function 'filter'"
  end
  return nil
end
trusted[loadscript] = true

local kind, msg = loadscript()
return run, kind, msg
`;

interface MemState {
  /** bytes held by the Lua state */
  used: number;
  /** the allocator refuses growth past this */
  limit: number;
  /** what the runtime itself held before the script: not charged */
  base: number;
  /** the script's cap during the current batch */
  scriptLimit: number;
  /** headroom for the trampoline's own allocations in the current batch */
  grant: number;
}

export interface LuaFilterOptions {
  /** where print() output goes (default: process.stderr) */
  print?: (bytes: Uint8Array) => void;
  /**
   * count the script's nested calls (docs/SEMANTICS.md, "Call depth"); default: when it may nest
   * them deeper than MAX_CALL_DEPTH (call-depth.ts). true: always (to measure the cost); false:
   * never, the script runs as written.
   */
  countDepth?: boolean;
}

/** Bytes of a script or name: latin1 when every code unit fits a byte, else UTF-8. */
function toBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return new TextEncoder().encode(s);
  }
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Message text back from Lua: UTF-8 when valid (file names), else latin1. */
function fromBytes(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }
}

export class LuaFilter implements Filter {
  readonly engine = 'lua' as const;
  private closed = false;
  private buf: Ptr = 0;
  private bufCap = 0;

  /** @internal use createLuaFilter */
  constructor(
    private readonly mod: LuaModule,
    private readonly L: LuaState,
    private readonly scratch: Ptr,
    private readonly mem: MemState,
    private readonly limits: FilterLimits,
    private readonly fnPtrs: number[],
    private readonly messages: LuaMessages,
  ) {}

  /** bytes currently allocated by this filter's Lua state */
  get memoryUsed(): number {
    return this.mem.used;
  }

  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[] {
    if (this.closed) throw new Error('LuaFilter: filterBatch after close()');
    if (verdicts.length < batch.count) throw new RangeError('LuaFilter: verdicts array shorter than batch.count');
    const errors: FilterError[] = [];
    for (let i0 = 0; i0 < batch.count; i0 += MAX_BATCH) {
      this.runChunk(batch, i0, Math.min(MAX_BATCH, batch.count - i0), verdicts, errors);
    }
    return errors;
  }

  private ensureBuf(size: number): Ptr {
    if (size > this.bufCap) {
      const cap = Math.max(size, this.bufCap * 2, 64 * 1024);
      const p = this.mod.api.realloc(this.buf, cap);
      if (!p) throw new Error(`LuaFilter: cannot allocate ${cap} bytes for packets`);
      this.buf = p;
      this.bufCap = cap;
    }
    return this.buf;
  }

  private runChunk(batch: PacketBatch, i0: number, n: number, verdicts: Uint8Array, errors: FilterError[]): void {
    const { api } = this.mod;
    const { offsets, lengths, bytes } = batch;
    // packets go in back to back; one copy when they already are
    let total = 0;
    let adjacent = true;
    for (let i = i0; i < i0 + n; i++) {
      if (offsets[i] + lengths[i] > bytes.length) {
        throw new RangeError(`LuaFilter: packet ${i} lies outside batch.bytes`);
      }
      if (i > i0 && offsets[i] !== offsets[i - 1] + lengths[i - 1]) adjacent = false;
      total += lengths[i];
    }
    const lenAt = total;
    const tsAt = lenAt + 4 * n;
    const buf = this.ensureBuf(tsAt + TS_BYTES * n);
    let heap = this.mod.heap();
    const dv = new DataView(heap.buffer);
    if (adjacent && n > 0) heap.set(bytes.subarray(offsets[i0], offsets[i0] + total), buf);
    for (let i = 0, pos = 0; i < n; i++) {
      const k = i0 + i;
      const len = lengths[k];
      if (!adjacent) heap.set(bytes.subarray(offsets[k], offsets[k] + len), buf + pos);
      pos += len;
      dv.setUint32(buf + lenAt + 4 * i, len, true);
      dv.setBigInt64(buf + tsAt + TS_BYTES * i,
        BigInt(batch.timestampsSec[k] ?? 0) * 1_000_000_000n + BigInt(batch.timestampsNsec[k] ?? 0), true);
    }
    // the packet strings are the runtime's, not the script's: widen the cap by their size
    const mem = this.mem;
    mem.scriptLimit = mem.base + this.limits.memoryBytes + tsAt + TS_BYTES * n + 4096;
    // the trampoline's setup (length table) gets headroom beyond whatever the script holds;
    // setcap(1) in RUNTIME_LUA asks for more to build the verdicts and the error list
    mem.grant = 96 * n + 64 * 1024;
    mem.limit = Math.max(mem.scriptLimit, mem.used + mem.grant);
    const L = this.L;
    api.lua_pushvalue(L, 1);
    api.lua_pushlstring(L, buf, total);
    api.lua_pushlstring(L, buf + lenAt, 4 * n);
    api.lua_pushlstring(L, buf + tsAt, TS_BYTES * n);
    api.lua_pushnumber(L, n);
    const status = api.lua_pcallk(L, 4, 2, 0, 0, 0);
    try {
      if (status !== LUA_OK) {
        // the trampoline itself failed (memory exhausted outside any packet)
        const msg = `${this.messages.chunkName}: ${this.readString(-1) ?? 'internal error'}`;
        for (let i = 0; i < n; i++) {
          verdicts[i0 + i] = ERROR;
          errors.push({ index: i0 + i, message: msg });
        }
        return;
      }
      heap = this.mod.heap();
      const vp = api.lua_tolstring(L, -2, this.scratch);
      verdicts.set(heap.subarray(vp, vp + n), i0);
      if (api.lua_type(L, -1) === LUA_TSTRING) {
        const ep = api.lua_tolstring(L, -1, this.scratch);
        const elen = new DataView(heap.buffer).getUint32(this.scratch, true);
        const edv = new DataView(heap.buffer, ep, elen);
        for (let p = 0; p < elen; ) {
          const idx = edv.getUint32(p, true);
          const mlen = edv.getUint32(p + 4, true);
          const msg = fromBytes(heap.subarray(ep + p + 8, ep + p + 8 + mlen));
          errors.push({ index: i0 + idx, message: this.messages.format(msg) });
          p += 8 + mlen;
        }
      }
    } finally {
      api.lua_settop(L, 1);
      this.mem.limit = this.mem.base + this.limits.memoryBytes;
    }
  }

  private readString(idx: number): string | undefined {
    const { api } = this.mod;
    if (api.lua_type(this.L, idx) !== LUA_TSTRING) return undefined;
    const p = api.lua_tolstring(this.L, idx, this.scratch);
    const heap = this.mod.heap();
    const len = new DataView(heap.buffer).getUint32(this.scratch, true);
    return fromBytes(heap.slice(p, p + len));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { api } = this.mod;
    api.lua_close(this.L);
    if (this.buf) api.free(this.buf);
    api.free(this.scratch);
    for (const f of this.fnPtrs) this.mod.removeFunction(f);
  }
}

function pushBytes(api: LuaApi, mod: LuaModule, L: LuaState, b: Uint8Array): void {
  const p = api.malloc(b.length + 1);
  if (!p) throw new Error('LuaFilter: out of memory');
  mod.heap().set(b, p);
  api.lua_pushlstring(L, p, b.length);
  api.free(p);
}

/**
 * Loads a filter script into its own Lua state and runs its main chunk.
 * Throws ScriptError for a syntax error, an error in the main chunk, or a
 * script without a global `filter` function.
 */
export async function createLuaFilter(
  source: string,
  chunkName: string,
  limits: Partial<FilterLimits> = {},
  options: LuaFilterOptions = {},
): Promise<LuaFilter> {
  const lim: FilterLimits = { ...DEFAULT_LIMITS, ...limits };
  if (!Number.isInteger(lim.fuel) || lim.fuel < 1 || lim.fuel > 0x7fffffff) {
    throw new RangeError(`fuel must be an integer in 1..2^31-1, got ${lim.fuel}`);
  }
  if (!(lim.memoryBytes > 0)) throw new RangeError(`memoryBytes must be positive, got ${lim.memoryBytes}`);
  const mod = await loadLuaModule();
  const { api } = mod;
  const mem: MemState = { used: 0, limit: Infinity, base: 0, scriptLimit: Infinity, grant: 0 };
  // lua_Alloc(ud, ptr, osize, nsize); sizes are size_t, so read them unsigned
  const allocPtr = mod.addFunction((_ud: number, ptr: number, osize: number, nsize: number) => {
    nsize >>>= 0;
    const old = ptr ? osize >>> 0 : 0; // with ptr NULL, osize is a type tag
    if (nsize === 0) {
      if (ptr) {
        mem.used -= old;
        api.free(ptr);
      }
      return 0;
    }
    if (nsize > old && mem.used - old + nsize > mem.limit) return 0;
    const p = api.realloc(ptr, nsize);
    if (p) mem.used += nsize - old;
    return p;
  }, 'iiiii');
  const print = options.print ?? ((b: Uint8Array) => process.stderr.write(b));
  const writePtr = mod.addFunction((Ls: number) => {
    const p = api.lua_tolstring(Ls, 1, scratch);
    const heap = mod.heap();
    const len = new DataView(heap.buffer).getUint32(scratch, true);
    print(heap.slice(p, p + len));
    return 0;
  }, 'ii');
  // setcap(0): the script's cap for this batch; setcap(1): headroom for the trampoline
  const setcapPtr = mod.addFunction((Ls: number) => {
    const mode = api.lua_tonumberx(Ls, 1, 0);
    const need = api.lua_tonumberx(Ls, 2, 0);
    mem.limit = mode === 0 ? mem.scriptLimit : Math.max(mem.limit, mem.used + need);
    return 0;
  }, 'ii');
  const scratch = api.malloc(16);
  const L = scratch ? api.lua_newstate(allocPtr, 0) : 0;
  if (!L) {
    mod.removeFunction(allocPtr);
    mod.removeFunction(writePtr);
    mod.removeFunction(setcapPtr);
    throw new Error('LuaFilter: cannot create a Lua state');
  }
  const chunkBytes = toBytes(chunkName);
  const chunkId = fromBytes(chunkBytes.subarray(0, 59));
  const messages = new LuaMessages(source, chunkId, chunkName);
  const filter = new LuaFilter(mod, L, scratch, mem, lim, [allocPtr, writePtr, setcapPtr], messages);
  try {
    api.luaL_openlibs(L);
    const code = new TextEncoder().encode(RUNTIME_LUA);
    const name = new TextEncoder().encode('=luapf\0');
    const p = api.malloc(code.length + name.length);
    mod.heap().set(code, p);
    mod.heap().set(name, p + code.length);
    const st = api.luaL_loadbufferx(L, p, code.length, p + code.length, 0);
    api.free(p);
    if (st !== LUA_OK) throw new Error('LuaFilter: runtime chunk failed to load');
    pushBytes(api, mod, L, new TextEncoder().encode(DATA_LIB_LUA));
    api.lua_pushcclosure(L, writePtr, 0);
    api.lua_pushnumber(L, lim.fuel);
    pushBytes(api, mod, L, chunkBytes);
    // the runtime itself is not charged: the cap starts counting at the script
    mem.base = mem.used + 64 * 1024;
    mem.limit = mem.base + lim.memoryBytes;
    // a script that may nest its calls too deep runs rewritten to count them (same lines)
    const counted = options.countDepth === false ? undefined : countedSource(source, options.countDepth === true);
    const srcBytes = toBytes(counted ?? source);
    mem.limit += srcBytes.length;
    pushBytes(api, mod, L, srcBytes);
    api.lua_pushnumber(L, MAX_BATCH);
    api.lua_pushcclosure(L, setcapPtr, 0);
    api.lua_pushnumber(L, counted === undefined ? 0 : MAX_CALL_DEPTH);
    const status = api.lua_pcallk(L, 8, 3, 0, 0, 0);
    if (status !== LUA_OK) {
      const raw = api.lua_type(L, -1) === LUA_TSTRING ? readTop(mod, L, scratch) : 'unknown error';
      throw new ScriptError('load', chunkName, undefined, undefined, `cannot start the Lua runtime: ${raw}`);
    }
    if (api.lua_type(L, 2) === LUA_TSTRING) {
      const kind = readAt(mod, L, 2, scratch) === 'syntax' ? 'syntax' : 'load';
      const msg = readAt(mod, L, 3, scratch);
      const { line, column, detail } = messages.split(msg, kind === 'syntax' ? 'syntax' : 'runtime');
      throw new ScriptError(kind, chunkName, line, column, detail);
    }
    api.lua_settop(L, 1);
    mem.limit = mem.base + lim.memoryBytes;
    return filter;
  } catch (e) {
    filter.close();
    throw e;
  }
}

function readAt(mod: LuaModule, L: LuaState, idx: number, scratch: Ptr): string {
  const p = mod.api.lua_tolstring(L, idx, scratch);
  const heap = mod.heap();
  const len = new DataView(heap.buffer).getUint32(scratch, true);
  return fromBytes(heap.slice(p, p + len));
}

function readTop(mod: LuaModule, L: LuaState, scratch: Ptr): string {
  return readAt(mod, L, -1, scratch);
}
