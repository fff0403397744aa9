// Typing of string operations for check.ts: `s:m(...)` / `string.m(s, ...)`,
// tostring/tonumber, `..` and string-keyed table reads. A string value is a
// view onto packet memory, a constant or an arena copy (strings/layout.ts),
// so it may not outlive the packet: check.ts rejects storing one in a
// module-level variable. Patterns must be constant strings (they become
// specialized matchers); anything else sends the script to the Lua engine.
import type * as L from 'luaparse';
import type { Ann, PatternInfo } from '../check-result.js';
import type { Checker } from '../check.js';
import { constString } from '../consts.js';
import { parsePattern, PatternSyntaxError } from '../patterns/parse.js';
import { BOOL, FLOAT, INT, NIL, STR, Ty, VIEW, constTy } from '../types.js';
import { uncompiledCall } from '../check-reasons.js';

export function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);
}

const isStrTy = (t: Ty) => t.m !== 0 && (t.m & ~(STR | NIL)) === 0 && (t.m & STR) !== 0;
const strConst = (t: Ty): string | undefined => (t.c?.k === 'str' && t.m === STR ? t.c.v : undefined);

/** Types `recv:name(args)` (method form, recv given) or `string.name(args)` (recv = args[0]). */
export function checkStringCall(ck: Checker, e: L.Node, name: string, argNodes: L.Expression[], as: Ann[], method: boolean): Ann {
  const fname = name.replace(/^string\./, '');
  const set = (ty: Ty, extra: Partial<Ann> = {}) => ck.set(e, { ty, builtin: name, ...extra });
  if (name === 'tostring') {
    const t = as[0]?.ty ?? constTy({ k: 'nil' });
    if (as.length !== 1) ck.reason(e, 'tostring with other than one argument');
    if (t.c && t.m === constTy(t.c).m && t.c.k !== 'float' && t.c.k !== 'table' && t.c.k !== 'func' && t.c.k !== 'layout'
      && t.c.k !== 'data' && t.c.k !== 'builtin') return set(constTy({ k: 'str', v: constString(t.c) }));
    if (t.m & ~(VIEW | STR | INT | FLOAT | NIL | BOOL)) ck.reason(e, 'tostring of a function, table or layout');
    return set({ m: STR });
  }
  if (name === 'tonumber') {
    const t = as[0]?.ty ?? constTy({ k: 'nil' });
    if (as.length !== 1 || t.m & ~INT) ck.reason(e, 'tonumber of a value that is not an integer');
    return set(t.m & INT ? { ...t, m: INT } : { m: INT });
  }
  // receiver: argument 1 in both forms (method form prepends it)
  const argTy = (i: number): Ty | undefined => as[i]?.ty;
  const nodeOf = (i: number): L.Node => argNodes[i] ?? e;
  if (fname !== 'char') {
    const r = argTy(0);
    if (!r || !isStrTy(r)) {
      ck.reason(e, `string.${fname} on a value that may not be a string`, 'operands');
      return set(ck.unknown());
    }
  }
  const intArg = (i: number, optional: boolean) => {
    const t = argTy(i);
    if (!t) { if (!optional) ck.reason(e, `string.${fname} needs argument #${i + (method ? 0 : 1)}`); return; }
    if (t.m & ~(INT | (optional ? NIL : 0)) || t.m === 0) ck.reason(nodeOf(i), `string.${fname} argument that may not be an integer`);
  };
  const maxArgs = (n: number) => { if (as.length > n) ck.reason(e, `string.${fname} with more than ${n - 1} arguments`); };
  switch (fname) {
    case 'len': maxArgs(1); return set({ m: INT });
    case 'sub': maxArgs(3); intArg(1, false); intArg(2, true); return set({ m: STR });
    case 'byte':
      maxArgs(2); intArg(1, true);
      // out of range gives no value at all, which only a single-value context turns into nil
      return set({ m: INT | NIL }, { multi: true });
    case 'upper': case 'lower': maxArgs(1); return set({ m: STR });
    case 'rep': maxArgs(2); intArg(1, false); return set({ m: STR });
    case 'char':
      for (let i = 0; i < as.length; i++) intArg(i, false);
      return set({ m: STR });
    case 'find': case 'match': {
      maxArgs(fname === 'find' ? 4 : 3);
      intArg(2, true);
      const p = argTy(1) && strConst(argTy(1)!);
      if (p === undefined) { ck.reason(nodeOf(1), `string.${fname} with a pattern that is not a constant string`); return set(ck.unknown()); }
      let plain = false;
      if (fname === 'find' && as[3]) {
        const pt = as[3].ty;
        if (!pt.c || pt.m !== constTy(pt.c).m) ck.reason(nodeOf(3), "find's 'plain' argument is not a constant");
        else plain = !(pt.c.k === 'nil' || (pt.c.k === 'bool' && !pt.c.v));
      }
      const bytes = latin1(p);
      let info: PatternInfo = { bytes, captures: 0, positionCaptures: [] };
      if (!plain) {
        try {
          const ast = parsePattern(bytes, { caretAnchors: true });
          info = { bytes, captures: ast.captureCount, positionCaptures: ast.positionCaptures.slice() };
        } catch (err) {
          if (!(err instanceof PatternSyntaxError)) throw err;
          ck.reason(nodeOf(1), `malformed pattern: ${(err as Error).message}`);
          return set(ck.unknown());
        }
      }
      const pattern = { ...info, plain };
      if (fname === 'find') return set({ m: INT | NIL }, { pattern, multi: true });
      const ty: Ty = info.positionCaptures[0] ? { m: INT | NIL } : { m: STR | NIL };
      return set(ty, { pattern, multi: info.captures > 1 });
    }
  }
  ck.reason(e, uncompiledCall(`string.${fname}`), 'never');
  return set(ck.unknown());
}

