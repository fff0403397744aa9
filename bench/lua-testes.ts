// `npm run testes -- [DIR] [--out FILE] [--interp] [--tag TAG]`: Lua's own
// test suite as a measure of how much real Lua luapf compiles (issue 13).
//
// DIR (or $LUA_TESTES) is a local checkout of testes/ from a Lua 5.4 tag,
// e.g. `git --git-dir=MIRROR archive v5.4.6 testes | tar x -C /tmp/lua-testes`;
// nothing of Lua's is copied into this repository. From the files about
// expressions, strings, patterns, math, bitwise operations, tables, closures
// and varargs, every `assert(EXPR)` statement whose free names are standard
// globals of the sandbox (found with luaparse: EXPR cannot depend on the
// file's state or varargs) becomes a filter
//     function filter(pkt) return not not (EXPR) end
// An assert that reads the file's locals is kept too when their declarations
// can be copied into the filter before the return (locals never assigned
// again, whose values read only standard globals and other such locals: the
// `local pack = string.pack` of tpack.lua, `local maxint = math.maxinteger`
// of math.lua, local helper functions); the summary counts those apart.
// Debian's lua5.4 runs each one through test/independent/harness.lua on one
// packet: it must accept (a case lua5.4 rejects or fails on is dropped: it
// needed context the extraction removed). Then `luapf check` decides the
// engine; a case that compiles runs compiled, and must accept too. A
// compiled case that does not is "wrong": a compiler bug. With --interp,
// luapf's interpreter runs every case as well.
//
// Prints a summary and writes JSON (default bench-results/testes.json):
// extracted, compiled, agreeing, wrong (listed), and the first reasons of
// `luapf check` for the cases that do not compile, most frequent first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Node } from 'luaparse';
import { checkScript, parse } from '../compiler/index.js';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { EngineUnavailableError, loadEngine } from '../runtime/engine/load.js';

const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();
const HARNESS = join(REPO_ROOT, 'test', 'independent', 'harness.lua');

/** The testes files the issue names: expressions, strings, patterns, math, bitwise, tables, closures, varargs. */
export const TESTES_FILES = ['strings.lua', 'math.lua', 'bitwise.lua', 'pm.lua', 'nextvar.lua', 'closure.lua',
  'vararg.lua', 'constructs.lua', 'tpack.lua', 'sort.lua', 'literals.lua'];

/** Globals a case may name: the sandbox's standard ones (DESIGN.md §2), nothing a file could have set. */
const ALLOWED = new Set(['assert', 'error', 'getmetatable', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', 'rawget',
  'rawlen', 'rawset', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'xpcall', '_VERSION', 'string',
  'table', 'math']);

export interface TestesCase {
  /** "file:line" of the assert */
  id: string;
  file: string;
  line: number;
  /** the asserted expression, as written */
  expr: string;
  /** declarations of the file's locals copied into the filter before it (0: the expression names only standard globals) */
  locals: number;
  /** the filter script made of it */
  script: string;
}

export interface Extraction {
  cases: TestesCase[];
  /** per file: assert statements seen, and how many were self-contained (before dropping duplicates) */
  files: Record<string, { asserts: number; selfContained: number }>;
  /** lines blanked out because luapf's parser (luaparse, Lua 5.3 syntax) could not read them; one-line asserts among them are still cases */
  unparsed: string[];
}

/** The directory holding the testes files: DIR itself or DIR/testes. */
export function testesDir(dir: string): string {
  return existsSync(join(dir, 'strings.lua')) ? dir : join(dir, 'testes');
}

/** A local variable of a testes file: where it is declared, and whether a case may copy its declaration. */
interface Binding {
  name: string;
  /** the declaring LocalStatement or local FunctionDeclaration; undefined for parameters and loop variables */
  decl?: AnyNode;
  /** assigned after its declaration somewhere: its declaration does not give its value */
  mutated: boolean;
  /** what the declaration reads: other locals, and whether it names a global outside ALLOWED or an outer `...` */
  deps: Set<Binding>;
  foreign: boolean;
}
type Scope = Map<string, Binding>;
type AnyNode = Node & Record<string, unknown>;

interface ScanHooks {
  /** a name read or assigned, with the scopes visible there */
  name?: (name: string, scopes: Scope[]) => void;
  /** `...` outside any function of the scanned tree */
  vararg?: () => void;
  /** a call statement, before its parts are scanned */
  call?: (call: AnyNode, scopes: Scope[]) => void;
  /** a local declaration's new bindings, with the scopes its values are read in */
  declared?: (bindings: Binding[], decl: AnyNode, scopes: Scope[]) => void;
}

