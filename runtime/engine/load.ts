// Turns a filter file (a Lua script or a compiled .wasm) into a running
// Filter, choosing the engine. The compiler is imported only when a script
// has to be compiled, so running a .wasm never loads binaryen.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ScriptError } from '../errors.js';
import { compileCached } from './compile-cache.js';
import type { EngineName, Filter, FilterLimits } from './filter.js';
import { scriptBytes, scriptText } from './script-bytes.js';
import { isWasmModule, WasmFilter } from './wasm.js';

// Wasmoon costs ~0.4 s to import: a compiled filter must not pay for it.
async function createLuaFilter(...args: Parameters<typeof import('./lua.js').createLuaFilter>) {
  const { createLuaFilter: create } = await import('./lua.js');
  return create(...args);
}

export type EngineChoice = 'auto' | EngineName;

export interface LoadOptions {
  /** a .lua or .wasm file; alternatively give `source` */
  path?: string;
  /** script text (see script-bytes.ts) or module bytes */
  source?: string | Uint8Array;
  /** the name errors use (default: the file's base name, or "filter.lua") */
  name?: string;
  /** default 'auto': compiled when the script is in the subset, else the Lua engine */
  engine?: EngineChoice;
  limits?: Partial<FilterLimits>;
  /** false: compile even if the compile cache holds this script (default: use it unless LUAPF_CACHE=off) */
  cache?: boolean;
}

export interface LoadedFilter extends Filter {
  /** why the script is not compiled (empty when it is, or when it was a .wasm) */
  readonly reasons: readonly string[];
}

/** Raised when the requested engine cannot run the filter (e.g. --engine wasm on a script outside the subset). */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
  constructor(message: string, readonly reasons: readonly string[]) {
    super(message);
  }
}

function withReasons<F extends Filter>(filter: F, reasons: readonly string[]): F & LoadedFilter {
  return Object.assign(filter, { reasons });
}

export async function loadEngine(options: LoadOptions): Promise<LoadedFilter> {
  const raw = options.source ?? (options.path !== undefined ? readFileSync(options.path) : undefined);
  if (raw === undefined) throw new TypeError('loadEngine needs a path or a source');
  const name = options.name ?? (options.path !== undefined ? basename(options.path) : 'filter.lua');
  const engine = options.engine ?? 'auto';
  const bytes = typeof raw === 'string' ? scriptBytes(raw) : raw;

  if (isWasmModule(bytes)) {
    if (engine === 'lua') {
      throw new EngineUnavailableError(`${name} is a compiled module: it runs on the wasm engine only`, []);
    }
    return withReasons(new WasmFilter(bytes, options.limits), []);
  }

  const source = scriptText(bytes);
  if (engine === 'lua') return withReasons(await createLuaFilter(source, name, options.limits), []);

  // Compiles through the disk cache (runtime/engine/compile-cache.ts), which imports the compiler only on a miss.
  const result = await compileCached(source, { file: name, fuel: options.limits?.fuel }, { cache: options.cache });
  if (result.ok) return withReasons(new WasmFilter(result.wasm, options.limits), []);
  const syntax = result.stage === 'parse' ? result.errors[0] : undefined;
  if (engine === 'wasm') {
    if (syntax) throw new ScriptError('syntax', name, syntax.line, syntax.column, syntax.message);
    throw new EngineUnavailableError(`${name} cannot be compiled:\n  ${result.reasons.join('\n  ')}`, result.reasons);
  }
  try {
    // Lua itself is the judge of syntax (luaparse knows Lua 5.3 only), but
    // luaparse's message carries the column, so prefer it on the same line.
    return withReasons(await createLuaFilter(source, name, options.limits), result.reasons);
  } catch (e) {
    if (syntax && e instanceof ScriptError && e.kind === 'syntax' && (e.line === undefined || e.line === syntax.line)) {
      throw new ScriptError('syntax', name, syntax.line, syntax.column, syntax.message);
    }
    throw e;
  }
}
