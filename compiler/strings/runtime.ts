// The string runtime: Binaryen-emitted helper functions over packed string
// values (i64 `ptr << 32 | len`, see layout.ts). Allocating helpers return
// OOM_STR when the per-packet arena is full; the caller turns that into a
// runtime error for the packet. Only MVP instructions: copies are byte loops.
import type binaryenT from 'binaryen';
import { CAPS, type StringMemory } from './layout.js';

type B = typeof binaryenT;
type M = binaryenT.Module;

export const ARENA_TOP = 'str_arena_top';

/** helper name → [params, result]; lower uses these names in IR `helper` calls */
export const STRING_HELPERS = {
  str_eq: { params: ['i64', 'i64'], result: 'i32' },
  str_cmp: { params: ['i64', 'i64'], result: 'i32' },
  str_concat: { params: ['i64', 'i64'], result: 'i64' },
  str_sub: { params: ['i64', 'i64', 'i64'], result: 'i64' },
  str_byte: { params: ['i64', 'i64'], result: 'i64' },
  str_upper: { params: ['i64'], result: 'i64' },
  str_lower: { params: ['i64'], result: 'i64' },
  str_rep: { params: ['i64', 'i64'], result: 'i64' },
  str_char: { params: ['i64', 'i64'], result: 'i64' },
  str_from_int: { params: ['i64'], result: 'i64' },
  str_from_float: { params: ['f64'], result: 'i64' },
  str_init: { params: ['i64', 'i64'], result: 'i32' },
  str_cap: { params: ['i64', 'i32'], result: 'i64' },
  str_cap_pos: { params: ['i32'], result: 'i64' },
  str_cap_end: { params: ['i32'], result: 'i32' },
} as const;

