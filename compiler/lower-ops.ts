// Lowering of Lua's operators with Lua 5.4 semantics: exact integer/float
// comparison, floor division and modulo, logical shifts, and the runtime
// type checks (with Lua's own messages) for operands that may be non-numbers.
import type * as L from 'luaparse';
import type { Lowerer, Val } from './lower.js';
import { Expr, and, bin, cond, f64, i32, i64, not, or, un } from './ir.js';
import { FALSE, FLOAT, INT, NIL, STR, TRUE, Ty, VIEW, luaTypeName } from './types.js';

const GROUPS: [number, string][] = [[NIL, 'nil'], [FALSE | TRUE, 'boolean'], [INT | FLOAT, 'number'], [STR, 'string'], [VIEW, 'userdata']];
const TWO63 = 9223372036854775808;

function isGroup(l: Lowerer, v: Val, mask: number): Expr {
  let e: Expr = i32(0);
  if ((v.ty.m & ~mask) === 0) return i32(1);
  for (const bit of [NIL, FALSE, TRUE, INT, FLOAT, STR, VIEW]) if (mask & bit & v.ty.m) e = or(e, l.isKind(v, bit));
  return e;
}

function strPayload(l: Lowerer, v: Val): Expr {
  if (v.rep === 'none' && v.ty.c?.k === 'str') return i64(BigInt(l.strId(v.ty.c.v)));
  return v.rep === 'dyn' ? v.val : i64(-1n);
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
    else r = or(r, and(and(l.isKind(x, STR), l.isKind(y, STR)), bin('i64.eq', strPayload(l, x), strPayload(l, y))));
  }
  if (common & VIEW) l.reason(node, 'equality of two data views');
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
  let x = l.keep(l.expr(e.left)), y = l.keep(l.expr(e.right));
  const op = e.operator;
  if (op === '>' || op === '>=') [x, y] = [y, x];
  const le = op === '<=' || op === '>=';
  for (const [gx, nx] of GROUPS) for (const [gy, ny] of GROUPS) {
    if (!(x.ty.m & gx) || !(y.ty.m & gy) || (nx === 'number' && ny === 'number')) continue;
    const msg = nx === ny ? `attempt to compare two ${nx} values` : `attempt to compare ${nx} with ${ny}`;
    l.guard(and(isGroup(l, x, gx), isGroup(l, y, gy)), l.site(e, msg));
  }
  if (!((x.ty.m & (INT | FLOAT)) && (y.ty.m & (INT | FLOAT)))) return i32(0);
  return numLess(l, x, y, le);
}

const ARITH: Record<string, string> = { '+': 'add', '-': 'sub', '*': 'mul' };