/** `a .. b`: constant-folds two constants, else checks both operands are strings or integers. */
export function checkConcat(ck: Checker, e: L.BinaryExpression, a: Ty, b: Ty): Ann {
  const k = (t: Ty) => (t.c && t.m === constTy(t.c).m && (t.c.k === 'str' || t.c.k === 'int') ? t.c : undefined);
  const ca = k(a), cb = k(b);
  if (ca && cb) return ck.set(e, { ty: constTy({ k: 'str', v: constString(ca) + constString(cb) }) });
  for (const [t, n] of [[a, e.left], [b, e.right]] as const) {
    if (t.m & ~(STR | INT | FLOAT | NIL) || t.m === NIL || t.m === 0) ck.reason(n, 'concatenation of a value that is not a string or a number');
  }
  return ck.set(e, { ty: { m: STR } });
}

/** `for ... in s:gmatch(p)` or `for ... in string.gmatch(s, p)`: the one generic for the subset has. */
export function isGmatchLoop(s: L.ForGenericStatement): boolean {
  const it = s.iterators[0];
  if (s.iterators.length !== 1 || it?.type !== 'CallExpression') return false;
  const b = it.base;
  if (b.type !== 'MemberExpression' || b.identifier.name !== 'gmatch') return false;
  return b.indexer === ':' || (b.base.type === 'Identifier' && b.base.name === 'string');
}

/** Types the loop: each variable gets its capture (a string, or an integer for a position capture). */
export function checkGmatchFor(ck: Checker, s: L.ForGenericStatement, st: Parameters<Checker['block']>[1]): void {
  const call = s.iterators[0] as L.CallExpression;
  const b = call.base as L.MemberExpression;
  const method = b.indexer === ':';
  const nodes = method ? [b.base, ...call.arguments] : call.arguments;
  const as = nodes.map((n) => ck.expr(n, st));
  const recv = as[0]?.ty;
  let info: PatternInfo | null = null;
  if (!recv || !isStrTy(recv)) ck.reason(call, 'string.gmatch on a value that may not be a string');
  if (as.length !== 2) ck.reason(call, 'string.gmatch with other than a subject and a pattern');
  const p = as[1] && strConst(as[1].ty);
  if (p === undefined) ck.reason(nodes[1] ?? call, 'string.gmatch with a pattern that is not a constant string');
  else {
    const bytes = latin1(p);
    try {
      const ast = parsePattern(bytes, { caretAnchors: false });
      info = { bytes, captures: ast.captureCount, positionCaptures: ast.positionCaptures.slice() };
    } catch (err) {
      if (!(err instanceof PatternSyntaxError)) throw err;
      ck.reason(nodes[1]!, `malformed pattern: ${(err as Error).message}`);
    }
  }
  ck.set(call, { ty: { m: NIL }, builtin: 'string.gmatch', pattern: info ? { ...info, plain: false } : undefined });
  s.variables.forEach((v, i) => {
    const n = Math.max(info?.captures ?? 0, 1);
    const ty: Ty = i >= n ? constTy({ k: 'nil' }) : info?.positionCaptures[i] ? { m: INT } : { m: STR };
    ck.assignVar(ck.declVar.get(v)!, ty, v);
  });
  ck.loop(st, () => { const c = ck.cloneSt(st); ck.block(s.body, c); c.dead = false; return c; });
}

/** Types of the results after the first of find / match (byte gives at most one). */
export function extraResults(a: Ann): Ty[] {
  const p = a.pattern;
  if (!p) return [];
  const caps = p.positionCaptures.map((pos): Ty => ({ m: (pos ? INT : STR) | NIL }));
  if (a.builtin === 'string.find') return [{ m: INT | NIL }, ...caps];
  return caps.slice(1);
}
