// The mutable-table runtime: Binaryen-emitted helpers over open-addressing
// hash tables (linear probing, load factor <= 1/2, backward-shift deletion so
// no tombstones pile up) in a region below heap_base that the module owns
// (tables/layout.ts). Keys and values are (tag, payload) pairs as in a `dyn`
// value (types.ts TAG). A string key or value is copied into the table on
// store: inline in its slot up to 16 bytes, else into the region (never
// reclaimed); a string value read is copied out to the per-packet arena.
// Growth allocates a doubled slot array from the region; running out of the
// region makes tbl_set return 1 ("not enough memory" for that packet).
import type binaryenT from 'binaryen';
import { SLOT, INLINE, type TableMemory } from './layout.js';

type B = typeof binaryenT;
type M = binaryenT.Module;

export const TBL_RTAG = 'tbl_rtag';
/** tbl_rtag after a read whose string value found no room in the arena */
export const OOM_TAG = 255;
const TOP = 'tbl_top';
const TAG_FLOAT = 4, TAG_INT = 3, TAG_STR = 6;

export function emitTableRuntime(binaryen: B, m: M, mem: TableMemory): void {
  const { i32: I32, i64: I64, f64: F64, none: NONE } = binaryen;
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: bigint) => (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, v));
  const g32 = (i: number) => m.local.get(i, I32);
  const g64 = (i: number) => m.local.get(i, I64);
  const set = (i: number, v: number) => m.local.set(i, v);
  const fn = (name: string, params: number[], result: number, vars: number[], body: number[]) =>
    m.addFunction(name, binaryen.createType(params), result, vars, m.block(null, body, result === NONE ? NONE : binaryen.auto));
  const end = mem.base + mem.bytes;
  let label = 0;
  const lbl = () => `t${label++}`;
  const ld32 = (off: number, p: number) => m.i32.load(off, 4, p);
  const ld64 = (off: number, p: number) => m.i64.load(off, 8, p);
  const st32 = (off: number, p: number, v: number) => m.i32.store(off, 4, p, v);
  const st64 = (off: number, p: number, v: number) => m.i64.store(off, 8, p, v);

  m.addGlobal(TBL_RTAG, I32, true, c32(0));
  m.addGlobal(TOP, I32, true, c32(mem.heapStart));

  // tbl_reset(): empties every table (headers: slots, cap, count, pad) — init() calls it
  {
    const I = 0;
    const b = lbl(), l = lbl();
    fn('tbl_reset', [], NONE, [I32], [
      set(I, c32(mem.base)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), c32(mem.heapStart))),
        st64(0, g32(I), c64(0n)),
        set(I, m.i32.add(g32(I), c32(8))),
        m.br(l),
      ]))]),
      m.global.set(TOP, c32(mem.heapStart)),
    ]);
  }

  // tbl_alloc(n) -> zeroed 8-aligned block of n bytes (n a multiple of 8), or 0
  {
    const [N, P, I] = [0, 1, 2];
    const b = lbl(), l = lbl();
    fn('tbl_alloc', [I32], I32, [I32, I32], [
      set(P, m.i32.and(m.i32.add(m.global.get(TOP, I32), c32(7)), c32(-8))),
      m.if(m.i32.gt_u(g32(N), m.i32.sub(c32(end), g32(P))), m.return(c32(0))),
      m.global.set(TOP, m.i32.add(g32(P), g32(N))),
      set(I, c32(0)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), g32(N))),
        st64(0, m.i32.add(g32(P), g32(I)), c64(0n)),
        set(I, m.i32.add(g32(I), c32(8))),
        m.br(l),
      ]))]),
      m.return(g32(P)),
    ]);
  }

  // tbl_hash(tag, val) -> i32; strings: FNV-1a over their bytes (val is ptr << 32 | len)
  {
    const [T, V, H, P, N, X] = [0, 1, 2, 3, 4, 5];
    const b = lbl(), l = lbl();
    fn('tbl_hash', [I32, I64], I32, [I32, I32, I32, I64], [
      m.if(m.i32.eq(g32(T), c32(TAG_STR)), m.block(null, [
        set(H, c32(0x811c9dc5)),
        set(P, m.i32.wrap(m.i64.shr_u(g64(V), c64(32n)))),
        set(N, m.i32.add(g32(P), m.i32.wrap(g64(V)))),
        m.block(b, [m.loop(l, m.block(null, [
          m.br(b, m.i32.ge_u(g32(P), g32(N))),
          set(H, m.i32.mul(m.i32.xor(g32(H), m.i32.load8_u(0, 1, g32(P))), c32(0x01000193))),
          set(P, m.i32.add(g32(P), c32(1))),
          m.br(l),
        ]))]),
        m.return(g32(H)),
      ])),
      set(X, m.i64.mul(m.i64.xor(g64(V), m.i64.extend_u(g32(T))), c64(0x9E3779B97F4A7C15n))),
      m.return(m.i32.xor(m.i32.wrap(m.i64.shr_u(g64(X), c64(32n))), m.i32.wrap(g64(X)))),
    ]);
  }

  // tbl_keq(slot, tag, val, hash) -> i32: the slot holds this (normalized) key
  {
    const [S, T, V, H, N, A, Bp, I] = [0, 1, 2, 3, 4, 5, 6, 7];
    const b = lbl(), l = lbl();
    fn('tbl_keq', [I32, I32, I64, I32], I32, [I32, I32, I32, I32], [
      m.if(m.i32.ne(ld32(0, g32(S)), g32(T)), m.return(c32(0))),
      m.if(m.i32.ne(ld32(24, g32(S)), g32(H)), m.return(c32(0))),
      m.if(m.i32.ne(g32(T), c32(TAG_STR)), m.return(m.i64.eq(ld64(8, g32(S)), g64(V)))),
      set(N, m.i32.wrap(g64(V))),
      m.if(m.i32.ne(ld32(8, g32(S)), g32(N)), m.return(c32(0))),
      set(A, ld32(12, g32(S))),
      m.if(m.i32.eqz(g32(A)), set(A, m.i32.add(g32(S), c32(32)))),
      set(Bp, m.i32.wrap(m.i64.shr_u(g64(V), c64(32n)))),
      set(I, c32(0)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), g32(N))),
        m.if(m.i32.ne(m.i32.load8_u(0, 1, m.i32.add(g32(A), g32(I))), m.i32.load8_u(0, 1, m.i32.add(g32(Bp), g32(I)))), m.return(c32(0))),
        set(I, m.i32.add(g32(I), c32(1))),
        m.br(l),
      ]))]),
      m.return(c32(1)),
    ]);
  }

  // Lua's key normalization: a float with an integral value in range is that integer
  const normalize = (T: number, V: number, F: number) => m.if(m.i32.eq(g32(T), c32(TAG_FLOAT)), m.block(null, [
    m.local.set(F, m.f64.reinterpret(g64(V))),
    m.if(m.i32.and(m.f64.eq(m.f64.trunc(m.local.get(F, F64)), m.local.get(F, F64)),
      m.i32.and(m.f64.ge(m.local.get(F, F64), m.f64.const(-9223372036854775808)), m.f64.lt(m.local.get(F, F64), m.f64.const(9223372036854775808)))),
    m.block(null, [set(T, c32(TAG_INT)), set(V, m.i64.trunc_s.f64(m.local.get(F, F64)))])),
  ]));
  /** header address of table number `i` (lower passes table numbers, not addresses) */
  const hdrOf = (i: number) => m.i32.add(c32(mem.base), m.i32.shl(g32(i), c32(4)));
  const slotAt = (base: number, i: number) => m.i32.add(base, m.i32.mul(i, c32(SLOT)));

  // tbl_find(hdr, tag, val) -> slot address or 0; the key must be normalized
  {
    const [Hd, T, V, H, I, S, Mk] = [0, 1, 2, 3, 4, 5, 6];
    const l = lbl();
    fn('tbl_find', [I32, I32, I64], I32, [I32, I32, I32, I32], [
      m.if(m.i32.eqz(g32(T)), m.return(c32(0))),
      m.if(m.i32.eqz(ld32(4, g32(Hd))), m.return(c32(0))),
      set(H, m.call('tbl_hash', [g32(T), g64(V)], I32)),
      set(Mk, m.i32.sub(ld32(4, g32(Hd)), c32(1))),
      set(I, m.i32.and(g32(H), g32(Mk))),
      m.loop(l, m.block(null, [
        set(S, slotAt(ld32(0, g32(Hd)), g32(I))),
        m.if(m.i32.eqz(ld32(0, g32(S))), m.return(c32(0))),
        m.if(m.call('tbl_keq', [g32(S), g32(T), g64(V), g32(H)], I32), m.return(g32(S))),
        set(I, m.i32.and(m.i32.add(g32(I), c32(1)), g32(Mk))),
        m.br(l),
      ])),
      m.unreachable(),
    ]);
  }

  // tbl_value(slot) -> value payload; a string value is copied to the per-packet
  // arena (the slot may move or change before the packet is done with it); no room: tag OOM_TAG
  {
    const [S, N, P] = [0, 1, 2];
    fn('tbl_value', [I32], I64, [I32, I32], mem.strings ? [
      m.if(m.i32.eq(ld32(4, g32(S)), c32(TAG_STR)), m.block(null, [
        set(N, ld32(16, g32(S))),
        set(P, m.call('str_alloc', [g32(N)], I32)),
        m.if(m.i32.eq(g32(P), c32(-1)), m.block(null, [m.global.set(TBL_RTAG, c32(OOM_TAG)), m.return(c64(0n))])),
        m.call('tbl_copy', [g32(P), m.select(ld32(20, g32(S)), ld32(20, g32(S)), m.i32.add(g32(S), c32(32 + INLINE))), g32(N)], NONE),
        m.return(m.i64.or(m.i64.shl(m.i64.extend_u(g32(P)), c64(32n)), m.i64.extend_u(g32(N)))),
      ])),
      m.return(ld64(16, g32(S))),
    ] : [m.return(ld64(16, g32(S)))]);
  }

  // tbl_get(table, tag, val) -> value payload; its tag in tbl_rtag (0: absent)
  {
    const [Hd, T, V, F, S] = [0, 1, 2, 3, 4];
    fn('tbl_get', [I32, I32, I64], I64, [F64, I32], [
      set(Hd, hdrOf(Hd)),
      normalize(T, V, F),
      set(S, m.call('tbl_find', [g32(Hd), g32(T), g64(V)], I32)),
      m.if(m.i32.eqz(g32(S)), m.block(null, [m.global.set(TBL_RTAG, c32(0)), m.return(c64(0n))])),
      m.global.set(TBL_RTAG, ld32(4, g32(S))),
      m.return(m.call('tbl_value', [g32(S)], I64)),
    ]);
  }

  // tbl_place(hdr, hash) -> the first empty slot of the probe sequence (there is one: load <= 1/2)
  {
    const [Hd, H, I, S, Mk] = [0, 1, 2, 3, 4];
    const l = lbl();
    fn('tbl_place', [I32, I32], I32, [I32, I32, I32], [
      set(Mk, m.i32.sub(ld32(4, g32(Hd)), c32(1))),
      set(I, m.i32.and(g32(H), g32(Mk))),
      m.loop(l, m.block(null, [
        set(S, slotAt(ld32(0, g32(Hd)), g32(I))),
        m.if(m.i32.eqz(ld32(0, g32(S))), m.return(g32(S))),
        set(I, m.i32.and(m.i32.add(g32(I), c32(1)), g32(Mk))),
        m.br(l),
      ])),
      m.unreachable(),
    ]);
  }

  const copySlot = (dst: number, src: number) => m.block(null, Array.from({ length: SLOT / 8 }, (_, k) =>
    st64(k * 8, m.local.get(dst, I32), ld64(k * 8, m.local.get(src, I32)))));

  // tbl_grow(hdr) -> 1, or 0 when the region is full; doubles the slot array (first: 8 slots)
  {
    const [Hd, Old, OldCap, New, I, S, D] = [0, 1, 2, 3, 4, 5, 6];
    const b = lbl(), l = lbl();
    fn('tbl_grow', [I32], I32, [I32, I32, I32, I32, I32, I32], [
      set(Old, ld32(0, g32(Hd))), set(OldCap, ld32(4, g32(Hd))),
      // a capacity past 2^26 slots would overflow the size computation; no region is that big
      m.if(m.i32.ge_u(g32(OldCap), c32(1 << 26)), m.return(c32(0))),
      set(New, m.call('tbl_alloc', [m.i32.mul(m.select(g32(OldCap), m.i32.shl(g32(OldCap), c32(1)), c32(8)), c32(SLOT))], I32)),
      m.if(m.i32.eqz(g32(New)), m.return(c32(0))),
      st32(0, g32(Hd), g32(New)),
      st32(4, g32(Hd), m.select(g32(OldCap), m.i32.shl(g32(OldCap), c32(1)), c32(8))),
      set(I, c32(0)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), g32(OldCap))),
        set(S, slotAt(g32(Old), g32(I))),
        m.if(ld32(0, g32(S)), m.block(null, [
          set(D, m.call('tbl_place', [g32(Hd), ld32(24, g32(S))], I32)),
          copySlot(D, S),
        ])),
        set(I, m.i32.add(g32(I), c32(1))),
        m.br(l),
      ]))]),
      m.return(c32(1)),
    ]);
  }

  // tbl_delete(hdr, slot): backward-shift deletion keeps every probe chain unbroken
  {
    const [Hd, S, Mk, I, J, Sj, Home, Base] = [0, 1, 2, 3, 4, 5, 6, 7];
    const b = lbl(), l = lbl();
    fn('tbl_delete', [I32, I32], NONE, [I32, I32, I32, I32, I32, I32], [
      set(Base, ld32(0, g32(Hd))),
      set(Mk, m.i32.sub(ld32(4, g32(Hd)), c32(1))),
      set(I, m.i32.div_u(m.i32.sub(g32(S), g32(Base)), c32(SLOT))),
      set(J, g32(I)),
      m.block(b, [m.loop(l, m.block(null, [
        set(J, m.i32.and(m.i32.add(g32(J), c32(1)), g32(Mk))),
        set(Sj, slotAt(g32(Base), g32(J))),
        m.br(b, m.i32.eqz(ld32(0, g32(Sj)))),
        set(Home, m.i32.and(ld32(24, g32(Sj)), g32(Mk))),
        // j stays unless its home lies cyclically outside (i, j]: then it fills the hole at i
        m.if(m.i32.ge_u(m.i32.and(m.i32.sub(g32(J), g32(Home)), g32(Mk)), m.i32.and(m.i32.sub(g32(J), g32(I)), g32(Mk))),
          m.block(null, [set(S, slotAt(g32(Base), g32(I))), copySlot(S, Sj), set(I, g32(J))])),
        m.br(l),
      ]))]),
      st32(0, slotAt(g32(Base), g32(I)), c32(0)),
      st32(8, g32(Hd), m.i32.sub(ld32(8, g32(Hd)), c32(1))),
    ]);
  }

  // tbl_set(table, ktag, kval, vtag, vval) -> 0, or 1 when the region is full.
  // The key is not nil or NaN (lower checks). vtag 0 (nil) removes the key.
  {
    const [Hd, T, V, VT, VV, F, S, H, N, X] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    fn('tbl_set', [I32, I32, I64, I32, I64], I32, [F64, I32, I32, I32, I32], [
      set(Hd, hdrOf(Hd)),
      normalize(T, V, F),
      set(S, m.call('tbl_find', [g32(Hd), g32(T), g64(V)], I32)),
      m.if(m.i32.eqz(g32(VT)), m.block(null, [
        m.if(g32(S), m.call('tbl_delete', [g32(Hd), g32(S)], NONE)),
        m.return(c32(0)),
      ])),
      m.if(g32(S), m.return(m.i32.eqz(m.call('tbl_putv', [g32(S), g32(VT), g64(VV)], I32)))),
      // a new key: keep the load at most 1/2
      m.if(m.i32.gt_u(m.i32.shl(m.i32.add(ld32(8, g32(Hd)), c32(1)), c32(1)), ld32(4, g32(Hd))),
        m.if(m.i32.eqz(m.call('tbl_grow', [g32(Hd)], I32)), m.return(c32(1)))),
      set(X, c32(0)),
      m.if(m.i32.eq(g32(T), c32(TAG_STR)), m.block(null, [
        set(N, m.i32.wrap(g64(V))),
        m.if(m.i32.gt_u(g32(N), c32(INLINE)), m.block(null, [
          set(X, m.call('tbl_alloc', [m.i32.and(m.i32.add(g32(N), c32(7)), c32(-8))], I32)),
          m.if(m.i32.eqz(g32(X)), m.return(c32(1))),
          m.call('tbl_copy', [g32(X), m.i32.wrap(m.i64.shr_u(g64(V), c64(32n))), g32(N)], NONE),
        ])),
      ])),
      set(H, m.call('tbl_hash', [g32(T), g64(V)], I32)),
      set(S, m.call('tbl_place', [g32(Hd), g32(H)], I32)),
      st32(0, g32(S), g32(T)),
      st32(24, g32(S), g32(H)),
      m.if(m.i32.eq(g32(T), c32(TAG_STR)), m.block(null, [
        st32(8, g32(S), g32(N)),
        st32(12, g32(S), g32(X)),
        m.if(m.i32.eqz(g32(X)), m.call('tbl_copy', [m.i32.add(g32(S), c32(32)), m.i32.wrap(m.i64.shr_u(g64(V), c64(32n))), g32(N)], NONE)),
      ]), st64(8, g32(S), g64(V))),
      st32(8, g32(Hd), m.i32.add(ld32(8, g32(Hd)), c32(1))),
      // no room for a long string value: the new key goes again
      m.if(m.i32.eqz(m.call('tbl_putv', [g32(S), g32(VT), g64(VV)], I32)), m.block(null, [
        m.call('tbl_delete', [g32(Hd), g32(S)], NONE), m.return(c32(1))])),
      m.return(c32(0)),
    ]);
  }

  // tbl_putv(slot, vtag, vval) -> 1, or 0 when a long string value finds no room; strings are copied in
  {
    const [S, VT, VV, N, X] = [0, 1, 2, 3, 4];
    fn('tbl_putv', [I32, I32, I64], I32, [I32, I32], [
      m.if(m.i32.eq(g32(VT), c32(TAG_STR)), m.block(null, [
        set(N, m.i32.wrap(g64(VV))),
        set(X, c32(0)),
        m.if(m.i32.gt_u(g32(N), c32(INLINE)), m.block(null, [
          set(X, m.call('tbl_alloc', [m.i32.and(m.i32.add(g32(N), c32(7)), c32(-8))], I32)),
          m.if(m.i32.eqz(g32(X)), m.return(c32(0))),
        ])),
        m.call('tbl_copy', [m.select(g32(X), g32(X), m.i32.add(g32(S), c32(32 + INLINE))), m.i32.wrap(m.i64.shr_u(g64(VV), c64(32n))), g32(N)], NONE),
        st32(16, g32(S), g32(N)), st32(20, g32(S), g32(X)),
      ]), st64(16, g32(S), g64(VV))),
      st32(4, g32(S), g32(VT)),
      m.return(c32(1)),
    ]);
  }

  // tbl_copy(dst, src, n)
  {
    const [D, Sr, N, I] = [0, 1, 2, 3];
    const b = lbl(), l = lbl();
    fn('tbl_copy', [I32, I32, I32], NONE, [I32], [
      set(I, c32(0)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), g32(N))),
        m.i32.store8(0, 1, m.i32.add(g32(D), g32(I)), m.i32.load8_u(0, 1, m.i32.add(g32(Sr), g32(I)))),
        set(I, m.i32.add(g32(I), c32(1))),
        m.br(l),
      ]))]),
    ]);
  }

  const has = (hd: number, k: number) => m.call('tbl_find', [hd, c32(TAG_INT), k], I32);
  // tbl_len(table) -> a border of the table (n with t[n] ~= nil and t[n+1] == nil, or 0);
  // the only one for the sequences check.ts admits. Starts from the last one found.
  {
    const [Hd, J] = [0, 1];
    const d = lbl(), dl = lbl(), u = lbl(), ul = lbl();
    fn('tbl_len', [I32], I64, [I64], [
      set(Hd, hdrOf(Hd)),
      set(J, m.i64.extend_u(ld32(12, g32(Hd)))),
      m.if(m.i32.and(m.i64.ne(g64(J), c64(0n)), m.i32.eqz(has(g32(Hd), g64(J)))),
        m.block(d, [m.loop(dl, m.block(null, [
          set(J, m.i64.sub(g64(J), c64(1n))),
          m.br(d, m.i64.eqz(g64(J))),
          m.br(d, has(g32(Hd), g64(J))),
          m.br(dl),
        ]))]),
        m.block(u, [m.loop(ul, m.block(null, [
          m.br(u, m.i32.eqz(has(g32(Hd), m.i64.add(g64(J), c64(1n))))),
          set(J, m.i64.add(g64(J), c64(1n))),
          m.br(ul),
        ]))])),
      st32(12, g32(Hd), m.i32.wrap(g64(J))),
      m.return(g64(J)),
    ]);
  }

  // tbl_remove(table, pos) -> t[pos] (tag in tbl_rtag), shifting t[pos+1..#t] down (Lua's table.remove)
  {
    const [Tn, Pos, Hd, N, V, R, Si, Sn] = [0, 1, 2, 3, 4, 5, 6, 7];
    const b = lbl(), l = lbl();
    fn('tbl_remove', [I32, I64], I64, [I32, I64, I64, I32, I32, I32], [
      set(Hd, hdrOf(Tn)),
      set(N, m.call('tbl_len', [g32(Tn)], I64)),
      set(V, m.call('tbl_get', [g32(Tn), c32(TAG_INT), g64(Pos)], I64)),
      set(R, m.global.get(TBL_RTAG, I32)),
      m.if(m.i32.eq(g32(R), c32(OOM_TAG)), m.return(c64(0n))),
      set(Si, has(g32(Hd), g64(Pos))),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i64.ge_s(g64(Pos), g64(N))),
        set(Sn, has(g32(Hd), m.i64.add(g64(Pos), c64(1n)))),
        m.br(b, m.i32.or(m.i32.eqz(g32(Si)), m.i32.eqz(g32(Sn)))),
        // the value moves with its inline bytes; a long string's copy is shared, not duplicated
        st32(4, g32(Si), ld32(4, g32(Sn))),
        st64(16, g32(Si), ld64(16, g32(Sn))),
        st64(32 + INLINE, g32(Si), ld64(32 + INLINE, g32(Sn))),
        st64(40 + INLINE, g32(Si), ld64(40 + INLINE, g32(Sn))),
        set(Si, g32(Sn)),
        set(Pos, m.i64.add(g64(Pos), c64(1n))),
        m.br(l),
      ]))]),
      set(Si, has(g32(Hd), g64(Pos))),
      m.if(g32(Si), m.call('tbl_delete', [g32(Hd), g32(Si)], NONE)),
      m.global.set(TBL_RTAG, g32(R)),
      m.return(g64(V)),
    ]);
  }
}
