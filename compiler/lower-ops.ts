// Lowering of Lua's operators with Lua 5.4 semantics: exact integer/float
// comparison, floor division and modulo, logical shifts, and the runtime
// type checks (with Lua's own messages) for operands that may be non-numbers.
import type * as L from 'luaparse';
import type { Val } from './lower-base.js';
import type { Lowerer } from './lower.js';
import { Expr, and, assume, bin, cond, f64, i32, i64, not, or, printExpr, un } from './ir.js';
import { FALSE, FLOAT, FUNC, HTAB, INT, KIND_OF_TAG, NIL, STR, TAG, TRUE, Ty, VIEW } from './types.js';
import { strEq, strLess, strPayloadOf } from './strings/lower.js';
import { exactPow } from './consts.js';
import { parseLuaNumber, wrapInt64 } from './parse.js';

const GROUPS: [number, string][] = [[NIL, 'nil'], [FALSE | TRUE, 'boolean'], [INT | FLOAT, 'number'], [STR, 'string'], [VIEW, 'userdata'], [HTAB, 'table'], [FUNC, 'function']];
const TWO63 = 9223372036854775808;

function isGroup(l: Lowerer, v: Val, mask: number): Expr {
  let e: Expr = i32(0);
  if ((v.ty.m & ~mask) === 0) return i32(1);
  for (const bit of KIND_OF_TAG) if (mask & bit & v.ty.m) e = or(e, l.isKind(v, bit));
  return e;
}


/** Lua `==` (raw equality: no metamethods on our values). */
export function lowerEq(l: Lowerer, x: Val, y: Val, node: L.Node): Expr {
  const common = x.ty.m & y.ty.m;
  let r: Expr = i32(0);
  for (const k of [NIL, FALSE, TRUE]) if (common & k) r = or(r, and(l.isKind(x, k), l.isKind(y, k)));
  if (common & INT) r = or(r, and(and(l.isKind(x, INT), l.isKind(y, INT)), bin('i64.eq', l.intOf(x), l.intOf(y))));
  if (common & FLOAT) r = or(r, and(and(l.isKind(x, FLOAT), l.isKind(y, FLOAT)), bin('f64.eq', l.floatOf(x), l.floatOf(y))));
  if (x.ty.m & INT && y.ty.m & FLOAT) r = or(r, and(and(l.isKind(x, INT), l.isKind(y, FLOAT)), eqIF(l.intOf(x), l.floatOf(y))));
  if (x.ty.m & FLOAT && y.ty.m & INT) r = or(r, and(and(l.isKind(x, FLOAT), l.isKind(y, INT)), eqIF(l.intOf(y), l.floatOf(x))));
  if (common & STR) {
    if (x.rep === 'none' && y.rep === 'none') r = or(r, i32(x.ty.c?.k === 'str' && y.ty.c?.k === 'str' && x.ty.c.v === y.ty.c.v ? 1 : 0));
    else r = or(r, and(and(l.isKind(x, STR), l.isKind(y, STR)), strEq(l, strPayloadOf(l, x), strPayloadOf(l, y))));
  }
  if (common & VIEW) l.reason(node, 'equality of two data views');
  // tables are equal when they are the same table
  if (common & HTAB) r = or(r, and(and(l.isKind(x, HTAB), l.isKind(y, HTAB)), bin('i64.eq', l.intOf(x), l.intOf(y))));
  // function values: the same script function (there are no closures with their own upvalues yet)
  if (common & FUNC) r = or(r, and(and(l.isKind(x, FUNC), l.isKind(y, FUNC)), bin('i64.eq', l.intOf(x), l.intOf(y))));
  return r;
}

function inRange(f: Expr): Expr {
  return and(bin('f64.ge', f, f64(-TWO63)), bin('f64.lt', f, f64(TWO63)));
}
function eqIF(i: Expr, f: Expr): Expr {
  return cond(and(bin('f64.eq', un('f64.floor', f, 'f64'), f), inRange(f)), bin('i64.eq', un('i64.trunc_f64_s', f, 'i64'), i), i32(0), 'i32');
}
/** i < f or i <= f, exactly (Lua's LTintfloat / LEintfloat). */
function cmpIF(i: Expr, f: Expr, le: boolean): Expr {
  const r = un(le ? 'f64.floor' : 'f64.ceil', f, 'f64');
  return and(bin('f64.eq', f, f), or(bin('f64.ge', f, f64(TWO63)),
    and(bin('f64.ge', f, f64(-TWO63)), bin(le ? 'i64.le_s' : 'i64.lt_s', i, un('i64.trunc_f64_s', r, 'i64')))));
}
/** f < i or f <= i, exactly (Lua's LTfloatint / LEfloatint). */
function cmpFI(f: Expr, i: Expr, le: boolean): Expr {
  const r = un(le ? 'f64.ceil' : 'f64.floor', f, 'f64');
  return and(bin('f64.eq', f, f), or(bin('f64.lt', f, f64(-TWO63)),
    and(bin('f64.lt', f, f64(TWO63)), bin(le ? 'i64.le_s' : 'i64.lt_s', un('i64.trunc_f64_s', r, 'i64'), i))));
}

