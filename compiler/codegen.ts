// Pass 4: typed IR → Binaryen module, per docs/ABI.md. binaryen is passed
// in by index.ts, which loads it lazily.
import {
  DESCRIPTOR_BYTES, DESCRIPTOR_LENGTH, DESCRIPTOR_OFFSET, DESCRIPTOR_TIME, MAX_PAGES, PAGE_BYTES, SECTION_NAME, VERDICT_BYTES, VERDICT_ERROR,
} from './abi.js';
import { isBool, typeOf, type Expr, type IRFunc, type IRModule, type Stmt, type WType } from './ir.js';
import { emitPatternMatcher } from './patterns/index.js';
import { CONST_BASE, stringMemory } from './strings/layout.js';
import { arenaReset, emitStringRuntime } from './strings/runtime.js';
import { heapMemory } from './heap/layout.js';
import { collectIfNeeded, emitHeapGc } from './heap/gc.js';
import { emitHeapTables } from './heap/tables.js';

type B = typeof import('binaryen').default;

// The `err` global holds site + ERR_BIAS, so that 0 means no error; the verdict word is VERDICT_ERROR + site.
const ERR_BIAS = 1;
const ERR_TO_VERDICT = VERDICT_ERROR - ERR_BIAS;
const DESCRIPTOR_SHIFT = Math.log2(DESCRIPTOR_BYTES);
const VERDICT_SHIFT = Math.log2(VERDICT_BYTES);
const PAGE_SHIFT = Math.log2(PAGE_BYTES);
type M = InstanceType<B['Module']>;

export interface CodegenOptions {
  optimize: number;
  shrink: number;
  fuel: number;
  /** JSON object written to the `luapf` custom section */
  section: Record<string, unknown>;
  wantText: boolean;
  /** whether the pattern matchers may use fixed-width SIMD */
  simd: boolean;
  /** bytes of one semispace of the heap (heap/layout.ts), when the script has run-time tables */
  heapBytes?: number;
  /** packets ahead whose first byte the batch loop touches (0: none) */
  prefetch: number;
}

/** packets per step of filter_count's loop (measured: docs/ABI.md, "Counting") */
const COUNT_UNROLL = 4;

/** binaryen's inlining limit (IR nodes) for functions called from more than one place */
const INLINE_MAX = 400;

export interface CodegenResult { wasm: Uint8Array; wat?: string; minPages: number }

const UN: Record<string, (m: M, a: number) => number> = {
  'i32.eqz': (m, a) => m.i32.eqz(a),
  'i64.eqz': (m, a) => m.i64.eqz(a),
  'i32.wrap_i64': (m, a) => m.i32.wrap(a),
  'i64.extend_i32_u': (m, a) => m.i64.extend_u(a),
  'i64.reinterpret_f64': (m, a) => m.i64.reinterpret(a),
  'f64.reinterpret_i64': (m, a) => m.f64.reinterpret(a),
  'f64.convert_i64_s': (m, a) => m.f64.convert_s.i64(a),
  'i64.trunc_f64_s': (m, a) => m.i64.trunc_s.f64(a),
  'f64.floor': (m, a) => m.f64.floor(a),
  'f64.ceil': (m, a) => m.f64.ceil(a),
  'f64.abs': (m, a) => m.f64.abs(a),
  'f64.neg': (m, a) => m.f64.neg(a),
};

