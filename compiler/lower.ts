// Pass 3: checked AST → typed IR. Every value gets the representation its
// static type allows (see types.ts `repOf`); runtime checks, error sites and
// fuel points become explicit IR statements. It reads only what check
// left (check-result.ts), never the check pass itself.
import type * as L from 'luaparse';
import type { Ann, CheckResult, FnInfo, Reason, Var } from './check-result.js';
import type { ParseResult } from './parse.js';
import { FUEL_MESSAGE, NIL_VIEW, wtypes, type Val } from './lower-base.js';
import {
  Expr, IRFunc, IRGlobal, IRModule, Site, Stmt, WType, and, assume, bin, printExpr, readsOnly, cond, exprSize, f64, hasCall, i32, i64, not, or,
  readsGlobal, typeOf, un,
} from './ir.js';
import {
  Const, FALSE, FALSY, FLOAT, FUNC, FieldDef, HTAB, INT, NIL, Rep, STR, TAG, TRUE, Ty, VIEW, constTy,
  luaTypeName, repOf, tyName, without,
} from './types.js';
import { lowerArith, lowerCompare, lowerEq } from './lower-ops.js';
import { ConstPool } from './strings/layout.js';
import { constStr, lowerConcat, lowerStrLen, type IRPattern } from './strings/lower.js';
import { lowerBlock, lowerStmt } from './lower-stmt.js';
import { helperFuncs } from './lower-helpers.js';
import { nestsDeeper, recursiveFns } from './callgraph.js';
import { MAX_CALL_DEPTH } from './abi.js';
import { CALL_DEPTH } from './lower-call.js';
import { factsOf, withFacts } from './lower-facts.js';
import { lowerSegment, lowerTableIndex, readField } from './lower-view.js';
import { storeExtraReturns } from './lower-returns.js';
import { lowerCall } from './lower-call.js';
import { lowerHeapLen, lowerHeapRead, lowerHeapTable } from './heap/lower.js';
import { GC_ROOTS } from './heap/gc.js';

/** largest expression (IR nodes) that `keep` duplicates instead of storing */
const KEEP_INLINE = 32;
/** largest value (IR nodes) a never-reassigned local holds as an expression instead of a Wasm local */
const ALIAS_INLINE = 16;

/** where a variable lives; `expr`: a never-reassigned local whose (pure) value is recomputed at each use */
type Storage = { kind: 'local'; ids: number[] } | { kind: 'global'; names: string[] } | { kind: 'none' } | { kind: 'expr'; val: Val };

export function lower(p: ParseResult, c: CheckResult): { ok: true; ir: IRModule } | { ok: false; reasons: Reason[] } {
  const l = new Lowerer(p, c);
  const ir = l.run();
  if (l.reasons.length) return { ok: false, reasons: l.reasons };
  return { ok: true, ir };
}

export class Lowerer {
  reasons: Reason[] = [];
  sites: Site[] = [];
  funcs: IRFunc[] = [];
  globals: IRGlobal[] = [];
  storage = new Map<Var, Storage>();
  /** constant strings (the data segment) */
  pool = new ConstPool();
  /** the pattern matchers codegen emits */
  patterns: IRPattern[] = [];
  /** whether the module needs the string runtime */
  usesStrings = false;
  /** whether code uses run-time tables (heap/lower.ts) */
  usesHeap = false;
  /** set by a segment at a non-constant offset (IRModule.dependentReads) */
  dependentReads = false;
  /** the results after the first of the last string.find / string.match lowered (kept in locals) */
  extraVals: () => Val[] = () => [];
  // per function
  fn!: IRFunc;
  info!: FnInfo;
  out: Stmt[] = [];
  breakLabels: string[] = [];
  /** kinds each local is known not to hold here (lower-facts.ts) */
  facts = new Map<Var, number>();
  /** bytes each local view is known to have at least (its field reads skip the bounds check) */
  lens = new Map<Var, number>();
  assignLog: Var[] = [];
  recursive = new Set<FnInfo>();
  /** whether calls may nest deeper than MAX_CALL_DEPTH, so that each call counts its depth (lower-call.ts) */
  countDepth = false;
  /** locals of the current function that are set once (never-reassigned variables) */
  stable = new Set<number>();
  /** runtime helpers the code calls (lower-helpers.ts) */
  helpers = new Set<string>();
  /** Wasm label of each goto target: [forward block, backward loop] */
  gotoLabels = new Map<L.Node, [string, string]>();
  labelCount = 0;

