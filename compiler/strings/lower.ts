// Lowering of string operations (typed by strings/check.ts) to IR calls of
// the string runtime (strings/runtime.ts) and of specialized pattern
// matchers (compiler/patterns). A string is an i64 `ptr << 32 | len` held in
// the 'view' representation; nil is NIL_VIEW. Matchers write their captures
// to the CAPS scratch area, so capture reads are kept in locals at once.
import type * as L from 'luaparse';
import type { Ann } from '../check-result.js';
import type { Val } from '../lower-base.js';
import type { Lowerer } from '../lower.js';
import { type Expr, type Stmt, bin, cond, f64, i32, i64, un } from '../ir.js';
import { FALSE, FLOAT, INT, NIL, STR, TAG, TRUE, Ty, VIEW, luaTypeName, repOf } from '../types.js';
import { constString } from '../consts.js';
import { callArgs } from '../parse.js';
import { CAPS, NIL_STR, OOM_MESSAGE, OOM_STR } from './layout.js';

/** [name, bytes, mode] of each matcher a module needs */
export interface IRPattern { name: string; bytes: Uint8Array; mode: 'match' | 'find' | 'plain' | 'gmatch' }

const ptrOf = (s: Expr) => un('i32.wrap_i64', bin('i64.shr_u', s, i64(32n)), 'i32');
const lenOf = (s: Expr) => un('i32.wrap_i64', s, 'i32');
const helper = (fn: string, args: Expr[], ty: 'i32' | 'i64'): Expr => ({ k: 'helper', fn, args, ty });

/** The packed string of a constant (registers it in the module's data segment). */
export function constStr(l: Lowerer, s: string): Expr {
  l.usesStrings = true;
  return i64(l.pool.add(s));
}

function keepE(l: Lowerer, e: Expr, ty: 'i32' | 'i64' = 'i64'): Expr {
  const t = l.temp(ty, 's');
  l.out.push({ k: 'set', l: t, e });
  return { k: 'get', l: t, ty };
}

/** Result of an allocating helper: error for the packet when the arena is full. */
function alloc(l: Lowerer, e: Expr, node: L.Node): Expr {
  l.usesStrings = true;
  const r = keepE(l, e);
  l.guard(bin('i64.eq', r, i64(OOM_STR)), l.site(node, OOM_MESSAGE));
  return r;
}

/** The packed string of a value known (or checked here) to be a string. */
export function strOf(l: Lowerer, v: Val, node: L.Node, err: (kind: string) => string): Expr {
  l.usesStrings = true;
  if (v.rep === 'none') {
    if (v.ty.c?.k === 'str') return constStr(l, v.ty.c.v);
    l.guard(i32(1), l.site(node, err(luaTypeName(v.ty.m))));
    return i64(0n);
  }
  const k = l.keep(v);
  for (const kind of [NIL, FALSE, TRUE, INT, FLOAT, VIEW]) if (k.ty.m & kind)
    l.guard(l.isKind(k, kind), l.site(node, err(kind === VIEW ? 'userdata' : luaTypeName(kind))));
  if (k.rep === 'dyn') return k.val;
  return k.rep === 'view' ? k.e : i64(0n);
}

/** Lua's "string or number" coercion for `..`: integers are formatted. */
function concatOperand(l: Lowerer, v: Val, node: L.Expression): Expr {
  const msg = (kind: string) => `attempt to concatenate a ${kind} value${l.varInfo(node)}`;
  if (v.rep === 'none' && v.ty.c && (v.ty.c.k === 'int' || v.ty.c.k === 'str')) return constStr(l, constString(v.ty.c));
  const k = l.keep(v);
  for (const kind of [NIL, FALSE, TRUE, VIEW]) if (k.ty.m & kind)
    l.guard(l.isKind(k, kind), l.site(node, msg(kind === VIEW ? 'userdata' : luaTypeName(kind))));
  return toStr(l, k, [INT, FLOAT, STR], node);
}

