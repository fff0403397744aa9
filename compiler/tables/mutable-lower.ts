// Mutable module-level tables in lower.ts: reads and stores become calls of
// the table runtime (tables/runtime.ts) with the key and value as dyn
// (tag, payload) pairs. Tables are numbered in the order of c.tables; the
// runtime turns a number into its header address.
import type * as L from 'luaparse';
import type { Val } from '../lower-base.js';
import type { Lowerer } from '../lower.js';
import { type Expr, and, bin, i32, i64, un } from '../ir.js';
import { FLOAT, INT, NIL, STR, TAG, constTy, repOf, type TableDef, type Ty } from '../types.js';
import { OOM_MESSAGE } from '../strings/layout.js';
import { OOM_TAG, TBL_RTAG } from './runtime.js';

/** The runtime number of a mutable table; records that the module needs the table runtime. */
function tableNo(l: Lowerer, def: TableDef): number {
  const all = l.c.tables.filter((t) => t.mutable);
  l.tableCount = all.length;
  return all.indexOf(def);
}

/** A key or value as a (tag, payload) pair. */
function dynOf(l: Lowerer, v: Val): { tag: Expr; val: Expr } {
  if (v.rep === 'none') {
    const d = l.constExprs(v.ty.c ?? { k: 'nil' }, 'dyn') as Val & { rep: 'dyn' };
    return { tag: d.tag, val: d.val };
  }
  const d = l.keep(l.coerce(v, { m: v.ty.m | NIL | INT | FLOAT })) as Val & { rep: 'dyn' };
  return { tag: d.tag, val: d.val };
}

/** The key of `t[k]` / `t.k`. */
export function keyOf(l: Lowerer, e: L.IndexExpression | L.MemberExpression): Val {
  if (e.type === 'MemberExpression') return { rep: 'none', ty: constTy({ k: 'str', v: e.identifier.name }) };
  return l.keep(l.expr(e.index));
}

/** `t[k]`: the stored value, or nil. */
export function lowerMutableRead(l: Lowerer, def: TableDef, key: Val, ty: Ty, node: L.Node): Val {
  const no = tableNo(l, def);
  const k = dynOf(l, key);
  if (repOf(ty) === 'none') return { rep: 'none', ty };
  return tableResult(l, def, 'tbl_get', [i32(no), k.tag, k.val], ty, node);
}

/** The (value, tag) result of a runtime read; string values come back in the arena, which may be full. */
function tableResult(l: Lowerer, def: TableDef, fn: string, args: Expr[], ty: Ty, node: L.Node): Val {
  const v = l.temp('i64', 'tv'), t = l.temp('i32', 'tt');
  l.out.push({ k: 'set', l: v, e: { k: 'helper', fn, args, ty: 'i64' } });
  l.out.push({ k: 'set', l: t, e: { k: 'gget', g: TBL_RTAG, ty: 'i32' } });
  const tag: Expr = { k: 'get', l: t, ty: 'i32' };
  if (def.mutable!.valTy.m & STR) {
    l.usesStrings = true;
    l.guard(bin('i32.eq', tag, i32(OOM_TAG)), l.site(node, OOM_MESSAGE));
  }
  const d: Val = { rep: 'dyn', tag, val: { k: 'get', l: v, ty: 'i64' }, ty };
  const rep = repOf(ty);
  if (rep === 'none') return { rep: 'none', ty };
  return rep === 'dyn' ? d : l.coerce(d, ty);
}

/** `#t` of a sequence table. */
export function lowerSequenceLength(l: Lowerer, def: TableDef): Val {
  const n = l.temp('i64', 'tn');
  l.out.push({ k: 'set', l: n, e: { k: 'helper', fn: 'tbl_len', args: [i32(tableNo(l, def))], ty: 'i64' } });
  return { rep: 'int', e: { k: 'get', l: n, ty: 'i64' }, ty: { m: INT } };
}

/** `table.insert(t, v)` (t[#t + 1] = v) and `table.remove(t [, 1])`. */
export function lowerSequenceCall(l: Lowerer, def: TableDef, name: string, vals: Val[], ty: Ty, node: L.Node): Val {
  const no = tableNo(l, def);
  if (name === 'table.insert') {
    const n = lowerSequenceLength(l, def) as Val & { e: Expr };
    lowerMutableStore(l, def, { rep: 'int', e: bin('i64.add', n.e, i64(1n)), ty: { m: INT } }, vals[1]!, node);
    return { rep: 'none', ty: constTy({ k: 'nil' }) };
  }
  const pos = vals[1] ? i64(1n) : (lowerSequenceLength(l, def) as Val & { e: Expr }).e;
  return tableResult(l, def, 'tbl_remove', [i32(no), pos], ty, node);
}

/** `t[k] = v` (v nil: removes k). */
export function lowerMutableStore(l: Lowerer, def: TableDef, key: Val, val: Val, node: L.Node): void {
  const no = tableNo(l, def);
  const k = dynOf(l, key);
  if (key.ty.m & NIL) l.guard(bin('i32.eq', k.tag, i32(TAG.nil)), l.site(node, 'table index is nil'));
  if (key.ty.m & FLOAT) {
    const f = un('f64.reinterpret_i64', k.val, 'f64');
    l.guard(and(bin('i32.eq', k.tag, i32(TAG.float)), bin('f64.ne', f, f)), l.site(node, 'table index is NaN'));
  }
  if (val.ty.m & STR) l.usesStrings = true;
  const v = dynOf(l, val);
  const s = l.temp('i32', 'ts');
  l.out.push({ k: 'set', l: s, e: { k: 'helper', fn: 'tbl_set', args: [i32(no), k.tag, k.val, v.tag, v.val], ty: 'i32' } });
  l.guard({ k: 'get', l: s, ty: 'i32' }, l.site(node, OOM_MESSAGE));
}