export function emitStringRuntime(binaryen: B, m: M, mem: StringMemory): void {
  const { i32: I32, i64: I64, none: NONE } = binaryen;
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: bigint) => (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, v));
  const g32 = (i: number) => m.local.get(i, I32);
  const g64 = (i: number) => m.local.get(i, I64);
  const set = (i: number, v: number) => m.local.set(i, v);
  const ptrOf = (s: number) => m.i32.wrap(m.i64.shr_u(s, c64(32n)));
  const lenOf = (s: number) => m.i32.wrap(s);
  const pack = (p: number, n: number) => m.i64.or(m.i64.shl(m.i64.extend_u(p), c64(32n)), m.i64.extend_u(n));
  const top = () => m.global.get(ARENA_TOP, I32);
  const arenaEnd = mem.arenaBase + mem.arenaBytes;
  const fn = (name: string, params: number[], result: number, vars: number[], body: number[]) =>
    m.addFunction(name, binaryen.createType(params), result, vars, m.block(null, body, result === NONE ? NONE : binaryen.auto));
  let label = 0;
  /** for (i = 0; i < n; i++) body — i and n are i32 locals */
  const loop = (i: number, n: number, body: number[]) => {
    const b = `b${label++}`, l = `l${label++}`;
    return m.block(b, [set(i, c32(0)), m.loop(l, m.block(null, [
      m.br(b, m.i32.ge_u(g32(i), g32(n))), ...body, set(i, m.i32.add(g32(i), c32(1))), m.br(l)]))]);
  };

  m.addGlobal(ARENA_TOP, I32, true, c32(mem.arenaBase));

  // str_alloc(n) -> ptr, or -1 when n bytes do not fit
  fn('str_alloc', [I32], I32, [I32], [
    m.if(m.i32.gt_u(g32(0), m.i32.sub(c32(arenaEnd), top())), m.return(c32(-1))),
    set(1, top()),
    m.global.set(ARENA_TOP, m.i32.add(top(), g32(0))),
    m.return(g32(1)),
  ]);
  const alloc = (n: number) => m.call('str_alloc', [n], I32);
  // str_copy(dst, src, n)
  fn('str_copy', [I32, I32, I32], NONE, [I32], [
    loop(3, 2, [m.i32.store8(0, 1, m.i32.add(g32(0), g32(3)), m.i32.load8_u(0, 1, m.i32.add(g32(1), g32(3))))]),
  ]);
  const copy = (d: number, s: number, n: number) => m.call('str_copy', [d, s, n], NONE);

  // str_eq(a, b) -> 0/1: same length and bytes
  fn('str_eq', [I64, I64], I32, [I32, I32, I32, I32], [
    m.if(m.i64.eq(g64(0), g64(1)), m.return(c32(1))),
    set(2, lenOf(g64(0))),
    m.if(m.i32.ne(g32(2), lenOf(g64(1))), m.return(c32(0))),
    set(4, ptrOf(g64(0))), set(5, ptrOf(g64(1))),
    loop(3, 2, [m.if(m.i32.ne(m.i32.load8_u(0, 1, m.i32.add(g32(4), g32(3))), m.i32.load8_u(0, 1, m.i32.add(g32(5), g32(3)))),
      m.return(c32(0)))]),
    m.return(c32(1)),
  ]);

  // str_cmp(a, b) -> -1/0/1, bytewise (what strcoll does in the C locale)
  fn('str_cmp', [I64, I64], I32, [I32, I32, I32, I32, I32, I32], [
    set(2, lenOf(g64(0))), set(3, lenOf(g64(1))),
    set(4, m.select(m.i32.lt_u(g32(2), g32(3)), g32(2), g32(3))),
    set(6, ptrOf(g64(0))), set(7, ptrOf(g64(1))),
    loop(5, 4, [
      m.if(m.i32.ne(m.i32.load8_u(0, 1, m.i32.add(g32(6), g32(5))), m.i32.load8_u(0, 1, m.i32.add(g32(7), g32(5)))),
        m.return(m.select(m.i32.lt_u(m.i32.load8_u(0, 1, m.i32.add(g32(6), g32(5))),
          m.i32.load8_u(0, 1, m.i32.add(g32(7), g32(5)))), c32(-1), c32(1)))),
    ]),
    m.return(m.i32.sub(m.i32.gt_u(g32(2), g32(3)), m.i32.lt_u(g32(2), g32(3)))),
  ]);

  // str_concat(a, b): extends a in place when a is the newest arena string
  fn('str_concat', [I64, I64], I64, [I32, I32, I32, I32], [
    set(2, lenOf(g64(0))), set(3, lenOf(g64(1))),
    m.if(m.i32.eqz(g32(3)), m.return(g64(0))),
    m.if(m.i32.eqz(g32(2)), m.return(g64(1))),
    set(4, ptrOf(g64(0))),
    m.if(m.i32.and(m.i32.ge_u(g32(4), c32(mem.arenaBase)), m.i32.eq(m.i32.add(g32(4), g32(2)), top())),
      m.block(null, [
        set(5, alloc(g32(3))),
        m.if(m.i32.eq(g32(5), c32(-1)), m.return(c64(-2n))),
        copy(g32(5), ptrOf(g64(1)), g32(3)),
        m.return(pack(g32(4), m.i32.add(g32(2), g32(3)))),
      ])),
    // lengths are below 2^32 each; the sum must not wrap
    m.if(m.i32.lt_u(m.i32.add(g32(2), g32(3)), g32(2)), m.return(c64(-2n))),
    set(5, alloc(m.i32.add(g32(2), g32(3)))),
    m.if(m.i32.eq(g32(5), c32(-1)), m.return(c64(-2n))),
    copy(g32(5), g32(4), g32(2)),
    copy(m.i32.add(g32(5), g32(2)), ptrOf(g64(1)), g32(3)),
    m.return(pack(g32(5), m.i32.add(g32(2), g32(3)))),
  ]);

  // str_sub(s, i, j): Lua 5.4 str_sub index rules; the result shares memory
  fn('str_sub', [I64, I64, I64], I64, [I64], [
    set(3, m.i64.extend_u(lenOf(g64(0)))),
    // start = posrelatI(i, len)
    set(1, m.if(m.i64.gt_s(g64(1), c64(0n)), g64(1), m.if(m.i64.eqz(g64(1)), c64(1n),
      m.if(m.i64.lt_s(g64(1), m.i64.sub(c64(0n), g64(3))), c64(1n), m.i64.add(m.i64.add(g64(3), g64(1)), c64(1n)))))),
    // end = getendpos(j, len)
    set(2, m.if(m.i64.gt_s(g64(2), g64(3)), g64(3), m.if(m.i64.ge_s(g64(2), c64(0n)), g64(2),
      m.if(m.i64.lt_s(g64(2), m.i64.sub(c64(0n), g64(3))), c64(0n), m.i64.add(m.i64.add(g64(3), g64(2)), c64(1n)))))),
    m.if(m.i64.gt_s(g64(1), g64(2)), m.return(m.i64.and(g64(0), c64(-1n << 32n)))),
    m.return(m.i64.or(m.i64.add(m.i64.and(g64(0), c64(-1n << 32n)), m.i64.shl(m.i64.sub(g64(1), c64(1n)), c64(32n))),
      m.i64.add(m.i64.sub(g64(2), g64(1)), c64(1n)))),
  ]);

  // str_byte(s, i): the byte at Lua index i, or -1 (no value)
  fn('str_byte', [I64, I64], I64, [I64], [
    set(2, m.i64.extend_u(lenOf(g64(0)))),
    m.if(m.i64.lt_s(g64(1), c64(0n)), set(1, m.i64.add(m.i64.add(g64(2), g64(1)), c64(1n)))),
    m.if(m.i32.or(m.i64.lt_s(g64(1), c64(1n)), m.i64.gt_s(g64(1), g64(2))), m.return(c64(-1n))),
    m.return(m.i64.load8_u(0, 1, m.i32.add(ptrOf(g64(0)), m.i32.wrap(m.i64.sub(g64(1), c64(1n)))))),
  ]);

  // str_upper / str_lower: ASCII letters only, as in the C locale
  for (const [name, lo, hi] of [['str_upper', 97, 122], ['str_lower', 65, 90]] as const) {
    fn(name, [I64], I64, [I32, I32, I32, I32], [
      set(1, lenOf(g64(0))), set(3, ptrOf(g64(0))),
      set(2, alloc(g32(1))),
      m.if(m.i32.eq(g32(2), c32(-1)), m.return(c64(-2n))),
      // flip bit 5 of the letters in range
      loop(4, 1, [m.i32.store8(0, 1, m.i32.add(g32(2), g32(4)),
        m.i32.xor(m.i32.load8_u(0, 1, m.i32.add(g32(3), g32(4))),
          m.i32.shl(m.i32.le_u(m.i32.sub(m.i32.load8_u(0, 1, m.i32.add(g32(3), g32(4))), c32(lo)), c32(hi - lo)), c32(5))))]),
      m.return(pack(g32(2), g32(1))),
    ]);
  }

  // str_rep(s, n): n copies (n <= 0: empty)
  fn('str_rep', [I64, I64], I64, [I32, I32, I32, I32], [
    set(2, lenOf(g64(0))),
    m.if(m.i32.or(m.i64.le_s(g64(1), c64(0n)), m.i32.eqz(g32(2))), m.return(m.i64.and(g64(0), c64(-1n << 32n)))),
    m.if(m.i64.gt_u(m.i64.mul(g64(1), m.i64.extend_u(g32(2))), c64(BigInt(mem.arenaBytes))), m.return(c64(-2n))),
    m.if(m.i64.gt_u(g64(1), c64(BigInt(mem.arenaBytes))), m.return(c64(-2n))),
    set(3, m.i32.wrap(g64(1))),
    set(4, alloc(m.i32.mul(g32(2), g32(3)))),
    m.if(m.i32.eq(g32(4), c32(-1)), m.return(c64(-2n))),
    loop(5, 3, [copy(m.i32.add(g32(4), m.i32.mul(g32(5), g32(2))), ptrOf(g64(0)), g32(2))]),
    m.return(pack(g32(4), m.i32.mul(g32(2), g32(3)))),
  ]);

  // str_char(s, b): appends byte b (0..255, checked by the caller) to s;
  // string.char(a, b, c) is str_char(str_char(str_char(empty, a), b), c)
  fn('str_char', [I64, I64], I64, [I32], [
    set(2, alloc(c32(1))),
    m.if(m.i32.eq(g32(2), c32(-1)), m.return(c64(-2n))),
    m.i32.store8(0, 1, g32(2), m.i32.wrap(g64(1))),
    m.if(m.i32.eqz(lenOf(g64(0))), m.return(pack(g32(2), c32(1)))),
    m.if(m.i32.eq(m.i32.add(ptrOf(g64(0)), lenOf(g64(0))), g32(2)), m.return(m.i64.add(g64(0), c64(1n)))),
    // s is elsewhere: fall back to a copy
    m.return(m.call('str_concat', [g64(0), pack(g32(2), c32(1))], I64)),
  ]);

  // str_from_int(v): decimal, as Lua's "%lld"
  fn('str_from_int', [I64], I64, [I32, I32, I64, I32, I32], [
    set(1, alloc(c32(20))),
    m.if(m.i32.eq(g32(1), c32(-1)), m.return(c64(-2n))),
    set(4, m.i64.lt_s(g64(0), c64(0n))),
    // magnitude as unsigned (also right for the minimum integer)
    set(3, m.if(g32(4), m.i64.sub(c64(0n), g64(0)), g64(0))),
    set(2, c32(20)),
    m.loop('digits', m.block(null, [
      set(2, m.i32.sub(g32(2), c32(1))),
      m.i32.store8(0, 1, m.i32.add(g32(1), g32(2)), m.i32.add(c32(48), m.i32.wrap(m.i64.rem_u(g64(3), c64(10n))))),
      set(3, m.i64.div_u(g64(3), c64(10n))),
      m.br('digits', m.i64.ne(g64(3), c64(0n))),
    ])),
    m.if(g32(4), m.block(null, [set(2, m.i32.sub(g32(2), c32(1))), m.i32.store8(0, 1, m.i32.add(g32(1), g32(2)), c32(45))])),
    // move the digits to the front and give back the unused tail
    set(5, m.i32.sub(c32(20), g32(2))),
    copy(g32(1), m.i32.add(g32(1), g32(2)), g32(5)),
    m.global.set(ARENA_TOP, m.i32.add(g32(1), g32(5))),
    m.return(pack(g32(1), g32(5))),
  ]);

  emitFloatFormat(binaryen, m, alloc);

  // str_init(s, init): 0-based start for find/match (posrelatI), len + 1 when past the end
  fn('str_init', [I64, I64], I32, [I64], [
    set(2, m.i64.extend_u(lenOf(g64(0)))),
    set(1, m.if(m.i64.gt_s(g64(1), c64(0n)), g64(1), m.if(m.i64.eqz(g64(1)), c64(1n),
      m.if(m.i64.lt_s(g64(1), m.i64.sub(c64(0n), g64(2))), c64(1n), m.i64.add(m.i64.add(g64(2), g64(1)), c64(1n)))))),
    m.if(m.i64.gt_s(g64(1), m.i64.add(g64(2), c64(1n))), m.return(m.i32.add(m.i32.wrap(g64(2)), c32(1)))),
    m.return(m.i32.wrap(m.i64.sub(g64(1), c64(1n)))),
  ]);

  // str_cap(s, k): capture k (0: whole match) of the last match over s, as a sub-view
  fn('str_cap', [I64, I32], I64, [I32, I32], [
    set(2, m.i32.load(0, 4, m.i32.add(c32(CAPS), m.i32.shl(g32(1), c32(3))))),
    set(3, m.i32.load(4, 4, m.i32.add(c32(CAPS), m.i32.shl(g32(1), c32(3))))),
    m.return(pack(m.i32.add(ptrOf(g64(0)), g32(2)), m.i32.sub(g32(3), g32(2)))),
  ]);
  // str_cap_end(k): 0-based end of capture k
  fn('str_cap_end', [I32], I32, [], [
    m.return(m.i32.load(4, 4, m.i32.add(c32(CAPS), m.i32.shl(g32(0), c32(3))))),
  ]);
  // str_cap_pos(k): 1-based start of capture k (position captures, find's start)
  fn('str_cap_pos', [I32], I64, [], [
    m.return(m.i64.add(m.i64.extend_u(m.i32.load(0, 4, m.i32.add(c32(CAPS), m.i32.shl(g32(0), c32(3))))), c64(1n))),
  ]);
}

