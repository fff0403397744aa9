// Run-time tables in check.ts (heap/layout.ts): which constructors make
// them, and the types of what is read from them. A constructor of constants
// that the script only reads (indexes, lays out, iterates, takes `#` of)
// stays a compile-time constant table (types.ts TABLE): layouts, lookup
// tables and unrolled loops keep their folded code. Every other constructor
// (one with computed contents, one whose table is assigned into, passed to a
// function, returned, stored or compared, one inside a run-time table) makes
// a heap table at run time. Its type is HTAB with a table class (types.ts
// TabClass) that collects every key and value type stored into its tables,
// so a read `t[k]` has the class's value type or nil: types specialise the
// code wherever they are precise, as for any other value.
import type * as L from 'luaparse';
import type { Ann, Var } from '../check-result.js';
import type { Checker, State } from '../check.js';
import { callArgs } from '../parse.js';
import {
  BOOL, BOTTOM, FLOAT, FUNC, HTAB, INT, NIL, STATIC, STR, TabClass, Ty, UNKNOWN, VIEW, constTy, fieldOf, findTab, join, tyEq, without,
} from '../types.js';

/** What a table may hold as a key or value. */
export const STORABLE = NIL | BOOL | INT | FLOAT | STR | HTAB | FUNC;

/** Per-checker state of this file. */
export interface HeapState {
  /** constructors that make run-time tables whatever their contents */
  forced: Set<L.Node>;
  classes: Map<L.Node, TabClass>;
}

/** How the script uses its variables, found once before inference. */
export interface Uses {
  /** variables some use of which changes or hands on the table they hold */
  escaped: Set<Var>;
  /** variables indexed with a key that is not a literal */
  varIndexed: Set<Var>;
  bound: Map<L.Node, Var>;
  parents: Map<L.Node, L.Node>;
}

function callName(b: L.Expression): string {
  if (b.type === 'Identifier') return b.name;
  if (b.type === 'MemberExpression') return `${b.base.type === 'Identifier' ? b.base.name : '?'}${b.indexer}${b.identifier.name}`;
  return '';
}

/** Whether a use of a table (`ref`, under `parent`) leaves a constant table constant. */
function readOnlyUse(ref: L.Node, parent: L.Node | undefined, grand: L.Node | undefined): boolean {
  if (!parent) return false;
  if ((parent.type === 'IndexExpression' || parent.type === 'MemberExpression') && parent.base === ref) {
    // `t.x = v` / `t[k] = v` assigns into the table
    if (grand?.type === 'AssignmentStatement' && (grand.variables as L.Node[]).includes(parent)) return false;
    // `t:method()` passes t along
    return !(parent.type === 'MemberExpression' && parent.indexer === ':');
  }
  if (parent.type === 'UnaryExpression' && parent.operator === '#') return true;
  if (parent.type === 'CallExpression' || parent.type === 'TableCallExpression' || parent.type === 'StringCallExpression') {
    if (parent.base === ref) return false;
    const name = callName(parent.base);
    // tables/unroll.ts has unrolled the pairs and ipairs loops it can: an ipairs loop left over
    // runs over a run-time table (its order is Lua's), a pairs loop stays a reason (its order is not)
    return ['pairs', 'data.layout'].includes(name) || name.endsWith(':layout');
  }
  return false;
}

export function scanUses(ck: Checker): Uses {
  const u: Uses = { escaped: new Set(), varIndexed: new Set(), bound: new Map(), parents: new Map() };
  const walk = (n: unknown, parent: L.Node | undefined) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) walk(x, parent); return; }
    const node = n as L.Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (parent) u.parents.set(node, parent);
    for (const k of Object.keys(node)) if (k !== 'loc' && k !== 'range') walk(node[k], node);
  };
  walk(ck.p.ast, undefined);
  for (const [node, parent] of u.parents) {
    if (node.type === 'Identifier') {
      const v = ck.refVar.get(node);
      if (!v || (parent.type === 'AssignmentStatement' && (parent.variables as L.Node[]).includes(node))) continue;
      if (!readOnlyUse(node, parent, u.parents.get(parent))) u.escaped.add(v);
      if (parent.type === 'IndexExpression' && parent.base === node && !/Literal$/.test(parent.index.type)) u.varIndexed.add(v);
    }
    if (node.type === 'TableConstructorExpression' && (parent.type === 'LocalStatement' || parent.type === 'AssignmentStatement')) {
      const target = parent.variables[(parent.init as L.Node[]).indexOf(node)];
      const v = target?.type === 'Identifier' ? ck.declVar.get(target) ?? ck.refVar.get(target) : undefined;
      if (v) u.bound.set(node, v);
    }
  }
  return u;
}