const nameOf = (n: unknown) => (n as { name: string }).name;
const newBinding = (name: string, decl?: AnyNode): Binding => ({ name, decl, mutated: false, deps: new Set(), foreign: false });

function resolveName(name: string, scopes: Scope[]): Binding | undefined {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const b = scopes[i]!.get(name);
    if (b) return b;
  }
  return undefined;
}

/** A walk over a luaparse tree that keeps the locals visible at each point. */
function scan(n: AnyNode | null | undefined, scopes: Scope[], inFunction: boolean, hooks: ScanHooks): void {
  if (!n || typeof n !== 'object') return;
  const go = (m: unknown, s = scopes, f = inFunction) => scan(m as AnyNode, s, f, hooks);
  const block = (body: unknown, locals: Scope = new Map(), f = inFunction) => {
    const inner = [...scopes, locals];
    for (const st of body as AnyNode[]) go(st, inner, f);
  };
  const params = (names: string[]): Scope => new Map(names.map((name) => [name, newBinding(name)]));
  const top = scopes[scopes.length - 1]!;
  switch (n.type) {
    case 'Identifier':
      hooks.name?.(nameOf(n), scopes);
      return;
    case 'VarargLiteral':
      if (!inFunction) hooks.vararg?.();
      return;
    case 'MemberExpression':                       // .identifier is a field name
      go(n.base);
      return;
    case 'TableKeyString':                         // .key is a field name
      go(n.value);
      return;
    case 'GotoStatement': case 'LabelStatement': case 'BreakStatement':
      return;
    case 'CallStatement':
      hooks.call?.(n.expression as AnyNode, scopes);
      go(n.expression);
      return;
    case 'AssignmentStatement':
      for (const v of n.variables as AnyNode[]) {
        if (v.type === 'Identifier') {
          const b = resolveName(nameOf(v), scopes);
          if (b) b.mutated = true;
        }
      }
      break;                                       // then read as usual
    case 'LocalStatement': {
      for (const e of n.init as unknown[]) go(e);
      const bindings = (n.variables as unknown[]).map((v) => newBinding(nameOf(v), n));
      hooks.declared?.(bindings, n, scopes);
      for (const b of bindings) top.set(b.name, b);
      return;
    }
    case 'FunctionDeclaration': {
      if (n.isLocal && n.identifier) {
        const b = newBinding(nameOf(n.identifier), n);
        top.set(b.name, b);                        // visible in its own body
        hooks.declared?.([b], n, scopes);
      } else if (n.identifier) {
        go(n.identifier);
      }
      block(n.body, params((n.parameters as AnyNode[]).filter((p) => p.type === 'Identifier').map(nameOf)), true);
      return;
    }
    case 'ForNumericStatement':
      for (const e of [n.start, n.end, n.step]) go(e);
      block(n.body, params([nameOf(n.variable)]));
      return;
    case 'ForGenericStatement':
      for (const e of n.iterators as unknown[]) go(e);
      block(n.body, params((n.variables as unknown[]).map(nameOf)));
      return;
    case 'RepeatStatement': {
      const locals: Scope = new Map();
      block(n.body, locals);
      go(n.condition, [...scopes, locals]);          // `until` sees the body's locals
      return;
    }
    case 'WhileStatement': case 'DoStatement':
      go(n.condition);
      block(n.body);
      return;
    case 'IfStatement':
      for (const c of n.clauses as AnyNode[]) {
        go(c.condition);
        block(c.body);
      }
      return;
    case 'Chunk':
      block(n.body);
      return;
  }
  for (const [k, v] of Object.entries(n)) {
    if (k === 'loc' || k === 'range') continue;
    if (Array.isArray(v)) for (const x of v) go(x);
    else if (v && typeof v === 'object') go(v);
  }
}

/** Free names of a tree (those it does not bind itself), and whether it uses `...` of an enclosing function. */
function freeNames(node: AnyNode, bound: string[] = []): { names: Set<string>; vararg: boolean } {
  const names = new Set<string>();
  let vararg = false;
  scan(node, [new Map(bound.map((b) => [b, newBinding(b)])), new Map()], false, {
    name: (name, scopes) => { if (!resolveName(name, scopes)) names.add(name); },
    vararg: () => { vararg = true; },
  });
  return { names, vararg };
}

