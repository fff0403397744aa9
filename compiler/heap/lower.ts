// Run-time tables in lower.ts: constructors, reads, stores, `#`,
// table.insert / table.remove and `for … in pairs / ipairs` become calls of
// the heap runtime (heap/tables.ts) with keys and values as (tag, payload)
// pairs. A table value is a `dyn` with TAG.table and its address as payload;
// a value that may be something else is checked first, with Lua's message.
import type * as L from 'luaparse';
import type { Val } from '../lower-base.js';
import type { Lowerer } from '../lower.js';
import { type Expr, type Stmt, and, bin, i32, i64, un } from '../ir.js';
import { FALSE, FLOAT, FUNC, INT, NIL, STR, TAG, TRUE, VIEW, constTy, luaTypeName, repOf, type Ty } from '../types.js';
import { OOM_MESSAGE } from '../strings/layout.js';
import { HEAP_OOM, HEAP_POS } from './layout.js';
import { H_RTAG, H_STATUS } from './tables.js';
import { FUEL_MESSAGE } from '../lower-base.js';
import { inLoop } from '../lower-facts.js';

const NOT_TABLE = [NIL, FALSE, TRUE, INT, FLOAT, STR, VIEW, FUNC];

/** A key or value as a (tag, payload) pair. */
export function dynOf(l: Lowerer, v: Val): { tag: Expr; val: Expr } {
  if (v.rep === 'none') {
    const d = l.constExprs(v.ty.c ?? { k: 'nil' }, 'dyn') as Val & { rep: 'dyn' };
    return { tag: d.tag, val: d.val };
  }
  const d = l.keep(l.coerce(v, { m: v.ty.m | NIL | INT | FLOAT })) as Val & { rep: 'dyn' };
  return { tag: d.tag, val: d.val };
}

/** The address of the table `v` is, after the checks that it is one (`attempt to <what> a nil value (local 't')`). */
export function tableAddr(l: Lowerer, v: Val, node: L.Expression, what: (type: string) => string): Expr {
  l.usesHeap = true;
  const k = l.keep(v);
  for (const kind of NOT_TABLE) if (k.ty.m & kind) l.guard(l.isKind(k, kind), l.site(node, what(luaTypeName(kind))));
  return un('i32.wrap_i64', l.intOf(k), 'i32');
}

const indexMsg = (l: Lowerer, node: L.Expression) => (t: string) => `attempt to index a ${t} value${l.varInfo(node)}`;

/** A runtime call, its result in a fresh local (the runtime reads and changes memory: it is never recomputed). */
function call(l: Lowerer, fn: string, args: Expr[], ty: 'i32' | 'i64', name: string): Expr {
  const t = l.temp(ty, name);
  l.out.push({ k: 'set', l: t, e: { k: 'helper', fn, args, ty } });
  return { k: 'get', l: t, ty };
}

/** The tag of the value the last runtime read returned. */
function lastTag(l: Lowerer): Expr {
  const t = l.temp('i32', 'ht');
  l.out.push({ k: 'set', l: t, e: { k: 'gget', g: H_RTAG, ty: 'i32' } });
  return { k: 'get', l: t, ty: 'i32' };
}

/** The result of a runtime read: payload returned, tag in h_rtag. */
function readResult(l: Lowerer, payload: Expr, ty: Ty): Val {
  const tag = lastTag(l);
  const d: Val = { rep: 'dyn', tag, val: payload, ty };
  const rep = repOf(ty);
  if (rep === 'none') return { rep: 'none', ty };
  return rep === 'dyn' ? d : l.coerce(d, ty);
}

function guardStatus(l: Lowerer, st: Expr, node: L.Node, name?: string) {
  l.guard(bin('i32.eq', st, i32(HEAP_OOM)), l.site(node, OOM_MESSAGE));
  if (name) l.guard(bin('i32.eq', st, i32(HEAP_POS)), l.site(node, `bad argument #2 to '${name}' (position out of bounds)`));
}