/** The value as a string, one branch per kind of `kinds` it may have (numbers formatted as Lua does). */
function toStr(l: Lowerer, v: Val, kinds: number[], node: L.Node): Expr {
  const present = kinds.filter((k) => v.ty.m & k);
  const one = (kind: number): Expr => {
    if (kind === NIL) return constStr(l, 'nil');
    if (kind === FALSE) return constStr(l, 'false');
    if (kind === TRUE) return constStr(l, 'true');
    // a constant type wins over the expression computing it
    const c = v.ty.c;
    if (kind === INT) return c?.k === 'int' ? constStr(l, String(c.v)) : alloc(l, helper('str_from_int', [l.intOf(v)], 'i64'), node);
    if (kind === FLOAT) return alloc(l, helper('str_from_float', [c?.k === 'float' ? f64(c.v) : l.floatOf(v)], 'i64'), node);
    return strPayloadOf(l, v);
  };
  if (present.length === 1) return one(present[0]!);
  const out = l.temp('i64', 'ts');
  let chain: Stmt[] = [];
  for (const kind of present.reverse()) {
    const body = l.withOut(() => { const r = one(kind); l.out.push({ k: 'set', l: out, e: r }); });
    chain = chain.length === 0 ? body : [{ k: 'if', c: l.isKind(v, kind), t: body, f: chain }];
  }
  l.out.push(...chain);
  return { k: 'get', l: out, ty: 'i64' };
}

export function lowerConcat(l: Lowerer, e: L.BinaryExpression, ty: Ty): Val {
  const [x, y] = l.operands([e.left, e.right]) as [Val, Val];
  const a = concatOperand(l, x, e.left), b = concatOperand(l, y, e.right);
  return { rep: 'view', e: alloc(l, helper('str_concat', [a, b], 'i64'), e), ty };
}

/** `#s` of a string value. */
export function lowerStrLen(l: Lowerer, v: Val, node: L.Expression): Expr {
  const s = strOf(l, v, node, (k) => `attempt to get length of a ${k} value${l.varInfo(node)}`);
  return un('i64.extend_i32_u', lenOf(s), 'i64');
}

/** Packed strings `a`, `b`: the i32 result of a < b or a <= b. */
export function strLess(l: Lowerer, a: Expr, b: Expr, le: boolean): Expr {
  l.usesStrings = true;
  return bin(le ? 'i32.le_s' : 'i32.lt_s', helper('str_cmp', [a, b], 'i32'), i32(0));
}

export function strEq(l: Lowerer, a: Expr, b: Expr): Expr {
  l.usesStrings = true;
  if (a.k === 'i64' && b.k === 'i64') return i32(a.v === b.v ? 1 : 0);
  return helper('str_eq', [a, b], 'i32');
}

/** The packed payload of a value's string part (valid where it is a string). */
export function strPayloadOf(l: Lowerer, v: Val): Expr {
  if (v.rep === 'none') return v.ty.c?.k === 'str' ? constStr(l, v.ty.c.v) : i64(NIL_STR);
  if (v.rep === 'dyn') return v.val;
  if (v.rep === 'view') return v.e;
  return i64(NIL_STR);
}