/**
 * Constructors whose table escapes the read-only uses: each is bound by
 * `local v = {…}` or `v = {…}` to a variable that some use changes or hands
 * on, or is used in place (passed, returned, stored) other than as a layout.
 */
export function heapState(u: Uses): HeapState {
  const forced = new Set<L.Node>();
  for (const [node, parent] of u.parents) {
    if (node.type !== 'TableConstructorExpression') continue;
    const v = u.bound.get(node);
    // a constant table of tables or functions indexed with a computed key gives one of several: a run-time table
    const nested = node.fields.some((f) => f.value.type === 'TableConstructorExpression' || f.value.type === 'FunctionDeclaration');
    if (v ? u.escaped.has(v) || (nested && u.varIndexed.has(v)) : !inPlaceConstant(node, parent, u.parents)) forced.add(node);
  }
  return { forced, classes: new Map() };
}

/** A constructor used where it is written: constant in a layout call, inside a constant table, or indexed. */
function inPlaceConstant(node: L.Node, parent: L.Node, parents: Map<L.Node, L.Node>): boolean {
  if (parent.type === 'TableKey' || parent.type === 'TableKeyString' || parent.type === 'TableValue') return true;
  if ((parent.type === 'IndexExpression' || parent.type === 'MemberExpression') && parent.base === node) return true;
  return readOnlyUse(node, parent, parents.get(parent));
}

/** Whether check should make this constructor a run-time table (before looking at its contents). */
export function isHeapConstructor(ck: Checker, e: L.TableConstructorExpression): boolean {
  return ck.heap.forced.has(e);
}

function classOf(ck: Checker, e: L.Node): TabClass {
  let c = ck.heap.classes.get(e);
  if (!c) { c = { id: ck.heap.classes.size, key: { m: 0 }, val: { m: 0 }, fields: new Map(), anyStr: { m: 0 } }; ck.heap.classes.set(e, c); }
  return findTab(c);
}

/** Joins key and value types into a class (a change means another round of inference). */
export function storeInto(ck: Checker, node: L.Node, tab: TabClass, key: Ty, val: Ty): void {
  const c = findTab(tab);
  if (key.m & ~STORABLE & ~UNKNOWN) ck.reason(node, 'table key that may be a data view, layout, library or constant table');
  if (val.m & ~STORABLE & ~UNKNOWN) ck.reason(node, 'table value that may be a data view, layout, library or constant table');
  const stored = without(val, NIL | ~STORABLE);
  const grow = (cur: Ty, set: (t: Ty) => void, add: Ty) => {
    const n = join(cur, add);
    if (!tyEq(n, cur)) { set(n); ck.changed = true; }
  };
  grow(c.key, (t) => { findTab(c).key = t; }, without(key, NIL | ~STORABLE));
  grow(findTab(c).val, (t) => { findTab(c).val = t; }, stored);
  const root = findTab(c);
  if (key.c?.k === 'str' && key.m === STR) {
    const name = key.c.v;
    grow(root.fields.get(name) ?? BOTTOM, (t) => { findTab(c).fields.set(name, t); }, stored);
  } else if (key.m & STR) grow(root.anyStr, (t) => { findTab(c).anyStr = t; }, stored);
}

/** `{…}` as a run-time table: every field's key and value join its class; table constructors inside are run-time tables too. */
export function heapTable(ck: Checker, e: L.TableConstructorExpression, st: State): Ann {
  const tab = classOf(ck, e);
  let next = 1n;
  for (const f of e.fields) {
    if (f.value.type === 'TableConstructorExpression') ck.heap.forced.add(f.value);
    if (f.type === 'TableKey' && f.key.type === 'TableConstructorExpression') ck.heap.forced.add(f.key);
    const key = f.type === 'TableKey' ? ck.expr(f.key, st).ty
      : f.type === 'TableKeyString' ? constTy({ k: 'str', v: f.key.name }) : constTy({ k: 'int', v: next++ });
    const v = ck.expr(f.value, st);
    if (v.multi && f === e.fields[e.fields.length - 1] && f.type === 'TableValue') ck.reason(f.value, 'the value list of a call as the last field of a table constructor');
    storeInto(ck, f, tab, key, v.ty);
  }
  return ck.set(e, { ty: { m: HTAB, tab: findTab(tab) } });
}