/** `{…}`: a new table, its fields stored in order. */
export function lowerHeapTable(l: Lowerer, e: L.TableConstructorExpression, ty: Ty): Val {
  l.usesHeap = true;
  const t = call(l, 'h_table', [], 'i32', 'tb');
  l.guard(un('i32.eqz', t, 'i32'), l.site(e, OOM_MESSAGE));
  let next = 1n;
  for (const f of e.fields) {
    const key: Val = f.type === 'TableKey' ? l.keep(l.expr(f.key))
      : f.type === 'TableKeyString' ? { rep: 'none', ty: constTy({ k: 'str', v: f.key.name }) }
      : { rep: 'none', ty: constTy({ k: 'int', v: next++ }) };
    storeInto(l, t, key, l.expr(f.value), f);
  }
  return { rep: 'dyn', tag: i32(TAG.table), val: un('i64.extend_i32_u', t, 'i64'), ty };
}

/** t[k] = v into the table at address t (Lua's errors for a nil or NaN key). */
function storeInto(l: Lowerer, t: Expr, key: Val, val: Val, node: L.Node) {
  const k = dynOf(l, key);
  if (key.ty.m & NIL) l.guard(bin('i32.eq', k.tag, i32(TAG.nil)), l.site(node, 'table index is nil'));
  if (key.ty.m & FLOAT) {
    const f = un('f64.reinterpret_i64', k.val, 'f64');
    l.guard(and(bin('i32.eq', k.tag, i32(TAG.float)), bin('f64.ne', f, f)), l.site(node, 'table index is NaN'));
  }
  const v = dynOf(l, val);
  guardStatus(l, call(l, 'h_set_st', [t, k.tag, k.val, v.tag, v.val], 'i32', 'hs'), node);
}

/** The key of an assignment target `t[k]` / `t.k`. */
export function keyOf(l: Lowerer, e: L.IndexExpression | L.MemberExpression): Val {
  if (e.type === 'MemberExpression') return { rep: 'none', ty: constTy({ k: 'str', v: e.identifier.name }) };
  return l.keep(l.expr(e.index));
}

/** `t[k]` / `t.k` where t may be a run-time table. */
export function lowerHeapRead(l: Lowerer, e: L.IndexExpression | L.MemberExpression, base: Val, ty: Ty): Val {
  const t = tableAddr(l, base, e.base, indexMsg(l, e.base));
  const k = dynOf(l, keyOf(l, e));
  return readResult(l, call(l, 'h_get', [t, k.tag, k.val], 'i64', 'hv'), ty);
}

/** `t[k] = v` / `t.k = v` (base and key evaluated before the values, as Lua does). */
export function lowerHeapStore(l: Lowerer, target: L.IndexExpression | L.MemberExpression, base: Val, key: Val, val: Val) {
  storeInto(l, tableAddr(l, base, target.base, indexMsg(l, target.base)), key, val, target);
}

/** `#t` where t may be a run-time table. */
export function lowerHeapLen(l: Lowerer, v: Val, node: L.Expression): Val {
  const t = tableAddr(l, v, node, (ty) => `attempt to get length of a ${ty} value${l.varInfo(node)}`);
  return { rep: 'int', e: call(l, 'h_len', [t], 'i64', 'hn'), ty: { m: INT } };
}

