// Pass 2: decides whether a script is in the compiled subset and infers a
// static type for every variable and expression. Types are flow-insensitive
// (the join of everything a variable ever holds, found by iterating to a
// fixpoint over the whole program); the layout attached to each data view is
// tracked flow-sensitively, so field reads resolve to bit offsets here.
import type * as L from 'luaparse';
import type { ParseResult } from './parse.js';
import {
  BOTTOM, BUILTIN, Const, DATA, FALSE, FALSY, FLOAT, FUNC, FieldDef, INT, LAYOUT, LSet, LayoutDef, NIL,
  NO_LAYOUT, NUM, STATIC, STR, TABLE, TRUE, TableDef, Ty, VIEW, constTy, join, only, repOf, tyEq, without,
} from './types.js';

export interface Reason { line: number; column: number; message: string }

export interface Var {
  id: number;
  name: string;
  /** owning function; null for Lua globals */
  fn: FnInfo | null;
  kind: 'local' | 'param' | 'global';
  ty: Ty;
  /** assigned anywhere other than its declaration */
  reassigned: boolean;
  line: number;
  column: number;
}

export interface FnInfo {
  id: number;
  name: string;
  node: L.FunctionDeclaration | L.Chunk;
  parent: FnInfo | null;
  params: Var[];
  retTy: Ty;
  retLayouts: Set<number>;
  paramEntry: Set<number>[];
  paramExit: Set<number>[];
  calls: number;
}

export interface Ann {
  ty: Ty;
  /** layouts the view value may carry */
  ls?: LSet;
  /** resolved field of a view field read (null: always nil) */
  field?: FieldDef | null;
  var?: Var;
  callee?: FnInfo;
  builtin?: string;
}

export interface CheckResult {
  ok: boolean;
  reasons: Reason[];
  fns: FnInfo[];
  main: FnInfo;
  filter: FnInfo | null;
  vars: Var[];
  ann: Map<L.Node, Ann>;
  declVar: Map<L.Node, Var>;
  layouts: LayoutDef[];
  tables: TableDef[];
}

const BUILTINS = new Set(['require', 'error', 'assert', 'math', 'type', 'tostring', 'tonumber', 'print', 'pcall',
  'string', 'table', 'select', 'ipairs', 'pairs', 'next', 'rawget', 'rawset', 'rawequal', 'rawlen', 'setmetatable',
  'getmetatable', 'xpcall', 'utf8']);
const COMPILED_BUILTINS = new Set(['require', 'error', 'assert', 'math.min', 'math.max', 'math.abs', 'data.layout']);

type State = { layouts: Map<Var, Set<number>>; dead: boolean };

function lsJoin(a: Iterable<number> | undefined, b: Iterable<number> | undefined): Set<number> {
  const s = new Set<number>(a ?? []);
  for (const x of b ?? []) s.add(x);
  return s;
}
const lsEq = (a: LSet, b: LSet) => a.size === b.size && [...a].every((x) => b.has(x));

export function check(p: ParseResult): CheckResult {
  return new Checker(p).run();
}

class Checker {
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
  changed = false;
  final = false;
  fn!: FnInfo;
  main!: FnInfo;

  constructor(private p: ParseResult) {}

  reason(node: L.Node, message: string): void {
    if (!this.final) return;
    const lc = node.loc!.start;
    const line = lc.line, column = lc.column + 1;
    if (!this.reasons.some((r) => r.line === line && r.column === column && r.message === message))
      this.reasons.push({ line, column, message });
  }

