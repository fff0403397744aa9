// Mutable module-level tables in check.ts: `local t = {}` at the top of the
// chunk that the script assigns into (`t[k] = v`, `t.k = v`) or uses as a
// sequence (`table.insert(t, v)`, `table.remove(t)`, `table.remove(t, 1)`).
// Keys may be integers, floats, booleans or strings (nil and NaN are runtime
// errors on store, as in Lua); values are numbers, booleans or strings (copied
// in) whose join is the table's one value type. A read gives that type or nil.
// `#t` compiles only on a sequence: a table changed by insert/remove alone,
// whose keys are then always 1..n, so its border is unique and both engines
// agree. Other uses (pairs, next, passing t around) stay on the Lua engine.
import type * as L from 'luaparse';
import type { Var } from '../check-result.js';
import type { Checker, State } from '../check.js';
import { visit } from '../parse.js';
import { BOOL, BOTTOM, FLOAT, INT, NIL, STATIC, STR, TABLE, VIEW, constTy, join, tyEq, without, type TableDef, type Ty } from '../types.js';

const STORABLE = NIL | BOOL | INT | FLOAT | STR;

/** Constructors that create a mutable table (found once, after name resolution). */
export function mutableConstructors(ck: Checker): Map<L.Node, { name: string; sequence: boolean }> {
  const targets = new Set<Var>();
  const keyed = new Set<Var>();
  const seq = new Set<Var>();
  visit(ck.p.ast, (n) => {
    if (n.type === 'CallExpression' && n.base.type === 'MemberExpression' && n.base.base.type === 'Identifier' &&
      n.base.base.name === 'table' && ['insert', 'remove'].includes(n.base.identifier.name) && n.arguments[0]?.type === 'Identifier') {
      const v = ck.refVar.get(n.arguments[0]);
      if (v) { targets.add(v); seq.add(v); }
    }
    if (n.type !== 'AssignmentStatement') return;
    for (const t of n.variables) if ((t.type === 'IndexExpression' || t.type === 'MemberExpression') && t.base.type === 'Identifier') {
      const v = ck.refVar.get(t.base);
      if (v) { targets.add(v); keyed.add(v); }
    }
  });
  // iteration order differs between the engines (Wasmoon's hash order is not ours)
  visit(ck.p.ast, (n) => {
    if (n.type !== 'ForGenericStatement') return;
    const it = n.iterators[0];
    if (it?.type !== 'CallExpression' || it.base.type !== 'Identifier' || it.arguments[0]?.type !== 'Identifier') return;
    const v = ck.refVar.get(it.arguments[0]);
    if (v && targets.has(v)) ck.deferred.push([n, `${it.base.name} over the mutable table '${v.name}' (its order differs between the engines)`]);
  });
  const out = new Map<L.Node, { name: string; sequence: boolean }>();
  for (const s of ck.p.ast.body) {
    if (s.type !== 'LocalStatement') continue;
    s.variables.forEach((id, i) => {
      const v = ck.declVar.get(id);
      const init = s.init[i];
      if (v && targets.has(v) && !v.reassigned && init?.type === 'TableConstructorExpression')
        out.set(init, { name: id.name, sequence: seq.has(v) && !keyed.has(v) });
    });
  }
  return out;
}

/** The table of a mutable-table constructor (one per constructor node). */
export function mutableTable(ck: Checker, e: L.TableConstructorExpression, how: { name: string; sequence: boolean }): TableDef {
  const name = how.name;
  if (e.fields.length) ck.reason(e, `table '${name}' is modified but does not start empty ({})`);
  let t = ck.tableOf.get(e);
  if (!t) { t = { id: ck.tables.length, entries: [], mutable: { valTy: BOTTOM, name, sequence: how.sequence } }; ck.tables.push(t); ck.tableOf.set(e, t); }
  return t;
}

export function mutableOf(ck: Checker, t: Ty): TableDef | undefined {
  if (t.c?.k !== 'table' || t.m !== TABLE) return undefined;
  const def = ck.tables[t.c.id]!;
  return def.mutable ? def : undefined;
}

function checkKey(ck: Checker, node: L.Node, k: Ty): void {
  if (k.m & (VIEW | STATIC)) ck.reason(node, 'table key that may be a data view, table or function');
}

/** `t[k]` / `t.k` read of a mutable table: its value type or nil. */
export function mutableRead(ck: Checker, e: L.IndexExpression | L.MemberExpression, def: TableDef, st: State): Ty {
  if (e.type === 'IndexExpression') checkKey(ck, e.index, ck.expr(e.index, st).ty);
  return join(def.mutable!.valTy, constTy({ k: 'nil' }));
}

/** The table an assignment target stores into, if it is a mutable one (base and key are checked here). */
export function storeTarget(ck: Checker, t: L.IndexExpression | L.MemberExpression, st: State): TableDef | undefined {
  const b = ck.expr(t.base, st);
  const def = mutableOf(ck, b.ty);
  if (!def) return undefined;
  if (t.type === 'IndexExpression') checkKey(ck, t.index, ck.expr(t.index, st).ty);
  ck.set(t, { ty: b.ty });
  return def;
}

/** A value stored into a mutable table joins its value type. */
export function storeValue(ck: Checker, def: TableDef, ty: Ty, node: L.Node): void {
  const info = def.mutable!;
  if (ty.m & ~STORABLE) ck.reason(node, `value stored in table '${info.name}' that may be a data view, table or function`);
  const n = join(info.valTy, without(ty, NIL | ~STORABLE));
  if (!tyEq(n, info.valTy)) { info.valTy = n; ck.changed = true; }
}

/** `table.insert(t, v)` and `table.remove(t [, 1])` on a sequence table. */
export function checkSequenceCall(ck: Checker, e: L.Node, name: string, args: L.Expression[], as: { ty: Ty }[]): Ty {
  const def = as[0] ? mutableOf(ck, as[0].ty) : undefined;
  if (!def?.mutable!.sequence) {
    ck.reason(e, `${name} on a value that is not a sequence table (a module-level {} changed only by table.insert and table.remove)`);
    return { m: NIL };
  }
  if (name === 'table.insert') {
    if (args.length !== 2) ck.reason(e, 'table.insert with a position');
    else storeValue(ck, def, as[1]!.ty, args[1]!);
    return constTy({ k: 'nil' });
  }
  const pos = as[1]?.ty.c;
  if (args.length > 2 || (args.length === 2 && !(pos?.k === 'int' && pos.v === 1n && as[1]!.ty.m === INT)))
    ck.reason(e, 'table.remove at a position other than 1 or the end');
  return join(def.mutable!.valTy, constTy({ k: 'nil' }));
}
