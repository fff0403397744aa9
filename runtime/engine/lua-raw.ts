// A thin typed layer over Wasmoon's Lua C API. Each call to loadLuaModule()
// instantiates a fresh copy of Wasmoon's glue.wasm (its own linear memory,
// so filters cannot see each other), compiling the binary only once per
// process.
//
// Wasmoon wraps every export in an assertion closure and its cwrap layer
// converts strings as UTF-8; for the per-batch path we want the bare Wasm
// exports. Emscripten does not expose them, so while Wasmoon instantiates
// its module we briefly wrap WebAssembly.instantiate to (a) reuse one
// compiled WebAssembly.Module and (b) keep the instance's exports. If that
// ever fails (a different Wasmoon build), we fall back to the wrapped
// `module._name` functions, which behave the same, only slower.
import { LuaWasm } from 'wasmoon';

export type Ptr = number;
export type LuaState = number;

/** The C functions luapf calls. Integers are i32 unless noted; size_t is u32. */
export interface LuaApi {
  malloc(size: number): Ptr;
  free(p: Ptr): void;
  realloc(p: Ptr, size: number): Ptr;
  lua_newstate(allocf: number, ud: Ptr): LuaState;
  lua_close(L: LuaState): void;
  luaL_openlibs(L: LuaState): void;
  luaL_loadbufferx(L: LuaState, buf: Ptr, size: number, name: Ptr, mode: Ptr): number;
  lua_pcallk(L: LuaState, nargs: number, nresults: number, msgh: number, ctx: number, k: number): number;
  lua_gettop(L: LuaState): number;
  lua_settop(L: LuaState, idx: number): void;
  lua_pushvalue(L: LuaState, idx: number): void;
  lua_pushlstring(L: LuaState, s: Ptr, len: number): Ptr;
  lua_pushnumber(L: LuaState, n: number): void;
  lua_pushcclosure(L: LuaState, fn: number, n: number): void;
  lua_type(L: LuaState, idx: number): number;
  lua_toboolean(L: LuaState, idx: number): number;
  lua_tonumberx(L: LuaState, idx: number, isnum: Ptr): number;
  /** returns a pointer to the bytes; their length is stored at `len` (u32) */
  lua_tolstring(L: LuaState, idx: number, len: Ptr): Ptr;
}

const API_NAMES: (keyof LuaApi)[] = [
  'malloc', 'free', 'realloc', 'lua_newstate', 'lua_close', 'luaL_openlibs', 'luaL_loadbufferx',
  'lua_pcallk', 'lua_gettop', 'lua_settop', 'lua_pushvalue', 'lua_pushlstring', 'lua_pushnumber',
  'lua_pushcclosure', 'lua_type', 'lua_toboolean', 'lua_tonumberx', 'lua_tolstring',
];

export const LUA_OK = 0;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
export const LUA_TNIL = 0;
export const LUA_TSTRING = 4;

interface EmscriptenModule {
  HEAPU8: Uint8Array;
  addFunction(fn: (...args: number[]) => number, sig: string): number;
  removeFunction(index: number): void;
  [name: string]: unknown;
}

export interface LuaModule {
  api: LuaApi;
  /** true when `api` holds the bare Wasm exports (the fast path) */
  direct: boolean;
  /** the current view of linear memory (memory growth replaces the buffer) */
  heap(): Uint8Array;
  /** registers a JS function in the Wasm table; sig like 'iiiii' (return type first) */
  addFunction(fn: (...args: number[]) => number, sig: string): number;
  removeFunction(index: number): void;
}

let compiled: WebAssembly.Module | undefined;
let queue: Promise<unknown> = Promise.resolve();

// Emscripten's import object: env and wasi_snapshot_preview1 are the same
// object and include its heap-resize hook. Anything else passes through.
function isWasmoonImports(imports: unknown): boolean {
  const o = imports as Record<string, Record<string, unknown>> | undefined;
  return !!o && !!o.env && o.env === o.wasi_snapshot_preview1 && 'emscripten_resize_heap' in o.env;
}

async function instantiateCapturing(): Promise<{ lw: LuaWasm; exports?: WebAssembly.Exports }> {
  const wa = WebAssembly as unknown as { instantiate: (...a: unknown[]) => Promise<unknown> };
  const original = wa.instantiate;
  let exports: WebAssembly.Exports | undefined;
  wa.instantiate = async function (source: unknown, imports: unknown) {
    if (source instanceof WebAssembly.Module || !isWasmoonImports(imports)) {
      return original.call(WebAssembly, source, imports);
    }
    compiled ??= await WebAssembly.compile(source as BufferSource);
    const instance = (await original.call(WebAssembly, compiled, imports)) as WebAssembly.Instance;
    exports = instance.exports;
    return { module: compiled, instance };
  };
  try {
    const lw = await LuaWasm.initialize();
    return { lw, exports };
  } finally {
    wa.instantiate = original;
  }
}

/** A fresh, private Lua Wasm module. */
export async function loadLuaModule(): Promise<LuaModule> {
  // serialised: the instantiate wrapper is process-global while it is installed
  const next = queue.then(instantiateCapturing);
  queue = next.catch(() => undefined);
  const { lw, exports } = await next;
  const mod = lw.module as unknown as EmscriptenModule;
  const direct = !!exports && API_NAMES.every((n) => typeof exports[n] === 'function');
  const api = {} as Record<string, unknown>;
  for (const n of API_NAMES) {
    const f = direct ? exports![n] : mod['_' + n];
    if (typeof f !== 'function') throw new Error(`wasmoon: missing export ${n}`);
    api[n] = f;
  }
  const memory = direct ? (exports!.memory as WebAssembly.Memory | undefined) : undefined;
  let view = memory ? new Uint8Array(memory.buffer) : mod.HEAPU8;
  const heap = memory
    ? () => (view.buffer === memory.buffer ? view : (view = new Uint8Array(memory.buffer)))
    : () => mod.HEAPU8;
  return {
    api: api as unknown as LuaApi,
    direct,
    heap,
    addFunction: (fn, sig) => mod.addFunction(fn, sig),
    removeFunction: (i) => mod.removeFunction(i),
  };
}
