// Pass 2: decides whether a script is in the compiled subset and infers a
// static type for every variable and expression. Types are flow-insensitive
// (the join of everything a variable ever holds, found by iterating to a
// fixpoint over the whole program); the layout attached to each data view is
// tracked flow-sensitively, so field reads resolve to bit offsets here.
// What it leaves for lower is the contract in check-result.ts.
import type * as L from 'luaparse';
import type { Ann, CheckResult, FnInfo, Reason, Var } from './check-result.js';
import type { ParseResult } from './parse.js';
import { declNodeOf, resolveNames } from './check-scope.js';
import { isKnockOn, missingGlobal } from './check-reasons.js';
import type { LabelMap } from './labels.js';
import { checkConcat, checkGmatchFor, extraResults, isGmatchLoop } from './strings/check.js';
import { exactPow } from './consts.js';
import { tableBorder } from './tables/unroll.js';
import { addExtraReturns } from './check-returns.js';
import { checkCall, checkIndex, checkMember, fieldType, layoutArg, makeLayout, multipleResults } from './check-call.js';
import { type HeapState, heapForTypes, heapState, heapTable, heapTarget, isHeapConstructor, scanUses, storeInto } from './heap/check.js';
import {
  BOTTOM, Const, FALSE, FALSY, FLOAT, FUNC, FieldDef, HTAB, INT, LSet, LayoutDef, NIL,
  NO_LAYOUT, NUM, STATIC, STR, TABLE, TRUE, TableDef, Ty, UNKNOWN, VIEW, constTy, join, lsEq, lsJoin, only, repOf, tyEq, without,
} from './types.js';

/**
 * Rounds of whole-program inference. Types and layout sets only grow, so a
 * round that changes nothing is the fixpoint; scripts reach it in a few
 * rounds (one more per value flowing backwards: into a function defined
 * earlier, around a loop), and the bound caps compile time. A script that
 * needs more has types that are still too narrow: that is a reason, and it
 * runs on the interpreter.
 */
const MAX_INFERENCE_ROUNDS = 30;
/**
 * Rounds of a loop body within one inference round, until the layouts views
 * carry at the loop head stop changing. A view's layout changes only at a
 * `:layout()` call or a call it is passed to, so a couple of rounds settle a
 * loop; the bound makes sure nested loops end (reaching it is not reported).
 */
const MAX_LOOP_ROUNDS = 10;
/** The exponents lower computes exactly for non-constant bases (1, x, x*x agree with C's pow); other `^` stay interpreted. */
const COMPILED_EXPONENTS = [0, 1, 2];

const BUILTINS = new Set(['require', 'error', 'assert', 'math', 'type', 'tostring', 'tonumber', 'print', 'pcall',
  'string', 'table', 'select', 'ipairs', 'pairs', 'next', 'rawget', 'rawset', 'rawequal', 'rawlen', 'setmetatable',
  'getmetatable', 'xpcall', 'utf8']);

export type State = { layouts: Map<Var, Set<number>>; dead: boolean };
export type Call = L.CallExpression | L.TableCallExpression | L.StringCallExpression;

/** Pass 2 (after tables/unroll.ts has rewritten constant-table loops): the script's types, or why it does not compile. */
export function check(p: ParseResult): CheckResult {
  return new Checker(p).run();
}

export class Checker {
  reasons: Reason[] = [];
  fns: FnInfo[] = [];
  vars: Var[] = [];
  ann = new Map<L.Node, Ann>();
  declVar = new Map<L.Node, Var>();
  refVar = new Map<L.Node, Var>();
  globals = new Map<string, Var>();
  layouts: LayoutDef[] = [];
  layoutOf = new Map<L.Node, LayoutDef>();
  tables: TableDef[] = [];
  tableOf = new Map<L.Node, TableDef>();
  /** run-time tables (heap/check.ts) */
  heap!: HeapState;
  changed = false;
  /** a variable whose type grew in the current round (where an unsettled inference is reported) */
  changedAt: L.Node | undefined;
  final = false;
  fn!: FnInfo;
  main!: FnInfo;

  constructor(readonly p: ParseResult) {}