/** Numeric `a < b` / `a <= b` over values already checked to be numbers. */
export function numLess(l: Lowerer, x: Val, y: Val, le: boolean): Expr {
  const pick = (v: Val, ifInt: () => Expr, ifFloat: () => Expr): Expr => {
    const hasI = !!(v.ty.m & INT), hasF = !!(v.ty.m & FLOAT);
    if (hasI && hasF) return cond(l.isKind(v, INT), ifInt(), ifFloat(), 'i32');
    return hasF ? ifFloat() : ifInt();
  };
  return pick(x,
    () => pick(y, () => bin(le ? 'i64.le_s' : 'i64.lt_s', l.intOf(x), l.intOf(y)), () => cmpIF(l.intOf(x), l.floatOf(y), le)),
    () => pick(y, () => cmpFI(l.floatOf(x), l.intOf(y), le), () => bin(le ? 'f64.le' : 'f64.lt', l.floatOf(x), l.floatOf(y))));
}

export function lowerCompare(l: Lowerer, e: L.BinaryExpression): Expr {
  let [x, y] = l.operands([e.left, e.right]) as [Val, Val];
  const op = e.operator;
  if (op === '>' || op === '>=') [x, y] = [y, x];
  const le = op === '<=' || op === '>=';
  for (const [gx, nx] of GROUPS) for (const [gy, ny] of GROUPS) {
    if (!(x.ty.m & gx) || !(y.ty.m & gy) || (nx === ny && (nx === 'number' || nx === 'string'))) continue;
    const msg = nx === ny ? `attempt to compare two ${nx} values` : `attempt to compare ${nx} with ${ny}`;
    l.guard(and(isGroup(l, x, gx), isGroup(l, y, gy)), l.site(e, msg));
  }
  const strs = x.ty.m & STR && y.ty.m & STR ? strLess(l, strPayloadOf(l, x), strPayloadOf(l, y), le) : null;
  if (!((x.ty.m & (INT | FLOAT)) && (y.ty.m & (INT | FLOAT)))) return strs ?? i32(0);
  return strs ? cond(l.isKind(x, STR), strs, numLess(l, x, y, le), 'i32') : numLess(l, x, y, le);
}

const ARITH: Record<string, string> = { '+': 'add', '-': 'sub', '*': 'mul' };

/** Arithmetic, bitwise operators and math.min/max/abs. */
export function lowerArith(l: Lowerer, node: L.Node, op: string, argNodes: L.Expression[], ty: Ty): Val {
  const bitwise = ['&', '|', '~', '<<', '>>', 'bnot'].includes(op);
  const vals = l.operands(argNodes);
  const nonNumbers = NIL | FALSE | TRUE | STR | VIEW | HTAB | FUNC;
  vals.forEach((v, i) => {
    for (const [g, name] of GROUPS) {
      if (name === 'number' || !(v.ty.m & g)) continue;
      const msg = op.startsWith('math.')
        ? `bad argument #${i + 1} to '${op.slice(5)}' (number expected, got ${name === 'userdata' ? 'userdata' : name === 'nil' && i >= argNodes.length ? 'no value' : name})`
        : `attempt to perform ${bitwise ? 'bitwise operation' : 'arithmetic'} on a ${name} value${l.varInfo(argNodes[i]!)}`;
      l.guard(isGroup(l, v, g), l.site(argNodes[i]!, msg));
    }
    vals[i] = afterGuard(v, nonNumbers);
  });
  if (op.startsWith('math.') && vals.length === 0) {
    l.guard(i32(1), l.site(node, `bad argument #1 to '${op.slice(5)}' (number expected, got no value)`));
    return l.constExprs({ k: 'nil' }, 'none');
  }
  // Lua compiles `x - k` for a small integer constant k as `x + (-k)`: for
  // k = 0 that turns a float -0.0 into +0.0, so it must here too.
  const subtractsConstZero = op === '-' && argNodes.length === 2 && luaFoldedInt(argNodes[1]!) === 0n;
  if (ty.m === (INT | FLOAT)) {
    // an operand may be an integer or a float: Lua decides per operation, so do we
    const bothInt = vals.reduce((e: Expr, v) => and(e, l.isKind(v, INT)), i32(1));
    const k = l.keep({ rep: 'bool', e: bothInt, ty: { m: FALSE | TRUE } }) as { e: Expr };
    const ie = compute(l, node, op, vals, false, k.e, false);
    const fe = compute(l, node, op, vals, true, not(k.e), false, subtractsConstZero);
    return { rep: 'dyn', tag: cond(k.e, i32(TAG.int), i32(TAG.float), 'i32'),
      val: cond(k.e, ie, un('i64.reinterpret_f64', fe, 'i64'), 'i64'), ty };
  }
  const isFloat = ty.m === FLOAT;
  const e = compute(l, node, op, vals, isFloat, i32(1), true, subtractsConstZero);
  return isFloat ? { rep: 'float', e, ty } : { rep: 'int', e, ty };
}

