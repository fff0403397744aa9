// Pass 3: checked AST → typed IR. Every value gets the representation its
// static type allows (see types.ts `repOf`); runtime checks, error sites and
// fuel points become explicit IR statements.
import type * as L from 'luaparse';
import type { Ann, CheckResult, FnInfo, Reason, Var } from './check.js';
import type { ParseResult } from './parse.js';
import {
  Expr, IRFunc, IRGlobal, IRModule, Site, Stmt, WType, and, bin, cond, f64, i32, i64, not, or, un,
} from './ir.js';
import {
  BOOL, Const, FALSE, FALSY, FLOAT, FieldDef, INT, NIL, NUM, Rep, STR, TAG, TRUE, Ty, VIEW, constTy, join,
  luaTypeName, repOf, tyName,
} from './types.js';
import { lowerArith, lowerCompare, lowerEq } from './lower-ops.js';

export type Val =
  | { rep: 'none'; ty: Ty }
  | { rep: 'bool' | 'int' | 'float' | 'view'; e: Expr; ty: Ty }
  | { rep: 'dyn'; tag: Expr; val: Expr; ty: Ty };

export const NIL_VIEW = -1n;
export const FUEL_MESSAGE = 'fuel exhausted';

type Storage = { kind: 'local'; ids: number[] } | { kind: 'global'; names: string[] } | { kind: 'none' };

