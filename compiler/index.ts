// The compiler driver, one chain: parse → unroll → check → lower → codegen.
// Each pass is a function returning its result or its errors as data, and
// `stopAfter` returns after any of them with that pass's output as text
// (`luapf compile --dump STAGE`). binaryen is imported only when the chain
// reaches codegen, so checkScript and the dumps before it stay cheap.
import { ABI_VERSION, MAX_FUEL, MAX_PREFETCH } from './abi.js';
import { VERSION } from '../runtime/version.js';
import { createHash } from 'node:crypto';
import type { CheckResult, Reason } from './check-result.js';
import { check } from './check.js';
import { FUEL_MESSAGE } from './lower-base.js';
import { lower } from './lower.js';
import { parse, formatError, type ParseResult, type SourceError } from './parse.js';
import { printModule, type IRModule } from './ir.js';
import { unrollConstantLoops } from './tables/unroll.js';
import { NIL, tyName } from './types.js';

export { parse, formatError, type SourceError, type Reason };

export { ABI_VERSION };
/** what a module's custom section says made it */
export const COMPILER_VERSION = `luapf ${VERSION}`;
/** packets ahead the batch loop touches when the script reads at packet-computed offsets (why: docs/ABI.md) */
const DEFAULT_PREFETCH = 16;

/** The passes, in order ('ir' is lower's output, 'wasm' codegen's). */
export type Stage = 'parse' | 'unroll' | 'check' | 'ir' | 'wasm';

export interface CompileOptions {
  /** chunk name used in messages (usually the script's file name) */
  file: string;
  /** default per-packet fuel written into the module, 1 to 2^31 − 1 (the host may change `fuel_limit`) */
  fuel?: number;
  /** binaryen optimize level 0-3 (default 3) */
  optimize?: number;
  /** binaryen shrink level 0-2 (default 0: binaryen inlines functions called twice only at shrink level 0) */
  shrink?: number;
  /** stop after this pass (its output is in the result) */
  stopAfter?: Stage;
  /** also return the module as text */
  wat?: boolean;
  /** allow fixed-width SIMD where it helps (default true; false for hosts without it: MVP + mutable globals + sign extension only) */
  simd?: boolean;
  /**
   * bytes of one of the two semispaces of the heap holding run-time tables (default 8 MiB, heap/layout.ts):
   * the most one packet may allocate and module state keep; past it, "not enough memory" for that packet
   */
  heapMemory?: number;
  /**
   * packets ahead whose first byte the batch loop touches, to start their cache misses early
   * (0: none). Default: 16 when the script reads at offsets computed from packet bytes (a
   * segment at a variable offset), else 0; docs/ABI.md says why.
   */
  prefetch?: number;
}

export interface CompileSuccess {
  ok: true;
  /** the module (empty when stopped before codegen) */
  wasm: Uint8Array;
  wat?: string;
  /** `--dump parse|unroll|check|ir` text of the last pass run (the AST for parse and unroll) */
  dump?: string;
  ir?: IRModule;
  reasons: [];
  stage: Stage;
}

export interface CompileFailure {
  ok: false;
  /** the pass that failed (unroll never fails) */
  stage: Exclude<Stage, 'unroll'>;
  /** syntax errors (stage 'parse') */
  errors: SourceError[];
  /** why the script is outside the compiled subset, as `LINE:COL: message` */
  reasons: string[];
  /** the same reasons as data */
  details: Reason[];
}

export type CompileResult = CompileSuccess | CompileFailure;

export interface CheckScriptResult {
  engine: 'wasm' | 'lua';
  /** empty when the script compiles */
  reasons: string[];
  details: Reason[];
  /** syntax errors: the script runs nowhere */
  errors: SourceError[];
}

/**
 * The syntax error of a failed compile, if that is why it failed: a script
 * that does not parse runs nowhere, so hosts should report it (FILE:LINE:COL)
 * instead of falling back to the interpreter.
 */
