// The library's compile entry points: wrappers over compiler/index.ts that
// turn its result-as-data into the public shape (module bytes, engine
// decision, reasons) and its syntax errors into ScriptError. The compiler
// is imported on first use, so importing the library stays cheap.
import { EngineUnavailableError } from '../engine/load.js';
import { ScriptError } from '../errors.js';
import { resolveCompileOptions, OptionsError, type CompileFilterOptions } from './options.js';
import type { EngineName } from '../engine/filter.js';
import { scriptBytes, scriptText } from '../engine/script-bytes.js';

/** Where and why a script falls outside the compiled subset. */
export interface CompileReason {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  message: string;
}

/** The outcome of compileFilter: a module, or the reasons the script needs the Lua engine. */
export type CompiledFilter =
  | {
    engine: 'wasm';
    /** the module: write it to a `.wasm` file, or give it to loadFilter */
    wasm: Uint8Array;
    /** the module as WebAssembly text, when `wat: true` was asked */
    wat?: string;
    reasons: [];
    details: [];
  }
  | {
    engine: 'lua';
    wasm: undefined;
    wat?: undefined;
    /** why the script is not compiled, as "LINE:COL: message" */
    reasons: string[];
    /** the same reasons as data */
    details: CompileReason[];
  };

/** The engine decision of checkFilter. */
export interface FilterCheck {
  /** 'wasm' when the script compiles, else 'lua' */
  engine: EngineName;
  /** why the script is not compiled, as "LINE:COL: message" (empty when it is) */
  reasons: string[];
  details: CompileReason[];
}

function text(script: string | Uint8Array, fn: string): string {
  if (typeof script === 'string') return scriptText(scriptBytes(script));
  if (script instanceof Uint8Array) return scriptText(script);
  throw new TypeError(`${fn} takes the script text or its bytes`);
}

function syntaxError(errors: { line: number; column: number; message: string }[], name: string): ScriptError {
  const e = errors[0] ?? { line: 1, column: 1, message: 'syntax error' };
  return new ScriptError('syntax', name, e.line, e.column, e.message);
}

/**
 * Compiles a Lua filter script to a WebAssembly module (loads binaryen on
 * first use, about 0.7 s). A script outside the compiled subset is not an
 * error: the result says engine 'lua' and why, unless `engine: 'wasm'`
 * was asked (then EngineUnavailableError). Throws ScriptError for a syntax
 * error, OptionsError for a bad option.
 */
export async function compileFilter(script: string | Uint8Array, options?: CompileFilterOptions): Promise<CompiledFilter> {
  const o = resolveCompileOptions(options);
  const source = text(script, 'compileFilter');
  const { compile } = await import('../../compiler/index.js');
  const r = await compile(source, { file: o.name, fuel: o.fuel, optimize: o.optimize, prefetch: o.prefetch, wat: o.wat });
  if (r.ok) return { engine: 'wasm', wasm: r.wasm, wat: r.wat, reasons: [], details: [] };
  if (r.stage === 'parse') throw syntaxError(r.errors, o.name);
  if (o.engine === 'wasm') {
    throw new EngineUnavailableError(`${o.name} cannot be compiled:\n  ${r.reasons.join('\n  ')}`, r.reasons);
  }
  return { engine: 'lua', wasm: undefined, reasons: r.reasons, details: r.details };
}

/**
 * Decides which engine a script gets, and why, without compiling it (and
 * without loading binaryen). Throws ScriptError for a syntax error.
 */
export async function checkFilter(script: string | Uint8Array, options?: { name?: string }): Promise<FilterCheck> {
  const name = options?.name ?? 'filter.lua';
  if (typeof name !== 'string' || name === '') throw new OptionsError('name', name, 'a non-empty string');
  const source = text(script, 'checkFilter');
  const { checkScript } = await import('../../compiler/index.js');
  const r = checkScript(source, { file: name });
  if (r.errors.length > 0) throw syntaxError(r.errors, name);
  return { engine: r.engine, reasons: r.reasons, details: r.details };
}