/** Arithmetic, bitwise operators and math.min/max/abs. */
export function lowerArith(l: Lowerer, node: L.Node, op: string, argNodes: L.Expression[], ty: Ty): Val {
  const bitwise = ['&', '|', '~', '<<', '>>', 'bnot'].includes(op);
  const vals = argNodes.map((a) => l.keep(l.expr(a)));
  vals.forEach((v, i) => {
    for (const [g, name] of GROUPS) {
      if (name === 'number' || !(v.ty.m & g)) continue;
      const msg = op.startsWith('math.')
        ? `bad argument #${i + 1} to '${op.slice(5)}' (number expected, got ${name === 'userdata' ? 'userdata' : name === 'nil' && i >= argNodes.length ? 'no value' : name})`
        : `attempt to perform ${bitwise ? 'bitwise operation' : 'arithmetic'} on a ${name} value${l.varInfo(argNodes[i]!)}`;
      l.guard(isGroup(l, v, g), l.site(argNodes[i]!, msg));
    }
  });
  if (op.startsWith('math.') && vals.length === 0) {
    l.guard(i32(1), l.site(node, `bad argument #1 to '${op.slice(5)}' (number expected, got no value)`));
    return l.constExprs({ k: 'nil' }, 'none');
  }
  const isFloat = ty.m === FLOAT;
  const num = (v: Val): Expr => {
    if (!isFloat) return l.intOf(v);
    return v.ty.m & FLOAT ? l.floatOf(v) : un('f64.convert_i64_s', l.intOf(v), 'f64');
  };
  const xs = vals.map(num);
  const a = xs[0]!, b = xs[1]!;
  const T = isFloat ? 'f64' : 'i64';
  const out = (e: Expr): Val => (isFloat ? { rep: 'float', e, ty } : { rep: 'int', e, ty });
  if (op === 'math.min' || op === 'math.max') {
    let cur = l.keep(out(a)) as { e: Expr };
    for (const x of xs.slice(1)) {
      const nx = out(x);
      const less = op === 'math.min' ? numLess(l, nx, cur as Val, false) : numLess(l, cur as Val, nx, false);
      cur = l.keep(out(cond(less, x, cur.e, T))) as { e: Expr };
    }
    return out(cur.e);
  }
  if (op === 'math.abs') return out(isFloat ? un('f64.abs', a, 'f64') : cond(bin('i64.lt_s', a, i64(0n)), bin('i64.sub', i64(0n), a), a, 'i64'));
  if (op === 'neg') return out(isFloat ? un('f64.neg', a, 'f64') : bin('i64.sub', i64(0n), a));
  if (op === 'bnot') return out(bin('i64.xor', a, i64(-1n)));
  if (ARITH[op]) return out(bin(`${T}.${ARITH[op]}`, a, b));
  switch (op) {
    case '/': return out(bin('f64.div', a, b));
    case '^': {
      const ex = vals[1]!.ty.c;
      const n = ex && (ex.k === 'int' || ex.k === 'float') ? Number(ex.v) : NaN;
      if (n === 0) return out(f64(1));
      if (n === 1) return out(a);
      return out(bin('f64.mul', a, a));
    }
    case '&': return out(bin('i64.and', a, b));
    case '|': return out(bin('i64.or', a, b));
    case '~': return out(bin('i64.xor', a, b));
    case '<<': return out(shiftLeft(a, b));
    case '>>': return out(shiftLeft(a, bin('i64.sub', i64(0n), b)));
    case '//':
      if (isFloat) return out(un('f64.floor', bin('f64.div', a, b), 'f64'));
      l.guard(bin('i64.eq', b, i64(0n)), l.site(node, "attempt to perform 'n//0'"));
      return out(cond(bin('i64.eq', b, i64(-1n)), bin('i64.sub', i64(0n), a),
        bin('i64.sub', bin('i64.div_s', a, b),
          un('i64.extend_i32_u', and(bin('i64.ne', bin('i64.rem_s', a, b), i64(0n)), bin('i64.lt_s', bin('i64.xor', a, b), i64(0n))), 'i64')), 'i64'));
    case '%': {
      l.guard(bin('i64.eq', b, i64(0n)), l.site(node, "attempt to perform 'n%%0'"));
      const r = l.keep(out(bin('i64.rem_s', a, b))) as { e: Expr };
      return out(cond(and(bin('i64.ne', r.e, i64(0n)), bin('i64.lt_s', bin('i64.xor', r.e, b), i64(0n))), bin('i64.add', r.e, b), r.e, 'i64'));
    }
  }
  l.reason(node, `operator '${op}'`);
  return out(i64(0n));
}

/** Lua's luaV_shiftl: logical, counts of 64 or more give 0, negative counts shift right. */
function shiftLeft(a: Expr, n: Expr): Expr {
  return cond(bin('i64.gt_u', bin('i64.add', n, i64(63n)), i64(126n)), i64(0n),
    cond(bin('i64.ge_s', n, i64(0n)), bin('i64.shl', a, n), bin('i64.shr_u', a, bin('i64.sub', i64(0n), n)), 'i64'), 'i64');
}

void not; void luaTypeName;