export function codegen(binaryen: B, ir: IRModule, opts: CodegenOptions): CodegenResult {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt);
    // strings: constants in a data segment, the arena after them, heap_base past both
    const smem = ir.strings ? stringMemory(ir.strings.constants) : null;
    // run-time tables: their heap (two semispaces) follows
    const hmem = ir.heap ? heapMemory(smem ? smem.heapBase : CONST_BASE,
      CONST_BASE + (ir.strings?.constants.length ?? 0), opts.heapBytes) : null;
    const heapBase = hmem ? hmem.end : smem ? smem.heapBase : 0;
    const minPages = Math.max(1, Math.ceil(heapBase / PAGE_BYTES));
    const segments = smem && smem.constants.length
      ? [{ offset: m.i32.const(CONST_BASE), data: smem.constants, passive: false }] : [];
    m.setMemory(minPages, MAX_PAGES, null, segments, false, false, 'memory');
    m.addMemoryImport('memory', 'env', 'memory');
    const wt = (t: WType) => (t === 'i32' ? binaryen.i32 : t === 'i64' ? binaryen.i64 : binaryen.f64);
    const konst = (t: WType, v: number | bigint) => {
      if (t === 'i32') return m.i32.const(Number(v) | 0);
      if (t === 'f64') return m.f64.const(Number(v));
      return (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, BigInt(v)));
    };
    m.addGlobal('err', binaryen.i32, true, m.i32.const(0));
    m.addGlobal('fuel', binaryen.i32, true, m.i32.const(0));
    m.addGlobal('rtag', binaryen.i32, true, m.i32.const(0));
    m.addGlobal('fuel_limit', binaryen.i32, true, m.i32.const(opts.fuel | 0));
    m.addGlobal('cursor', binaryen.i32, true, m.i32.const(0));
    m.addGlobal('heap_base', binaryen.i32, false, m.i32.const(heapBase));
    // docs/ABI.md: every module may use these; others only where listed in the section's "features"
    const features = ['mutable-globals', 'sign-ext'];
    if (smem) {
      emitStringRuntime(binaryen, m, smem);
      // a pattern starting with one literal byte scans 16 bytes at a time (fixed-width SIMD, which
      // emitPatternMatcher enables on the module only when a matcher uses it)
      let simd = false;
      for (const p of ir.strings!.patterns) simd = emitPatternMatcher(m, p.bytes, p.name, { mode: p.mode, strict: true, simd: opts.simd }).usesSimd || simd;
      if (simd) features.push('simd128');
    }
    if (hmem) { emitHeapGc(binaryen, m, hmem); emitHeapTables(binaryen, m); }
    const resetArena = () => (smem ? [arenaReset(m, smem)] : []);
    for (const g of ir.globals) m.addGlobal(g.name, wt(g.ty), true, expr(g.init));

    function expr(e: Expr): number {
      switch (e.k) {
        case 'i32': case 'i64': case 'f64': return konst(e.k, e.v);
        case 'get': return m.local.get(e.l, wt(e.ty));
        case 'gget': return m.global.get(e.g, wt(e.ty));
        case 'un': {
          const f = UN[e.op];
          if (!f) throw new Error(`internal: unknown unary ${e.op}`);
          return f(m, expr(e.a));
        }
        case 'bin': {
          const [t, name] = e.op.split('.') as [string, string];
          const ns = (m as unknown as Record<string, Record<string, (a: number, b: number) => number>>)[t]!;
          const f = ns[name];
          if (!f) throw new Error(`internal: unknown binary ${e.op}`);
          return f.call(ns, expr(e.a), expr(e.b));
        }
        case 'if': return m.if(expr(e.c), expr(e.t), expr(e.f));
        case 'load8': return m.i64.load8_u(e.off, 1, expr(e.addr));
        case 'helper': return m.call(e.fn, e.args.map(expr), wt(e.ty));
      }
    }

    // a call needs the error check after it only if the callee can fail
    const mayFail = new Set<string>();
    const fails = (ss: Stmt[]): boolean => ss.some((x) =>
      x.k === 'error' || x.k === 'fuel' || (x.k === 'call' && mayFail.has(x.fn)) ||
      (x.k === 'if' && (fails(x.t) || fails(x.f))) || ((x.k === 'block' || x.k === 'loop') && fails(x.body)));
    for (let changed = true; changed;) {
      changed = false;
      for (const f of ir.funcs) if (!mayFail.has(f.name) && fails(f.body)) { mayFail.add(f.name); changed = true; }
    }

    let cur: IRFunc;
    const zeroRet = () => {
      const r = cur.results;
      if (r.length === 0) return m.return();
      return m.return(konst(r[r.length - 1]!, 0));
    };
    // Branching on an `and`/`or`/`not` tree (lazy i32 ifs) is emitted as jumps: as a value,
    // V8 would branch once to compute each i32 and again on the merged result.
    let jumpLabels = 0;
    const compound = (c: Expr): boolean => (c.k === 'if' && c.ty === 'i32') || (c.k === 'un' && c.op === 'i32.eqz' && compound(c.a));
    const zeroOne = (e: Expr): boolean => (e.k === 'i32' ? e.v === 0 || e.v === 1 : e.k === 'if' ? zeroOne(e.t) && zeroOne(e.f) : isBool(e));
    const isConst = (c: Expr, v: 0 | 1) => c.k === 'i32' && (v ? c.v !== 0 : c.v === 0);
    /** code that falls through when `c` is `want` (truthy or zero) and branches to `label` otherwise */
    function jumpUnless(c: Expr, want: boolean, label: string): number[] {
      if (c.k === 'i32') return (c.v !== 0) === want ? [] : [m.br(label)];
      if (c.k === 'un' && c.op === 'i32.eqz' && typeOf(c.a) === 'i32') return jumpUnless(c.a, !want, label);
      if (c.k === 'if' && c.ty === 'i32') {
        // `c.c and c.t` / `c.c or c.f` shapes need no block or one; the general lazy if two
        if (isConst(c.f, want ? 0 : 1)) return [...jumpUnless(c.c, true, label), ...jumpUnless(c.t, want, label)];
        if (isConst(c.t, want ? 0 : 1)) return [...jumpUnless(c.c, false, label), ...jumpUnless(c.f, want, label)];
        const skip = `$j${jumpLabels++}`;
        if (isConst(c.t, want ? 1 : 0)) return [m.block(skip, [...jumpUnless(c.c, false, skip), ...jumpUnless(c.f, want, label)], binaryen.none)];
        if (isConst(c.f, want ? 1 : 0)) return [m.block(skip, [...jumpUnless(c.c, true, skip), ...jumpUnless(c.t, want, label)], binaryen.none)];
        const other = `$j${jumpLabels++}`;
        return [m.block(skip, [
          m.block(other, [...jumpUnless(c.c, true, other), ...jumpUnless(c.t, want, label), m.br(skip)], binaryen.none),
          ...jumpUnless(c.f, want, label),
        ], binaryen.none)];
      }
      return [m.br(label, want ? m.i32.eqz(expr(c)) : expr(c))];
    }
    /** `if c then t else f` with `c` evaluated as jumps */
    function branchOn(c: Expr, t: number[], f: number[]): number {
      const end = `$j${jumpLabels++}`, otherwise = `$j${jumpLabels++}`;
      if (f.length === 0) return m.block(otherwise, [...jumpUnless(c, true, otherwise), ...t], binaryen.none);
      return m.block(end, [m.block(otherwise, [...jumpUnless(c, true, otherwise), ...t, m.br(end)], binaryen.none), ...f], binaryen.none);
    }
    const stmts = (ss: Stmt[]): number => (ss.length === 1 ? stmt(ss[0]!) : m.block(null, ss.map(stmt), binaryen.none));
    function stmt(s: Stmt): number {
      switch (s.k) {
        case 'set': return m.local.set(s.l, expr(s.e));
        case 'gset': return m.global.set(s.g, expr(s.e));
        case 'if':
          if (compound(s.c)) return branchOn(s.c, s.t.map(stmt), s.f.map(stmt));
          return m.if(expr(s.c), stmts(s.t), s.f.length ? stmts(s.f) : undefined);
        case 'block': return m.block(s.label, s.body.map(stmt), binaryen.none);
        case 'loop': return m.loop(s.label, stmts(s.body));
        case 'br':
          if (s.c && compound(s.c)) return m.block(null, jumpUnless(s.c, false, s.label), binaryen.none);
          return m.br(s.label, s.c ? expr(s.c) : undefined);
        case 'ret':
          // a 0/1 result (Lua boolean) made of comparisons is returned by jumps too
          if (s.e.length === 1 && compound(s.e[0]!) && zeroOne(s.e[0]!)) {
            return branchOn(s.e[0]!, [m.return(m.i32.const(1))], [m.return(m.i32.const(0))]);
          }
          if (s.e.length === 0) return m.return();
          if (s.e.length === 2) return m.block(null, [m.global.set('rtag', expr(s.e[0]!)), m.return(expr(s.e[1]!))], binaryen.none);
          return m.return(expr(s.e[0]!));
        case 'error': return m.block(null, [m.global.set('err', m.i32.const(s.site + ERR_BIAS)), zeroRet()], binaryen.none);
        case 'fuel': {
          const dec = m.global.set('fuel', m.i32.sub(m.global.get('fuel', binaryen.i32), m.i32.const(1)));
          return m.block(null, [dec, m.if(m.i32.lt_s(m.global.get('fuel', binaryen.i32), m.i32.const(0)), stmt({ k: 'error', site: s.site }))], binaryen.none);
        }
        case 'call': {
          const callee = ir.funcs.find((f) => f.name === s.fn)!;
          const rt = callee.results.length ? wt(callee.results[callee.results.length - 1]!) : binaryen.none;
          const c = m.call(s.fn, s.args.map(expr), rt);
          const out: number[] = [];
          if (s.dst.length === 0) out.push(rt === binaryen.none ? c : m.drop(c));
          else if (s.dst.length === 1) out.push(m.local.set(s.dst[0]!, c));
          else out.push(m.local.set(s.dst[1]!, c), m.local.set(s.dst[0]!, m.global.get('rtag', binaryen.i32)));
          if (s.status !== undefined) {
            out.push(m.local.set(s.status, m.i32.eqz(m.global.get('err', binaryen.i32))));
            if (mayFail.has(s.fn)) out.push(m.if(m.global.get('err', binaryen.i32), m.block(null, [
              m.if(m.i32.lt_s(m.global.get('fuel', binaryen.i32), m.i32.const(0)), zeroRet()),
              m.global.set('err', m.i32.const(0)),
            ], binaryen.none)));
          } else if (mayFail.has(s.fn)) out.push(m.if(m.global.get('err', binaryen.i32), zeroRet()));
          return m.block(null, out, binaryen.none);
        }
      }
    }

    for (const f of ir.funcs) {
      cur = f;
      const result = f.results.length ? wt(f.results[f.results.length - 1]!) : binaryen.none;
      const body = [...f.body.map(stmt)];
      if (f.results.length) body.push(m.unreachable());
      m.addFunction(f.name, binaryen.createType(f.params.map(wt)), result,
        f.locals.slice(f.params.length).map((l) => wt(l.ty)), m.block(null, body, binaryen.none));
    }

    // init(): runs the main chunk once
    const g32 = (n: string) => m.global.get(n, binaryen.i32);
    const errVerdict = () => m.select(g32('err'), m.i32.add(g32('err'), m.i32.const(ERR_TO_VERDICT)), m.i32.const(0));
    m.addFunction('init', binaryen.none, binaryen.i32, [], m.block(null, [
      m.global.set('err', m.i32.const(0)),
      ...resetArena(),
      ...(hmem ? [m.call('h_reset', [], binaryen.none)] : []),
      m.global.set('fuel', g32('fuel_limit')),
      m.call(ir.init, [], binaryen.none),
      m.return(errVerdict()),
    ], binaryen.none));

    // filter_batch(descs, count, verdicts): the per-packet loop stays inside Wasm
    const [DESCS, COUNT, VERD, I, D, R, AHEAD] = [0, 1, 2, 3, 4, 5, 6];
    const filterFails = mayFail.has(ir.filter);
    const l32 = (i: number) => m.local.get(i, binaryen.i32);
    // Touching packet i + prefetch (its first byte, when it lies in memory) starts its cache
    // miss before packet i's branches: after a mispredicted branch the CPU cannot run ahead
    // into the next packets' loads itself when their addresses come from packet bytes.
    const k = opts.prefetch;
    const touchAhead = k > 0 ? [
      m.local.set(AHEAD, m.i32.add(l32(DESCS), m.i32.shl(m.select(m.i32.lt_u(m.i32.add(l32(I), m.i32.const(k)), l32(COUNT)),
        m.i32.add(l32(I), m.i32.const(k)), m.i32.sub(l32(COUNT), m.i32.const(1))), m.i32.const(DESCRIPTOR_SHIFT)))),
      m.if(m.i32.and(m.i32.ne(m.i32.load(DESCRIPTOR_LENGTH, 4, l32(AHEAD)), m.i32.const(0)),
        m.i32.lt_u(m.i32.shr_u(m.i32.load(DESCRIPTOR_OFFSET, 4, l32(AHEAD)), m.i32.const(PAGE_SHIFT)), m.memory.size('memory'))),
      m.drop(m.i32.load8_u(0, 1, m.i32.load(DESCRIPTOR_OFFSET, 4, l32(AHEAD))))),
    ] : [];
    // the view (offset << 32 | length) is the descriptor's first 8 bytes rotated. Not
    // or(shl(load offset), load length): binaryen 132 turns that length load into a
    // sign-extending one, which breaks lengths of 2^31 and more (test/abi.test.ts). The
    // rotation relies on DESCRIPTOR_OFFSET 0 and DESCRIPTOR_LENGTH 4 (little-endian).
    const view = m.i64.rotl(m.i64.load(DESCRIPTOR_OFFSET, 8, l32(D)), konst('i64', 32n));
    m.addFunction('filter_batch', binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]), binaryen.i32,
      [binaryen.i32, binaryen.i32, binaryen.i32, binaryen.i32], m.block(null, [
        m.local.set(I, m.i32.const(0)),
        m.block('done', [m.loop('next', m.block(null, [
          m.br('done', m.i32.ge_u(l32(I), l32(COUNT))),
          m.global.set('cursor', l32(I)),
          ...touchAhead,
          // a filter that cannot fail (no error site, no fuel point) needs neither fuel nor the error word
          ...(filterFails ? [m.global.set('fuel', g32('fuel_limit')), m.global.set('err', m.i32.const(0))] : []),
          ...resetArena(),
          // between packets only module state is alive: the one time the heap may be collected
          ...(hmem ? [collectIfNeeded(binaryen, m)] : []),
          m.local.set(D, m.i32.add(l32(DESCS), m.i32.shl(l32(I), m.i32.const(DESCRIPTOR_SHIFT)))),
          m.local.set(R, m.call(ir.filter, [view, ir.time ? m.i64.load(DESCRIPTOR_TIME, 8, l32(D)) : konst('i64', 0n)], binaryen.i32)),
          m.i32.store(0, 4, m.i32.add(l32(VERD), m.i32.shl(l32(I), m.i32.const(VERDICT_SHIFT))),
            filterFails ? m.select(g32('err'), m.i32.add(g32('err'), m.i32.const(ERR_TO_VERDICT)), l32(R)) : l32(R)),
          m.local.set(I, m.i32.add(l32(I), m.i32.const(1))),
          m.br('next'),
        ], binaryen.none))]),
        m.return(l32(COUNT)),
      ], binaryen.none));
    // filter_count(descs, count) -> accepted: filter_batch for hosts that only count accepts (benchmarks,
    // as libpcap's and pflua's loops do), in modules whose filter cannot fail: no verdict word per packet
    // for the host to read back and sum, and no cursor (a filter that cannot fail has no loop, no
    // recursion and no error site: nothing to recover from). Unrolled COUNT_UNROLL packets a step so that
    // V8's loop overhead (bound check, stack check) is paid once per step.
    if (!filterFails) {
      const [C_DESCS, C_LEFT, C_ACC, C_AHEAD] = [0, 1, 2, 3];
      // the same touch ahead as filter_batch's, for packet `at` + prefetch while there is one
      const touch = (at: number) => (k > 0 ? [m.if(m.i32.gt_u(l32(C_LEFT), m.i32.const(at / DESCRIPTOR_BYTES + k)), m.block(null, [
        m.local.set(C_AHEAD, m.i32.add(l32(C_DESCS), m.i32.const(at + k * DESCRIPTOR_BYTES))),
        m.if(m.i32.and(m.i32.ne(m.i32.load(DESCRIPTOR_LENGTH, 4, l32(C_AHEAD)), m.i32.const(0)),
          m.i32.lt_u(m.i32.shr_u(m.i32.load(DESCRIPTOR_OFFSET, 4, l32(C_AHEAD)), m.i32.const(PAGE_SHIFT)), m.memory.size('memory'))),
        m.drop(m.i32.load8_u(0, 1, m.i32.load(DESCRIPTOR_OFFSET, 4, l32(C_AHEAD))))),
      ], binaryen.none))] : []);
      const accept = (at: number) => m.local.set(C_ACC, m.i32.add(l32(C_ACC), m.block(null, [
        ...touch(at),
        ...resetArena(),
        m.call(ir.filter, [m.i64.rotl(m.i64.load(at + DESCRIPTOR_OFFSET, 8, l32(C_DESCS)), konst('i64', 32n)),
          ir.time ? m.i64.load(at + DESCRIPTOR_TIME, 8, l32(C_DESCS)) : konst('i64', 0n)], binaryen.i32),
      ], binaryen.i32)));
      // a count of packets left, not an end address: the descriptors may end at the last byte of a 4 GiB memory
      const advance = (n: number) => [
        m.local.set(C_DESCS, m.i32.add(l32(C_DESCS), m.i32.const(n * DESCRIPTOR_BYTES))),
        m.local.set(C_LEFT, m.i32.sub(l32(C_LEFT), m.i32.const(n))),
      ];
      m.addFunction('filter_count', binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.i32, [binaryen.i32, binaryen.i32], m.block(null, [
        m.block('tail', [m.loop('steps', m.block(null, [
          m.br('tail', m.i32.lt_u(l32(C_LEFT), m.i32.const(COUNT_UNROLL))),
          ...Array.from({ length: COUNT_UNROLL }, (_, k) => accept(k * DESCRIPTOR_BYTES)),
          ...advance(COUNT_UNROLL),
          m.br('steps'),
        ], binaryen.none))]),
        m.block('counted', [m.loop('rest', m.block(null, [
          m.br('counted', m.i32.eqz(l32(C_LEFT))),
          accept(0),
          ...advance(1),
          m.br('rest'),
        ], binaryen.none))]),
        m.return(l32(C_ACC)),
      ], binaryen.none));
      m.addFunctionExport('filter_count', 'filter_count');
    }
    m.addFunctionExport('init', 'init');
    m.addFunctionExport('filter_batch', 'filter_batch');
    m.addGlobalExport('heap_base', 'heap_base');
    m.addGlobalExport('cursor', 'cursor');
    m.addGlobalExport('fuel_limit', 'fuel_limit');
    if (!m.validate()) throw new Error('internal: binaryen rejected the generated module');
    if (opts.optimize > 0) {
      binaryen.setOptimizeLevel(opts.optimize);
      binaryen.setShrinkLevel(opts.shrink);
      // script functions are small and called from few places: inline them
      // into filter (and filter into the batch loop) so binaryen optimizes one body
      binaryen.setFlexibleInlineMaxSize(INLINE_MAX);
      binaryen.setOneCallerInlineMaxSize(INLINE_MAX);
      m.optimize();
      // a second round folds what inlining exposed (repeated view unpacking, known tags)
      m.optimize();
    }
    const section = { ...opts.section, features,
      memory: hmem ? { minPages, heapBytes: hmem.semi } : { minPages } };
    m.addCustomSection(SECTION_NAME, new TextEncoder().encode(JSON.stringify(section)));
    const wasm = m.emitBinary();
    return { wasm, wat: opts.wantText ? m.emitText() : undefined, minPages };
  } finally {
    m.dispose();
  }
}