  run(): CheckResult {
    this.main = this.newFn('main chunk', this.p.ast, null);
    this.resolve();
    const filterVar = this.globals.get('filter');
    if (filterVar?.ty.c?.k === 'func') {
      // filter(pkt) is called by the host with a view that carries no layout
      const f = this.fns[filterVar.ty.c.id]!;
      if (f.params[0]) { f.params[0].ty = { m: VIEW }; f.paramEntry[0] = new Set([NO_LAYOUT]); }
    }
    for (let i = 0; i < 30; i++) {
      this.changed = false;
      this.inferAll();
      if (!this.changed) break;
    }
    this.final = true;
    this.inferAll();
    let filter: FnInfo | null = null;
    if (!filterVar || filterVar.ty.c?.k !== 'func') {
      this.reasons.push({ line: 1, column: 1, message: "the script does not define a global function 'filter'" });
    } else {
      filter = this.fns[filterVar.ty.c.id]!;
      if (filter.params.length > 1) {
        const n = filter.params[1]!;
        this.reasons.push({ line: n.line, column: n.column, message: "'filter' takes more than one parameter" });
      }
    }
    this.reasons.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: this.reasons.length === 0, reasons: this.reasons, fns: this.fns, main: this.main, filter,
      vars: this.vars, ann: this.ann, declVar: this.declVar, layouts: this.layouts, tables: this.tables };
  }

  newFn(name: string, node: L.FunctionDeclaration | L.Chunk, parent: FnInfo | null): FnInfo {
    const f: FnInfo = { id: this.fns.length, name, node, parent, params: [], retTy: BOTTOM, retLayouts: new Set(),
      paramEntry: [], paramExit: [], calls: 0 };
    this.fns.push(f);
    return f;
  }

  newVar(id: L.Identifier, fn: FnInfo | null, kind: Var['kind']): Var {
    const v: Var = { id: this.vars.length, name: id.name, fn, kind, ty: kind === 'global' ? constTy({ k: 'nil' }) : BOTTOM,
      reassigned: false, line: id.loc!.start.line, column: id.loc!.start.column + 1 };
    this.vars.push(v);
    return v;
  }

  // ---- name resolution ------------------------------------------------------------
  resolve(): void {
    const fnOfNode = new Map<L.Node, FnInfo>();
    const scopes: Map<string, Var>[] = [new Map()];
    const lookup = (name: string): Var | undefined => {
      for (let i = scopes.length - 1; i >= 0; i--) { const v = scopes[i]!.get(name); if (v) return v; }
      return undefined;
    };
    const declare = (id: L.Identifier, fn: FnInfo, kind: Var['kind']) => {
      const v = this.newVar(id, fn, kind);
      scopes[scopes.length - 1]!.set(id.name, v);
      this.declVar.set(id, v);
      return v;
    };
    const ref = (id: L.Identifier, fn: FnInfo) => {
      let v = lookup(id.name);
      if (!v) {
        v = this.globals.get(id.name);
        if (!v) { v = this.newVar(id, null, 'global'); this.globals.set(id.name, v); }
      }
      this.refVar.set(id, v);
      if (v.fn && v.fn !== fn && v.fn !== this.main) (v as Var & { captured?: boolean }).captured = true;
      return v;
    };
    const block = (body: L.Statement[], fn: FnInfo, pre?: () => void) => {
      scopes.push(new Map());
      pre?.();
      for (const s of body) stmt(s, fn);
      scopes.pop();
    };
    const func = (node: L.FunctionDeclaration, name: string, parent: FnInfo) => {
      const f = this.newFn(name, node, parent);
      fnOfNode.set(node, f);
      block(node.body, f, () => {
        for (const p of node.parameters) {
          if (p.type === 'VarargLiteral') { this.reason(p, 'varargs'); this.deferred.push([p, 'varargs']); continue; }
          f.params.push(declare(p, f, 'param'));
        }
      });
      return f;
    };
    const expr = (e: L.Expression | null | undefined, fn: FnInfo): void => {
      if (!e) return;
      switch (e.type) {
        case 'Identifier': ref(e, fn); return;
        case 'FunctionDeclaration': {
          const f = func(e, 'anonymous function', fn);
          this.ann.set(e, { ty: constTy({ k: 'func', id: f.id }) });
          return;
        }
        case 'BinaryExpression': case 'LogicalExpression': expr(e.left, fn); expr(e.right, fn); return;
        case 'UnaryExpression': expr(e.argument, fn); return;
        case 'MemberExpression': expr(e.base, fn); return;
        case 'IndexExpression': expr(e.base, fn); expr(e.index, fn); return;
        case 'CallExpression': expr(e.base, fn); e.arguments.forEach((a) => expr(a, fn)); return;
        case 'TableCallExpression': expr(e.base, fn); expr(e.arguments, fn); return;
        case 'StringCallExpression': expr(e.base, fn); return;
        case 'TableConstructorExpression':
          for (const f of e.fields) { if (f.type === 'TableKey') expr(f.key, fn); expr(f.value, fn); }
          return;
        default: return;
      }
    };
    const stmt = (s: L.Statement, fn: FnInfo): void => {
      switch (s.type) {
        case 'LocalStatement':
          s.init.forEach((e) => expr(e, fn));
          for (const v of s.variables) {
            const vr = declare(v, fn, 'local');
            if (this.p.attributes.get(v)?.name === 'close') this.deferred.push([v, "'<close>' variable"]);
            void vr;
          }
          return;
        case 'AssignmentStatement':
          s.init.forEach((e) => expr(e, fn));
          s.variables.forEach((v) => expr(v, fn));
          for (const v of s.variables) if (v.type === 'Identifier') {
            const vr = this.refVar.get(v)!;
            vr.reassigned = true;
            const dn = this.declNodeOf(vr);
            if (dn && this.p.attributes.get(dn)?.name === 'const')
              this.deferred.push([v, `attempt to assign to const variable '${v.name}'`]);
          }
          return;
        case 'CallStatement': expr(s.expression, fn); return;
        case 'FunctionDeclaration': {
          const id = s.identifier;
          if (s.isLocal && id?.type === 'Identifier') {
            const v = declare(id, fn, 'local');
            const f = func(s, id.name, fn);
            v.ty = constTy({ k: 'func', id: f.id });
          } else if (id?.type === 'Identifier') {
            const v = ref(id, fn);
            const f = func(s, id.name, fn);
            if (v.fn !== null) { v.reassigned = true; this.deferred.push([s, `function assigned to local '${id.name}'`]); }
            else if (v.ty.c?.k === 'func') this.deferred.push([s, `global function '${id.name}' redefined`]);
            else if (fn !== this.main) this.deferred.push([s, `global function '${id.name}' defined inside a function`]);
            v.ty = constTy({ k: 'func', id: f.id });
          } else {
            this.deferred.push([s, 'method or field function definition']);
            func(s, 'method', fn);
          }
          return;
        }
        case 'ReturnStatement': s.arguments.forEach((e) => expr(e, fn)); return;
        case 'IfStatement':
          for (const c of s.clauses) { if (c.type !== 'ElseClause') expr(c.condition, fn); block(c.body, fn); }
          return;
        case 'WhileStatement': expr(s.condition, fn); block(s.body, fn); return;
        case 'RepeatStatement':
          scopes.push(new Map());
          for (const x of s.body) stmt(x, fn);
          expr(s.condition, fn);
          scopes.pop();
          return;
        case 'DoStatement': block(s.body, fn); return;
        case 'ForNumericStatement':
          expr(s.start, fn); expr(s.end, fn); expr(s.step, fn);
          block(s.body, fn, () => declare(s.variable, fn, 'local'));
          return;
        case 'ForGenericStatement':
          s.iterators.forEach((e) => expr(e, fn));
          this.deferred.push([s, 'generic for loop']);
          block(s.body, fn, () => s.variables.forEach((v) => declare(v, fn, 'local')));
          return;
        case 'GotoStatement': this.deferred.push([s, 'goto']); return;
        case 'LabelStatement': this.deferred.push([s, 'label']); return;
        case 'BreakStatement': return;
      }
    };
    block(this.p.ast.body, this.main);
    this.fnOfNode = fnOfNode;
  }

  deferred: [L.Node, string][] = [];
  fnOfNode = new Map<L.Node, FnInfo>();
  declNodeOf(v: Var): L.Node | undefined {
    for (const [n, x] of this.declVar) if (x === v) return n;
    return undefined;
  }

  // ---- inference --------------------------------------------------------------------
  inferAll(): void {
    if (this.final) for (const [n, m] of this.deferred) this.reason(n, m);
    for (const v of this.vars) if ((v as Var & { captured?: boolean }).captured && v.kind !== 'global') {
      if (repOf(v.ty) !== 'none' || v.reassigned)
        this.reason({ loc: { start: { line: v.line, column: v.column - 1 } } } as L.Node,
          v.reassigned ? `closure capturing a mutable upvalue '${v.name}'` : `closure capturing local '${v.name}' of an enclosing function`);
    }
    for (const f of this.fns) {
      this.fn = f;
      const st: State = { layouts: new Map(), dead: false };
      f.params.forEach((p, i) => st.layouts.set(p, new Set(f.paramEntry[i] ?? [NO_LAYOUT])));
      const body = f.node.type === 'Chunk' ? f.node.body : f.node.body;
      this.block(body, st);
      if (!st.dead && f !== this.main) this.addReturn(f, constTy({ k: 'nil' }), undefined);
      f.params.forEach((p, i) => {
        if (!st.dead) this.setExit(f, i, st.layouts.get(p));
      });
    }
  }

  setExit(f: FnInfo, i: number, ls: LSet | undefined) {
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
    if (t.m & VIEW && (v.fn === this.main || v.kind === 'global'))
      this.reason(node, `data view stored in module-level variable '${v.name}'`);
    const n = join(v.ty, t);
    if (!tyEq(n, v.ty)) { v.ty = n; this.changed = true; }
    if (this.final && repOf(v.ty) === null && (v.ty.m & STATIC) && !v.ty.c)
      this.reason(node, `variable '${v.name}' holds different functions, tables or layouts`);
  }

  block(body: L.Statement[], st: State): void {
    for (const s of body) {
      if (st.dead) break;
      this.stmt(s, st);
    }
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
    for (let i = 0; i < 10; i++) {
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
        for (const t of s.variables) if (t.type !== 'Identifier') {
          this.reason(t, 'assignment to a table field or data view');
          this.expr(t.base, st);
        }
        const r = this.exprList(s.init, s.variables.length, st);
        s.variables.forEach((t, i) => {
          if (t.type !== 'Identifier') return;
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
        if (s.arguments.length > 1 && f.name !== 'filter') this.reason(s, 'multiple return values');
        const r = s.arguments.map((a) => this.expr(a, st));
        const first = r[0] ?? { ty: constTy({ k: 'nil' }) };
        if (first.ty.m & STATIC & ~FUNC) this.reason(s, 'returning a table, layout or module');
        if (first.ty.m & FUNC) this.reason(s, 'returning a function');
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
        for (const [i, t] of ts.entries()) if (t.m & ~NUM || t.m === 0)
          this.reason([s.start, s.end, s.step][i] ?? s, `'for' ${['initial value', 'limit', 'step'][i]} must be a number`);
        const allInt = ts.every((t) => t.m === INT);
        const isInt = ts[0]!.m === INT && ts[2]!.m === INT;
        if (isInt && !allInt) this.reason(s, "integer 'for' loop with a float limit");
        const v = this.declVar.get(s.variable)!;
        this.assignVar(v, isInt ? { m: INT } : { m: FLOAT }, s.variable);
        this.loop(st, () => { const b = this.cloneSt(st); this.block(s.body, b); b.dead = false; return b; });
        return;
      }
      case 'ForGenericStatement': case 'GotoStatement': case 'LabelStatement': case 'BreakStatement':
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
      if (a.ty.m & STATIC && !a.ty.c && a.ty.m !== 0) this.reason(e, 'value of unknown function, table or layout');
      out.push({ ty: a.ty, ls: a.ls, alias });
    }
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
      case 'VarargLiteral': this.reason(e, 'varargs'); return this.set(e, { ty: { m: NIL } });
      case 'FunctionDeclaration': {
        const a = this.ann.get(e)!;
        return a;
      }
      case 'Identifier': {
        const v = this.refVar.get(e)!;
        if (v.kind === 'global' && !BUILTINS.has(v.name) || v.kind !== 'global') {
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
        if ((a.ty.m | b.ty.m) & STATIC) this.reason(e, `'${e.operator}' on a function, table or layout`);
        return this.set(e, { ty, ls: lsJoin(a.ls, b.ls) });
      }
      case 'MemberExpression': return this.member(e, st);
      case 'IndexExpression': return this.index(e, st);
      case 'CallExpression': case 'TableCallExpression': case 'StringCallExpression': return this.call(e, st);
    }
  }

  table(e: L.TableConstructorExpression, st: State): Ann {
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
    if (!ok) { this.reason(e, 'table constructor with non-constant keys or values'); return this.set(e, { ty: { m: TABLE } }); }
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
        if (t.m & ~(VIEW | NIL) || !(t.m & VIEW)) this.reason(e, `length of a ${t.m & STR ? 'non-constant string' : 'non-data value'}`);
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

  numResult(e: L.Node, ts: Ty[]): Ty {
    let m = 0;
    for (const t of ts) {
      if ((t.m & NUM) === NUM) this.reason(e, 'arithmetic on a value that may be an integer or a float');
      if (t.m & (STR | STATIC)) this.reason(e, 'arithmetic on a string, table or function');
      m |= t.m & NUM;
    }
    return { m: m & FLOAT ? FLOAT : INT };
  }

  binary(e: L.BinaryExpression, st: State): Ann {
    const a = this.expr(e.left, st).ty, b = this.expr(e.right, st).ty;
    const op = e.operator;
    switch (op) {
      case '==': case '~=':
        if ((a.m | b.m) & STATIC) this.reason(e, 'comparison of functions, tables or layouts');
        return this.set(e, { ty: { m: FALSE | TRUE } });
      case '<': case '<=': case '>': case '>=':
        if ((a.m | b.m) & (STR | STATIC)) this.reason(e, 'ordering of strings or tables');
        return this.set(e, { ty: { m: FALSE | TRUE } });
      case '..': this.reason(e, 'string concatenation'); return this.set(e, { ty: { m: STR } });
      case '/': this.numResult(e, [a, b]); return this.set(e, { ty: { m: FLOAT } });
      case '^': {
        this.numResult(e, [a, b]);
        const p = exactPow(a.c, b.c);
        if (p !== null) return this.set(e, { ty: constTy({ k: 'float', v: p }) });
        if (!(b.c && (b.c.k === 'int' || b.c.k === 'float') && [0, 1, 2].includes(Number(b.c.v))))
          this.reason(e, "'^' with an exponent other than the constants 0, 1, 2");
        return this.set(e, { ty: { m: FLOAT } });
      }
      case '&': case '|': case '~': case '<<': case '>>':
        if ((a.m | b.m) & FLOAT) this.reason(e, 'bitwise operation on a float');
        this.numResult(e, [a, b]);
        return this.set(e, { ty: { m: INT } });
      default: {
        if (op === '%' && (a.m | b.m) & FLOAT) this.reason(e, "float '%'");
        const ty = this.numResult(e, [a, b]);
        return this.set(e, { ty });
      }
    }
  }

  member(e: L.MemberExpression, st: State): Ann {
    const b = this.expr(e.base, st);
    const name = e.identifier.name;
    const c = b.ty.c;
    if (c?.k === 'data' && b.ty.m === DATA) {
      if (name !== 'layout') this.reason(e, `data.${name}`);
      return this.set(e, { ty: constTy({ k: 'builtin', name: 'data.' + name }) });
    }
    if (c?.k === 'builtin' && b.ty.m === BUILTIN) {
      const full = `${c.name}.${name}`;
      if (full === 'math.maxinteger') return this.set(e, { ty: constTy({ k: 'int', v: (1n << 63n) - 1n }) });
      if (full === 'math.mininteger') return this.set(e, { ty: constTy({ k: 'int', v: -(1n << 63n) }) });
      if (full === 'math.huge') return this.set(e, { ty: constTy({ k: 'float', v: Infinity }) });
      if (full === 'math.pi') return this.set(e, { ty: constTy({ k: 'float', v: Math.PI }) });
      return this.set(e, { ty: constTy({ k: 'builtin', name: full }) });
    }
    if (c?.k === 'table' && b.ty.m === TABLE) {
      const ent = this.tables[c.id]!.entries.find((x) => x.key.k === 'str' && x.key.v === name);
      return this.set(e, { ty: constTy(ent ? ent.value : { k: 'nil' }) });
    }
    if (b.ty.m & VIEW) {
      if (b.ty.m & ~(VIEW | NIL)) this.reason(e, 'field read on a value that may not be a data view');
      if (name === 'layout' || name === 'segment') this.reason(e, `method '${name}' used as a value`);
      return this.set(e, { ty: this.fieldTy(e, b.ls ?? new Set([NO_LAYOUT]), name), field: this.lastField });
    }
    this.reason(e, `field '${name}' of a ${b.ty.m === NIL ? 'nil value' : 'non-data value'}`);
    return this.set(e, { ty: { m: NIL } });
  }

  lastField: FieldDef | null = null;
  fieldTy(e: L.Node, ls: LSet, name: string): Ty {
    let def: FieldDef | null | undefined;
    let same = true;
    for (const id of ls) {
      const f = id === NO_LAYOUT ? null : this.layouts[id]!.fields.get(name) ?? null;
      if (def === undefined) def = f;
      else if (JSON.stringify(def) !== JSON.stringify(f)) same = false;
    }
    if (!same) this.reason(e, `layout of the view is not known here: field '${name}' differs between the layouts it may have`);
    this.lastField = def ?? null;
    if (!def) return constTy({ k: 'nil' });
    if (def.kind === 'string') { this.reason(e, `string field '${name}'`); return { m: STR | NIL }; }
    if (def.length === 0 || def.length > 64) return constTy({ k: 'nil' });
    if (def.little && def.length > 8 && (def.offset % 8 !== 0 || def.length % 8 !== 0))
      this.reason(e, `little-endian field '${name}' that is not whole bytes`);
    return { m: INT | NIL };
  }

  index(e: L.IndexExpression, st: State): Ann {
    const b = this.expr(e.base, st);
    const k = this.expr(e.index, st).ty;
    const c = b.ty.c;
    if (c?.k === 'table' && b.ty.m === TABLE) {
      const t = this.tables[c.id]!;
      let kc = k.c && constTy(k.c).m === k.m ? k.c : undefined;
      if (kc?.k === 'float' && Number.isInteger(kc.v)) kc = { k: 'int', v: BigInt(kc.v) };
      if (kc) {
        const ent = t.entries.find((x) => x.key.k === kc!.k && (x.key as { v: unknown }).v === (kc as { v: unknown }).v);
        return this.set(e, { ty: constTy(ent ? ent.value : { k: 'nil' }) });
      }
      if (k.m & (STR | STATIC | BOOL_MASK)) this.reason(e, 'table index with a non-constant non-number key');
      let ty: Ty = constTy({ k: 'nil' });
      for (const x of t.entries) if (x.key.k === 'int' || x.key.k === 'float') {
        if (x.value.k === 'table' || x.value.k === 'layout' || x.value.k === 'func') this.reason(e, 'table of tables indexed with a variable key');
        ty = join(ty, constTy(x.value));
      }
      return this.set(e, { ty });
    }
    this.reason(e, b.ty.m & VIEW ? 'indexing a data view with []' : 'indexing a value that is not a constant table');
    return this.set(e, { ty: { m: NIL } });
  }

  args(e: L.CallExpression | L.TableCallExpression | L.StringCallExpression): L.Expression[] {
    if (e.type === 'CallExpression') return e.arguments;
    if (e.type === 'TableCallExpression') return [e.arguments];
    return [e.argument];
  }

  layoutArg(node: L.Expression, a: Ann): number | null {
    if (a.ty.c?.k === 'layout' && a.ty.m === LAYOUT) return a.ty.c.id;
    if (a.ty.c?.k === 'table' && a.ty.m === TABLE) return this.makeLayout(node, this.tables[a.ty.c.id]!);
    this.reason(node, 'layout argument is not a constant layout table');
    return null;
  }

  makeLayout(node: L.Node, t: TableDef): number | null {
    const cached = this.layoutOf.get(node);
    const fields = new Map<string, FieldDef>();
    for (const { key, value } of t.entries) {
      if (key.k !== 'str') continue;
      if (value.k !== 'table') { this.reason(node, `layout field '${key.v}' is not a table`); continue; }
      const ents = this.tables[value.id]!.entries;
      const get = (pos: bigint, name: string) =>
        ents.find((x) => x.key.k === 'str' && x.key.v === name)?.value ?? ents.find((x) => x.key.k === 'int' && x.key.v === pos)?.value;
      const off = get(1n, 'offset'), len = get(2n, 'length'), typ = get(3n, 'type'), end = get(4n, 'endian');
      if (off?.k !== 'int' || len?.k !== 'int' || off.v < 0n || len.v < 0n || off.v > 1n << 40n || len.v > 1n << 40n) {
        this.reason(node, `layout field '${key.v}' needs integer offset and length`); continue;
      }
      const kind = typ?.k === 'str' && typ.v.startsWith('s') ? 'string' : 'number';
      const little = end?.k === 'str' && (end.v.startsWith('l') || end.v.startsWith('h'));
      fields.set(key.v, { name: key.v, kind, offset: Number(off.v), length: Number(len.v), little });
    }
    if (cached) { cached.fields = fields; return cached.id; }
    const lc = node.loc!.start;
    const def: LayoutDef = { id: this.layouts.length, fields, line: lc.line, column: lc.column + 1 };
    this.layouts.push(def);
    this.layoutOf.set(node, def);
    return def.id;
  }

  call(e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, st: State): Ann {
    const args = this.args(e);
    const base = e.base;
    // method calls on views
    if (base.type === 'MemberExpression' && base.indexer === ':') {
      const recv = this.expr(base.base, st);
      const name = base.identifier.name;
      const as = args.map((a) => this.expr(a, st));
      if (!(recv.ty.m & VIEW) || recv.ty.m & ~(VIEW | NIL)) {
        this.reason(e, `method '${name}' called on a value that is not a data view`);
        return this.set(e, { ty: { m: NIL } });
      }
      if (name === 'layout') {
        if (as.length !== 1) this.reason(e, 'layout takes one argument');
        const id = as[0] ? this.layoutArg(args[0]!, as[0]) : null;
        const ls = new Set([id ?? NO_LAYOUT]);
        if (base.base.type === 'Identifier') st.layouts.set(this.refVar.get(base.base)!, ls);
        return this.set(e, { ty: { m: VIEW }, ls, builtin: 'layout' });
      }
      if (name === 'segment') {
        if (as.length > 2) this.reason(e, 'segment takes at most two arguments');
        as.forEach((a, i) => { if (a.ty.m & ~(INT | NIL)) this.reason(args[i]!, 'segment argument that may not be an integer'); });
        return this.set(e, { ty: { m: VIEW | NIL }, ls: new Set([NO_LAYOUT]), builtin: 'segment' });
      }
      this.reason(e, `method '${name}'`);
      return this.set(e, { ty: { m: NIL } });
    }
    const callee = this.expr(base, st);
    const as = args.map((a) => this.expr(a, st));
    const c = callee.ty.c;
    if (c?.k === 'func' && callee.ty.m === FUNC) {
      const f = this.fns[c.id]!;
      if (as.length > f.params.length) this.reason(e, 'call with more arguments than parameters');
      f.params.forEach((p, i) => {
        const a = as[i] ?? { ty: constTy({ k: 'nil' }) };
        this.assignVar(p, a.ty, args[i] ?? e);
        if (a.ty.m & STATIC) this.reason(args[i] ?? e, 'passing a function, table or layout as an argument');
        const entry = lsJoin(f.paramEntry[i], a.ls ?? [NO_LAYOUT]);
        if (!lsEq(entry, f.paramEntry[i] ?? new Set())) { f.paramEntry[i] = entry; this.changed = true; }
        const arg = args[i];
        if (arg?.type === 'Identifier' && a.ty.m & VIEW) {
          st.layouts.set(this.refVar.get(arg)!, new Set(f.paramExit[i] ?? entry));
        }
      });
      return this.set(e, { ty: f.retTy, ls: f.retLayouts, callee: f });
    }
    if (c?.k === 'builtin' && callee.ty.m === BUILTIN) {
      const name = c.name;
      if (!COMPILED_BUILTINS.has(name)) { this.reason(e, `call to unknown function '${name}'`); return this.set(e, { ty: { m: NIL } }); }
      switch (name) {
        case 'require':
          if (as[0]?.ty.c?.k !== 'str' || as[0].ty.c.v !== 'data') this.reason(e, "require of a module other than 'data'");
          return this.set(e, { ty: constTy({ k: 'data' }), builtin: name });
        case 'data.layout': {
          const id = as[0] ? this.layoutArg(args[0]!, as[0]) : null;
          if (id === null) return this.set(e, { ty: { m: LAYOUT } });
          return this.set(e, { ty: constTy({ k: 'layout', id }), builtin: name });
        }
        case 'error':
          if (as[0] && as[0].ty.m & ~(STR | NIL) || as[0] && !as[0].ty.c && as[0].ty.m & STR)
            this.reason(e, 'error with a value that is not a constant string');
          return this.set(e, { ty: BOTTOM, builtin: name });
        case 'assert': {
          const t = as[0]?.ty ?? constTy({ k: 'nil' });
          if (as[1] && !(as[1].ty.c?.k === 'str' && as[1].ty.m === STR)) this.reason(e, 'assert message that is not a constant string');
          if (t.m & STATIC) this.reason(e, 'assert of a function, table or layout');
          return this.set(e, { ty: without(t, FALSY), ls: as[0]?.ls, builtin: name });
        }
        case 'math.min': case 'math.max': case 'math.abs': {
          if (as.length === 0 || (name === 'math.abs' && as.length !== 1)) this.reason(e, `${name} with a wrong number of arguments`);
          const ty = this.numResult(e, as.map((a) => a.ty));
          return this.set(e, { ty: only(ty, NUM), builtin: name });
        }
      }
    }
    this.reason(e, callee.ty.m === NIL && base.type === 'Identifier' ? `call to unknown function '${base.name}'` : 'call of a value that is not a known function');
    return this.set(e, { ty: { m: NIL } });
  }
}

/** base^exp for constant integral operands when the result is exact in a double (so C's pow agrees). */
function exactPow(a?: Const, b?: Const): number | null {
  const int = (c?: Const) => (c?.k === 'int' ? c.v : c?.k === 'float' && Number.isInteger(c.v) && Math.abs(c.v) < 2 ** 53 ? BigInt(c.v) : null);
  const x = int(a), n = int(b);
  if (x === null || n === null || n < 0n || n > 1100n) return null;
  const r = x ** n;
  const abs = r < 0n ? -r : r;
  if (abs < 1n << 53n || (abs & (abs - 1n)) === 0n && abs < 1n << 1023n) return Number(r);
  return null;
}

const BOOL_MASK = FALSE | TRUE;
void INT; void FLOAT; void TRUE;