export function syntaxErrorOf(result: CompileResult | CheckScriptResult): SourceError | undefined {
  if ('ok' in result) return !result.ok && result.stage === 'parse' ? result.errors[0] : undefined;
  return result.errors[0];
}

const fmt = (r: Reason) => `${r.line}:${r.column}: ${r.message}`;

function failure(stage: CompileFailure['stage'], details: Reason[]): CompileFailure {
  return { ok: false, stage, errors: [], reasons: details.map(fmt), details };
}

/** A thrown error is a compiler bug: reported as data at 1:1, so the host falls back instead of crashing. */
function internalError(stage: CompileFailure['stage'], e: unknown): CompileFailure {
  return failure(stage, [{ line: 1, column: 1, message: `compiler error: ${(e as Error).message}` }]);
}

/** Whether a pass's outcome is a failure (no pass result has `ok: false`: check's is turned into a failure). */
function failed<T extends object>(r: T | CompileFailure): r is CompileFailure {
  return 'ok' in r && r.ok === false;
}

// ---- the passes --------------------------------------------------------------------

/** Pass 1: source text → AST (parse.ts), or the syntax errors. */
function parsePass(source: string, file: string): ParseResult | CompileFailure {
  const p = parse(source, file);
  if (p.ok) return p;
  return { ok: false, stage: 'parse', errors: p.errors, reasons: p.errors.map(formatError), details: p.errors };
}

/** Pass 1b: generic for loops over constant tables become straight-line code, in the AST (tables/unroll.ts). */
function unrollPass(p: ParseResult): ParseResult {
  unrollConstantLoops(p);
  return p;
}

/** Pass 2: types, or why the script is outside the compiled subset (check.ts). */
function checkPass(p: ParseResult): CheckResult | CompileFailure {
  const c = check(p);
  return c.ok ? c : failure('check', c.reasons);
}

/** Pass 3: the typed IR (lower.ts). */
function lowerPass(p: ParseResult, c: CheckResult): IRModule | CompileFailure {
  try {
    const l = lower(p, c);
    return l.ok ? l.ir : failure('ir', l.reasons);
  } catch (e) {
    return internalError('ir', e);
  }
}

let binaryenPromise: Promise<typeof import('binaryen').default> | undefined;
function loadBinaryen() {
  binaryenPromise ??= import('binaryen').then((m) => m.default);
  return binaryenPromise;
}

/** Pass 4: the Wasm module (codegen.ts), with the options and error sites in its `luapf` section. */
async function codegenPass(source: string, ir: IRModule, options: CompileOptions): Promise<CompileResult> {
  const binaryen = await loadBinaryen();
  const { codegen } = await import('./codegen.js');
  const fuel = options.fuel ?? 1_000_000;
  const optimize = options.optimize ?? 3;
  const shrink = options.shrink ?? 0;
  const prefetch = options.prefetch ?? (ir.dependentReads ? DEFAULT_PREFETCH : 0);
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > MAX_PREFETCH) throw new RangeError(`prefetch must be an integer from 0 to ${MAX_PREFETCH}, not ${prefetch}`);
  const section = {
    abi: ABI_VERSION, compiler: COMPILER_VERSION, source: options.file,
    sourceHash: 'sha256:' + createHash('sha256').update(Buffer.from(source, 'latin1')).digest('hex'),
    options: { fuel, optimize, shrink, prefetch },
    // the Lua engine's text; the count is this compile option (a host that sets another fuel_limit may restate it)
    errors: ir.sites.map((s) => ({ message: s.message === FUEL_MESSAGE ? `${FUEL_MESSAGE} (${fuel} steps)` : s.message, line: s.line, column: s.column })),
  };
  try {
    const out = codegen(binaryen, ir, { optimize, shrink, fuel, section, wantText: !!options.wat, simd: options.simd ?? true, heapBytes: options.heapMemory, prefetch });
    return { ok: true, wasm: out.wasm, wat: out.wat, reasons: [], stage: 'wasm', ir };
  } catch (e) {
    return internalError('wasm', e);
  }
}

