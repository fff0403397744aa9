// The compiler driver: parse → check → lower → codegen, each pass returning
// its result or its errors as data. binaryen is imported only by compile()
// when it reaches codegen, so parse/check stay cheap.
import { createHash } from 'node:crypto';
import type { CheckResult, Reason } from './check-result.js';
import { check } from './check.js';
import { FUEL_MESSAGE } from './lower-base.js';
import { lower } from './lower.js';
import { parse, formatError, type ParseResult, type SourceError } from './parse.js';
import { printModule, type IRModule } from './ir.js';
import { tyName } from './types.js';

export { parse, formatError, type SourceError, type Reason };

export const ABI_VERSION = 1;
export const COMPILER_VERSION = 'luapf 0.1.0';
/** packets ahead the batch loop touches when the script reads at packet-computed offsets (why: docs/ABI.md) */
const DEFAULT_PREFETCH = 16;

export type Stage = 'parse' | 'check' | 'ir' | 'wasm';

export interface CompileOptions {
  /** chunk name used in messages (usually the script's file name) */
  file: string;
  /** default per-packet fuel written into the module (the host may change `fuel_limit`) */
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
  /** bytes of the region holding mutable module-level tables (default 16 MiB; filling it is the runtime error "not enough memory") */
  tableMemory?: number;
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
  /** `--dump parse|check|ir` text of the last pass run */
  dump?: string;
  ir?: IRModule;
  reasons: [];
  stage: Stage;
}

export interface CompileFailure {
  ok: false;
  /** the pass that failed */
  stage: 'parse' | 'check' | 'ir' | 'wasm';
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

/** Decides the engine for a script without loading binaryen. */
export function checkScript(source: string, options: { file: string }): CheckScriptResult {
  const r = front(source, options.file);
  if ('stage' in r) return { engine: 'lua', reasons: r.reasons, details: r.details, errors: r.errors };
  return { engine: 'wasm', reasons: [], details: [], errors: [] };
}

function front(source: string, file: string): CompileFailure | { p: ParseResult; c: CheckResult; ir: IRModule } {
  const p = parse(source, file);
  if (!p.ok) return { ok: false, stage: 'parse', errors: p.errors, reasons: p.errors.map(formatError), details: p.errors };
  const c = check(p);
  if (!c.ok) return { ok: false, stage: 'check', errors: [], reasons: c.reasons.map(fmt), details: c.reasons };
  let l: ReturnType<typeof lower>;
  try {
    l = lower(p, c);
  } catch (e) {
    const d = { line: 1, column: 1, message: `compiler error: ${(e as Error).message}` };
    return { ok: false, stage: 'ir', errors: [], reasons: [fmt(d)], details: [d] };
  }
  if (!l.ok) return { ok: false, stage: 'ir', errors: [], reasons: l.reasons.map(fmt), details: l.reasons };
  return { p, c, ir: l.ir };
}

let binaryenPromise: Promise<typeof import('binaryen').default> | undefined;
function loadBinaryen() {
  binaryenPromise ??= import('binaryen').then((m) => m.default);
  return binaryenPromise;
}

function dumpCheck(c: CheckResult): string {
  const out: string[] = [];
  for (const v of c.vars) if (v.kind !== 'global' || v.ty.m !== 1)
    out.push(`${v.line}:${v.column}: ${v.kind} ${v.name}: ${tyName(v.ty)}`);
  for (const f of c.fns) out.push(`function ${f.name}: returns ${tyName(f.retTy)}`);
  for (const l of c.layouts) out.push(`layout #${l.id} (${l.line}:${l.column}): ` +
    [...l.fields.values()].map((f) => `${f.name}={${f.offset},${f.length}${f.kind === 'string' ? ',string' : ''}${f.little ? ',little' : ''}}`).join(' '));
  return out.join('\n');
}

export async function compile(source: string, options: CompileOptions): Promise<CompileResult> {
  const stop = options.stopAfter ?? 'wasm';
  if (stop === 'parse') {
    const p = parse(source, options.file);
    if (!p.ok) return { ok: false, stage: 'parse', errors: p.errors, reasons: p.errors.map(formatError), details: p.errors };
    return { ok: true, wasm: new Uint8Array(), reasons: [], stage: 'parse', dump: JSON.stringify(p.ast, (k, v) => (k === 'loc' || k === 'range' ? undefined : v), 1) };
  }
  if (stop === 'check') {
    const p = parse(source, options.file);
    if (!p.ok) return { ok: false, stage: 'parse', errors: p.errors, reasons: p.errors.map(formatError), details: p.errors };
    const c = check(p);
    if (!c.ok) return { ok: false, stage: 'check', errors: [], reasons: c.reasons.map(fmt), details: c.reasons };
    return { ok: true, wasm: new Uint8Array(), reasons: [], stage: 'check', dump: dumpCheck(c) };
  }
  const r = front(source, options.file);
  if ('stage' in r) return r;
  if (stop === 'ir') return { ok: true, wasm: new Uint8Array(), reasons: [], stage: 'ir', ir: r.ir, dump: printModule(r.ir) };
  const binaryen = await loadBinaryen();
  const { codegen } = await import('./codegen.js');
  const fuel = options.fuel ?? 1_000_000;
  const optimize = options.optimize ?? 3;
  const shrink = options.shrink ?? 0;
  const prefetch = options.prefetch ?? (r.ir.dependentReads ? DEFAULT_PREFETCH : 0);
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 65535) throw new RangeError(`prefetch must be an integer from 0 to 65535, not ${prefetch}`);
  const section = {
    abi: ABI_VERSION, compiler: COMPILER_VERSION, source: options.file,
    sourceHash: 'sha256:' + createHash('sha256').update(Buffer.from(source, 'latin1')).digest('hex'),
    options: { fuel, optimize, shrink, prefetch },
    // the Lua engine's text; the count is this compile option (a host that sets another fuel_limit may restate it)
    errors: r.ir.sites.map((s) => ({ message: s.message === FUEL_MESSAGE ? `${FUEL_MESSAGE} (${fuel} steps)` : s.message, line: s.line, column: s.column })),
  };
  try {
    const out = codegen(binaryen, r.ir, { optimize, shrink, fuel, section, wantText: !!options.wat, simd: options.simd ?? true, tableBytes: options.tableMemory, prefetch });
    return { ok: true, wasm: out.wasm, wat: out.wat, reasons: [], stage: 'wasm', ir: r.ir };
  } catch (e) {
    const d = { line: 1, column: 1, message: `compiler error: ${(e as Error).message}` };
    return { ok: false, stage: 'wasm', errors: [], reasons: [fmt(d)], details: [d] };
  }
}