/**
 * The integer an expression folds to under Lua 5.4's parser (numerals and
 * arithmetic or bitwise operators on them; not locals), or undefined.
 */
export function luaFoldedInt(node: L.Expression): bigint | undefined {
  if (node.type === 'NumericLiteral') {
    const n = parseLuaNumber(node.raw);
    return n?.kind === 'int' ? n.value : undefined;
  }
  if (node.type === 'UnaryExpression') {
    const v = luaFoldedInt(node.argument);
    if (v === undefined) return undefined;
    return node.operator === '-' ? wrapInt64(-v) : node.operator === '~' ? wrapInt64(~v) : undefined;
  }
  if (node.type !== 'BinaryExpression') return undefined;
  const a = luaFoldedInt(node.left);
  const b = luaFoldedInt(node.right);
  if (a === undefined || b === undefined) return undefined;
  const shl = (x: bigint, n: bigint): bigint => (n <= -64n || n >= 64n ? 0n
    : n >= 0n ? wrapInt64(x << n) : wrapInt64(BigInt.asUintN(64, x) >> -n));
  switch (node.operator) {
    case '+': return wrapInt64(a + b);
    case '-': return wrapInt64(a - b);
    case '*': return wrapInt64(a * b);
    case '&': return a & b;
    case '|': return a | b;
    case '~': return a ^ b;
    case '<<': return shl(a, b);
    case '>>': return shl(a, -b);
    default: return undefined;   // // and % by zero are not folded; / and ^ give floats
  }
}

/**
 * One operation over integers or floats. Guards (n//0, n%0) apply only when
 * `when` holds; `stored` allows temporaries (false when the result is one arm
 * of a choice, where evaluating the other arm's operations could trap).
 */