/** A call typed by checkStringCall: string.NAME (method or function form), tostring, tonumber. */
export function lowerStringCall(l: Lowerer, e: L.CallExpression | L.TableCallExpression | L.StringCallExpression, a: Ann): Val {
  const name = a.builtin!;
  const fname = name.replace(/^string\./, '');
  const args = callArgs(e);
  const method = e.base.type === 'MemberExpression' && e.base.indexer === ':';
  const nodes: L.Expression[] = method ? [(e.base as L.MemberExpression).base, ...args] : args;
  const vals = l.operands(nodes);
  const nilVal: Val = { rep: 'none', ty: { m: NIL, c: { k: 'nil' } } };
  const arg = (i: number) => vals[i] ?? nilVal;
  const ty = a.ty;
  l.usesStrings = true;
  if (name === 'tonumber') return l.coerce(arg(0), ty);
  if (name === 'tostring') {
    const v = arg(0);
    if (v.rep === 'none' && repOf(ty) === 'none') return { rep: 'none', ty };
    // a view's tostring is its bytes: the same packed value
    return { rep: 'view', e: toStr(l, v, [NIL, FALSE, TRUE, INT, FLOAT, STR, VIEW], e), ty };
  }
  const argNo = (i: number) => (method ? i : i + 1);
  const recvErr = (kind: string) => method
    ? `attempt to index a ${kind} value${l.varInfo(nodes[0]!)}`
    : `bad argument #1 to '${fname}' (string expected, got ${kind === 'nil' && !nodes[0] ? 'no value' : kind})`;
  const intArg = (i: number, dflt: bigint | null): Expr => {
    const v = vals[i];
    if (!v || (v.rep === 'none' && v.ty.m === NIL)) {
      if (dflt === null) { l.guard(i32(1), l.site(e, `bad argument #${argNo(i)} to '${fname}' (number expected, got no value)`)); return i64(0n); }
      return i64(dflt);
    }
    if (v.ty.m & NIL) {
      if (dflt === null) l.guard(l.isKind(v, NIL), l.site(nodes[i]!, `bad argument #${argNo(i)} to '${fname}' (number expected, got nil)`));
      else return cond(l.isKind(v, NIL), i64(dflt), l.intOf(v), 'i64');
    }
    return l.intOf(v);
  };
  if (fname === 'char') {
    let s: Expr = constStr(l, '');
    vals.forEach((_, i) => {
      const b = keepE(l, intArg(i, null));
      l.guard(bin('i64.gt_u', b, i64(255n)), l.site(nodes[i]!, `bad argument #${i + 1} to 'char' (value out of range)`));
      s = alloc(l, helper('str_char', [s, b], 'i64'), e);
    });
    return { rep: 'view', e: s, ty };
  }
  const s = keepE(l, strOf(l, arg(0), nodes[0] ?? e, recvErr));
  switch (fname) {
    case 'len': return { rep: 'int', e: un('i64.extend_i32_u', lenOf(s), 'i64'), ty };
    case 'sub': return { rep: 'view', e: helper('str_sub', [s, intArg(1, null), intArg(2, -1n)], 'i64'), ty };
    case 'upper': case 'lower': return { rep: 'view', e: alloc(l, helper(`str_${fname}`, [s], 'i64'), e), ty };
    case 'rep': return { rep: 'view', e: alloc(l, helper('str_rep', [s, intArg(1, null)], 'i64'), e), ty };
    case 'byte': {
      const r = keepE(l, helper('str_byte', [s, intArg(1, 1n)], 'i64'));
      return { rep: 'dyn', tag: cond(bin('i64.eq', r, i64(-1n)), i32(TAG.nil), i32(TAG.int), 'i32'), val: r, ty };
    }
    case 'find': case 'match': {
      const p = a.pattern!;
      const mode = fname === 'find' ? (p.plain ? 'plain' : 'find') : 'match';
      const fn = patternFn(l, p.bytes, mode);
      const init = vals[2] && !(vals[2].rep === 'none' && vals[2].ty.m === NIL)
        ? keepE(l, helper('str_init', [s, intArg(2, 1n)], 'i32'), 'i32') : i32(0);
      const r = keepE(l, helper(fn, [ptrOf(s), lenOf(s), init, i32(CAPS)], 'i32'), 'i32');
      l.guard(bin('i32.lt_s', r, i32(0)), l.site(e, 'pattern too complex'));
      const hit = bin('i32.eq', r, i32(1));
      // the other results, read now: the next match overwrites the captures
      const capVal = (k: number): Val => p.positionCaptures[k - 1]
        ? { rep: 'dyn', tag: cond(hit, i32(TAG.int), i32(TAG.nil), 'i32'), val: keepE(l, cond(hit, helper('str_cap_pos', [i32(k)], 'i64'), i64(0n), 'i64')), ty: { m: INT | NIL } }
        : { rep: 'view', e: keepE(l, cond(hit, helper('str_cap', [s, i32(k)], 'i64'), i64(NIL_STR), 'i64')), ty: { m: STR | NIL } };
      const caps = Array.from({ length: p.captures }, (_, i) => i + 1);
      // only a multi-value context asks, right after this call and before any other match
      l.extraVals = fname === 'find' ? () => {
        const end = keepE(l, cond(hit, un('i64.extend_i32_u', helper('str_cap_end', [i32(0)], 'i32'), 'i64'), i64(0n), 'i64'));
        return [{ rep: 'dyn', tag: cond(hit, i32(TAG.int), i32(TAG.nil), 'i32'), val: end, ty: { m: INT | NIL } }, ...caps.map(capVal)];
      } : () => caps.slice(1).map(capVal);
      if (fname === 'find' || p.positionCaptures[0]) {
        const pos = keepE(l, cond(hit, helper('str_cap_pos', [i32(fname === 'find' ? 0 : 1)], 'i64'), i64(0n), 'i64'));
        return { rep: 'dyn', tag: cond(hit, i32(TAG.int), i32(TAG.nil), 'i32'), val: pos, ty };
      }
      const cap = keepE(l, cond(hit, helper('str_cap', [s, i32(p.captures > 0 ? 1 : 0)], 'i64'), i64(NIL_STR), 'i64'));
      return { rep: 'view', e: cap, ty };
    }
  }
  l.reason(e, `string.${fname}`);
  return { rep: 'none', ty };
}

