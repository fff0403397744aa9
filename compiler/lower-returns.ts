// Multiple return values of script functions (`return a, b, c`), lower's
// half. The first value travels as any result does (Wasm result, dyn tag in
// a global); each later one is written to module globals `mret<i>` (one per
// Wasm value of its representation) just before the `return`, and the caller
// copies them into locals right after the call, before anything else can
// run. Wasm multi-value would do too, but the ABI promises MVP features only.
// Their types are FnInfo.extraRet (check-returns.ts).
import type { FnInfo } from './check-result.js';
import { i32, i64, f64, type WType } from './ir.js';
import { wtypes, type Val } from './lower-base.js';
import type { Lowerer } from './lower.js';
import { constTy, repOf } from './types.js';

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