/** `table.insert(t, [pos,] v)` / `table.remove(t [, pos])` on a run-time table. */
export function lowerHeapSequenceCall(l: Lowerer, name: string, args: L.Expression[], vals: Val[], ty: Ty, node: L.Node): Val {
  const short = name.slice(6);
  const t = tableAddr(l, vals[0]!, args[0]!, (x) => `bad argument #1 to '${short}' (table expected, got ${x === 'nil' ? 'nil' : x})`);
  const pos = (v: Val | undefined) => (v ? l.intOf(v) : i64(0n));
  if (name === 'table.insert') {
    const v = dynOf(l, vals[vals.length - 1]!);
    const given = vals.length === 3;
    const st = call(l, 'h_insert_st', [t, given ? pos(vals[1]) : i64(0n), i32(given ? 1 : 0), v.tag, v.val], 'i32', 'hs');
    guardStatus(l, st, node, 'insert');
    return { rep: 'none', ty: constTy({ k: 'nil' }) };
  }
  const v = call(l, 'h_remove', [t, pos(vals[1]), i32(vals[1] ? 1 : 0)], 'i64', 'hr');
  const st = l.temp('i32', 'hs');
  l.out.push({ k: 'set', l: st, e: { k: 'gget', g: H_STATUS, ty: 'i32' } });
  guardStatus(l, { k: 'get', l: st, ty: 'i32' }, node, 'remove');
  return readResult(l, v, ty);
}

/** `for k, v in pairs(t)` (slot order) and `for i, v in ipairs(t)` (1, 2, … up to the first nil). */
export function lowerHeapFor(l: Lowerer, s: L.ForGenericStatement) {
  const it = s.iterators[0] as L.CallExpression;
  const ipairs = (it.base as L.Identifier).name === 'ipairs';
  const arg = it.arguments[0]!;
  // Lua: pairs(x) fails in `next`, ipairs(x) when it indexes x
  const t = l.pin({ rep: 'int', e: un('i64.extend_i32_u', tableAddr(l, l.expr(arg), arg,
    (x) => (ipairs ? `attempt to index a ${x} value (field '?')` : `bad argument #1 to 'for iterator' (table expected, got ${x})`)), 'i64'), ty: { m: INT } }) as { e: Expr };
  const addr = un('i32.wrap_i64', t.e, 'i32');
  const vars = s.variables.map((id) => l.c.declVar.get(id)!);
  const brk = `brk${l.labelCount++}`, cont = `cont${l.labelCount}`;
  const fuel = l.site(s, FUEL_MESSAGE);
  const I = l.temp(ipairs ? 'i64' : 'i32', 'it');
  const iv: Expr = { k: 'get', l: I, ty: ipairs ? 'i64' : 'i32' };
  const setVar = (i: number, tag: Expr, val: Expr) => {
    const v = vars[i];
    if (v) l.storeVar(v, { rep: 'dyn', tag, val, ty: { m: v.ty.m | NIL | INT | FLOAT } });
  };
  l.out.push({ k: 'set', l: I, e: ipairs ? i64(0n) : i32(0) });
  l.breakLabels.push(brk);
  const body: Stmt[] = l.withOut(() => {
    if (ipairs) {
      l.out.push({ k: 'set', l: I, e: bin('i64.add', iv, i64(1n)) });
      const v = call(l, 'h_get', [addr, i32(TAG.int), iv], 'i64', 'hv');
      const tag = lastTag(l);
      l.out.push({ k: 'br', label: brk, c: bin('i32.eq', tag, i32(TAG.nil)) });
      setVar(0, i32(TAG.int), iv);
      setVar(1, tag, v);
    } else {
      l.out.push({ k: 'set', l: I, e: { k: 'helper', fn: 'h_next', args: [addr, iv], ty: 'i32' } });
      l.out.push({ k: 'br', label: brk, c: un('i32.eqz', iv, 'i32') });
      const slot = bin('i32.sub', iv, i32(1));
      const k = call(l, 'h_key', [addr, slot], 'i64', 'hk');
      const kt = lastTag(l);
      const v = call(l, 'h_val', [addr, slot], 'i64', 'hv');
      const vt = lastTag(l);
      setVar(0, kt, k);
      setVar(1, vt, v);
    }
    for (let i = 2; i < vars.length; i++) l.storeVar(vars[i]!, { rep: 'none', ty: constTy({ k: 'nil' }) });
    inLoop(l, () => l.block(s.body));
    l.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
  });
  l.breakLabels.pop();
  l.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
}