function patternFn(l: Lowerer, bytes: Uint8Array, mode: IRPattern['mode']): string {
  const key = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const found = l.patterns.find((p) => p.mode === mode && key(p.bytes) === key(bytes));
  if (found) return found.name;
  const name = `pat${l.patterns.length}_${mode}`;
  l.patterns.push({ name, bytes, mode });
  return name;
}


/**
 * `for v1, v2 in s:gmatch(p) do ... end`, as lstrlib's gmatch_aux: each
 * iteration searches from the end of the previous match and skips an empty
 * match that ends where the previous one did.
 */
export function lowerGmatchFor(l: Lowerer, s: L.ForGenericStatement, inLoop: (body: () => void) => void, fuelMessage: string): void {
  const call = s.iterators[0] as L.CallExpression;
  const a = l.ann(call);
  const b = call.base as L.MemberExpression;
  const method = b.indexer === ':';
  const recvNode = method ? b.base : call.arguments[0]!;
  const p = a.pattern!;
  l.usesStrings = true;
  const recvErr = (kind: string) => method
    ? `attempt to index a ${kind} value${l.varInfo(recvNode)}`
    : `bad argument #1 to 'gmatch' (string expected, got ${kind})`;
  const str = keepE(l, strOf(l, l.keep(l.expr(recvNode)), recvNode, recvErr));
  if (!method) l.expr(call.arguments[1]!);
  const fn = patternFn(l, p.bytes, 'gmatch');
  const src = l.temp('i32', 'src'), last = l.temp('i32', 'last'), r = l.temp('i32', 'r'), en = l.temp('i32', 'end');
  const g = (x: number): Expr => ({ k: 'get', l: x, ty: 'i32' });
  const n = l.labelCount++;
  const brk = `brk${n}`, cont = `cont${n}`, found = `found${n}`, retry = `retry${n}`;
  const tooComplex = l.site(call, 'pattern too complex');
  const fuel = l.site(s, fuelMessage);
  l.out.push({ k: 'set', l: src, e: i32(0) }, { k: 'set', l: last, e: i32(-1) });
  const search: Stmt[] = [
    { k: 'br', label: brk, c: bin('i32.gt_u', g(src), lenOf(str)) },
    { k: 'set', l: r, e: helper(fn, [ptrOf(str), lenOf(str), g(src), i32(CAPS)], 'i32') },
    { k: 'if', c: bin('i32.lt_s', g(r), i32(0)), t: [{ k: 'error', site: tooComplex }], f: [] },
    { k: 'br', label: brk, c: bin('i32.eq', g(r), i32(0)) },
    { k: 'set', l: en, e: helper('str_cap_end', [i32(0)], 'i32') },
    { k: 'if', c: bin('i32.eq', g(en), g(last)), t: [
      { k: 'set', l: src, e: bin('i32.add', g(src), i32(1)) }, { k: 'br', label: retry }], f: [] },
    { k: 'set', l: src, e: g(en) }, { k: 'set', l: last, e: g(en) },
  ];
  l.breakLabels.push(brk);
  let body: Stmt[] = [];
  inLoop(() => {
    body = l.withOut(() => {
      l.out.push({ k: 'block', label: found, body: [{ k: 'loop', label: retry, body: search }] });
      // read the captures before the body runs other matchers
      const nvals = Math.max(p.captures, 1);
      s.variables.forEach((v, i) => {
        const ty = i >= nvals ? { m: NIL, c: { k: 'nil' } as const } : p.positionCaptures[i] ? { m: INT } : { m: STR };
        const k = p.captures === 0 ? 0 : i + 1;
        const val: Val = i >= nvals ? { rep: 'none', ty }
          : p.positionCaptures[i] ? { rep: 'int', e: keepE(l, helper('str_cap_pos', [i32(k)], 'i64')), ty }
          : { rep: 'view', e: keepE(l, helper('str_cap', [str, i32(k)], 'i64')), ty };
        l.storeVar(l.c.declVar.get(v)!, val);
      });
      l.block(s.body);
      l.out.push({ k: 'fuel', site: fuel }, { k: 'br', label: cont });
    });
  });
  l.breakLabels.pop();
  l.out.push({ k: 'block', label: brk, body: [{ k: 'loop', label: cont, body }] });
}
