// Turns a filter file (a Lua script or a compiled .wasm) into a running
// Filter, choosing the engine. The compiler is imported only when a script
// has to be compiled, so running a .wasm never loads binaryen.
import { readFileSync } from 'node:fs';
import { ScriptError } from '../errors.js';
import { compileCached } from './compile-cache.js';
import type { EngineName, Filter, FilterLimits } from './filter.js';
import { scriptBytes, scriptText } from './script-bytes.js';
import { isWasmModule, ModuleFormatError, WasmFilter } from './wasm.js';
import { looksLunatik, type LunatikOptions } from '../lunatik/detect.js';

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
  /** the name errors use (default: `path` as given, or "filter.lua") */
  name?: string;
  /** default 'auto': compiled when the script is in the subset, else the Lua engine */
  engine?: EngineChoice;
  limits?: Partial<FilterLimits>;
  /** false: compile even if the compile cache holds this script (default: use it unless LUAPF_CACHE=off) */
  cache?: boolean;
  /** the script's compile, already done (e.g. in a worker thread, see runtime/bench/workers.ts): used instead of compiling */
  compiled?: ScriptCompile;
  /** Lunatik mode (runtime/lunatik): true or its options to force it, false to refuse it; default: detected */
  lunatik?: boolean | LunatikOptions;
}

/**
 * What loadEngine needs of a compile (compiler/index.ts's CompileResult
 * fits it). Declared here so that the library's type declarations never
 * reach the compiler's, which need luaparse's types.
 */
export type ScriptCompile =
  | { ok: true; wasm: Uint8Array }
  | { ok: false; stage: string; errors: { line: number; column: number; message: string }[]; reasons: string[] };

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

/** A compiled module's bytes as a WasmFilter; a module that is not luapf's (or not Wasm at all) is a ModuleFormatError naming `name`. */
function loadModule(bytes: Uint8Array, name: string, limits?: Partial<FilterLimits>): WasmFilter {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ModuleFormatError(`${name}: not a valid WebAssembly module: ${(e as Error).message}`, name);
  }
  try {
    return new WasmFilter(module, limits, bytes.length);
  } catch (e) {
    if (e instanceof ModuleFormatError && e.file === undefined) throw new ModuleFormatError(`${name}: ${e.message}`, name);
    throw e;
  }
}

/**
 * Loads a filter. Its kind is decided by content: bytes starting with the
 * Wasm magic (\0asm) are a compiled module whatever the file is called;
 * anything else is a Lua script, except a file named `.wasm`, which must
 * be a module (a script by that name is a mistake, not Lua to parse).
 */
export async function loadEngine(options: LoadOptions): Promise<LoadedFilter> {
  const raw = options.source ?? (options.path !== undefined ? readFileSync(options.path) : undefined);
  if (raw === undefined) throw new TypeError('loadEngine needs a path or a source');
  // the path as given: the command line names files the way the user typed them
  const name = options.name ?? options.path ?? 'filter.lua';
  const engine = options.engine ?? 'auto';
  const bytes = typeof raw === 'string' ? scriptBytes(raw) : raw;

  if (isWasmModule(bytes)) {
    if (engine === 'lua') {
      throw new EngineUnavailableError(`${name} is a compiled module: it runs on the wasm engine only`, []);
    }
    return withReasons(loadModule(bytes, name, options.limits), []);
  }
  if (/\.wasm$/i.test(options.path ?? name)) {
    throw new ModuleFormatError(`${name}: not a WebAssembly module (it does not start with the magic bytes \\0asm)`, name);
  }

  const source = scriptText(bytes);
  const lunatikFlag = options.lunatik;
  const detect = lunatikFlag === undefined || (typeof lunatikFlag === 'object' && lunatikFlag.detect === true);
  if (detect ? looksLunatik(source) : lunatikFlag !== false) {
    if (engine === 'wasm') throw new EngineUnavailableError(`${name} is a Lunatik script: compiled Lunatik hooks are not done yet`, []);
    const { createLunatikFilter } = await import('../lunatik/engine.js');
    const lunatik = typeof options.lunatik === 'object' ? options.lunatik : {};
    return withReasons(await withParserColumn(createLunatikFilter(source, name, options.limits, { ...lunatik, scriptPath: options.path ?? options.name }), source, name),
      ['a Lunatik script: its hooks run on the Lua engine']);
  }
  if (engine === 'lua') return withReasons(await withParserColumn(createLuaFilter(source, name, options.limits), source, name), []);

  // Compiles through the disk cache (runtime/engine/compile-cache.ts), which imports the compiler only on a miss.
  const result: ScriptCompile = options.compiled ?? await compileCached(source, { file: name, fuel: options.limits?.fuel }, { cache: options.cache });
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

/**
 * On the Lua engine alone the compiler has not parsed the script: for a
 * syntax error, ask its parser (luaparse, no binaryen) for the column when
 * it stops on the line Lua reported; Lua's message is kept.
 */
async function withParserColumn<T>(loading: Promise<T>, source: string, name: string): Promise<T> {
  try {
    return await loading;
  } catch (e) {
    if (!(e instanceof ScriptError) || e.kind !== 'syntax' || e.line === undefined) throw e;
    const { parse } = await import('../../compiler/parse.js');
    const parsed = parse(source, name);
    const at = parsed.ok ? undefined : parsed.errors.find((x) => x.line === e.line);
    if (at === undefined || at.column === e.column) throw e;
    throw new ScriptError('syntax', e.file, e.line, at.column, e.detail);
  }
}