/**
 * str_from_float(v): Lua's tostring of a float, "%.14g" plus ".0" when the
 * result looks like an integer; "inf", "-inf", "nan", "-nan" as glibc prints
 * them. The 14 digits are rounded exactly (half to even on the binary
 * value): the scaling by 10^k (exact for k <= 22) keeps its rounding error,
 * found with Dekker's two-product, to settle ties. Outside 1e-9..1e36 the
 * value is first scaled by inexact powers of 10^22.
 */
function emitFloatFormat(binaryen: B, m: M, alloc: (n: number) => number): void {
  const { i32: I32, i64: I64, f64: F64 } = binaryen;
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: bigint) => (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, v));
  const cf = (v: number) => m.f64.const(v);
  const g32 = (i: number) => m.local.get(i, I32);
  const g64 = (i: number) => m.local.get(i, I64);
  const gf = (i: number) => m.local.get(i, F64);
  const set = (i: number, v: number) => m.local.set(i, v);
  const fn = (name: string, params: number[], result: number, vars: number[], body: number[]) =>
    m.addFunction(name, binaryen.createType(params), result, vars, m.block(null, body, binaryen.auto));

  // error of the product p = fl(a * b): a * b - p exactly (Dekker; no FMA in the MVP)
  const split = (src: number, hi: number, lo: number, t: number) => [
    set(t, m.f64.mul(gf(src), cf(134217729))),
    set(hi, m.f64.sub(gf(t), m.f64.sub(gf(t), gf(src)))),
    set(lo, m.f64.sub(gf(src), gf(hi))),
  ];
  fn('str_f_prod_err', [F64, F64, F64], F64, [F64, F64, F64, F64, F64], [
    ...split(0, 3, 4, 7), ...split(1, 5, 6, 7),
    m.return(m.f64.add(m.f64.add(m.f64.add(m.f64.sub(m.f64.mul(gf(3), gf(5)), gf(2)), m.f64.mul(gf(3), gf(6))),
      m.f64.mul(gf(4), gf(5))), m.f64.mul(gf(4), gf(6)))),
  ]);
  // 10^k as a double-double: returns the high part, the low part in global str_f_lo
  // (exact for k <= 22; relative error near 1e-30 above)
  m.addGlobal('str_f_lo', F64, true, cf(0));
  fn('str_f_pow10', [I32], F64, [F64, F64, F64, F64, F64], [
    set(1, cf(1)), set(2, cf(0)),
    m.block('done', [m.loop('more', m.block(null, [
      m.br('done', m.i32.le_s(g32(0), c32(0))),
      set(3, m.f64.mul(gf(1), cf(10))),
      set(4, m.f64.add(m.call('str_f_prod_err', [gf(1), cf(10), gf(3)], F64), m.f64.mul(gf(2), cf(10)))),
      set(5, m.f64.add(gf(3), gf(4))),
      set(2, m.f64.sub(gf(4), m.f64.sub(gf(5), gf(3)))),
      set(1, gf(5)),
      set(0, m.i32.sub(g32(0), c32(1))), m.br('more'),
    ]))]),
    m.global.set('str_f_lo', gf(2)),
    m.return(gf(1)),
  ]);
  // str_f_digits(x, E): x / 10^(E - 13) rounded to an integer, half to even on the exact value
  // locals: 0 x, 1 E, 2 k, 3 H, 4 p, 5 e (p + e is the scaled value), 6 r, 7 d, 8 t, 9 up, 10 down
  fn('str_f_digits', [F64, I32], I64, [I32, F64, F64, F64, F64, F64, F64, F64, F64], [
    set(2, m.i32.sub(c32(13), g32(1))),
    // below 1e-295 10^k would overflow: scale first (inexact, last digit may differ)
    m.block('big', [m.loop('scale', m.block(null, [
      m.br('big', m.i32.le_s(g32(2), c32(300))),
      set(0, m.f64.mul(gf(0), cf(1e22))), set(2, m.i32.sub(g32(2), c32(22))), m.br('scale')]))]),
    m.if(m.i32.ge_s(g32(2), c32(0)), m.block(null, [
      set(3, m.call('str_f_pow10', [g32(2)], F64)),
      set(4, m.f64.mul(gf(0), gf(3))),
      set(5, m.f64.add(m.call('str_f_prod_err', [gf(0), gf(3), gf(4)], F64), m.f64.mul(gf(0), m.global.get('str_f_lo', F64)))),
    ]), m.block(null, [
      set(3, m.call('str_f_pow10', [m.i32.sub(c32(0), g32(2))], F64)),
      set(4, m.f64.div(gf(0), gf(3))),
      // x - q * (H + L), exactly enough: (x - fl(q * H)) is exact, then the product's error and q * L
      set(8, m.f64.mul(gf(4), gf(3))),
      set(5, m.f64.div(m.f64.sub(m.f64.sub(m.f64.sub(gf(0), gf(8)), m.call('str_f_prod_err', [gf(4), gf(3), gf(8)], F64)),
        m.f64.mul(gf(4), m.global.get('str_f_lo', F64))), gf(3))),
    ])),
    set(6, m.f64.nearest(gf(4))),
    set(7, m.f64.sub(gf(4), gf(6))),
    set(9, m.f64.add(m.f64.sub(gf(7), cf(0.5)), gf(5))),
    set(10, m.f64.add(m.f64.add(gf(7), cf(0.5)), gf(5))),
    // odd r: a tie goes to the even neighbour
    set(1, m.f64.ne(m.f64.floor(m.f64.mul(gf(6), cf(0.5))), m.f64.mul(gf(6), cf(0.5)))),
    m.if(m.i32.or(m.f64.gt(gf(9), cf(0)), m.i32.and(m.f64.eq(gf(9), cf(0)), g32(1))), set(6, m.f64.add(gf(6), cf(1))),
      m.if(m.i32.or(m.f64.lt(gf(10), cf(0)), m.i32.and(m.f64.eq(gf(10), cf(0)), g32(1))), set(6, m.f64.sub(gf(6), cf(1))))),
    m.return(m.i64.trunc_s.f64(gf(6))),
  ]);

  // locals: 0 v, 1 out, 2 pos, 3 x, 4 E, 5 D, 6 nd, 7 i, 8 neg, 9 digits base
  const put = (c: number) => m.block(null, [m.i32.store8(0, 1, g32(2), c), set(2, m.i32.add(g32(2), c32(1)))]);
  const putStr = (t: string) => m.block(null, [...t].map((ch) => put(c32(ch.charCodeAt(0)))));
  const digit = (i: number) => m.i32.load8_u(0, 1, m.i32.add(g32(9), i));
  let uniq = 0;
  /** emit digits [from, to) */
  const putDigits = (from: number, to: number) => {
    const dd = `dd${uniq}`, dl = `dl${uniq++}`;
    return m.block(null, [
      set(7, from),
      m.block(dd, [m.loop(dl, m.block(null, [
        m.br(dd, m.i32.ge_s(g32(7), to)), put(digit(g32(7))), set(7, m.i32.add(g32(7), c32(1))), m.br(dl)]))]),
    ]);
  };
  const finish = () => m.block(null, [
    m.global.set(ARENA_TOP, g32(2)),
    m.return(m.i64.or(m.i64.shl(m.i64.extend_u(g32(1)), c64(32n)), m.i64.extend_u(m.i32.sub(g32(2), g32(1))))),
  ]);
  fn('str_from_float', [F64], I64, [I32, I32, F64, I32, I64, I32, I32, I32, I32], [
    set(1, alloc(c32(48))),
    m.if(m.i32.eq(g32(1), c32(-1)), m.return(c64(-2n))),
    set(2, g32(1)), set(9, m.i32.add(g32(1), c32(24))),
    set(8, m.i32.wrap(m.i64.shr_u(m.i64.reinterpret(gf(0)), c64(63n)))),
    set(3, m.f64.abs(gf(0))),
    m.if(g32(8), put(c32(45))),
    m.if(m.f64.ne(gf(3), gf(3)), m.block(null, [putStr('nan'), finish()])),
    m.if(m.f64.eq(gf(3), cf(Infinity)), m.block(null, [putStr('inf'), finish()])),
    m.if(m.f64.eq(gf(3), cf(0)), m.block(null, [putStr('0.0'), finish()])),
    // floor(log10 x) is E or E + 1
    set(4, m.i32.trunc_s.f64(m.f64.floor(m.f64.mul(m.f64.convert_s.i32(m.i32.sub(
      m.i32.wrap(m.i64.and(m.i64.shr_u(m.i64.reinterpret(gf(3)), c64(52n)), c64(0x7ffn))), c32(1023))), cf(0.30102999566398120))))),
    set(5, m.call('str_f_digits', [gf(3), g32(4)], I64)),
    m.if(m.i64.ge_s(g64(5), c64(100000000000000n)), m.block(null, [
      set(4, m.i32.add(g32(4), c32(1))), set(5, m.call('str_f_digits', [gf(3), g32(4)], I64))])),
    m.if(m.i64.ge_s(g64(5), c64(100000000000000n)), m.block(null, [
      set(4, m.i32.add(g32(4), c32(1))), set(5, c64(10000000000000n))])),
    // subnormals start below the estimate
    m.block('lowd', [m.loop('lowl', m.block(null, [
      m.br('lowd', m.i64.ge_s(g64(5), c64(10000000000000n))),
      set(4, m.i32.sub(g32(4), c32(1))), set(5, m.call('str_f_digits', [gf(3), g32(4)], I64)), m.br('lowl')]))]),
    // the 14 digits, then how many remain without trailing zeros
    set(7, c32(14)),
    m.block('wd', [m.loop('wl', m.block(null, [
      m.br('wd', m.i32.eqz(g32(7))),
      set(7, m.i32.sub(g32(7), c32(1))),
      m.i32.store8(0, 1, m.i32.add(g32(9), g32(7)), m.i32.add(c32(48), m.i32.wrap(m.i64.rem_u(g64(5), c64(10n))))),
      set(5, m.i64.div_u(g64(5), c64(10n))), m.br('wl')]))]),
    set(6, c32(14)),
    m.block('td', [m.loop('tl', m.block(null, [
      m.br('td', m.i32.le_s(g32(6), c32(1))),
      m.br('td', m.i32.ne(digit(m.i32.sub(g32(6), c32(1))), c32(48))),
      set(6, m.i32.sub(g32(6), c32(1))), m.br('tl')]))]),
    m.if(m.i32.or(m.i32.lt_s(g32(4), c32(-4)), m.i32.ge_s(g32(4), c32(14))), m.block(null, [
      put(digit(c32(0))),
      m.if(m.i32.gt_s(g32(6), c32(1)), m.block(null, [put(c32(46)), putDigits(c32(1), g32(6))])),
      put(c32(101)),
      put(m.select(m.i32.lt_s(g32(4), c32(0)), c32(45), c32(43))),
      set(4, m.select(m.i32.lt_s(g32(4), c32(0)), m.i32.sub(c32(0), g32(4)), g32(4))),
      m.if(m.i32.ge_s(g32(4), c32(100)), put(m.i32.add(c32(48), m.i32.div_s(g32(4), c32(100))))),
      put(m.i32.add(c32(48), m.i32.rem_s(m.i32.div_s(g32(4), c32(10)), c32(10)))),
      put(m.i32.add(c32(48), m.i32.rem_s(g32(4), c32(10)))),
      finish(),
    ])),
    m.if(m.i32.ge_s(g32(4), c32(0)), m.block(null, [
      putDigits(c32(0), m.i32.add(g32(4), c32(1))),
      m.if(m.i32.gt_s(g32(6), m.i32.add(g32(4), c32(1))),
        m.block(null, [put(c32(46)), putDigits(m.i32.add(g32(4), c32(1)), g32(6))]),
        putStr('.0')),
      finish(),
    ])),
    putStr('0.'),
    set(7, c32(-1)),
    m.block('zd', [m.loop('zl', m.block(null, [
      m.br('zd', m.i32.le_s(g32(7), g32(4))), put(c32(48)), set(7, m.i32.sub(g32(7), c32(1))), m.br('zl')]))]),
    putDigits(c32(0), g32(6)),
    finish(),
  ]);
}

/** Statements that reset the arena (before each packet and before init). */
export function arenaReset(m: M, mem: StringMemory): number {
  return m.global.set(ARENA_TOP, m.i32.const(mem.arenaBase));
}
