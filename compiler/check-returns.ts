// Multiple return values of script functions (`return a, b, c`), check's
// half: the types of the values after the first, joined over every `return`
// of a function into FnInfo.extraRet. lower-returns.ts carries them.
import type * as L from 'luaparse';
import type { Ann, FnInfo } from './check-result.js';
import type { Checker } from './check.js';
import { NO_LAYOUT, STATIC, VIEW, constTy, join, tyEq, type Ty } from './types.js';

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
