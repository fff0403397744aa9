// Run-time tables on the heap (heap/layout.ts), as Binaryen-emitted helpers.
// Keys and values are (tag, payload) pairs as in a `dyn` value (types.ts TAG).
// Open addressing with linear probing, load at most 1/2; keys follow Lua's
// rules (a float with an integer value is that integer; strings compare by
// content; tables by identity); lower has already refused nil and NaN keys
// on stores. Strings stored as keys or values are copied into the heap
// unless they are constants (h_keep_str). A table operation that finds no
// room sets h_status to HEAP_OOM; lower turns that into "not enough memory".
//   h_table() -> t | 0             h_get(t, ktag, k) -> v, tag in h_rtag
//   h_set(t, ktag, k, vtag, v)     h_len(t) -> a border
//   h_next(t, i) -> i' (0: done)   h_key(t, i) / h_val(t, i) -> payload, tag in h_rtag
//   h_insert(t, pos, vtag, v)      h_remove(t, pos) -> v (Lua's table.insert / table.remove)
// (the entry points a table library needs: table.concat, sort, unpack, move
// can be built on h_get / h_set / h_len the same way)
import type binaryenT from 'binaryen';
import { HEAP_OOM, HEAP_POS, KIND, SLOT_BYTES, TABLE_BYTES } from './layout.js';
import { OOM_STR } from '../strings/layout.js';
import { TAG } from '../types.js';

type B = typeof binaryenT;
type M = binaryenT.Module;

export const H_RTAG = 'h_rtag';
export const H_STATUS = 'h_status';