function compute(l: Lowerer, node: L.Node, op: string, vals: Val[], isFloat: boolean, when: Expr, stored: boolean,
  subtractsConstZero = false): Expr {
  const xs = vals.map((v) => (isFloat ? l.toFloat(v) : l.intOf(v)));
  const a = xs[0]!, b = xs[1]!;
  const T = isFloat ? 'f64' : 'i64';
  const out = (e: Expr): Val => (isFloat ? { rep: 'float', e, ty: { m: FLOAT } } : { rep: 'int', e, ty: { m: INT } });
  const keep = (e: Expr): Expr => (stored ? (l.keep(out(e)) as { e: Expr }).e : e);
  if (op === 'math.min' || op === 'math.max') {
    let cur = keep(a);
    for (const x of xs.slice(1)) {
      const less = op === 'math.min' ? numLess(l, out(x), out(cur), false) : numLess(l, out(cur), out(x), false);
      cur = keep(cond(less, x, cur, T));
    }
    return cur;
  }
  if (op === 'math.abs') return isFloat ? un('f64.abs', a, 'f64') : cond(bin('i64.lt_s', a, i64(0n)), bin('i64.sub', i64(0n), a), a, 'i64');
  if (op === 'neg') return isFloat ? un('f64.neg', a, 'f64') : bin('i64.sub', i64(0n), a);
  if (op === 'bnot') return bin('i64.xor', a, i64(-1n));
  if (op === '-' && isFloat && subtractsConstZero) return bin('f64.add', a, f64(0));
  if (ARITH[op]) return bin(`${T}.${ARITH[op]}`, a, b);
  switch (op) {
    case '/': return bin('f64.div', a, b);
    case '^': {
      const ex = vals[1]!.ty.c;
      const n = ex && (ex.k === 'int' || ex.k === 'float') ? Number(ex.v) : NaN;
      // check.ts folded it (both operands constant): the constant, whatever the exponent
      const p = exactPow(vals[0]!.ty.c, ex);
      if (p !== null) return f64(p);
      if (n === 0) return f64(1);
      if (n === 1) return a;
      if (n === 2) return bin('f64.mul', a, a);
      throw new Error(`internal: '^' with exponent ${n} reached lowering`);
    }
    case '&': return bin('i64.and', a, b);
    case '|': return bin('i64.or', a, b);
    case '~': return bin('i64.xor', a, b);
    case '<<': return shiftLeft(a, b);
    case '>>': return shiftLeft(a, bin('i64.sub', i64(0n), b));
    case '//':
      if (isFloat) return un('f64.floor', bin('f64.div', a, b), 'f64');
      l.guard(and(when, bin('i64.eq', b, i64(0n))), l.site(node, 'attempt to divide by zero'));
      return cond(bin('i64.eq', b, i64(-1n)), bin('i64.sub', i64(0n), a),
        bin('i64.sub', bin('i64.div_s', a, nonZero(b, stored)),
          un('i64.extend_i32_u', and(bin('i64.ne', bin('i64.rem_s', a, nonZero(b, stored)), i64(0n)), bin('i64.lt_s', bin('i64.xor', a, b), i64(0n))), 'i64')), 'i64');
    case '%': {
      if (isFloat) {
        // luai_nummod: m = fmod(a, b); if m and b have opposite signs, m += b
        const A = keep(a), B = keep(b);
        l.helpers.add('fmod');
        const m = keep({ k: 'helper', fn: 'fmod', args: [A, B], ty: 'f64' });
        const fix = cond(bin('f64.gt', m, f64(0)), bin('f64.lt', B, f64(0)), and(bin('f64.lt', m, f64(0)), bin('f64.gt', B, f64(0))), 'i32');
        return cond(fix, bin('f64.add', m, B), m, 'f64');
      }
      l.guard(and(when, bin('i64.eq', b, i64(0n))), l.site(node, "attempt to perform 'n%0'"));
      const r = keep(bin('i64.rem_s', a, nonZero(b, stored)));
      return cond(and(bin('i64.ne', r, i64(0n)), bin('i64.lt_s', bin('i64.xor', r, b), i64(0n))), bin('i64.add', r, b), r, 'i64');
    }
  }
  l.reason(node, `operator '${op}'`);
  return isFloat ? f64(0) : i64(0n);
}

/**
 * A divisor for div_s/rem_s, which trap on zero: after a guard (`stored`) it
 * cannot be zero; as an arm of an int-or-float choice it may be (that arm's
 * result is then unused), so divide by 1 instead.
 */
function nonZero(b: Expr, stored: boolean): Expr {
  return stored ? b : cond(bin('i64.eq', b, i64(0n)), i64(1n), b, 'i64');
}

/**
 * A dynamic value after a guard excluded the kinds in `mask`: a tag chosen
 * by one condition (a field read: integer if in the view, else nil) is then
 * decided, and the payload loses its own test of that condition.
 */
function afterGuard(v: Val, mask: number): Val {
  if (v.rep !== 'dyn' || v.tag.k !== 'if' || v.tag.t.k !== 'i32' || v.tag.f.k !== 'i32') return v;
  const kindOf = (tag: number) => KIND_OF_TAG[tag] ?? 0;
  const t = kindOf(v.tag.t.v), f = kindOf(v.tag.f.v);
  const key = printExpr(v.tag.c);
  if (f & mask && !(t & mask)) return { ...v, tag: v.tag.t, val: assume(v.val, key, true) };
  if (t & mask && !(f & mask)) return { ...v, tag: v.tag.f, val: assume(v.val, key, false) };
  return v;
}

/** Lua's luaV_shiftl: logical, counts of 64 or more give 0, negative counts shift right. */
function shiftLeft(a: Expr, n: Expr): Expr {
  return cond(bin('i64.gt_u', bin('i64.add', n, i64(63n)), i64(126n)), i64(0n),
    cond(bin('i64.ge_s', n, i64(0n)), bin('i64.shl', a, n), bin('i64.shr_u', a, bin('i64.sub', i64(0n), n)), 'i64'), 'i64');
}

