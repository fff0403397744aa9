// Multiple return values of script functions (`return a, b, c`). The first
// value travels as before (Wasm result, dyn tag in a global); each later one
// is written to module globals `mret<i>` (one per Wasm value of its
// representation) just before the `return`, and the caller copies them into
// locals right after the call, before anything else can run. Wasm multi-value
// would do too, but the ABI promises MVP features only.
import type * as L from 'luaparse';
import type { Ann, Checker, FnInfo } from '../check.js';
import type { WType } from '../ir.js';
import { i32, i64, f64 } from '../ir.js';
import { NO_LAYOUT, STATIC, VIEW, constTy, join, repOf, tyEq, type Ty } from '../types.js';
import { wtypes, type Lowerer, type Val } from '../lower.js';

/** At most this many values after the first (more is rare in filters and stays interpreted). */
const MAX_EXTRA = 3;

/** Joins the values after the first of one `return` (missing ones are nil) into f's extra result types. */
export function addExtraReturns(ck: Checker, f: FnInfo, extra: Ann[], node?: L.ReturnStatement): void {
  if (node && extra.length > MAX_EXTRA) ck.reason(node, `more than ${MAX_EXTRA + 1} return values`);
  const n = Math.min(MAX_EXTRA, Math.max(extra.length, f.extraRet.length));
  for (let i = 0; i < n; i++) {
    const a = extra[i];
    const t: Ty = a?.ty ?? constTy({ k: 'nil' });
    if (a && node) {
      const arg = node.arguments[i + 1]!;
      if (t.m & STATIC) ck.reason(arg, 'returning a table, layout or function as a later return value');
      // the caller sees a later view value without a layout
      if (t.m & VIEW && [...(a.ls ?? [])].some((x) => x !== NO_LAYOUT)) ck.reason(arg, 'returning a data view with a layout as a later return value');
      if (a.multi && i === extra.length - 1) ck.reason(arg, 'returning the value list of a call');
    }
    const cur = f.extraRet[i];
    const next = cur ? join(cur, t) : t;
    if (!cur || !tyEq(cur, next)) { f.extraRet[i] = next; ck.changed = true; }
  }
}

/** Wasm globals holding later return value i of Wasm types ws, declared on first use. */
function extraGlobals(l: Lowerer, i: number, ws: WType[]): string[] {
  return ws.map((w, j) => {
    const name = `mret${i + 1}_${w}_${j}`;
    if (!l.globals.some((g) => g.name === name)) l.globals.push({ name, ty: w, init: w === 'i32' ? i32(0) : w === 'i64' ? i64(0n) : f64(0) });
    return name;
  });
}

/** Before a `return` of the current function: stores its later values (`vals` from the second on). */
export function storeExtraReturns(l: Lowerer, f: FnInfo, vals: Val[]): void {
  f.extraRet.forEach((ty, i) => {
    const rep = repOf(ty) ?? 'none';
    const es = l.exprsOf(l.coerce(vals[i + 1] ?? { rep: 'none', ty: constTy({ k: 'nil' }) }, ty));
    extraGlobals(l, i, wtypes(rep)).forEach((g, j) => l.out.push({ k: 'gset', g, e: es[j]! }));
  });
}

/** Right after a call of f: copies its later return values into locals; returns them as values. */
export function loadExtraReturns(l: Lowerer, f: FnInfo): Val[] {
  return f.extraRet.map((ty, i) => {
    const rep = repOf(ty) ?? 'none';
    const ws = wtypes(rep);
    const ids = extraGlobals(l, i, ws).map((g, j) => {
      const t = l.temp(ws[j]!, 'mr');
      l.out.push({ k: 'set', l: t, e: { k: 'gget', g, ty: ws[j]! } });
      return t;
    });
    return l.fromLocals(ty, rep, ids);
  });
}