export function emitHeapTables(binaryen: B, m: M): void {
  const { i32: I32, i64: I64, f64: F64, none: NONE } = binaryen;
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: bigint) => (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, v));
  const g32 = (i: number) => m.local.get(i, I32);
  const g64 = (i: number) => m.local.get(i, I64);
  const set = (i: number, v: number) => m.local.set(i, v);
  const fn = (name: string, params: number[], result: number, vars: number[], body: number[]) =>
    m.addFunction(name, binaryen.createType(params), result, vars, m.block(null, body, result === NONE ? NONE : binaryen.auto));
  let label = 0;
  const lbl = () => `h${label++}`;
  const ld32 = (off: number, p: number) => m.i32.load(off, 4, p);
  const ld64 = (off: number, p: number) => m.i64.load(off, 8, p);
  const st32 = (off: number, p: number, v: number) => m.i32.store(off, 4, p, v);
  const st64 = (off: number, p: number, v: number) => m.i64.store(off, 8, p, v);
  const slotAt = (t: number, i: number) => m.i32.add(ld32(0, t), m.i32.mul(i, c32(SLOT_BYTES)));
  const status = (v: number) => m.global.set(H_STATUS, c32(v));
  const rtag = (v: number) => m.global.set(H_RTAG, v);

  m.addGlobal(H_RTAG, I32, true, c32(0));
  m.addGlobal(H_STATUS, I32, true, c32(0));

  fn('h_table', [], I32, [], [m.return(m.call('h_alloc', [c32(TABLE_BYTES), c32(KIND.table)], I32))]);

  // h_hash(tag, v) -> i32; strings: FNV-1a over their bytes
  {
    const [T, V, Hh, P, N, X] = [0, 1, 2, 3, 4, 5];
    const b = lbl(), l = lbl();
    fn('h_hash', [I32, I64], I32, [I32, I32, I32, I64], [
      m.if(m.i32.eq(g32(T), c32(TAG.str)), m.block(null, [
        set(Hh, c32(0x811c9dc5)),
        set(P, m.i32.wrap(m.i64.shr_u(g64(V), c64(32n)))),
        set(N, m.i32.add(g32(P), m.i32.wrap(g64(V)))),
        m.block(b, [m.loop(l, m.block(null, [
          m.br(b, m.i32.ge_u(g32(P), g32(N))),
          set(Hh, m.i32.mul(m.i32.xor(g32(Hh), m.i32.load8_u(0, 1, g32(P))), c32(0x01000193))),
          set(P, m.i32.add(g32(P), c32(1))),
          m.br(l),
        ]))]),
        m.return(g32(Hh)),
      ])),
      set(X, m.i64.mul(m.i64.xor(g64(V), m.i64.extend_u(g32(T))), c64(0x9E3779B97F4A7C15n))),
      m.return(m.i32.xor(m.i32.wrap(m.i64.shr_u(g64(X), c64(32n))), m.i32.wrap(g64(X)))),
    ]);
  }

  // h_keq(slot, tag, v, hash) -> i32: the slot holds this (normalized) key
  {
    const [S, T, V, Hh, N, A, Bp, I] = [0, 1, 2, 3, 4, 5, 6, 7];
    const b = lbl(), l = lbl();
    fn('h_keq', [I32, I32, I64, I32], I32, [I32, I32, I32, I32], [
      m.if(m.i32.ne(ld32(0, g32(S)), g32(T)), m.return(c32(0))),
      m.if(m.i32.ne(ld32(24, g32(S)), g32(Hh)), m.return(c32(0))),
      m.if(m.i32.ne(g32(T), c32(TAG.str)), m.return(m.i64.eq(ld64(8, g32(S)), g64(V)))),
      set(N, m.i32.wrap(g64(V))),
      m.if(m.i32.ne(ld32(8, g32(S)), g32(N)), m.return(c32(0))),
      set(A, ld32(12, g32(S))),
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
  const normalize = (T: number, V: number, F: number) => m.if(m.i32.eq(g32(T), c32(TAG.float)), m.block(null, [
    set(F, m.f64.reinterpret(g64(V))),
    m.if(m.i32.and(m.f64.eq(m.f64.trunc(m.local.get(F, F64)), m.local.get(F, F64)),
      m.i32.and(m.f64.ge(m.local.get(F, F64), m.f64.const(-9223372036854775808)), m.f64.lt(m.local.get(F, F64), m.f64.const(9223372036854775808)))),
    m.block(null, [set(T, c32(TAG.int)), set(V, m.i64.trunc_s.f64(m.local.get(F, F64)))])),
  ]));

  // h_find(t, tag, v) -> slot address or 0 (the key normalized)
  {
    const [Tb, T, V, Hh, I, S, Mk] = [0, 1, 2, 3, 4, 5, 6];
    const l = lbl();
    fn('h_find', [I32, I32, I64], I32, [I32, I32, I32, I32], [
      m.if(m.i32.eqz(g32(T)), m.return(c32(0))),
      m.if(m.i32.eqz(ld32(4, g32(Tb))), m.return(c32(0))),
      set(Hh, m.call('h_hash', [g32(T), g64(V)], I32)),
      set(Mk, m.i32.sub(ld32(4, g32(Tb)), c32(1))),
      set(I, m.i32.and(g32(Hh), g32(Mk))),
      m.loop(l, m.block(null, [
        set(S, slotAt(g32(Tb), g32(I))),
        m.if(m.i32.eqz(ld32(0, g32(S))), m.return(c32(0))),
        m.if(m.call('h_keq', [g32(S), g32(T), g64(V), g32(Hh)], I32), m.return(g32(S))),
        set(I, m.i32.and(m.i32.add(g32(I), c32(1)), g32(Mk))),
        m.br(l),
      ])),
      m.unreachable(),
    ]);
  }

  // h_get(t, tag, v) -> value payload; its tag in h_rtag (0: absent)
  {
    const [Tb, T, V, F, S] = [0, 1, 2, 3, 4];
    fn('h_get', [I32, I32, I64], I64, [F64, I32], [
      normalize(T, V, F),
      set(S, m.call('h_find', [g32(Tb), g32(T), g64(V)], I32)),
      m.if(m.i32.eqz(g32(S)), m.block(null, [rtag(c32(0)), m.return(c64(0n))])),
      rtag(ld32(4, g32(S))),
      m.return(ld64(16, g32(S))),
    ]);
  }

  // h_place(slots, mask, hash) -> the first empty slot of the probe sequence (there is one: load <= 1/2)
  {
    const [Sl, Mk, Hh, I, S] = [0, 1, 2, 3, 4];
    const l = lbl();
    fn('h_place', [I32, I32, I32], I32, [I32, I32], [
      set(I, m.i32.and(g32(Hh), g32(Mk))),
      m.loop(l, m.block(null, [
        set(S, m.i32.add(g32(Sl), m.i32.mul(g32(I), c32(SLOT_BYTES)))),
        m.if(m.i32.eqz(ld32(0, g32(S))), m.return(g32(S))),
        set(I, m.i32.and(m.i32.add(g32(I), c32(1)), g32(Mk))),
        m.br(l),
      ])),
      m.unreachable(),
    ]);
  }

  // h_grow(t) -> 1, or 0 when the heap is full: a new slot array of at least 8 slots and twice the live keys, with room
  // for 1/16 of it more before the next growth (so that churn at a steady size rehashes rarely); removed keys dropped
  {
    const [Tb, Live, I, S, Cap, New, D] = [0, 1, 2, 3, 4, 5, 6];
    const b = lbl(), l = lbl(), b2 = lbl(), l2 = lbl(), b3 = lbl(), l3 = lbl();
    const each = (bb: string, ll: string, body: number[]) => m.block(null, [set(I, c32(0)), m.block(bb, [m.loop(ll, m.block(null, [
      m.br(bb, m.i32.ge_u(g32(I), ld32(4, g32(Tb)))),
      set(S, slotAt(g32(Tb), g32(I))),
      ...body,
      set(I, m.i32.add(g32(I), c32(1))),
      m.br(ll),
    ]))])]);
    fn('h_grow', [I32], I32, [I32, I32, I32, I32, I32, I32], [
      set(Live, c32(0)),
      each(b, l, [m.if(ld32(4, g32(S)), set(Live, m.i32.add(g32(Live), c32(1))))]),
      set(Cap, c32(8)),
      m.block(b3, [m.loop(l3, m.block(null, [
        m.br(b3, m.i32.ge_u(g32(Cap), m.i32.add(m.i32.shl(m.i32.add(g32(Live), c32(1)), c32(1)), m.i32.shr_u(g32(Cap), c32(3))))),
        set(Cap, m.i32.shl(g32(Cap), c32(1))),
        m.br(l3),
      ]))]),
      // 2^25 slots (1 GiB) is past any heap: the size computation below stays in range
      m.if(m.i32.gt_u(g32(Cap), c32(1 << 25)), m.return(c32(0))),
      set(New, m.call('h_alloc', [m.i32.mul(g32(Cap), c32(SLOT_BYTES)), c32(KIND.slots)], I32)),
      m.if(m.i32.eqz(g32(New)), m.return(c32(0))),
      each(b2, l2, [m.if(ld32(4, g32(S)), m.block(null, [
        set(D, m.call('h_place', [g32(New), m.i32.sub(g32(Cap), c32(1)), ld32(24, g32(S))], I32)),
        ...[0, 8, 16, 24].map((o) => st64(o, g32(D), ld64(o, g32(S)))),
      ]))]),
      st32(0, g32(Tb), g32(New)), st32(4, g32(Tb), g32(Cap)), st32(8, g32(Tb), g32(Live)),
      m.return(c32(1)),
    ]);
  }

  // h_set(t, ktag, k, vtag, v): t[k] = v (v nil: the key's slot stays, with value tag 0). h_status 0, or HEAP_OOM
  {
    const [Tb, T, V, VT, VV, F, S, Hh] = [0, 1, 2, 3, 4, 5, 6, 7];
    const oom = m.block(null, [status(HEAP_OOM), m.return()]);
    fn('h_set', [I32, I32, I64, I32, I64], NONE, [F64, I32, I32], [
      status(0),
      normalize(T, V, F),
      m.if(m.i32.eq(g32(VT), c32(TAG.str)), m.block(null, [
        set(VV, m.call('h_keep_str', [g64(VV)], I64)),
        m.if(m.i64.eq(g64(VV), c64(OOM_STR)), oom),
      ])),
      set(S, m.call('h_find', [g32(Tb), g32(T), g64(V)], I32)),
      m.if(g32(S), m.block(null, [st32(4, g32(S), g32(VT)), st64(16, g32(S), g64(VV)), m.return()])),
      m.if(m.i32.eqz(g32(VT)), m.return()),
      // a new key: keep the load at most 1/2
      m.if(m.i32.gt_u(m.i32.shl(m.i32.add(ld32(8, g32(Tb)), c32(1)), c32(1)), ld32(4, g32(Tb))),
        m.if(m.i32.eqz(m.call('h_grow', [g32(Tb)], I32)), oom)),
      m.if(m.i32.eq(g32(T), c32(TAG.str)), m.block(null, [
        set(V, m.call('h_keep_str', [g64(V)], I64)),
        m.if(m.i64.eq(g64(V), c64(OOM_STR)), oom),
      ])),
      set(Hh, m.call('h_hash', [g32(T), g64(V)], I32)),
      set(S, m.call('h_place', [ld32(0, g32(Tb)), m.i32.sub(ld32(4, g32(Tb)), c32(1)), g32(Hh)], I32)),
      st32(0, g32(S), g32(T)), st32(4, g32(S), g32(VT)), st64(8, g32(S), g64(V)), st64(16, g32(S), g64(VV)), st32(24, g32(S), g32(Hh)),
      st32(8, g32(Tb), m.i32.add(ld32(8, g32(Tb)), c32(1))),
    ]);
  }

  const has = (t: number, k: number) => m.block(null, [m.drop(m.call('h_get', [t, c32(TAG.int), k], I64)), m.global.get(H_RTAG, I32)], I32);
  // h_len(t) -> a border (n with t[n] ~= nil and t[n+1] == nil, or 0), searched from the last one found
  {
    const [Tb, J] = [0, 1];
    const d = lbl(), dl = lbl(), u = lbl(), ul = lbl();
    fn('h_len', [I32], I64, [I64], [
      set(J, m.i64.extend_u(ld32(12, g32(Tb)))),
      m.if(m.i32.and(m.i64.ne(g64(J), c64(0n)), m.i32.eqz(has(g32(Tb), g64(J)))),
        m.block(d, [m.loop(dl, m.block(null, [
          set(J, m.i64.sub(g64(J), c64(1n))),
          m.br(d, m.i64.eqz(g64(J))),
          m.br(d, has(g32(Tb), g64(J))),
          m.br(dl),
        ]))]),
        m.block(u, [m.loop(ul, m.block(null, [
          m.br(u, m.i32.eqz(has(g32(Tb), m.i64.add(g64(J), c64(1n))))),
          set(J, m.i64.add(g64(J), c64(1n))),
          m.br(ul),
        ]))])),
      st32(12, g32(Tb), m.i32.wrap(g64(J))),
      m.return(g64(J)),
    ]);
  }

  // h_next(t, i) -> 1 + the index of the first slot at or after i that holds a key with a value, or 0
  {
    const [Tb, I, S] = [0, 1, 2];
    const b = lbl(), l = lbl();
    fn('h_next', [I32, I32], I32, [I32], [
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(I), ld32(4, g32(Tb)))),
        set(S, slotAt(g32(Tb), g32(I))),
        m.if(ld32(4, g32(S)), m.return(m.i32.add(g32(I), c32(1)))),
        set(I, m.i32.add(g32(I), c32(1))),
        m.br(l),
      ]))]),
      m.return(c32(0)),
    ]);
  }
  fn('h_key', [I32, I32], I64, [], [rtag(ld32(0, slotAt(m.local.get(0, I32), m.local.get(1, I32)))),
    m.return(ld64(8, slotAt(m.local.get(0, I32), m.local.get(1, I32))))]);
  fn('h_val', [I32, I32], I64, [], [rtag(ld32(4, slotAt(m.local.get(0, I32), m.local.get(1, I32)))),
    m.return(ld64(16, slotAt(m.local.get(0, I32), m.local.get(1, I32))))]);

  // t[to] = t[from] for integer keys; h_status says whether it found room
  {
    const [Tb, A, Bk, V] = [0, 1, 2, 3];
    fn('h_move_int', [I32, I64, I64], NONE, [I64], [
      set(V, m.call('h_get', [g32(Tb), c32(TAG.int), g64(A)], I64)),
      m.call('h_set', [g32(Tb), c32(TAG.int), g64(Bk), m.global.get(H_RTAG, I32), g64(V)], NONE),
    ]);
  }

  // h_insert(t, pos, given, vtag, v): table.insert(t, [pos,] v); h_status 0, HEAP_OOM or HEAP_POS
  {
    const [Tb, Pos, Given, VT, VV, E, I] = [0, 1, 2, 3, 4, 5, 6];
    const b = lbl(), l = lbl();
    fn('h_insert', [I32, I64, I32, I32, I64], NONE, [I64, I64], [
      status(0),
      set(E, m.i64.add(m.call('h_len', [g32(Tb)], I64), c64(1n))),
      m.if(m.i32.eqz(g32(Given)), set(Pos, g64(E)),
        // Lua: (lua_Unsigned)pos - 1u < (lua_Unsigned)e
        m.if(m.i64.ge_u(m.i64.sub(g64(Pos), c64(1n)), g64(E)), m.block(null, [status(HEAP_POS), m.return()]))),
      set(I, g64(E)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i64.le_s(g64(I), g64(Pos))),
        m.call('h_move_int', [g32(Tb), m.i64.sub(g64(I), c64(1n)), g64(I)], NONE),
        m.if(m.global.get(H_STATUS, I32), m.return()),
        set(I, m.i64.sub(g64(I), c64(1n))),
        m.br(l),
      ]))]),
      m.call('h_set', [g32(Tb), c32(TAG.int), g64(Pos), g32(VT), g64(VV)], NONE),
    ]);
  }
  // the two stores with their status as the result (lower calls these)
  const p = (i: number, t: number) => m.local.get(i, t);
  fn('h_set_st', [I32, I32, I64, I32, I64], I32, [], [
    m.call('h_set', [p(0, I32), p(1, I32), p(2, I64), p(3, I32), p(4, I64)], NONE), m.return(m.global.get(H_STATUS, I32))]);
  fn('h_insert_st', [I32, I64, I32, I32, I64], I32, [], [
    m.call('h_insert', [p(0, I32), p(1, I64), p(2, I32), p(3, I32), p(4, I64)], NONE), m.return(m.global.get(H_STATUS, I32))]);

  // h_remove(t, pos, given) -> t[pos] (tag in h_rtag), shifting t[pos+1..#t] down: Lua's table.remove
  {
    const [Tb, Pos, Given, N, V, R] = [0, 1, 2, 3, 4, 5];
    const b = lbl(), l = lbl();
    fn('h_remove', [I32, I64, I32], I64, [I64, I64, I32], [
      status(0),
      set(N, m.call('h_len', [g32(Tb)], I64)),
      m.if(m.i32.eqz(g32(Given)), set(Pos, g64(N))),
      // Lua: a position other than the size must lie in [1, size + 1]
      m.if(m.i32.and(m.i64.ne(g64(Pos), g64(N)), m.i64.gt_u(m.i64.sub(g64(Pos), c64(1n)), g64(N))),
        m.block(null, [status(HEAP_POS), m.return(c64(0n))])),
      set(V, m.call('h_get', [g32(Tb), c32(TAG.int), g64(Pos)], I64)),
      set(R, m.global.get(H_RTAG, I32)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i64.ge_s(g64(Pos), g64(N))),
        m.call('h_move_int', [g32(Tb), m.i64.add(g64(Pos), c64(1n)), g64(Pos)], NONE),
        set(Pos, m.i64.add(g64(Pos), c64(1n))),
        m.br(l),
      ]))]),
      m.call('h_set', [g32(Tb), c32(TAG.int), g64(Pos), c32(TAG.nil), c64(0n)], NONE),
      rtag(g32(R)),
      m.return(g64(V)),
    ]);
  }
}
