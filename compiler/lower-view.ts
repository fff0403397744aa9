// Pass 3b: data views in lower.ts — layout field reads (bounds-checked bit
// extraction), `d:segment(o, len)`, and indexing constant tables.
import type * as L from 'luaparse';
import { NIL_VIEW, wtypes, type Val } from './lower-base.js';
import type { Lowerer } from './lower.js';
import { type Expr, and, bin, cond, i32, i64, not, un } from './ir.js';
import { FALSE, FLOAT, FieldDef, INT, NIL, STR, TAG, TRUE, Ty, VIEW, constTy, luaTypeName, repOf } from './types.js';
import { lowerEq } from './lower-ops.js';

/**
 * Reads a layout field: integer when every bit lies inside the view, else nil
 * (a string field: its bytes in place, else nil). `known`: bytes the view is
 * known to have (an earlier test of a field further in succeeded).
 */
export function readField(l: Lowerer, view: Expr, f: FieldDef | null, ty: Ty, known = 0): Val {
  if (f?.kind === 'string') {
    // the field's bytes, in place: nil unless they lie inside the view
    const k = l.keep({ rep: 'view', e: view, ty: { m: VIEW } }) as { e: Expr };
    // offset and length are at most 2^40 (check-call.ts), so their sum cannot wrap in i64
    if (f.offset + f.length > 0xffffffff) return { rep: 'view', e: i64(NIL_VIEW), ty };
    const ok = bin('i64.ge_u', un('i64.extend_i32_u', un('i32.wrap_i64', k.e, 'i32'), 'i64'), i64(BigInt(f.offset + f.length)));
    const packed = bin('i64.or', bin('i64.shl', bin('i64.add', bin('i64.shr_u', k.e, i64(32n)), i64(BigInt(f.offset))), i64(32n)), i64(BigInt(f.length)));
    return { rep: 'view', e: cond(ok, packed, i64(NIL_VIEW), 'i64'), ty };
  }
  if (!f || f.kind !== 'number' || f.length === 0 || f.length > 64) return { rep: 'none', ty };
  const k = l.keep({ rep: 'view', e: view, ty: { m: VIEW } }) as { e: Expr };
  const need = Math.ceil((f.offset + f.length) / 8);
  // no view reaches 2^32 bytes: such a field is always nil (and i32(need) would wrap around)
  if (need > 0xffffffff) return { rep: 'dyn', tag: i32(TAG.nil), val: i64(0n), ty };
  const len = un('i32.wrap_i64', k.e, 'i32');
  const addr = un('i32.wrap_i64', bin('i64.shr_u', k.e, i64(32n)), 'i32');
  const ok = known >= need ? i32(1) : bin('i32.ge_u', len, i32(need));
  const value = readBits(addr, f);
  return { rep: 'dyn', tag: cond(ok, i32(TAG.int), i32(TAG.nil), 'i32'), val: cond(ok, value, i64(0n), 'i64'), ty };
}

export function lowerTableIndex(l: Lowerer, e: L.IndexExpression, ty: Ty): Val {
  const t = l.c.tables[l.ann(e.base).ty.c!.k === 'table' ? (l.ann(e.base).ty.c as { id: number }).id : -1]!;
  const key = l.keep(l.expr(e.index));
  if (repOf(ty) === 'none' && key.rep === 'none') return { rep: 'none', ty };
  const rep = repOf(ty) ?? 'none';
  let result: Val = l.constExprs({ k: 'nil' }, rep);
  let tag = result.rep === 'dyn' ? result.tag : i32(0), val = result.rep === 'dyn' ? result.val : i64(0n);
  let single: Expr = result.rep !== 'dyn' && result.rep !== 'none' ? result.e : i32(0);
  for (const ent of [...t.entries].reverse()) {
    if (ent.key.k !== 'int' && ent.key.k !== 'float' && ent.key.k !== 'str') continue;
    const kv: Val = { rep: 'none', ty: constTy(ent.key) };
    const hit = lowerEq(l, key, kv, e);
    const v = l.constExprs(ent.value, rep);
    if (v.rep === 'dyn') { tag = cond(hit, v.tag, tag, 'i32'); val = cond(hit, v.val, val, 'i64'); }
    else if (v.rep !== 'none') single = cond(hit, v.e, single, wtypes(rep)[0]!);
  }
  if (rep === 'dyn') result = { rep, tag, val, ty };
  else if (rep !== 'none') result = { rep, e: single, ty } as Val;
  return { ...result, ty } as Val;
}

export function lowerSegment(l: Lowerer, view: Expr, vals: Val[], args: L.Expression[]): Val {
  const k = l.keep({ rep: 'view', e: view, ty: { m: VIEW } }) as { e: Expr };
  const len = un('i64.extend_i32_u', un('i32.wrap_i64', k.e, 'i32'), 'i64');
  const base = bin('i64.shr_u', k.e, i64(32n));
  const intArg = (i: number): { present: Expr; v: Expr } => {
    const v = vals[i];
    if (!v) return { present: i32(0), v: i64(0n) };
    for (const kind of [FALSE, TRUE, FLOAT, STR, VIEW]) if (v.ty.m & kind)
      l.guard(l.isKind(v, kind), l.site(args[i]!, `bad argument #${i + 1} to 'segment' (number expected, got ${luaTypeName(kind)})`));
    return { present: not(l.isKind(v, NIL)), v: l.intOf(v) };
  };
  const o = intArg(0), n = intArg(1);
  const O = l.keep({ rep: 'int', e: cond(o.present, o.v, i64(0n), 'i64'), ty: { m: INT } }) as { e: Expr };
  if (O.e.k !== 'i64') l.dependentReads = true;
  const N = l.keep({ rep: 'int', e: cond(n.present, n.v, bin('i64.sub', len, O.e), 'i64'), ty: { m: INT } }) as { e: Expr };
  // nil unless 0 <= o < #d, len >= 0 and o + len <= #d
  // without a length, `0 <= o < #d` is all there is to check
  const ok = !vals[1] ? bin('i64.lt_u', O.e, len) : and(and(bin('i64.ge_s', O.e, i64(0n)), bin('i64.lt_s', O.e, len)),
    and(bin('i64.ge_s', N.e, i64(0n)), bin('i64.le_s', N.e, bin('i64.sub', len, O.e))));
  const packed = bin('i64.or', bin('i64.shl', bin('i64.add', base, O.e), i64(32n)), N.e);
  return { rep: 'view', e: cond(ok, packed, i64(NIL_VIEW), 'i64'), ty: { m: VIEW | NIL } };
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