/** Resolves free names where they are read: locals become dependencies; another global, or `...`, makes it foreign. */
function dependencies(node: AnyNode, scopes: Scope[], bound: string[] = []): { deps: Set<Binding>; foreign: boolean } {
  const { names, vararg } = freeNames(node, bound);
  const deps = new Set<Binding>();
  let foreign = vararg;
  for (const name of names) {
    const b = resolveName(name, scopes);
    if (b) deps.add(b);
    else if (!ALLOWED.has(name)) foreign = true;
  }
  return { deps, foreign };
}

/**
 * The declarations a case needs, in source order, or undefined when one of
 * them cannot be copied: a parameter or loop variable, a local assigned after
 * its declaration, one that reads another global or `...`, or two that
 * declare the same name.
 */
function closure(deps: Set<Binding>): AnyNode[] | undefined {
  const decls = new Set<AnyNode>();
  const todo = [...deps];
  const done = new Set<Binding>();
  while (todo.length > 0) {
    const b = todo.pop()!;
    if (done.has(b)) continue;
    done.add(b);
    if (!b.decl || b.mutated || b.foreign) return undefined;
    decls.add(b.decl);
    todo.push(...b.deps);
  }
  const names = new Set<string>();
  for (const d of decls) {
    const declared = d.type === 'LocalStatement' ? (d.variables as unknown[]).map(nameOf) : [nameOf(d.identifier)];
    for (const name of declared) {
      if (names.has(name)) return undefined;
      names.add(name);
    }
  }
  return [...decls].sort((a, b) => (a.range as number[])[0]! - (b.range as number[])[0]!);
}

/**
 * Parses a testes file with luapf's parser (luaparse plus Lua 5.4
 * attributes), blanking the lines it cannot read; returns their original text.
 */
function parseLenient(source: string, file: string, unparsed: string[]): { ast: Node; text: string; blanked: Map<number, string> } | undefined {
  let text = source;
  const blanked = new Map<number, string>();
  const original = source.split('\n');
  for (let attempt = 0; attempt < 50; attempt++) {
    const r = parse(text, file);
    if (r.ok) return { ast: r.ast, text, blanked };
    const line = r.errors[0]?.line ?? 1;
    unparsed.push(`${file}:${line}: ${r.errors[0]?.message ?? 'syntax error'}`);
    blanked.set(line, original[line - 1] ?? '');
    const lines = text.split('\n');
    lines[line - 1] = ' '.repeat(lines[line - 1]?.length ?? 0);
    text = lines.join('\n');
  }
  return undefined;
}

const KEYWORDS = new Set(['and', 'false', 'nil', 'not', 'or', 'true']);

/**
 * A one-line `assert(EXPR)` the parser could not read, when EXPR's names
 * (outside string literals, not inside numerals) are standard globals: a
 * case all the same, which `luapf check` will call a syntax error.
 */