// ---- the chain ---------------------------------------------------------------------

/** What the passes before codegen made, up to the one that ran last. */
type Front =
  | { stage: 'parse' | 'unroll'; parsed: ParseResult }
  | { stage: 'check'; parsed: ParseResult; checked: CheckResult }
  | { stage: 'ir'; parsed: ParseResult; checked: CheckResult; ir: IRModule };

/** Runs the passes before codegen in order, returning after `stop` or at the first failure. */
function front(source: string, file: string, stop: Exclude<Stage, 'wasm'>): Front | CompileFailure {
  const parsed = parsePass(source, file);
  if (failed(parsed)) return parsed;
  if (stop === 'parse') return { stage: stop, parsed };
  unrollPass(parsed);
  if (stop === 'unroll') return { stage: stop, parsed };
  const checked = checkPass(parsed);
  if (failed(checked)) return checked;
  if (stop === 'check') return { stage: stop, parsed, checked };
  const ir = lowerPass(parsed, checked);
  if (failed(ir)) return ir;
  return { stage: 'ir', parsed, checked, ir };
}

/** Decides the engine for a script without loading binaryen. */
export function checkScript(source: string, options: { file: string }): CheckScriptResult {
  const r = front(source, options.file, 'ir');
  if (failed(r)) return { engine: 'lua', reasons: r.reasons, details: r.details, errors: r.errors };
  return { engine: 'wasm', reasons: [], details: [], errors: [] };
}

export async function compile(source: string, options: CompileOptions): Promise<CompileResult> {
  // a larger budget would wrap in the i32 global, not run longer
  const fuel = options.fuel;
  if (fuel !== undefined && (!Number.isInteger(fuel) || fuel < 1 || fuel > MAX_FUEL)) {
    throw new RangeError(`fuel must be an integer from 1 to ${MAX_FUEL}, not ${fuel}`);
  }
  const stop = options.stopAfter ?? 'wasm';
  const r = front(source, options.file, stop === 'wasm' ? 'ir' : stop);
  if (failed(r)) return r;
  if (r.stage !== 'ir' || stop === 'ir') return stopped(r);
  return codegenPass(source, r.ir, options);
}

// ---- dumps -------------------------------------------------------------------------

/** The result of a compile stopped before codegen: the last pass's output as text. */
function stopped(r: Front): CompileSuccess {
  const none = new Uint8Array();
  switch (r.stage) {
    case 'parse': case 'unroll': return { ok: true, wasm: none, reasons: [], stage: r.stage, dump: dumpAst(r.parsed) };
    case 'check': return { ok: true, wasm: none, reasons: [], stage: r.stage, dump: dumpCheck(r.checked) };
    case 'ir': return { ok: true, wasm: none, reasons: [], stage: r.stage, ir: r.ir, dump: printModule(r.ir) };
  }
}

function dumpAst(p: ParseResult): string {
  return JSON.stringify(p.ast, (k, v) => (k === 'loc' || k === 'range' ? undefined : v), 1);
}

function dumpCheck(c: CheckResult): string {
  const out: string[] = [];
  // a global never assigned (a builtin the script names: math, string, ...) is only nil: not listed
  for (const v of c.vars) if (v.kind !== 'global' || v.ty.m !== NIL)
    out.push(`${v.line}:${v.column}: ${v.kind} ${v.name}: ${tyName(v.ty)}`);
  for (const f of c.fns) out.push(`function ${f.name}: returns ${tyName(f.retTy)}`);
  for (const l of c.layouts) out.push(`layout #${l.id} (${l.line}:${l.column}): ` +
    [...l.fields.values()].map((f) => `${f.name}={${f.offset},${f.length}${f.kind === 'string' ? ',string' : ''}${f.little ? ',little' : ''}}`).join(' '));
  return out.join('\n');
}