  constructor(readonly p: ParseResult, readonly c: CheckResult) {}

  reason(n: L.Node, message: string) {
    const s = n.loc!.start;
    this.reasons.push({ line: s.line, column: s.column + 1, message });
  }

  site(n: L.Node | null, message: string): number {
    const line = n ? n.loc!.start.line : 0, column = n ? n.loc!.start.column + 1 : 0;
    const i = this.sites.findIndex((s) => s.message === message && s.line === line && s.column === column);
    if (i >= 0) return i;
    this.sites.push({ message, line, column });
    return this.sites.length - 1;
  }

  ann(n: L.Node): Ann {
    const a = this.c.ann.get(n);
    if (!a) throw new Error(`internal: no type for ${n.type} at ${n.loc?.start.line}`);
    return a;
  }

  fnName(f: FnInfo) { return `f${f.id}_${f.name.replace(/[^A-Za-z0-9_]/g, '_')}`; }

  run(): IRModule {
    // module-level locals and Lua globals live in Wasm globals
    for (const v of this.c.vars) {
      const rep = repOf(v.ty);
      if (rep === null) continue;
      if (rep === 'none') { this.storage.set(v, { kind: 'none' }); continue; }
      if (v.kind === 'global' || v.fn === this.c.main) {
        const names = wtypes(rep).map((_, i) => `g${v.id}_${v.name}${i ? '_v' : ''}`);
        names.forEach((name, i) => this.globals.push({ name, ty: wtypes(rep)[i]!, init: zero(wtypes(rep)[i]!, rep === 'view') }));
        this.storage.set(v, { kind: 'global', names });
      }
    }
    this.recursive = recursiveFns(this.c);
    this.countDepth = nestsDeeper(this.c, MAX_CALL_DEPTH);
    if (this.countDepth) this.globals.push({ name: CALL_DEPTH, ty: 'i32', init: i32(0) });
    for (const f of this.c.fns) this.lowerFn(f);
    const filter = this.c.filter!;
    // entry point for the batch loop: (view, time) -> truthiness
    this.beginFn('filter_entry', [{ ty: 'i64', name: 'pkt' }, { ty: 'i64', name: 'time' }], ['i32']);
    const fr = repOf(filter.retTy) ?? 'none';
    const dst = wtypes(fr).map((t) => this.temp(t));
    const host: Val[] = [{ rep: 'view', e: { k: 'get', l: 0, ty: 'i64' }, ty: { m: VIEW } }, { rep: 'int', e: { k: 'get', l: 1, ty: 'i64' }, ty: { m: INT } }];
    const args = filter.params.flatMap((p, i) => this.exprsOf(this.coerce(host[i] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }, p.ty)));
    this.out.push({ k: 'call', fn: this.fnName(filter), args, dst });
    // a packet starts at depth 0 (even after a trap left the count behind)
    if (this.countDepth) this.out.unshift({ k: 'gset', g: CALL_DEPTH, e: i32(0) });
    const rv = this.fromLocals(filter.retTy, fr, dst);
    this.out.push({ k: 'ret', e: [this.truthy(rv)] });
    this.endFn();
    if (this.usesHeap) this.gcRoots();
    const strings = this.usesStrings ? { constants: this.pool.data(), patterns: this.patterns } : undefined;
    this.funcs.push(...helperFuncs(this.helpers));
    return { funcs: this.funcs, globals: this.globals, sites: this.sites, filter: 'filter_entry', init: this.fnName(this.c.main), strings,
      time: filter.params.length > 1, heap: this.usesHeap || undefined,
      dependentReads: this.dependentReads || undefined };
  }

  /**
   * The collector's roots (heap/gc.ts): every module-level variable that may
   * hold a table. Between packets nothing else is alive.
   */
  gcRoots() {
    this.beginFn(GC_ROOTS, [], []);
    for (const v of this.c.vars) {
      const st = this.storage.get(v);
      if (st?.kind !== 'global' || !(v.ty.m & HTAB) || repOf(v.ty) !== 'dyn') continue;
      const [tag, val] = st.names as [string, string];
      this.out.push({ k: 'gset', g: val, e: { k: 'helper', fn: 'h_fwd', args: [{ k: 'gget', g: tag, ty: 'i32' }, { k: 'gget', g: val, ty: 'i64' }], ty: 'i64' } });
    }
    this.endFn();
  }

  beginFn(name: string, params: { ty: WType; name: string }[], results: WType[]) {
    this.fn = { name, params: params.map((x) => x.ty), results, locals: [...params], body: [] };
    this.out = this.fn.body;
    this.breakLabels = [];
    this.facts = new Map();
    this.lens = new Map();
    this.stable = new Set();
  }
  endFn() { this.funcs.push(this.fn); }

  temp(ty: WType, name = 't'): number {
    this.fn.locals.push({ ty, name: `${name}${this.fn.locals.length}` });
    return this.fn.locals.length - 1;
  }

  lowerFn(f: FnInfo) {
    this.info = f;
    const isMain = f === this.c.main;
    const params: { ty: WType; name: string }[] = [];
    const paramStore: [Var, number[]][] = [];
    for (const p of f.params) {
      const rep = repOf(p.ty) ?? 'none';
      const ids = wtypes(rep).map((t, i) => { params.push({ ty: t, name: p.name + (i ? '_v' : '') }); return params.length - 1; });
      paramStore.push([p, ids]);
    }
    const rrep = isMain ? 'none' : repOf(f.retTy) ?? 'none';
    this.beginFn(this.fnName(f), params, wtypes(rrep));
    for (const [p, ids] of paramStore) {
      this.storage.set(p, ids.length ? { kind: 'local', ids } : { kind: 'none' });
      if (!p.reassigned) ids.forEach((i) => this.stable.add(i));
    }
    // loops pay at their back edges, so only a call that may recurse needs fuel
    if (!isMain && this.recursive.has(f)) this.out.push({ k: 'fuel', site: this.site(f.node, FUEL_MESSAGE) });
    if (isMain && this.countDepth) this.out.push({ k: 'gset', g: CALL_DEPTH, e: i32(0) });
    const body = f.node.body as L.Statement[];
    this.block(body);
    if (!isMain) {
      storeExtraReturns(this, f, []);
      this.out.push({ k: 'ret', e: this.retExprs({ rep: 'none', ty: constTy({ k: 'nil' }) }) });
    }
    this.endFn();
  }

  retExprs(v: Val): Expr[] {
    if (this.info === this.c.main) return [];
    return this.exprsOf(this.coerce(v, this.info.retTy));
  }

  exprsOf(v: Val): Expr[] {
    if (v.rep === 'none') return [];
    if (v.rep === 'dyn') return [v.tag, v.val];
    return [v.e];
  }

  fromLocals(ty: Ty, rep: Rep, ids: number[]): Val {
    const g = (i: number): Expr => ({ k: 'get', l: ids[i]!, ty: this.fn.locals[ids[i]!]!.ty });
    if (rep === 'none') return { rep, ty };
    if (rep === 'dyn') return { rep, tag: g(0), val: g(1), ty };
    return { rep, e: g(0), ty };
  }

  /** Stores a value in fresh locals so it can be used more than once. */
  keep(v: Val): Val {
    // IR expressions are pure, so a small one that reads no global (which a
    // call could change) is rebuilt at each use rather than stored: binaryen
    // then sees through field reads and comparisons instead of a local
    const cheap = (e: Expr) => e.k === 'gget' || exprSize(e, KEEP_INLINE) <= KEEP_INLINE && !readsGlobal(e);
    if (v.rep === 'none') return v;
    if (v.rep === 'dyn') {
      if (cheap(v.tag) && cheap(v.val) && exprSize(v.tag) + exprSize(v.val) <= KEEP_INLINE) return v;
      const t = this.temp('i32'), x = this.temp('i64');
      this.out.push({ k: 'set', l: t, e: v.tag }, { k: 'set', l: x, e: v.val });
      return { rep: 'dyn', tag: { k: 'get', l: t, ty: 'i32' }, val: { k: 'get', l: x, ty: 'i64' }, ty: v.ty };
    }
    if (cheap(v.e)) return v;
    const ty = wtypes(v.rep)[0]!;
    const t = this.temp(ty);
    this.out.push({ k: 'set', l: t, e: v.e });
    return { ...v, e: { k: 'get', l: t, ty } };
  }

  /** Stores a value in fresh locals, whatever its size: it must not be recomputed later. */
  pin(v: Val, at = this.out.length): Val {
    if (v.rep === 'none') return v;
    const es = this.exprsOf(v);
    const ids = es.map((e) => this.temp(typeOf(e)));
    this.out.splice(at, 0, ...es.map((e, i) => ({ k: 'set', l: ids[i]!, e } as Stmt)));
    return this.fromLocals(v.ty, v.rep, ids);
  }

  /**
   * Operands evaluated left to right, as Lua does. `keep` leaves a small value
   * as an expression that is computed where it is used; one that reads module
   * state must be computed before a later operand calls a function (which may
   * change that state: `g + f()` where f assigns g), so it is computed into
   * locals at its place in the code.
   */
  operands(nodes: L.Expression[]): Val[] {
    const vals: Val[] = [], marks: number[] = [];
    for (const n of nodes) { vals.push(this.keep(this.expr(n))); marks.push(this.out.length); }
    // from the last one back, so that inserting at a mark leaves the earlier marks in place
    for (let i = vals.length - 2; i >= 0; i--) {
      const v = vals[i]!;
      if (this.exprsOf(v).some(readsGlobal) && hasCall(this.out.slice(marks[i]))) vals[i] = this.pin(v, marks[i]);
    }
    return vals;
  }

  // ---- representation changes -------------------------------------------------------
  constExprs(c: Const, rep: Rep): Val {
    const ty = constTy(c);
    switch (rep) {
      case 'none': return { rep, ty };
      case 'bool': return { rep, e: i32(c.k === 'bool' && c.v ? 1 : 0), ty };
      case 'int': return { rep, e: i64(c.k === 'int' ? c.v : 0n), ty };
      case 'float': return { rep, e: f64(c.k === 'float' ? c.v : 0), ty };
      case 'view': return { rep, e: c.k === 'str' ? constStr(this, c.v) : i64(NIL_VIEW), ty };
      case 'dyn': {
        switch (c.k) {
          case 'nil': return { rep, tag: i32(TAG.nil), val: i64(0n), ty };
          case 'bool': return { rep, tag: i32(c.v ? TAG.true : TAG.false), val: i64(0n), ty };
          case 'int': return { rep, tag: i32(TAG.int), val: i64(c.v), ty };
          case 'float': return { rep, tag: i32(TAG.float), val: un('i64.reinterpret_f64', f64(c.v), 'i64'), ty };
          case 'str': return { rep, tag: i32(TAG.str), val: constStr(this, c.v), ty };
          case 'func': return { rep, tag: i32(TAG.func), val: i64(BigInt(c.id)), ty };
          default: throw new Error('internal: static constant in a dynamic value');
        }
      }
    }
  }

  /** Converts `v` to the representation of the wider type `to`. */
  coerce(v: Val, to: Ty): Val {
    const rep = repOf(to) ?? 'none';
    if (v.rep === rep) return { ...v, ty: to } as Val;
    if (v.ty.m === 0) return this.constExprs({ k: 'nil' }, rep); // unreachable value
    if (v.rep === 'none') {
      if (!v.ty.c && v.ty.m !== NIL) throw new Error('internal: non-constant static value');
      return { ...this.constExprs(v.ty.c ?? { k: 'nil' }, rep), ty: to };
    }
    if (rep === 'none') return { rep, ty: to };
    // `x and s`: the kinds of x outside `to` are falsy ones that cannot reach here but nil
    if (v.rep === 'dyn' && rep === 'view') {
      const k = this.keep(v) as Val & { rep: 'dyn' };
      return { rep, e: cond(bin('i32.eq', k.tag, i32(TAG.nil)), i64(NIL_VIEW), k.val, 'i64'), ty: to };
    }
    if (v.rep === 'dyn') return this.narrow(v, to);
    if (rep !== 'dyn') throw new Error(`internal: cannot convert ${v.rep} to ${rep}`);
    switch (v.rep) {
      case 'bool': return { rep, tag: bin('i32.add', v.e, i32(TAG.false)), val: i64(0n), ty: to };
      case 'int': return { rep, tag: i32(TAG.int), val: v.e, ty: to };
      case 'float': return { rep, tag: i32(TAG.float), val: un('i64.reinterpret_f64', v.e, 'i64'), ty: to };
      case 'view': {
        const k = this.keep(v) as Val & { e: Expr };
        const some = v.ty.m & STR ? TAG.str : TAG.view;
        const tag = v.ty.m & NIL ? cond(bin('i64.eq', k.e, i64(NIL_VIEW)), i32(TAG.nil), i32(some), 'i32') : i32(some);
        return { rep, tag, val: k.e, ty: to };
      }
    }
    throw new Error('internal: bad coercion');
  }

  /** i32 expression: is the value of Lua kind `kind` (one bit of the mask)? */
  isKind(v: Val, kind: number): Expr {
    if (!(v.ty.m & kind)) return i32(0);
    if ((v.ty.m & ~kind) === 0) return i32(1);
    switch (v.rep) {
      case 'none': return i32(v.ty.c && constTy(v.ty.c).m & kind ? 1 : 0);
      case 'bool': return kind === TRUE ? v.e : not(v.e);
      case 'view': return kind === NIL ? bin('i64.eq', v.e, i64(NIL_VIEW)) : bin('i64.ne', v.e, i64(NIL_VIEW));
      case 'dyn': {
        const t = ({ [NIL]: TAG.nil, [FALSE]: TAG.false, [TRUE]: TAG.true, [INT]: TAG.int, [FLOAT]: TAG.float, [VIEW]: TAG.view, [STR]: TAG.str, [HTAB]: TAG.table, [FUNC]: TAG.func } as Record<number, number>)[kind]!;
        return bin('i32.eq', v.tag, i32(t));
      }
      default: return i32(1);
    }
  }

  /** The payload, assuming the value is an integer / float / view. */
  intOf(v: Val): Expr {
    if (v.rep === 'int') return v.e;
    if (v.rep === 'none') return i64(v.ty.c?.k === 'int' ? v.ty.c.v : v.ty.c?.k === 'func' ? BigInt(v.ty.c.id) : 0n);
    if (v.rep === 'dyn') return v.val;
    return i64(0n);
  }
  floatOf(v: Val): Expr {
    if (v.rep === 'float') return v.e;
    if (v.rep === 'none') return f64(v.ty.c?.k === 'float' ? v.ty.c.v : 0);
    if (v.rep === 'dyn') return un('f64.reinterpret_i64', v.val, 'f64');
    return f64(0);
  }
  /** The value as a float, assuming it is a number (integers are converted). */
  toFloat(v: Val): Expr {
    const conv = () => un('f64.convert_i64_s', this.intOf(v), 'f64');
    if (!(v.ty.m & FLOAT)) return conv();
    if (!(v.ty.m & INT)) return this.floatOf(v);
    return cond(this.isKind(v, INT), conv(), this.floatOf(v), 'f64');
  }
  viewOf(v: Val): Expr {
    if (v.rep === 'view') return v.e;
    if (v.rep === 'dyn') return v.val;
    return i64(NIL_VIEW);
  }

  truthy(v: Val): Expr {
    if (!(v.ty.m & FALSY)) return i32(1);
    if (!(v.ty.m & ~FALSY)) return i32(0);
    switch (v.rep) {
      case 'bool': return v.e;
      case 'view': return bin('i64.ne', v.e, i64(NIL_VIEW));
      case 'dyn': return bin('i32.gt_u', v.tag, i32(TAG.false));
      case 'none': return i32(v.ty.c && !(v.ty.c.k === 'nil' || (v.ty.c.k === 'bool' && !v.ty.c.v)) ? 1 : 0);
      default: return i32(1);
    }
  }

  /** `if c then error(site)` */
  guard(failIf: Expr, site: number) {
    if (failIf.k === 'i32' && failIf.v === 0) return;
    this.out.push({ k: 'if', c: failIf, t: [{ k: 'error', site }], f: [] });
  }

  /** Lua's variable description for error messages ("local 'x'", "field 'ihl'"). */
  varInfo(n: L.Expression): string {
    if (n.type === 'Identifier') {
      const v = this.c.ann.get(n)?.var;
      if (!v) return '';
      if (v.kind === 'global') return ` (global '${n.name}')`;
      if (v.fn !== this.info) return ` (upvalue '${n.name}')`;
      return ` (local '${n.name}')`;
    }
    if (n.type === 'MemberExpression' && n.indexer === '.') return ` (field '${n.identifier.name}')`;
    if (n.type === 'IndexExpression') return n.index.type === 'StringLiteral' ? ` (field '${this.p.strings.get(n.index)}')` : " (field '?')";
    if (n.type === 'StringLiteral') return ` (constant '${this.p.strings.get(n)}')`;
    return '';
  }

  /** Errors unless the value is a view; returns the (non-nil) packed view. */
  needView(v: Val, node: L.Expression, what: string): Expr {
    const k = this.keep(v);
    for (const kind of [NIL, FALSE, TRUE, INT, FLOAT, STR, HTAB, FUNC]) {
      if (k.ty.m & kind)
        this.guard(this.isKind(k, kind), this.site(node, `attempt to ${what} a ${luaTypeName(kind)} value${this.varInfo(node)}`));
    }
    return this.viewOf(k);
  }

  // ---- statements --------------------------------------------------------------------
  block(body: L.Statement[]) { lowerBlock(this, body, 0); }

  withOut(body: () => void): Stmt[] {
    const saved = this.out;
    const fresh: Stmt[] = [];
    this.out = fresh;
    body();
    this.out = saved;
    return fresh;
  }

  /**
   * `local v = value`: a local that is never reassigned and whose value is a
   * small pure expression over other such locals (a field read, a segment)
   * is not stored at all; binaryen then sees the loads and tests themselves.
   */
  declareLocal(v: Var, val: Val) {
    const cv = this.coerce(val, v.ty);
    const es = this.exprsOf(cv);
    // small enough that recomputing beats a local (a field read; not a segment, which is reused)
    const pure = (e: Expr): boolean => exprSize(e, ALIAS_INLINE) <= ALIAS_INLINE && !readsGlobal(e) && readsOnly(e, this.stable);
    if (!v.reassigned && v.fn === this.info && this.info !== this.c.main && !this.storage.has(v) && es.length && es.every(pure)) {
      this.facts.delete(v);
      this.storage.set(v, { kind: 'expr', val: cv });
      return;
    }
    this.storeVar(v, val);
  }

  storeVar(v: Var, val: Val) {
    this.facts.delete(v);
    this.lens.delete(v);
    this.assignLog.push(v);
    const st = this.storeOf(v);
    const cv = this.coerce(val, v.ty);
    const es = this.exprsOf(cv);
    if (st.kind === 'expr') throw new Error(`internal: assignment to single-assignment local '${v.name}'`);
    if (st.kind === 'local') es.forEach((e, i) => this.out.push({ k: 'set', l: st.ids[i]!, e }));
    else if (st.kind === 'global') es.forEach((e, i) => this.out.push({ k: 'gset', g: st.names[i]!, e }));
  }

  storeOf(v: Var): Storage {
    let st = this.storage.get(v);
    if (!st) {
      const rep = repOf(v.ty) ?? 'none';
      st = rep === 'none' ? { kind: 'none' } : { kind: 'local', ids: wtypes(rep).map((t) => this.temp(t, v.name + '_')) };
      this.storage.set(v, st);
      if (st.kind === 'local' && !v.reassigned && v.fn === this.info) st.ids.forEach((i) => this.stable.add(i));
    }
    return st;
  }

  readVar(v: Var): Val {
    const rep = repOf(v.ty) ?? 'none';
    const st = this.storeOf(v);
    if (st.kind === 'none') return { rep: 'none', ty: v.ty };
    if (st.kind === 'local' || st.kind === 'expr') {
      const val = st.kind === 'expr' ? st.val : this.fromLocals(v.ty, rep, st.ids);
      const known = this.facts.get(v);
      const ty = known ? without(v.ty, known) : v.ty;
      return ty.m && known ? this.narrow(val, ty) : val;
    }
    const gs = st.names.map((g, i) => ({ k: 'gget', g, ty: wtypes(rep)[i]! } as Expr));
    return rep === 'dyn' ? { rep, tag: gs[0]!, val: gs[1]!, ty: v.ty } : { rep, e: gs[0]!, ty: v.ty } as Val;
  }

  exprList(es: L.Expression[], n: number): Val[] {
    const out = this.operands(es);
    const last = es[es.length - 1];
    if (last && es.length < n && this.c.ann.get(last)?.multi) out.push(...this.extraVals());
    while (out.length < n) out.push({ rep: 'none', ty: constTy({ k: 'nil' }) });
    return out;
  }

  stmt(s: L.Statement) { lowerStmt(this, s); }

  /** i32 truthiness of a condition, short-circuiting without materializing Lua values. */
  condition(e: L.Expression): Expr {
    if (e.type === 'LogicalExpression') {
      const a = this.condition(e.left);
      let pre: Stmt[] = [];
      let b!: Expr;
      withFacts(this, factsOf(this, e.left, e.operator === 'and'), () => {
        pre = this.withOut(() => { b = this.condition(e.right); });
      });
      if (pre.length === 0) return e.operator === 'and' ? and(a, b) : or(a, b);
      const t = this.temp('i32', 'c');
      this.out.push({ k: 'set', l: t, e: a });
      const get: Expr = { k: 'get', l: t, ty: 'i32' };
      this.out.push({ k: 'if', c: e.operator === 'and' ? get : not(get), t: [...pre, { k: 'set', l: t, e: b }], f: [] });
      return get;
    }
    if (e.type === 'UnaryExpression' && e.operator === 'not') return not(this.condition(e.argument));
    return this.truthy(this.expr(e));
  }

  // ---- expressions -------------------------------------------------------------------
  expr(e: L.Expression): Val {
    const a = this.ann(e);
    const rep = repOf(a.ty);
    if (rep === null) { this.reason(e, `value of type ${tyName(a.ty)} cannot be compiled`); return { rep: 'none', ty: { m: NIL } }; }
    // constants fold, but calls keep their effects
    if (rep === 'none' && e.type !== 'CallExpression' && e.type !== 'TableCallExpression' && e.type !== 'StringCallExpression'
      && !(e.type === 'MemberExpression' && this.c.ann.get(e.base)?.ty.m! & VIEW) && e.type !== 'BinaryExpression' && e.type !== 'UnaryExpression'
      && e.type !== 'LogicalExpression' && e.type !== 'IndexExpression')
      return { rep, ty: a.ty };
    switch (e.type) {
      case 'Identifier': return this.readVar(a.var!);
      case 'LogicalExpression': return this.logical(e, a.ty);
      case 'UnaryExpression': {
        if (e.operator === 'not') return { rep: 'bool', e: not(this.condition(e.argument)), ty: a.ty };
        if (e.operator === '#') {
          const v = this.expr(e.argument);
          if (v.ty.m & HTAB) return lowerHeapLen(this, v, e.argument);
          if (v.ty.c?.k === 'str' || v.ty.c?.k === 'table') return { rep: 'none', ty: a.ty };
          if (v.ty.m & STR) return { rep: 'int', e: lowerStrLen(this, v, e.argument), ty: a.ty };
          const view = this.needView(v, e.argument, 'get length of');
          return { rep: 'int', e: un('i64.extend_i32_u', un('i32.wrap_i64', view, 'i32'), 'i64'), ty: a.ty };
        }
        return lowerArith(this, e, e.operator === '-' ? 'neg' : 'bnot', [e.argument], a.ty);
      }
      case 'BinaryExpression': {
        const op = e.operator;
        if (op === '==' || op === '~=') {
          const [x, y] = this.operands([e.left, e.right]) as [Val, Val];
          const r = lowerEq(this, x, y, e);
          return { rep: 'bool', e: op === '==' ? r : not(r), ty: a.ty };
        }
        if (op === '<' || op === '<=' || op === '>' || op === '>=') return { rep: 'bool', e: lowerCompare(this, e), ty: a.ty };
        if (op === '..') return rep === 'none' ? { rep, ty: a.ty } : lowerConcat(this, e, a.ty);
        return lowerArith(this, e, op, [e.left, e.right], a.ty);
      }
      case 'MemberExpression': {
        const base = this.expr(e.base);
        const v = e.base.type === 'Identifier' ? this.c.ann.get(e.base)?.var : undefined;
        const known = v ? this.lens.get(v) ?? 0 : 0;
        if (base.ty.m & HTAB) return lowerHeapRead(this, e, base, a.ty);
        if (base.ty.m & VIEW) return this.field(this.needView(base, e.base, 'index'), a.field ?? null, a.ty, known);
        return { rep: 'none', ty: a.ty };
      }
      case 'IndexExpression':
        if (this.ann(e.base).ty.m & HTAB) return lowerHeapRead(this, e, this.expr(e.base), a.ty);
        return this.tableIndex(e, a.ty);
      case 'TableConstructorExpression': return a.ty.m & HTAB ? lowerHeapTable(this, e, a.ty) : { rep: 'none', ty: a.ty };
      case 'CallExpression': case 'TableCallExpression': case 'StringCallExpression': return this.call(e, a);
      default: return { rep: 'none', ty: a.ty };
    }
  }

  logical(e: L.LogicalExpression, ty: Ty): Val {
    const x = this.keep(this.expr(e.left));
    const isAnd = e.operator === 'and';
    const t = this.truthy(x);
    if (t.k === 'i32') {
      // statically decided: the right side runs only when Lua would run it
      if ((t.v !== 0) === isAnd) return this.coerce(this.expr(e.right), ty);
      return this.coerce(x, ty);
    }
    const rep = repOf(ty) ?? 'none';
    if (rep === 'bool' && x.rep === 'bool') {
      // booleans on both sides: a pure short-circuit expression, no locals
      let y: Val | undefined;
      let pre: Stmt[] = [];
      withFacts(this, factsOf(this, e.left, isAnd), () => { pre = this.withOut(() => { y = this.expr(e.right); }); });
      if (pre.length === 0 && y && (y.rep === 'bool' || y.rep === 'none')) {
        const yb = y.rep === 'bool' ? y.e : this.truthy(y);
        return { rep: 'bool', e: isAnd ? and(x.e, yb) : or(x.e, yb), ty };
      }
      // the right side had effects: fall through and lower it again (effects are only IR, not yet emitted)
    }
    const dst = wtypes(rep).map((w) => this.temp(w, 'lg'));
    const set = (v: Val) => this.exprsOf(this.coerce(v, ty)).map((ex, i) => ({ k: 'set', l: dst[i]!, e: ex } as Stmt));
    let right: Stmt[] = [];
    withFacts(this, factsOf(this, e.left, isAnd), () => {
      right = this.withOut(() => { const y = this.expr(e.right); this.out.push(...set(y)); });
    });
    // where the left operand is the result, its truthiness is known
    const left = set(x).map((st) => (st.k === 'set' ? { ...st, e: assume(st.e, printExpr(t), !isAnd) } : st));
    this.out.push({ k: 'if', c: t, t: isAnd ? right : left, f: isAnd ? left : right });
    return this.fromLocals(ty, rep, dst);
  }

  // ---- views and constant tables (lower-view.ts) ----------------------------------------
  field(view: Expr, f: FieldDef | null, ty: Ty, known = 0): Val { return readField(this, view, f, ty, known); }
  tableIndex(e: L.IndexExpression, ty: Ty): Val { return lowerTableIndex(this, e, ty); }
  segment(view: Expr, vals: Val[], args: L.Expression[]): Val { return lowerSegment(this, view, vals, args); }

  call(e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, a: Ann): Val { return lowerCall(this, e, a); }

  /** Reinterprets a value whose falsy part was excluded by a check. */
  narrow(v: Val, ty: Ty): Val {
    const rep = repOf(ty) ?? 'none';
    if (rep === v.rep || rep === 'none') return { ...v, ty } as Val;
    if (v.rep === 'dyn') {
      if (rep === 'int') return { rep, e: v.val, ty };
      if (rep === 'float') return { rep, e: un('f64.reinterpret_i64', v.val, 'f64'), ty };
      if (rep === 'view') return { rep, e: v.val, ty };
      if (rep === 'bool') return { rep, e: bin('i32.eq', v.tag, i32(TAG.true)), ty };
    }
    return { ...v, ty } as Val;
  }
}

function zero(t: WType, view: boolean): Expr {
  return t === 'i32' ? i32(0) : t === 'i64' ? i64(view ? NIL_VIEW : 0n) : f64(0);
}