function unparsedAssert(line: string): string | undefined {
  const m = /^\s*assert\s*\((.*)\)\s*(--.*)?$/.exec(line);
  if (!m) return undefined;
  const expr = m[1]!;
  const code = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  if (/\[=*\[|--/.test(code)) return undefined;
  const names = code.match(/(?<![\w.])[A-Za-z_]\w*/g) ?? [];
  return names.every((n) => ALLOWED.has(n) || KEYWORDS.has(n)) ? expr : undefined;
}

/** Every self-contained `assert(EXPR)` of the testes files, as filters, without duplicates. */
export function extractCases(dir: string): Extraction {
  const root = testesDir(dir);
  const cases: TestesCase[] = [];
  const seen = new Set<string>();
  const files: Extraction['files'] = {};
  const unparsed: string[] = [];
  for (const file of TESTES_FILES) {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${path}: no such file (is ${dir} a Lua 5.4 testes/ directory?)`);
    const parsed = parseLenient(readFileSync(path, 'latin1'), file, unparsed);
    const stats = { asserts: 0, selfContained: 0 };
    files[file] = stats;
    if (!parsed) continue;
    const { ast, text, blanked } = parsed;
    const script = (id: string, prelude: string[], expr: string) =>
      `-- ${id} (Lua's testes), extracted by bench/lua-testes.ts\nfunction filter(pkt)\n`
      + prelude.map((d) => `${d.split('\n').map((l) => `  ${l}`).join('\n')}\n`).join('')
      + `  return not not (\n${expr}\n  )\nend\n`;
    for (const [line, original] of blanked) {
      const expr = unparsedAssert(original);
      if (expr === undefined) continue;
      stats.asserts++;
      stats.selfContained++;
      cases.push({ id: `${file}:${line}`, file, line, expr, locals: 0, script: script(`${file}:${line}`, [], expr) });
    }
    const pending: { arg: AnyNode; deps: Set<Binding> }[] = [];
    scan(ast as unknown as AnyNode, [new Map()], false, {
      declared: (bindings, decl, scopes) => {
        // a local function's body reads its parameters and itself; a local statement reads its values
        const r = decl.type === 'FunctionDeclaration'
          ? dependencies(decl, scopes, [nameOf(decl.identifier)])
          : (decl.init as AnyNode[]).map((e) => dependencies(e, scopes))
            .reduce((a, x) => ({ deps: new Set([...a.deps, ...x.deps]), foreign: a.foreign || x.foreign }), { deps: new Set<Binding>(), foreign: false });
        for (const b of bindings) {
          b.deps = r.deps;
          b.foreign = r.foreign;
        }
      },
      call: (call, scopes) => {
        const base = call.base as AnyNode;
        if (call.type !== 'CallExpression' || base.type !== 'Identifier' || base.name !== 'assert' || resolveName('assert', scopes)) return;
        stats.asserts++;
        const arg = (call.arguments as AnyNode[])[0];
        if (!arg) return;
        const { deps, foreign } = dependencies(arg, scopes);
        if (!foreign) pending.push({ arg, deps });
      },
    });
    // Mutations are known once the whole file is read.
    for (const { arg, deps } of pending) {
      const decls = closure(deps);
      if (decls === undefined) continue;
      stats.selfContained++;
      const slice = (n: AnyNode) => text.slice(...(n.range as [number, number]));
      const expr = slice(arg);
      const prelude = decls.map(slice);
      const key = `${file}\0${prelude.join('\n')}\0${expr}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const line = (arg.loc as { start: { line: number } }).start.line;
      cases.push({ id: `${file}:${line}`, file, line, expr, locals: decls.length, script: script(`${file}:${line}`, prelude, expr) });
    }
  }
  return { cases, files, unparsed };
}

// ------------------------------------------------------------ running the cases

/** A one-packet pcap (raw IPv4/UDP): the cases never look at pkt. */
function onePacketPcap(path: string): void {
  const pkt = Buffer.from('45000020000100004011000a0a0000010a000002303900350000000c000074657374', 'hex');
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(101, 20);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1_700_000_000, 0);
  rec.writeUInt32LE(pkt.length, 8);
  rec.writeUInt32LE(pkt.length, 12);
  writeFileSync(path, Buffer.concat([head, rec, pkt]));
}

export type Verdict = 'accept' | 'reject' | 'error';

/** lua5.4 through the independent harness, `jobs` processes at a time. */
async function runLua54(cases: TestesCase[], dir: string, capture: string, jobs = 2): Promise<Verdict[]> {
  const out: Verdict[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const file = join(dir, `case-${i}.lua`);
      writeFileSync(file, cases[i]!.script, 'latin1');
      out[i] = await new Promise<Verdict>((resolveVerdict) => {
        const child = spawn('lua5.4', [HARNESS, file, capture], { stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          const [, , accepted, , errors] = stdout.trim().split('\t');
          if (code !== 0 || errors !== '0') resolveVerdict('error');
          else resolveVerdict(accepted === '1' ? 'accept' : 'reject');
        });
      });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return out;
}

const PACKET = {
  bytes: new Uint8Array(Buffer.from('45000020000100004011000a0a0000010a000002303900350000000c000074657374', 'hex')),
  offsets: Uint32Array.of(0), lengths: Uint32Array.of(32),
  timestampsSec: Float64Array.of(1_700_000_000), timestampsNsec: Uint32Array.of(0), count: 1,
};
const CODE: Record<number, Verdict> = { [ACCEPT]: 'accept', [REJECT]: 'reject', [ERROR]: 'error' };

/** One case on one luapf engine: its verdict and error message, or undefined if it does not compile. */
async function runLuapf(c: TestesCase, engine: 'wasm' | 'lua'): Promise<{ verdict: Verdict; message?: string } | { reason: string }> {
  let filter;
  try {
    filter = await loadEngine({ source: c.script, name: c.id, engine });
  } catch (e) {
    if (e instanceof EngineUnavailableError) return { reason: e.reasons[0] ?? e.message };
    return { reason: `internal: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    const v = new Uint8Array(1);
    const errors = filter.filterBatch(PACKET, v);
    return { verdict: CODE[v[0]!]!, message: errors[0]?.message };
  } finally {
    filter.close();
  }
}

export interface WrongCase { id: string; expr: string; locals: number; verdict: Verdict; message?: string }

export interface TestesResult {
  testes: string;
  tag?: string;
  lua: string;
  files: Record<string, { asserts: number; selfContained: number; extracted: number; compiled: number; agreeing: number }>;
  unparsed: string[];
  /** self-contained asserts, without duplicates */
  candidates: number;
  /** candidates lua5.4 does not accept on its own (they needed the file's context) */
  dropped: number;
  /** the measured cases: candidates lua5.4 accepts */
  extracted: number;
  compiled: number;
  agreeing: number;
  wrong: WrongCase[];
  /** the same counts over the cases whose expression names only standard globals (no copied locals) */
  standalone: { extracted: number; compiled: number; agreeing: number; wrong: number };
  /** `luapf check` said wasm but the compile failed */
  compileFailures: { id: string; reason: string }[];
  /** first reason of `luapf check` for the cases that do not compile, most frequent first, with one example */
  reasons: { reason: string; count: number; example: string }[];
  /** with --interp: luapf's interpreter against lua5.4 */
  interpreter?: { agreeing: number; disagreeing: WrongCase[] };
}

export interface MeasureOptions {
  tag?: string;
  /** also run every case on luapf's interpreter */
  interp?: boolean;
  /** lua5.4 processes at a time (default 2) */
  jobs?: number;
  log?: (line: string) => void;
}

export async function measureTestes(dir: string, options: MeasureOptions = {}): Promise<TestesResult> {
  const log = options.log ?? (() => {});
  const { cases, files, unparsed } = extractCases(dir);
  log(`extracted ${cases.length} self-contained asserts from ${TESTES_FILES.length} files`);
  const tmp = mkdtempSync(join(tmpdir(), 'luapf-testes-'));
  let expected: Verdict[];
  try {
    const capture = join(tmp, 'one.pcap');
    onePacketPcap(capture);
    expected = await runLua54(cases, tmp, capture, options.jobs);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const kept = cases.filter((_, i) => expected[i] === 'accept');
  log(`lua5.4 accepts ${kept.length}; dropped ${cases.length - kept.length}`);

  const perFile: TestesResult['files'] = {};
  for (const [f, s] of Object.entries(files)) perFile[f] = { ...s, extracted: 0, compiled: 0, agreeing: 0 };
  const reasons = new Map<string, { count: number; example: string }>();
  const wrong: WrongCase[] = [];
  const compileFailures: TestesResult['compileFailures'] = [];
  let compiled = 0;
  let agreeing = 0;
  const standalone = { extracted: 0, compiled: 0, agreeing: 0, wrong: 0 };
  const interp = options.interp ? { agreeing: 0, disagreeing: [] as WrongCase[] } : undefined;
  for (const c of kept) {
    const fileStats = perFile[c.file]!;
    fileStats.extracted++;
    const alone = c.locals === 0;
    if (alone) standalone.extracted++;
    if (interp) {
      const r = await runLuapf(c, 'lua');
      if ('verdict' in r && r.verdict === 'accept') interp.agreeing++;
      else interp.disagreeing.push({ id: c.id, expr: c.expr, locals: c.locals, verdict: 'verdict' in r ? r.verdict : 'error', message: 'verdict' in r ? r.message : r.reason });
    }
    const check = checkScript(c.script, { file: c.id });
    let reason = check.errors.length > 0 ? `syntax error: ${check.errors[0]!.message}`
      : check.engine === 'wasm' ? undefined : check.reasons[0] ?? 'no reason given';
    if (reason === undefined) {
      const r = await runLuapf(c, 'wasm');
      if ('reason' in r) {
        compileFailures.push({ id: c.id, reason: r.reason });
        reason = `compile: ${r.reason.replace(/^\d+:\d+: /, '')}`;
      } else {
        compiled++;
        fileStats.compiled++;
        if (alone) standalone.compiled++;
        if (r.verdict === 'accept') {
          agreeing++;
          fileStats.agreeing++;
          if (alone) standalone.agreeing++;
        } else {
          wrong.push({ id: c.id, expr: c.expr, locals: c.locals, verdict: r.verdict, message: r.message });
          if (alone) standalone.wrong++;
        }
        continue;
      }
    }
    const key = reason.replace(/^\d+:\d+: /, '');
    const entry = reasons.get(key) ?? { count: 0, example: c.id };
    entry.count++;
    reasons.set(key, entry);
  }
  const lua = spawnSync('lua5.4', ['-v'], { encoding: 'latin1' }).stdout.trim();
  return {
    testes: testesDir(dir), tag: options.tag, lua, files: perFile, unparsed,
    candidates: cases.length, dropped: cases.length - kept.length, extracted: kept.length, compiled, agreeing, wrong,
    standalone, compileFailures,
    reasons: [...reasons].map(([reason, e]) => ({ reason, ...e })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    interpreter: interp,
  };
}

export function summary(r: TestesResult, top = 15): string {
  const pct = (n: number) => (r.extracted ? ((100 * n) / r.extracted).toFixed(1) : '0');
  const lines = [
    `Lua testes ${r.tag ?? ''} (${r.testes}), expected verdicts from ${r.lua}`,
    `  extracted ${r.extracted} (self-contained asserts ${r.candidates}, dropped ${r.dropped} that lua5.4 does not accept alone)`,
    `  compiled ${r.compiled} (${pct(r.compiled)}%), agreeing ${r.agreeing}, wrong ${r.wrong.length}`,
    `  of which naming only standard globals: extracted ${r.standalone.extracted}, compiled ${r.standalone.compiled}, `
      + `agreeing ${r.standalone.agreeing}, wrong ${r.standalone.wrong}; the others copy the file's locals they read`,
  ];
  if (r.interpreter) lines.push(`  interpreter: agreeing ${r.interpreter.agreeing}, disagreeing ${r.interpreter.disagreeing.length}`);
  lines.push('  per file (extracted / compiled / agreeing):');
  for (const [f, s] of Object.entries(r.files)) lines.push(`    ${f.padEnd(15)} ${s.extracted} / ${s.compiled} / ${s.agreeing}`);
  if (r.wrong.length) {
    lines.push('  wrong (compiled, but the verdict is not lua5.4\'s):');
    for (const w of r.wrong) lines.push(`    ${w.id}: ${w.verdict}${w.message ? ` (${w.message})` : ''}: ${w.expr.replace(/\s+/g, ' ').slice(0, 120)}`);
  }
  if (r.interpreter?.disagreeing.length) {
    lines.push('  interpreter disagrees with lua5.4:');
    for (const w of r.interpreter.disagreeing) lines.push(`    ${w.id}: ${w.verdict}${w.message ? ` (${w.message})` : ''}: ${w.expr.replace(/\s+/g, ' ').slice(0, 120)}`);
  }
  lines.push(`  first reasons of luapf check, most frequent first (${r.extracted - r.compiled} cases):`);
  for (const x of r.reasons.slice(0, top)) lines.push(`    ${String(x.count).padStart(4)}  ${x.reason}  (e.g. ${x.example})`);
  if (r.unparsed.length) lines.push(`  lines luapf's parser could not read (blanked; one-line asserts kept as cases): ${r.unparsed.join('; ')}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  let dir = process.env.LUA_TESTES;
  let out = join(REPO_ROOT, 'bench-results', 'testes.json');
  let tag: string | undefined;
  let interp = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = resolve(argv[++i] ?? '');
    else if (a === '--tag') tag = argv[++i];
    else if (a === '--interp') interp = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else dir = a;
  }
  if (dir === undefined) {
    process.stderr.write('usage: npm run testes -- DIR [--out FILE] [--tag TAG] [--interp]   (or LUA_TESTES=DIR)\n'
      + '  DIR: a Lua 5.4 testes/ checkout, e.g. git --git-dir=MIRROR archive v5.4.6 testes | tar x -C /tmp/lua-testes\n');
    process.exit(2);
  }
  if (spawnSync('lua5.4', ['-v']).status !== 0) {
    process.stderr.write('lua5.4 is not installed: it gives the expected verdicts (apt-get install lua5.4)\n');
    process.exit(1);
  }
  const result = await measureTestes(resolve(dir), { tag, interp, log: (l) => process.stderr.write(`${l}\n`) });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${summary(result)}\nwritten to ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}