export function wtypes(rep: Rep): WType[] {
  switch (rep) {
    case 'none': return [];
    case 'bool': return ['i32'];
    case 'int': case 'view': return ['i64'];
    case 'float': return ['f64'];
    case 'dyn': return ['i32', 'i64'];
  }
}

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
  strings = new Map<string, number>();
  // per function
  fn!: IRFunc;
  info!: FnInfo;
  out: Stmt[] = [];
  breakLabels: string[] = [];
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

  strId(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) { id = this.strings.size; this.strings.set(s, id); }
    return id;
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
        const names = wtypes(rep).map((t, i) => `g${v.id}_${v.name}${i ? '_v' : ''}`);
        names.forEach((name, i) => this.globals.push({ name, ty: wtypes(rep)[i]!, init: zero(wtypes(rep)[i]!, rep === 'view') }));
        this.storage.set(v, { kind: 'global', names });
      }
    }
    for (const f of this.c.fns) this.lowerFn(f);
    const filter = this.c.filter!;
    // entry point for the batch loop: (view) -> truthiness
    this.beginFn('filter_entry', [{ ty: 'i64', name: 'pkt' }], ['i32']);
    const fr = repOf(filter.retTy) ?? 'none';
    const dst = wtypes(fr).map((t) => this.temp(t));
    const args: Expr[] = filter.params.length ? wtypes(repOf(filter.params[0]!.ty) ?? 'none').map(() => ({ k: 'get', l: 0, ty: 'i64' } as Expr)) : [];
    this.out.push({ k: 'call', fn: this.fnName(filter), args, dst });
    const rv = this.fromLocals(filter.retTy, fr, dst);
    this.out.push({ k: 'ret', e: [this.truthy(rv)] });
    this.endFn();
    return { funcs: this.funcs, globals: this.globals, sites: this.sites, filter: 'filter_entry', init: this.fnName(this.c.main) };
  }

  beginFn(name: string, params: { ty: WType; name: string }[], results: WType[]) {
    this.fn = { name, params: params.map((x) => x.ty), results, locals: [...params], body: [] };
    this.out = this.fn.body;
    this.breakLabels = [];
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
    for (const [p, ids] of paramStore) this.storage.set(p, ids.length ? { kind: 'local', ids } : { kind: 'none' });
    if (!isMain && f !== this.c.filter) this.out.push({ k: 'fuel', site: this.site(f.node, FUEL_MESSAGE) });
    const body = f.node.body as L.Statement[];
    this.block(body);
    if (!isMain) this.out.push({ k: 'ret', e: this.retExprs({ rep: 'none', ty: constTy({ k: 'nil' }) }) });
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
    const cheap = (e: Expr) => e.k === 'get' || e.k === 'gget' || e.k === 'i32' || e.k === 'i64' || e.k === 'f64';
    if (v.rep === 'none') return v;
    if (v.rep === 'dyn') {
      if (cheap(v.tag) && cheap(v.val)) return v;
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

  // ---- representation changes -------------------------------------------------------
  constExprs(c: Const, rep: Rep): Val {
    const ty = constTy(c);
    switch (rep) {
      case 'none': return { rep, ty };
      case 'bool': return { rep, e: i32(c.k === 'bool' && c.v ? 1 : 0), ty };
      case 'int': return { rep, e: i64(c.k === 'int' ? c.v : 0n), ty };
      case 'float': return { rep, e: f64(c.k === 'float' ? c.v : 0), ty };
      case 'view': return { rep, e: i64(NIL_VIEW), ty };
      case 'dyn': {
        switch (c.k) {
          case 'nil': return { rep, tag: i32(TAG.nil), val: i64(0n), ty };
          case 'bool': return { rep, tag: i32(c.v ? TAG.true : TAG.false), val: i64(0n), ty };
          case 'int': return { rep, tag: i32(TAG.int), val: i64(c.v), ty };
          case 'float': return { rep, tag: i32(TAG.float), val: un('i64.reinterpret_f64', f64(c.v), 'i64'), ty };
          case 'str': return { rep, tag: i32(TAG.str), val: i64(BigInt(this.strId(c.v))), ty };
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
    if (rep !== 'dyn') throw new Error(`internal: cannot convert ${v.rep} to ${rep}`);
    switch (v.rep) {
      case 'bool': return { rep, tag: bin('i32.add', v.e, i32(TAG.false)), val: i64(0n), ty: to };
      case 'int': return { rep, tag: i32(TAG.int), val: v.e, ty: to };
      case 'float': return { rep, tag: i32(TAG.float), val: un('i64.reinterpret_f64', v.e, 'i64'), ty: to };
      case 'view': {
        const k = this.keep(v) as Val & { e: Expr };
        const tag = v.ty.m & NIL ? cond(bin('i64.eq', k.e, i64(NIL_VIEW)), i32(TAG.nil), i32(TAG.view), 'i32') : i32(TAG.view);
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
        const t = ({ [NIL]: TAG.nil, [FALSE]: TAG.false, [TRUE]: TAG.true, [INT]: TAG.int, [FLOAT]: TAG.float, [VIEW]: TAG.view, [STR]: TAG.str } as Record<number, number>)[kind]!;
        return bin('i32.eq', v.tag, i32(t));
      }
      default: return i32(1);
    }
  }

  /** The payload, assuming the value is an integer / float / view. */
  intOf(v: Val): Expr {
    if (v.rep === 'int') return v.e;
    if (v.rep === 'none') return i64(v.ty.c?.k === 'int' ? v.ty.c.v : 0n);
    if (v.rep === 'dyn') return v.val;
    return i64(0n);
  }
  floatOf(v: Val): Expr {
    if (v.rep === 'float') return v.e;
    if (v.rep === 'none') return f64(v.ty.c?.k === 'float' ? v.ty.c.v : 0);
    if (v.rep === 'dyn') return un('f64.reinterpret_i64', v.val, 'f64');
    return f64(0);
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
    if (n.type === 'StringLiteral') return ` (constant '${this.p.strings.get(n)}')`;
    return '';
  }

  /** Errors unless the value is a view; returns the (non-nil) packed view. */
  needView(v: Val, node: L.Expression, what: string): Expr {
    const k = this.keep(v);
    for (const kind of [NIL, FALSE, TRUE, INT, FLOAT, STR]) {
      if (k.ty.m & kind)
        this.guard(this.isKind(k, kind), this.site(node, `attempt to ${what} a ${luaTypeName(kind)} value${this.varInfo(node)}`));
    }
    return this.viewOf(k);
  }

  // ---- statements --------------------------------------------------------------------
  block(body: L.Statement[]) {
    for (const s of body) this.stmt(s);
  }

  withOut(body: () => void): Stmt[] {
    const saved = this.out;
    const fresh: Stmt[] = [];
    this.out = fresh;
    body();
    this.out = saved;
    return fresh;
  }

  storeVar(v: Var, val: Val) {
    const st = this.storeOf(v);
    const cv = this.coerce(val, v.ty);
    const es = this.exprsOf(cv);
    if (st.kind === 'local') es.forEach((e, i) => this.out.push({ k: 'set', l: st.ids[i]!, e }));
    else if (st.kind === 'global') es.forEach((e, i) => this.out.push({ k: 'gset', g: st.names[i]!, e }));
  }

  storeOf(v: Var): Storage {
    let st = this.storage.get(v);
    if (!st) {
      const rep = repOf(v.ty) ?? 'none';
      st = rep === 'none' ? { kind: 'none' } : { kind: 'local', ids: wtypes(rep).map((t) => this.temp(t, v.name + '_')) };
      this.storage.set(v, st);
    }
    return st;
  }

  readVar(v: Var): Val {
    const rep = repOf(v.ty) ?? 'none';
    const st = this.storeOf(v);
    if (st.kind === 'none') return { rep: 'none', ty: v.ty };
    if (st.kind === 'local') return this.fromLocals(v.ty, rep, st.ids);
    const gs = st.names.map((g, i) => ({ k: 'gget', g, ty: wtypes(rep)[i]! } as Expr));
    return rep === 'dyn' ? { rep, tag: gs[0]!, val: gs[1]!, ty: v.ty } : { rep, e: gs[0]!, ty: v.ty } as Val;
  }

  exprList(es: L.Expression[], n: number): Val[] {
    const out: Val[] = [];
    for (const e of es) out.push(this.keep(this.expr(e)));
    while (out.length < n) out.push({ rep: 'none', ty: constTy({ k: 'nil' }) });
    return out;
  }

  stmt(s: L.Statement) {
    switch (s.type) {
      case 'LocalStatement': {
        const vals = this.exprList(s.init, s.variables.length);
        s.variables.forEach((id, i) => this.storeVar(this.c.declVar.get(id)!, vals[i]!));
        return;
      }
      case 'AssignmentStatement': {
        const vals = this.exprList(s.init, s.variables.length);
        s.variables.forEach((t, i) => this.storeVar(this.ann(t).var!, vals[i]!));
        return;
      }
      case 'CallStatement': this.expr(s.expression); return;
      case 'FunctionDeclaration': return;
      case 'ReturnStatement': {
        const vals = s.arguments.map((a) => this.keep(this.expr(a)));
        this.out.push({ k: 'ret', e: this.retExprs(vals[0] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }) });
        return;
      }
      case 'IfStatement': {
        const clauses = s.clauses;
        const emit = (i: number): Stmt[] => this.withOut(() => {
          const c = clauses[i];
          if (!c) return;
          if (c.type === 'ElseClause') { this.block(c.body); return; }
          const test = this.condition(c.condition);
          const t = this.withOut(() => this.block(c.body));
          this.out.push({ k: 'if', c: test, t, f: emit(i + 1) });
        });
        this.out.push(...emit(0));
        return;
      }
      case 'WhileStatement': {
        const brk = `brk${this.labelCount++}`, cont = `cont${this.labelCount}`;
        const fuel = this.site(s, FUEL_MESSAGE);
        this.breakLabels.push(brk);
        const body = this.withOut(() => {
          const test = this.condition(s.condition);
          this.out.push({ k: 'br', label: brk, c: not(test) });
          this.block(s.body);
          this.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
        });
        this.breakLabels.pop();
        this.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
        return;
      }
      case 'RepeatStatement': {
        const brk = `brk${this.labelCount++}`, cont = `cont${this.labelCount}`;
        const fuel = this.site(s, FUEL_MESSAGE);
        this.breakLabels.push(brk);
        const body = this.withOut(() => {
          this.block(s.body);
          const test = this.condition(s.condition);
          this.out.push({ k: 'br', label: brk, c: test }, { k: 'fuel', site: fuel }, { k: 'br', label: cont });
        });
        this.breakLabels.pop();
        this.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
        return;
      }
      case 'DoStatement': this.block(s.body); return;
      case 'BreakStatement': {
        const l = this.breakLabels[this.breakLabels.length - 1];
        if (!l) { this.reason(s, 'break outside a loop'); return; }
        this.out.push({ k: 'br', label: l });
        return;
      }
      case 'ForNumericStatement': this.forNum(s); return;
      default: this.reason(s, `statement ${s.type}`);
    }
  }

  forNum(s: L.ForNumericStatement) {
    const v = this.c.declVar.get(s.variable)!;
    const isInt = v.ty.m === INT;
    const one: Val = { rep: 'none', ty: constTy({ k: 'int', v: 1n }) };
    const [a, b, c] = [s.start, s.end, s.step].map((e) => (e ? this.keep(this.expr(e)) : one)) as [Val, Val, Val];
    const names = ['initial value', 'limit', 'step'];
    const num = (x: Val, i: number, node: L.Node | null) => {
      for (const kind of [NIL, FALSE, TRUE, STR, VIEW]) if (x.ty.m & kind)
        this.guard(this.isKind(x, kind), this.site(node ?? s, `'for' ${names[i]} must be a number`));
      if (isInt) return this.intOf(x);
      return x.ty.m & INT ? un('f64.convert_i64_s', this.intOf(x), 'f64') : this.floatOf(x);
    };
    const ctr = this.storeOf(v) as { kind: 'local'; ids: number[] };
    const brk = `brk${this.labelCount++}`, cont = `cont${this.labelCount}`;
    const fuel = this.site(s, FUEL_MESSAGE);
    const zeroStep = this.site(s, "'for' step is zero");
    if (isInt) {
      const i0 = num(a, 0, s.start), lim = num(b, 1, s.end), st = num(c, 2, s.step);
      const [I, Lm, St, N] = [this.temp('i64', 'i'), this.temp('i64', 'lim'), this.temp('i64', 'step'), this.temp('i64', 'n')];
      const g = (l: number): Expr => ({ k: 'get', l, ty: 'i64' });
      this.out.push({ k: 'set', l: I, e: i0 }, { k: 'set', l: Lm, e: lim }, { k: 'set', l: St, e: st });
      this.guard(bin('i64.eq', g(St), i64(0n)), zeroStep);
      const pos = bin('i64.gt_s', g(St), i64(0n));
      const skip = cond(pos, bin('i64.gt_s', g(I), g(Lm)), bin('i64.lt_s', g(I), g(Lm)), 'i32');
      // Lua 5.4: the iteration count is computed up front, so the loop never overflows
      const count = cond(pos, bin('i64.div_u', bin('i64.sub', g(Lm), g(I)), g(St)),
        bin('i64.div_u', bin('i64.sub', g(I), g(Lm)), bin('i64.add', bin('i64.sub', i64(0n), bin('i64.add', g(St), i64(1n))), i64(1n))), 'i64');
      this.breakLabels.push(brk);
      const body = this.withOut(() => {
        this.out.push({ k: 'set', l: ctr.ids[0]!, e: g(I) });
        this.block(s.body);
        this.out.push({ k: 'br', label: brk, c: bin('i64.eq', g(N), i64(0n)) });
        this.out.push({ k: 'set', l: N, e: bin('i64.sub', g(N), i64(1n)) }, { k: 'set', l: I, e: bin('i64.add', g(I), g(St)) });
        this.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
      });
      this.breakLabels.pop();
      this.out.push({ k: 'block', label: brk, body: [{ k: 'br', label: brk, c: skip }, { k: 'set', l: N, e: count }, { k: 'loop', label: cont, body }] });
      return;
    }
    const i0 = num(a, 0, s.start), lim = num(b, 1, s.end), st = num(c, 2, s.step);
    const [I, Lm, St] = [this.temp('f64', 'i'), this.temp('f64', 'lim'), this.temp('f64', 'step')];
    const g = (l: number): Expr => ({ k: 'get', l, ty: 'f64' });
    this.out.push({ k: 'set', l: I, e: i0 }, { k: 'set', l: Lm, e: lim }, { k: 'set', l: St, e: st });
    this.guard(bin('f64.eq', g(St), f64(0)), zeroStep);
    const pos = bin('f64.gt', g(St), f64(0));
    const done = cond(pos, not(bin('f64.le', g(I), g(Lm))), not(bin('f64.ge', g(I), g(Lm))), 'i32');
    this.breakLabels.push(brk);
    const body = this.withOut(() => {
      this.out.push({ k: 'br', label: brk, c: done });
      this.out.push({ k: 'set', l: ctr.ids[0]!, e: g(I) });
      this.block(s.body);
      this.out.push({ k: 'set', l: I, e: bin('f64.add', g(I), g(St)) }, { k: 'fuel', site: fuel }, { k: 'br', label: cont });
    });
    this.breakLabels.pop();
    this.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
  }

  /** i32 truthiness of a condition, short-circuiting without materializing Lua values. */
  condition(e: L.Expression): Expr {
    if (e.type === 'LogicalExpression') {
      const a = this.condition(e.left);
      let pre: Stmt[] = [];
      const b = (() => { let r!: Expr; pre = this.withOut(() => { r = this.condition(e.right); }); return r; })();
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
          if (v.ty.c?.k === 'str') return { rep: 'none', ty: a.ty };
          const view = this.needView(v, e.argument, 'get length of');
          return { rep: 'int', e: un('i64.extend_i32_u', un('i32.wrap_i64', view, 'i32'), 'i64'), ty: a.ty };
        }
        return lowerArith(this, e, e.operator === '-' ? 'neg' : 'bnot', [e.argument], a.ty);
      }
      case 'BinaryExpression': {
        const op = e.operator;
        if (op === '==' || op === '~=') {
          const x = this.keep(this.expr(e.left)), y = this.keep(this.expr(e.right));
          const r = lowerEq(this, x, y, e);
          return { rep: 'bool', e: op === '==' ? r : not(r), ty: a.ty };
        }
        if (op === '<' || op === '<=' || op === '>' || op === '>=') return { rep: 'bool', e: lowerCompare(this, e), ty: a.ty };
        return lowerArith(this, e, op, [e.left, e.right], a.ty);
      }
      case 'MemberExpression': {
        const base = this.expr(e.base);
        if (base.ty.m & VIEW) return this.field(this.needView(base, e.base, 'index'), a.field ?? null, a.ty);
        return { rep: 'none', ty: a.ty };
      }
      case 'IndexExpression': return this.tableIndex(e, a.ty);
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
    const dst = wtypes(rep).map((w) => this.temp(w, 'lg'));
    const set = (v: Val) => this.exprsOf(this.coerce(v, ty)).map((ex, i) => ({ k: 'set', l: dst[i]!, e: ex } as Stmt));
    const right = this.withOut(() => { const y = this.expr(e.right); this.out.push(...set(y)); });
    const left = set(x);
    this.out.push({ k: 'if', c: t, t: isAnd ? right : left, f: isAnd ? left : right });
    return this.fromLocals(ty, rep, dst);
  }

  /** Reads a layout field: integer when every bit lies inside the view, else nil. */
  field(view: Expr, f: FieldDef | null, ty: Ty): Val {
    if (!f || f.kind !== 'number' || f.length === 0 || f.length > 64) return { rep: 'none', ty };
    const k = this.keep({ rep: 'view', e: view, ty: { m: VIEW } }) as { e: Expr };
    const need = Math.ceil((f.offset + f.length) / 8);
    const len = un('i32.wrap_i64', k.e, 'i32');
    const addr = un('i32.wrap_i64', bin('i64.shr_u', k.e, i64(32n)), 'i32');
    const ok = bin('i32.ge_u', len, i32(need));
    const value = readBits(addr, f);
    return { rep: 'dyn', tag: cond(ok, i32(TAG.int), i32(TAG.nil), 'i32'), val: cond(ok, value, i64(0n), 'i64'), ty };
  }

  tableIndex(e: L.IndexExpression, ty: Ty): Val {
    const t = this.c.tables[this.ann(e.base).ty.c!.k === 'table' ? (this.ann(e.base).ty.c as { id: number }).id : -1]!;
    const key = this.keep(this.expr(e.index));
    if (repOf(ty) === 'none' && key.rep === 'none') return { rep: 'none', ty };
    const rep = repOf(ty) ?? 'none';
    let result: Val = this.constExprs({ k: 'nil' }, rep);
    let tag = result.rep === 'dyn' ? result.tag : i32(0), val = result.rep === 'dyn' ? result.val : i64(0n);
    let single: Expr = result.rep !== 'dyn' && result.rep !== 'none' ? result.e : i32(0);
    for (const ent of [...t.entries].reverse()) {
      if (ent.key.k !== 'int' && ent.key.k !== 'float') continue;
      const kv: Val = { rep: 'none', ty: constTy(ent.key) };
      const hit = lowerEq(this, key, kv, e);
      const v = this.constExprs(ent.value, rep);
      if (v.rep === 'dyn') { tag = cond(hit, v.tag, tag, 'i32'); val = cond(hit, v.val, val, 'i64'); }
      else if (v.rep !== 'none') single = cond(hit, v.e, single, wtypes(rep)[0]!);
    }
    if (rep === 'dyn') result = { rep, tag, val, ty };
    else if (rep !== 'none') result = { rep, e: single, ty } as Val;
    return { ...result, ty } as Val;
  }

  call(e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, a: Ann): Val {
    const args = e.type === 'CallExpression' ? e.arguments : e.type === 'TableCallExpression' ? [e.arguments] : [e.argument];
    if (a.builtin === 'layout' || a.builtin === 'segment') {
      const base = (e.base as L.MemberExpression).base;
      const view = this.needView(this.expr(base), base, 'index');
      if (a.builtin === 'layout') return { rep: 'view', e: view, ty: a.ty };
      const vals = args.map((x) => this.keep(this.expr(x)));
      return this.segment(view, vals, args, e);
    }
    if (a.callee) {
      const f = a.callee;
      const vals = args.map((x) => this.keep(this.expr(x)));
      const argExprs: Expr[] = [];
      f.params.forEach((p, i) => argExprs.push(...this.exprsOf(this.coerce(vals[i] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }, p.ty))));
      const rep = repOf(f.retTy) ?? 'none';
      const dst = wtypes(rep).map((w) => this.temp(w, 'r'));
      this.out.push({ k: 'call', fn: this.fnName(f), args: argExprs, dst });
      return this.fromLocals(f.retTy, rep, dst);
    }
    const name = a.builtin;
    if (name === 'require' || name === 'data.layout') return { rep: 'none', ty: a.ty };
    if (name === 'error') {
      const m = args[0] ? this.ann(args[0]).ty.c : undefined;
      const msg = !m || m.k === 'nil' ? 'nil' : m.k === 'str' ? m.v : '(error object is not a string)';
      for (const x of args) this.expr(x);
      this.out.push({ k: 'error', site: this.site(e, msg) });
      return { rep: 'none', ty: a.ty };
    }
    if (name === 'assert') {
      const vals = args.map((x) => this.keep(this.expr(x)));
      const v = vals[0] ?? { rep: 'none', ty: constTy({ k: 'nil' }) };
      const m = args[1] ? this.ann(args[1]).ty.c : undefined;
      this.guard(not(this.truthy(v)), this.site(e, m?.k === 'str' ? m.v : 'assertion failed!'));
      return this.narrow(v, a.ty);
    }
    if (name === 'math.min' || name === 'math.max' || name === 'math.abs') {
      return lowerArith(this, e, name, args, a.ty);
    }
    this.reason(e, `call to ${name ?? 'an unknown function'}`);
    return { rep: 'none', ty: a.ty };
  }

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

  segment(view: Expr, vals: Val[], args: L.Expression[], e: L.Node): Val {
    const k = this.keep({ rep: 'view', e: view, ty: { m: VIEW } }) as { e: Expr };
    const len = un('i64.extend_i32_u', un('i32.wrap_i64', k.e, 'i32'), 'i64');
    const base = bin('i64.shr_u', k.e, i64(32n));
    const intArg = (i: number): { present: Expr; v: Expr } => {
      const v = vals[i];
      if (!v) return { present: i32(0), v: i64(0n) };
      for (const kind of [FALSE, TRUE, FLOAT, STR, VIEW]) if (v.ty.m & kind)
        this.guard(this.isKind(v, kind), this.site(args[i]!, `bad argument #${i + 1} to 'segment' (number expected, got ${luaTypeName(kind)})`));
      return { present: not(this.isKind(v, NIL)), v: this.intOf(v) };
    };
    const o = intArg(0), n = intArg(1);
    const O = this.keep({ rep: 'int', e: cond(o.present, o.v, i64(0n), 'i64'), ty: { m: INT } }) as { e: Expr };
    const N = this.keep({ rep: 'int', e: cond(n.present, n.v, bin('i64.sub', len, O.e), 'i64'), ty: { m: INT } }) as { e: Expr };
    // nil unless 0 <= o < #d, len >= 0 and o + len <= #d
    const ok = and(and(bin('i64.ge_s', O.e, i64(0n)), bin('i64.lt_s', O.e, len)),
      and(bin('i64.ge_s', N.e, i64(0n)), bin('i64.le_s', N.e, bin('i64.sub', len, O.e))));
    const packed = bin('i64.or', bin('i64.shl', bin('i64.add', base, O.e), i64(32n)), N.e);
    void e;
    return { rep: 'view', e: cond(ok, packed, i64(NIL_VIEW), 'i64'), ty: { m: VIEW | NIL } };
  }
}

function zero(t: WType, view: boolean): Expr {
  return t === 'i32' ? i32(0) : t === 'i64' ? i64(view ? NIL_VIEW : 0n) : f64(0);
}

/** Loads a number field (MSB-0 bit offset, width 1..64) from the view at `addr`. */
export function readBits(addr: Expr, f: FieldDef): Expr {
  const first = Math.floor(f.offset / 8), sh = f.offset % 8, w = f.length;
  const nbytes = Math.ceil((sh + w) / 8);
  const byte = (i: number): Expr => ({ k: 'load8', addr, off: first + i });
  if (f.little && w > 8) {
    let v: Expr = byte(0);
    for (let i = 1; i < w / 8; i++) v = bin('i64.or', v, bin('i64.shl', byte(i), i64(BigInt(8 * i))));
    return v;
  }
  const take = Math.min(nbytes, 8);
  let raw: Expr = byte(0);
  for (let i = 1; i < take; i++) raw = bin('i64.or', bin('i64.shl', raw, i64(8n)), byte(i));
  if (nbytes <= 8) {
    const right = 8 * nbytes - sh - w;
    let v = right ? bin('i64.shr_u', raw, i64(BigInt(right))) : raw;
    if (w < 64 && sh !== 0) v = bin('i64.and', v, i64((1n << BigInt(w)) - 1n));
    return v;
  }
  // 9 bytes: the field straddles an 8-byte window
  const hi = bin('i64.or', bin('i64.shl', raw, i64(BigInt(sh))), bin('i64.shr_u', byte(8), i64(BigInt(8 - sh))));
  return w === 64 ? hi : bin('i64.shr_u', hi, i64(BigInt(64 - w)));
}

void BOOL; void NUM; void join;