  /**
   * Records why the script is outside the subset (in the final round). A
   * knock-on effect of a value check could not type is dropped
   * (check-reasons.ts): `self` for a reason about the node's own value or
   * operation, `operands` where this reason is what makes the node's value
   * UNKNOWN, `never` for a cause of its own.
   */
  reason(node: L.Node, message: string, knockOn: 'self' | 'operands' | 'never' = 'self'): void {
    if (!this.final) return;
    if (knockOn !== 'never' && isKnockOn(this.ann, node, knockOn === 'self')) return;
    const lc = node.loc!.start;
    const line = lc.line, column = lc.column + 1;
    if (!this.reasons.some((r) => r.line === line && r.column === column && r.message === message))
      this.reasons.push({ line, column, message });
  }

  run(): CheckResult {
    this.main = this.newFn('main chunk', this.p.ast, null);
    this.resolve();
    this.heap = heapState(scanUses(this));
    const filterVar = this.globals.get('filter');
    if (filterVar?.ty.c?.k === 'func') {
      // filter(pkt) is called by the host with a view that carries no layout
      const f = this.fns[filterVar.ty.c.id]!;
      if (f.params[0]) { f.params[0].ty = { m: VIEW }; f.paramEntry[0] = new Set([NO_LAYOUT]); }
      // filter(pkt, time): the capture time in integer nanoseconds; further parameters get nil
      if (f.params[1]) f.params[1].ty = { m: INT };
      for (const p of f.params.slice(2)) p.ty = constTy({ k: 'nil' });
    }
    let settled = false;
    for (let i = 0; i < MAX_INFERENCE_ROUNDS && !settled; i++) {
      this.changed = false;
      this.changedAt = undefined;
      this.inferAll();
      settled = !this.changed;
    }
    this.final = true;
    if (!settled) {
      const at = this.changedAt?.loc?.start ?? { line: 1, column: 0 };
      this.reasons.push({ line: at.line, column: at.column + 1,
        message: `types still changing after ${MAX_INFERENCE_ROUNDS} rounds of inference (a value flows back through too many assignments)` });
    }
    this.inferAll();
    let filter: FnInfo | null = null;
    if (!filterVar || filterVar.ty.c?.k !== 'func') {
      this.reasons.push({ line: 1, column: 1, message: "the script does not define a global function 'filter'" });
    } else {
      filter = this.fns[filterVar.ty.c.id]!;
    }
    this.reasons.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: this.reasons.length === 0, reasons: this.reasons, fns: this.fns, main: this.main, filter,
      vars: this.vars, ann: this.ann, declVar: this.declVar, layouts: this.layouts, tables: this.tables, labels: this.labels };
  }

  newFn(name: string, node: L.FunctionDeclaration | L.Chunk, parent: FnInfo | null): FnInfo {
    const f: FnInfo = { id: this.fns.length, name, node, parent, params: [], retTy: BOTTOM, retLayouts: new Set(), extraRet: [],
      paramEntry: [], paramExit: [] };
    this.fns.push(f);
    return f;
  }

  newVar(id: L.Identifier, fn: FnInfo | null, kind: Var['kind']): Var {
    const v: Var = { id: this.vars.length, name: id.name, fn, kind, ty: kind === 'global' ? constTy({ k: 'nil' }) : BOTTOM,
      reassigned: false, line: id.loc!.start.line, column: id.loc!.start.column + 1 };
    this.vars.push(v);
    return v;
  }

  // ---- name resolution (check-scope.ts) -------------------------------------------
  deferred: [L.Node, string][] = [];
  labels: LabelMap = { labels: new Map(), gotos: new Map(), errors: [] };
  /** per function being inferred: layout states flowing to labels */
  pending = new Map<L.Node, State>();
  labelState = new Map<L.Node, State>();
  resolve(): void { resolveNames(this); }
  declNodeOf(v: Var): L.Node | undefined { return declNodeOf(this, v); }
  // ---- inference --------------------------------------------------------------------
  inferAll(): void {
    if (this.final) for (const [n, m] of this.deferred) this.reason(n, m, 'never');
    for (const v of this.vars) if ((v as Var & { captured?: boolean }).captured && v.kind !== 'global') {
      if (repOf(v.ty) !== 'none' || v.reassigned)
        this.reason({ loc: { start: { line: v.line, column: v.column - 1 } } } as L.Node,
          v.reassigned ? `closure capturing a mutable upvalue '${v.name}'` : `closure capturing local '${v.name}' of an enclosing function`);
    }
    for (const f of this.fns) {
      this.fn = f;
      this.pending = new Map();
      this.labelState = new Map();
      const st: State = { layouts: new Map(), dead: false };
      f.params.forEach((p, i) => st.layouts.set(p, new Set(f.paramEntry[i] ?? [NO_LAYOUT])));
      const body = f.node.type === 'Chunk' ? f.node.body : f.node.body;
      this.block(body, st);
      if (!st.dead && f !== this.main) { this.addReturn(f, constTy({ k: 'nil' }), undefined); addExtraReturns(this, f, []); }
      f.params.forEach((p, i) => {
        if (!st.dead) this.setExit(f, i, st.layouts.get(p));
      });
    }
  }

  setExit(f: FnInfo, i: number, ls: LSet | undefined) {
    // no call seen yet: the parameter's layout is unknown, not "none"
    if (!f.paramEntry[i]) return;
    const cur = f.paramExit[i] ?? new Set<number>();
    const n = lsJoin(cur, ls);
    if (!lsEq(n, cur)) { f.paramExit[i] = n; this.changed = true; }
  }

  addReturn(f: FnInfo, t: Ty, ls: LSet | undefined) {
    const n = join(f.retTy, t);
    if (!tyEq(n, f.retTy)) { f.retTy = n; this.changed = true; }
    const l = lsJoin(f.retLayouts, ls);
    if (!lsEq(l, f.retLayouts)) { f.retLayouts = l; this.changed = true; }
  }

  assignVar(v: Var, t: Ty, node: L.Node) {
    if (t.m & UNKNOWN) { this.widen(v, t); return; }
    if (t.m & VIEW && (v.fn === this.main || v.kind === 'global'))
      this.reason(node, `data view stored in module-level variable '${v.name}'`);
    // strings live in packet memory or the per-packet arena: only constants may persist
    if (t.m & STR && !(t.c?.k === 'str' && t.m === STR) && (v.fn === this.main || v.kind === 'global'))
      this.reason(node, `non-constant string stored in module-level variable '${v.name}'`);
    this.widen(v, t, node);
    if (this.final && repOf(v.ty) === null && (v.ty.m & STATIC) && !v.ty.c)
      this.reason(node, `variable '${v.name}' holds different functions, tables or layouts`);
  }

  /**
   * The type of a value check cannot type (a reason says why): UNKNOWN in the
   * final round, so that what is done with it is not reported again. Earlier
   * rounds say nil: an operand may only look wrong until inference settles,
   * and an UNKNOWN would stay in the types it flows into.
   */
  unknown(): Ty { return this.final ? { m: UNKNOWN } : { m: NIL }; }

  /** Joins `t` into the variable's type. */
  widen(v: Var, t: Ty, node?: L.Node) {
    const n = join(v.ty, t);
    if (!tyEq(n, v.ty)) { v.ty = n; this.changed = true; this.changedAt ??= node; }
  }

  block(body: L.Statement[], st: State): void {
    for (const s of body) {
      // code after a goto is reachable again at a label
      if (st.dead && s.type !== 'LabelStatement') continue;
      this.stmt(s, st);
    }
  }

  /** The script's `filter` function (its extra return values are ignored by the host). */
  filter0(): FnInfo | undefined {
    const v = this.globals.get('filter');
    return v?.ty.c?.k === 'func' ? this.fns[v.ty.c.id] : undefined;
  }

  /** A goto: forward ones carry their layout state to the label; backward ones must not change it. */
  gotoStmt(s: L.GotoStatement, st: State): void {
    const t = this.labels.gotos.get(s);
    if (t && !t.backward) {
      const p = this.pending.get(t.label.node) ?? { layouts: new Map(), dead: true };
      this.mergeInto(p, this.cloneSt(st));
      this.pending.set(t.label.node, p);
    } else if (t) {
      const at = this.labelState.get(t.label.node);
      for (const [v, ls] of st.layouts) {
        const before = at?.layouts.get(v);
        if (before && ![...ls].every((x) => before.has(x))) this.reason(s, `goto back to a label where view '${v.name}' had another layout`);
      }
    }
    st.dead = true;
  }

  labelStmt(s: L.LabelStatement, st: State): void {
    const p = this.pending.get(s);
    if (p) this.mergeInto(st, p);
    this.labelState.set(s, this.cloneSt(st));
  }

  cloneSt(st: State): State {
    return { layouts: new Map([...st.layouts].map(([k, v]) => [k, new Set(v)])), dead: st.dead };
  }

  mergeInto(a: State, b: State): void {
    if (b.dead) return;
    if (a.dead) { a.layouts = b.layouts; a.dead = false; return; }
    for (const [k, v] of b.layouts) a.layouts.set(k, lsJoin(a.layouts.get(k), v));
  }

  loop(st: State, body: () => State): void {
    // iterate the body until the layout state at its head is stable
    for (let i = 0; i < MAX_LOOP_ROUNDS; i++) {
      const before = this.cloneSt(st);
      const out = body();
      this.mergeInto(st, out);
      st.dead = before.dead;
      if ([...st.layouts].every(([k, v]) => lsEq(v, before.layouts.get(k) ?? new Set()))) break;
    }
  }

  stmt(s: L.Statement, st: State): void {
    switch (s.type) {
      case 'LocalStatement': {
        const r = this.exprList(s.init, s.variables.length, st);
        s.variables.forEach((v, i) => {
          const vr = this.declVar.get(v)!;
          this.assignVar(vr, r[i]!.ty, v);
          st.layouts.set(vr, new Set(r[i]!.ls ?? [NO_LAYOUT]));
          if (r[i]!.alias) this.reason(v, `data view copied into another variable '${v.name}'`);
        });
        return;
      }
      case 'AssignmentStatement': {
        const heapStores = new Map<L.Node, ReturnType<typeof heapTarget>>();
        for (const t of s.variables) if (t.type !== 'Identifier') {
          const h = heapTarget(this, t, st);
          if (h) { heapStores.set(t, h); continue; }
          this.reason(t, 'assignment to a table field or data view');
        }
        const r = this.exprList(s.init, s.variables.length, st);
        s.variables.forEach((t, i) => {
          if (t.type !== 'Identifier') {
            const h = heapStores.get(t);
            if (h) storeInto(this, s.init[i] ?? t, h.tab, h.key, r[i]!.ty);
            return;
          }
          const v = this.refVar.get(t)!;
          if (v.ty.c?.k === 'func' && v.kind === 'global') this.reason(t, `global function '${v.name}' reassigned`);
          this.assignVar(v, r[i]!.ty, t);
          this.ann.set(t, { ty: v.ty, var: v });
          st.layouts.set(v, new Set(r[i]!.ls ?? [NO_LAYOUT]));
          if (r[i]!.alias) this.reason(t, `data view copied into another variable '${v.name}'`);
        });
        return;
      }
      case 'CallStatement': this.expr(s.expression, st); return;
      case 'FunctionDeclaration':
        if (s.isLocal || s.identifier?.type === 'Identifier') {
          const v = this.declVar.get(s.identifier as L.Identifier) ?? this.refVar.get(s.identifier as L.Identifier)!;
          this.ann.set(s.identifier!, { ty: v.ty, var: v });
        }
        return;
      case 'ReturnStatement': {
        const f = this.fn;
        if (f === this.main) { this.reason(s, 'return from the main chunk'); st.dead = true; return; }
        const r = s.arguments.map((a) => this.expr(a, st));
        if (f !== this.filter0()) addExtraReturns(this, f, r.slice(1), s);
        if (f !== this.filter0()) multipleResults(this, s.arguments, 2);
        if (r[r.length - 1]?.multi && f.name !== 'filter') this.reason(s, 'returning the value list of string.find, match or byte');
        const first = r[0] ?? { ty: constTy({ k: 'nil' }) };
        if (first.ty.m & STATIC & ~FUNC) this.reason(s, 'returning a table, layout or module');
        this.addReturn(f, first.ty, first.ls);
        f.params.forEach((p, i) => this.setExit(f, i, st.layouts.get(p)));
        st.dead = true;
        return;
      }
      case 'IfStatement': {
        const out: State = { layouts: new Map(), dead: true };
        let cur = st;
        let hasElse = false;
        for (const c of s.clauses) {
          if (c.type !== 'ElseClause') this.cond(c.condition, cur); else hasElse = true;
          const b = this.cloneSt(cur);
          this.block(c.body, b);
          this.mergeInto(out, b);
        }
        if (!hasElse) this.mergeInto(out, cur);
        st.layouts = out.layouts; st.dead = out.dead;
        return;
      }
      case 'WhileStatement':
        this.loop(st, () => { this.cond(s.condition, st); const b = this.cloneSt(st); this.block(s.body, b); b.dead = false; return b; });
        return;
      case 'RepeatStatement':
        this.loop(st, () => { const b = this.cloneSt(st); this.block(s.body, b); b.dead = false; this.cond(s.condition, b); return b; });
        return;
      case 'DoStatement': this.block(s.body, st); return;
      case 'ForNumericStatement': {
        const ts = [s.start, s.end, s.step].map((e) => (e ? this.expr(e, st).ty : constTy({ k: 'int', v: 1n })));
        // non-numbers are a runtime error ("'for' initial value must be a number"), checked in lower
        for (const [i, t] of ts.entries()) if (t.m & STATIC)
          this.reason([s.start, s.end, s.step][i] ?? s, `'for' ${['initial value', 'limit', 'step'][i]} must be a number`);
        // Lua 5.4: an integer initial value and step make an integer loop (a float
        // limit is clipped); otherwise everything is converted to float
        const num = (t: Ty) => t.m & NUM;
        const isInt = num(ts[0]!) === INT && num(ts[2]!) === INT;
        if (!isInt && (ts[0]!.m & INT && ts[0]!.m & FLOAT || ts[2]!.m & INT && ts[2]!.m & FLOAT))
          this.reason(s, "'for' loop whose initial value or step may be an integer or a float");
        const v = this.declVar.get(s.variable)!;
        // an operand whose type is not known yet (m = 0) waits for the next round
        if (ts.every((t) => t.m !== 0)) this.assignVar(v, isInt ? { m: INT } : { m: FLOAT }, s.variable);
        this.loop(st, () => { const b = this.cloneSt(st); this.block(s.body, b); b.dead = false; return b; });
        return;
      }
      case 'GotoStatement': this.gotoStmt(s, st); return;
      case 'LabelStatement': this.labelStmt(s, st); return;
      case 'ForGenericStatement': {
        if (isGmatchLoop(s)) { checkGmatchFor(this, s, st); return; }
        const tys = heapForTypes(this, s, st);
        if (!tys) { this.reason(s, 'generic for loop other than pairs or ipairs of a table, or gmatch'); return; }
        s.variables.forEach((id, i) => this.assignVar(this.declVar.get(id)!, tys[i] ?? constTy({ k: 'nil' }), id));
        this.loop(st, () => { const b = this.cloneSt(st); this.block(s.body, b); b.dead = false; return b; });
        return;
      }
      case 'BreakStatement':
        return;
    }
  }

  cond(e: L.Expression, st: State) { this.expr(e, st); }

  /** Evaluates an expression list adjusted to n values (calls give one value). */
  exprList(es: L.Expression[], n: number, st: State): { ty: Ty; ls?: LSet; alias?: boolean }[] {
    const out: { ty: Ty; ls?: LSet; alias?: boolean }[] = [];
    for (const e of es) {
      const a = this.expr(e, st);
      const alias = (a.ty.m & VIEW) !== 0 && this.isViewAlias(e);
      if (a.ty.m & STATIC && !a.ty.c && a.ty.m !== 0 && repOf(a.ty) === null) this.reason(e, 'value of unknown function, table or layout');
      out.push({ ty: a.ty, ls: a.ls, alias });
      // `local i, j = s:find(p)`: the other results of find / match
      if (a.multi && e === es[es.length - 1] && es.length < n) out.push(...(a.callee && !a.builtin ? a.callee.extraRet : extraResults(a)).map((ty) => ({ ty })));
    }
    multipleResults(this, es, n);
    while (out.length < n) out.push({ ty: constTy({ k: 'nil' }) });
    return out;
  }

  isViewAlias(e: L.Expression): boolean {
    if (e.type === 'Identifier') return true;
    if (e.type === 'CallExpression' && e.base.type === 'MemberExpression' && e.base.indexer === ':' &&
      e.base.identifier.name === 'layout') return this.isViewAlias(e.base.base);
    return false;
  }

  set(node: L.Node, a: Ann): Ann { this.ann.set(node, a); return a; }

  expr(e: L.Expression, st: State): Ann {
    switch (e.type) {
      case 'NilLiteral': return this.set(e, { ty: constTy({ k: 'nil' }) });
      case 'BooleanLiteral': return this.set(e, { ty: constTy({ k: 'bool', v: e.value }) });
      case 'NumericLiteral': {
        const n = this.p.numbers.get(e)!;
        return this.set(e, { ty: constTy(n.kind === 'int' ? { k: 'int', v: n.value } : { k: 'float', v: n.value }) });
      }
      case 'StringLiteral': return this.set(e, { ty: constTy({ k: 'str', v: this.p.strings.get(e)! }) });
      case 'VarargLiteral': this.reason(e, 'varargs', 'never'); return this.set(e, { ty: this.unknown() });
      case 'FunctionDeclaration': {
        const a = this.ann.get(e)!;
        return a;
      }
      case 'Identifier': {
        const v = this.refVar.get(e)!;
        if (v.kind === 'global' && !BUILTINS.has(v.name) || v.kind !== 'global') {
          const missing = v.kind === 'global' && v.ty.m === NIL ? missingGlobal(v.name) : undefined;
          if (missing) { this.reason(e, missing, 'operands'); return this.set(e, { ty: this.unknown(), var: v }); }
          const ls = st.layouts.get(v) ?? (v.ty.m & VIEW ? new Set([NO_LAYOUT]) : undefined);
          return this.set(e, { ty: v.ty, var: v, ls });
        }
        if (v.reassigned) this.reason(e, `assignment to builtin '${v.name}'`);
        return this.set(e, { ty: constTy({ k: 'builtin', name: v.name }), var: v });
      }
      case 'TableConstructorExpression': return this.table(e, st);
      case 'UnaryExpression': return this.unary(e, st);
      case 'BinaryExpression': return this.binary(e, st);
      case 'LogicalExpression': {
        const a = this.expr(e.left, st);
        const b = this.expr(e.right, st);
        let ty: Ty;
        if (e.operator === 'and') ty = (a.ty.m & ~FALSY) ? join(only(a.ty, FALSY), b.ty) : a.ty;
        else ty = (a.ty.m & FALSY) ? join(without(a.ty, FALSY), b.ty) : a.ty;
        if ((a.ty.m | b.ty.m) & STATIC && repOf(ty) === null) this.reason(e, `'${e.operator}' on a function, table or layout`);
        return this.set(e, { ty, ls: lsJoin(a.ls, b.ls) });
      }
      case 'MemberExpression': return this.member(e, st);
      case 'IndexExpression': return this.index(e, st);
      case 'CallExpression': case 'TableCallExpression': case 'StringCallExpression': {
        const a = this.call(e, st);
        // `(f())` is one value: Lua truncates a parenthesised call
        return a.multi && this.p.parens.has(e) ? this.set(e, { ...a, multi: undefined }) : a;
      }
    }
  }

  table(e: L.TableConstructorExpression, st: State): Ann {
    if (isHeapConstructor(this, e)) return heapTable(this, e, st);
    const entries: TableDef['entries'] = [];
    let next = 1n;
    let ok = true;
    for (const f of e.fields) {
      const v = this.expr(f.value, st);
      let key: Const | undefined;
      if (f.type === 'TableKey') key = this.expr(f.key, st).ty.c;
      else if (f.type === 'TableKeyString') key = { k: 'str', v: f.key.name };
      else key = { k: 'int', v: next++ };
      if (key?.k === 'float' && Number.isInteger(key.v)) key = { k: 'int', v: BigInt(key.v) };
      const vc = v.ty.c && constTy(v.ty.c).m === v.ty.m ? v.ty.c : undefined;
      if (!key || key.k === 'nil' || !vc) { ok = false; continue; }
      const i = entries.findIndex((x) => x.key.k === key!.k && (x.key as { v: unknown }).v === (key as { v: unknown }).v);
      if (i >= 0) entries.splice(i, 1);
      if (vc.k !== 'nil') entries.push({ key, value: vc });
    }
    // computed contents: a run-time table, from now on
    if (!ok) { this.heap.forced.add(e); return heapTable(this, e, st); }
    let t = this.tableOf.get(e);
    if (!t) { t = { id: this.tables.length, entries }; this.tables.push(t); this.tableOf.set(e, t); }
    else t.entries = entries;
    return this.set(e, { ty: constTy({ k: 'table', id: t.id }) });
  }

  unary(e: L.UnaryExpression, st: State): Ann {
    const a = this.expr(e.argument, st);
    const t = a.ty;
    switch (e.operator) {
      case 'not': return this.set(e, { ty: { m: FALSE | TRUE } });
      case '#':
        if (t.c?.k === 'str') return this.set(e, { ty: constTy({ k: 'int', v: BigInt(t.c.v.length) }) });
        if (t.m & HTAB) {
          // a nil (or number, boolean) is a run-time error in lower
          if (t.m & (STR | VIEW | STATIC)) this.reason(e, 'length of a value that may be a table or a string or data view');
          return this.set(e, { ty: { m: INT } });
        }
        if (t.c?.k === 'table' && t.m === TABLE) {
          const n = tableBorder(this.tables[t.c.id]!);
          if (n === null) this.reason(e, 'length of a constant table that is not a sequence');
          return this.set(e, { ty: constTy({ k: 'int', v: n ?? 0n }) });
        }
        if ((t.m & ~(VIEW | NIL) || !(t.m & VIEW)) && (t.m & ~(STR | NIL) || !(t.m & STR)))
          this.reason(e, `length of a value that may not be a string or data view`);
        return this.set(e, { ty: { m: INT } });
      case '-': {
        if (t.c?.k === 'int') return this.set(e, { ty: constTy({ k: 'int', v: BigInt.asIntN(64, -t.c.v) }) });
        if (t.c?.k === 'float') return this.set(e, { ty: constTy({ k: 'float', v: -t.c.v }) });
        return this.set(e, { ty: this.numResult(e, [t]) });
      }
      case '~':
        if (t.m & FLOAT) this.reason(e, 'bitwise operation on a float');
        return this.set(e, { ty: { m: INT } });
    }
  }

  /**
   * Result of an arithmetic operator: an integer only if every operand may be
   * one, a float if any operand may be one (both: decided at run time).
   */
  numResult(e: L.Node, ts: Ty[], mixed = true): Ty {
    let m = 0;
    const canInt = ts.every((t) => t.m & INT);
    // arithmetic on a value check could not type: as unknown as it
    if (ts.some((t) => t.m & UNKNOWN)) m |= UNKNOWN;
    for (const t of ts) {
      if ((t.m & NUM) === NUM && !mixed) this.reason(e, 'argument that may be an integer or a float');
      if (t.m & (STR | STATIC)) this.reason(e, 'arithmetic on a string, table or function');
      m |= t.m & FLOAT;
    }
    if (canInt) m |= INT;
    return { m: m || INT };
  }

  binary(e: L.BinaryExpression, st: State): Ann {
    const a = this.expr(e.left, st).ty, b = this.expr(e.right, st).ty;
    const op = e.operator;
    switch (op) {
      case '==': case '~=':
        // function values compare by identity; constant tables and layouts have no run-time identity
        if ((a.m | b.m) & STATIC & ~FUNC) this.reason(e, 'comparison of functions, tables or layouts');
        return this.set(e, { ty: { m: FALSE | TRUE } });
      case '<': case '<=': case '>': case '>=':
        if ((a.m | b.m) & STATIC) this.reason(e, 'ordering of tables or functions');
        return this.set(e, { ty: { m: FALSE | TRUE } });
      case '..': return checkConcat(this, e, a, b);
      case '/': this.numResult(e, [a, b]); return this.set(e, { ty: { m: FLOAT } });
      case '^': {
        this.numResult(e, [a, b]);
        const p = exactPow(a.c, b.c);
        if (p !== null) return this.set(e, { ty: constTy({ k: 'float', v: p }) });
        if (!(b.c && (b.c.k === 'int' || b.c.k === 'float') && COMPILED_EXPONENTS.includes(Number(b.c.v))))
          this.reason(e, `'^' with an exponent other than the constants ${COMPILED_EXPONENTS.join(', ')}`);
        return this.set(e, { ty: { m: FLOAT } });
      }
      case '&': case '|': case '~': case '<<': case '>>':
        if ((a.m | b.m) & FLOAT) this.reason(e, 'bitwise operation on a float');
        this.numResult(e, [a, b]);
        return this.set(e, { ty: { m: INT } });
      default: {
        const ty = this.numResult(e, [a, b]);
        return this.set(e, { ty });
      }
    }
  }

  // ---- data views, layouts and calls (check-call.ts) -------------------------------
  lastField: FieldDef | null = null;
  member(e: L.MemberExpression, st: State): Ann { return checkMember(this, e, st); }
  fieldTy(e: L.Node, ls: LSet, name: string): Ty { return fieldType(this, e, ls, name); }
  index(e: L.IndexExpression, st: State): Ann { return checkIndex(this, e, st); }
  layoutArg(node: L.Expression, a: Ann): number | null { return layoutArg(this, node, a); }
  makeLayout(node: L.Node, t: TableDef): number | null { return makeLayout(this, node, t); }
  call(e: Call, st: State): Ann { return checkCall(this, e, st); }
}

