// The reference engine: a full Lua 5.4 (Wasmoon) per filter, with the `data`
// library implemented in Lua (runtime/engine/data-lib.ts).
//
// Hot path: one JS→Wasm call per sub-batch of up to MAX_BATCH packets. The
// packets go into the Lua heap back to back as ONE Lua string
// (lua_pushlstring from malloc'd memory: binary-safe, unlike Wasmoon's UTF-8
// string conversion), with their lengths and timestamps as two packed
// strings. A Lua trampoline (RUNTIME_LUA, engine/sandbox-lua.ts) loops over them, builds each pkt
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
import { RUNTIME_LUA } from './sandbox-lua.js';
import { ScriptError } from '../errors.js';
import { LUA_OK, LUA_TSTRING, loadLuaModule, type LuaApi, type LuaModule, type LuaState, type Ptr } from './lua-raw.js';
import { LuaMessages } from './position.js';
import { scriptBytes } from './script-bytes.js';
import { countedSource } from './call-depth.js';
import { MAX_CALL_DEPTH, MAX_FUEL } from '../../compiler/abi.js';

/** packets per call into Lua (the trampoline preallocates this many slots) */
export const MAX_BATCH = 4096;
const TS_BYTES = 8; // i64 nanoseconds since the Unix epoch: filter's second argument

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
  /** the library's source in place of DATA_LIB_LUA (runtime/lunatik gives Lunatik's) */
  library?: string;
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
  if (!Number.isInteger(lim.fuel) || lim.fuel < 1 || lim.fuel > MAX_FUEL) {
    throw new RangeError(`fuel must be an integer in 1..${MAX_FUEL}, got ${lim.fuel}`);
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
  const chunkBytes = scriptBytes(chunkName);
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
    pushBytes(api, mod, L, new TextEncoder().encode(options.library ?? DATA_LIB_LUA));
    api.lua_pushcclosure(L, writePtr, 0);
    api.lua_pushnumber(L, lim.fuel);
    pushBytes(api, mod, L, chunkBytes);
    // the runtime itself is not charged: the cap starts counting at the script
    mem.base = mem.used + 64 * 1024;
    mem.limit = mem.base + lim.memoryBytes;
    // a script that may nest its calls too deep runs rewritten to count them (same lines)
    const counted = options.countDepth === false ? undefined : countedSource(source, options.countDepth === true);
    const srcBytes = scriptBytes(counted ?? source);
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