/** `t[k]` / `t.k` on a value that may be a run-time table: the class's values or nil (other kinds are run-time errors). */
export function heapRead(ck: Checker, e: L.IndexExpression | L.MemberExpression, base: Ty, st: State): Ann {
  const key = e.type === 'IndexExpression' ? ck.expr(e.index, st).ty : constTy({ k: 'str', v: e.identifier.name });
  if (base.m & (VIEW | STR | STATIC)) ck.reason(e, 'indexing a value that may be a table or a string, data view or constant table');
  const c = findTab(base.tab!);
  const ty = key.c?.k === 'str' && key.m === STR ? fieldOf(c, key.c.v) : c.val;
  return ck.set(e, { ty: join(ty, constTy({ k: 'nil' })) });
}

/** An assignment target `t[k]` / `t.k` whose base may be a run-time table: its class, after checking base and key. */
export function heapTarget(ck: Checker, t: L.IndexExpression | L.MemberExpression, st: State): { tab: TabClass; key: Ty } | undefined {
  const b = ck.expr(t.base, st);
  if (!(b.ty.m & HTAB)) return undefined;
  if (b.ty.m & (VIEW | STR | STATIC)) ck.reason(t, 'assignment into a value that may be a table or a string, data view or constant table');
  const key = t.type === 'MemberExpression' ? constTy({ k: 'str', v: t.identifier.name }) : ck.expr(t.index, st).ty;
  ck.set(t, { ty: b.ty });
  return { tab: b.ty.tab!, key };
}

/** `table.insert(t, [pos,] v)` / `table.remove(t [, pos])` on a run-time table. */
export function heapSequenceCall(ck: Checker, e: L.Node, name: string, args: L.Expression[], as: Ann[]): Ty {
  const t = as[0]!.ty;
  if (t.m & ~(HTAB | NIL)) ck.reason(e, `${name} on a value that may not be a table`);
  const tab = t.tab!;
  if (name === 'table.insert') {
    if (args.length !== 2 && args.length !== 3) ck.reason(e, "wrong number of arguments to 'insert'");
    if (args.length === 3 && as[1]!.ty.m & ~INT) ck.reason(args[1]!, 'table.insert at a position that may not be an integer');
    storeInto(ck, e, tab, { m: INT }, as[as.length - 1]!.ty);
    return constTy({ k: 'nil' });
  }
  if (args.length > 2) ck.reason(e, 'table.remove with more than two arguments');
  if (args.length === 2 && as[1]!.ty.m & ~INT) ck.reason(args[1]!, 'table.remove at a position that may not be an integer');
  return join(findTab(tab).val, constTy({ k: 'nil' }));
}

/**
 * Whether a loop body may stop before every entry was visited (break, return,
 * goto): then which entries it saw depends on the traversal order, which is
 * the compiled table's and not Lua's (Lua leaves it undefined). Loops that
 * visit everything (counts, sums, maxima, filling other tables) agree.
 */
function leavesEarly(body: L.Statement[]): boolean {
  let early = false;
  const walk = (n: unknown, loops: number): void => {
    if (early || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) walk(x, loops); return; }
    const node = n as L.Node & Record<string, unknown>;
    if (node.type === 'FunctionDeclaration') return;
    if (node.type === 'ReturnStatement' || node.type === 'GotoStatement' || (node.type === 'BreakStatement' && loops === 0)) { early = true; return; }
    const inner = ['WhileStatement', 'RepeatStatement', 'ForNumericStatement', 'ForGenericStatement'].includes(node.type) ? 1 : 0;
    for (const k of Object.keys(node)) if (k !== 'loc' && k !== 'range') walk(node[k], loops + inner);
  };
  walk(body, 0);
  return early;
}

/** The loop variables of `for k, v in pairs(t)` / `ipairs(t)` over a run-time table, or undefined if that is not the loop. */
export function heapForTypes(ck: Checker, s: L.ForGenericStatement, st: State): [Ty, Ty] | undefined {
  const it = s.iterators[0];
  if (s.iterators.length !== 1 || it?.type !== 'CallExpression' || it.base.type !== 'Identifier') return undefined;
  const name = it.base.name;
  if ((name !== 'pairs' && name !== 'ipairs') || ck.refVar.get(it.base)?.kind !== 'global') return undefined;
  const args = callArgs(it);
  if (args.length !== 1) return undefined;
  const t = ck.expr(args[0]!, st).ty;
  if (!(t.m & HTAB)) return undefined;
  if (t.m & ~(HTAB | NIL)) ck.reason(args[0]!, `${name} of a value that may not be a table`);
  if (name === 'pairs' && leavesEarly(s.body)) ck.reason(s, 'pairs loop over a run-time table that may leave early (its order is not Lua\'s)');
  const c = findTab(t.tab!);
  ck.set(it, { ty: t });
  return [name === 'ipairs' ? { m: INT } : without(c.key, NIL), without(c.val, NIL)];
}
