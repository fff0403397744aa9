// The heap's allocator and its copying collector (heap/layout.ts), as
// Binaryen-emitted helpers:
//   h_reset()            empty heap (init calls it)
//   h_alloc(n, kind)     zeroed object of n payload bytes, or 0 when the semispace is full
//   h_keep_str(v)        a string value that may live in the heap: non-constant
//                        strings are copied in (OOM_STR when full)
//   h_fwd(tag, v)        during a collection: the moved value of a root
//   h_gc()               Cheney: module state (gc_roots, written by lower) first,
//                        then every object copied so far, breadth first
// Only module state is a root, which is right between packets: no local of a
// packet is alive then. The batch loop calls h_gc before a packet once the
// semispace holds more than h_limit bytes.
import type binaryenT from 'binaryen';
import { KIND, OBJ_HEADER, SLOT_BYTES, MIN_COLLECT_BYTES, type HeapMemory } from './layout.js';
import { OOM_STR } from '../strings/layout.js';
import { TAG } from '../types.js';

type B = typeof binaryenT;
type M = binaryenT.Module;

/** name of the function lower writes: h_fwd over every module-level value that may be a table or string */
export const GC_ROOTS = 'gc_roots';
export const H = { from: 'h_from', top: 'h_top', end: 'h_end', limit: 'h_limit', old: 'h_old', free: 'h_free' } as const;

export function emitHeapGc(binaryen: B, m: M, mem: HeapMemory): void {
  const { i32: I32, i64: I64, none: NONE } = binaryen;
  const c32 = (v: number) => m.i32.const(v | 0);
  const c64 = (v: bigint) => (m.i64.const as unknown as (x: bigint) => number)(BigInt.asIntN(64, v));
  const g32 = (i: number) => m.local.get(i, I32);
  const g64 = (i: number) => m.local.get(i, I64);
  const set = (i: number, v: number) => m.local.set(i, v);
  const gl = (n: string) => m.global.get(n, I32);
  const fn = (name: string, params: number[], result: number, vars: number[], body: number[]) =>
    m.addFunction(name, binaryen.createType(params), result, vars, m.block(null, body, result === NONE ? NONE : binaryen.auto));
  let label = 0;
  const lbl = () => `g${label++}`;
  /** `for (i = from; i < to; i += step) body` */
  const forRange = (i: number, from: number, to: number, step: number, body: number[]) => {
    const b = lbl(), l = lbl();
    return m.block(null, [set(i, from), m.block(b, [m.loop(l, m.block(null, [
      m.br(b, m.i32.ge_u(g32(i), to)), ...body, set(i, m.i32.add(g32(i), c32(step))), m.br(l)]))])]);
  };
  const ptrOf = (v: number) => m.i32.wrap(m.i64.shr_u(v, c64(32n)));
  const lenOf = (v: number) => m.i32.wrap(v);
  const pack = (p: number, n: number) => m.i64.or(m.i64.shl(m.i64.extend_u(p), c64(32n)), m.i64.extend_u(n));

  for (const g of Object.values(H)) m.addGlobal(g, I32, true, c32(0));
  const maxLimit = Math.floor(mem.semi / 4) * 3, minLimit = Math.min(MIN_COLLECT_BYTES, maxLimit);

  fn('h_reset', [], NONE, [], [
    m.global.set(H.from, c32(mem.base)), m.global.set(H.top, c32(mem.base)),
    m.global.set(H.end, c32(mem.base + mem.semi)), m.global.set(H.limit, c32(minLimit)),
  ]);

  // h_alloc(n, kind) -> payload address (8-aligned, zeroed), or 0
  {
    const [N, K, P, I] = [0, 1, 2, 3];
    fn('h_alloc', [I32, I32], I32, [I32, I32], [
      set(N, m.i32.and(m.i32.add(g32(N), c32(7)), c32(-8))),
      m.if(m.i32.gt_u(m.i32.add(g32(N), c32(OBJ_HEADER)), m.i32.sub(gl(H.end), gl(H.top))), m.return(c32(0))),
      set(P, m.i32.add(gl(H.top), c32(OBJ_HEADER))),
      m.i32.store(0, 4, gl(H.top), g32(N)),
      m.i32.store(4, 4, gl(H.top), g32(K)),
      m.global.set(H.top, m.i32.add(g32(P), g32(N))),
      forRange(I, g32(P), gl(H.top), 8, [m.i64.store(0, 8, g32(I), c64(0n))]),
      m.return(g32(P)),
    ]);
  }

  // h_copy(dst, src, n): bytes, front to back (the regions never overlap)
  {
    const [D, S, N, I] = [0, 1, 2, 3];
    fn('h_copy', [I32, I32, I32], NONE, [I32], [
      forRange(I, c32(0), g32(N), 1, [m.i32.store8(0, 1, m.i32.add(g32(D), g32(I)), m.i32.load8_u(0, 1, m.i32.add(g32(S), g32(I))))]),
    ]);
  }

  // h_keep_str(v) -> v, or a copy in the heap of a string that is not a constant (OOM_STR: no room)
  {
    const [V, P, N, X] = [0, 1, 2, 3];
    fn('h_keep_str', [I64], I64, [I32, I32, I32], [
      set(P, ptrOf(g64(V))), set(N, lenOf(g64(V))),
      m.if(m.i32.and(m.i32.ge_u(g32(P), c32(16)), m.i32.le_u(m.i32.add(g32(P), g32(N)), c32(mem.constEnd))), m.return(g64(V))),
      set(X, m.call('h_alloc', [g32(N), c32(KIND.str)], I32)),
      m.if(m.i32.eqz(g32(X)), m.return(c64(OOM_STR))),
      m.call('h_copy', [g32(X), g32(P), g32(N)], NONE),
      m.return(pack(g32(X), g32(N))),
    ]);
  }

  // h_move(p) -> the new address of the object whose payload is at p (copied on first visit)
  {
    const [P, Hd, N, Q] = [0, 1, 2, 3];
    fn('h_move', [I32], I32, [I32, I32, I32], [
      m.if(m.i32.or(m.i32.lt_u(g32(P), gl(H.old)), m.i32.ge_u(g32(P), m.i32.add(gl(H.old), c32(mem.semi)))), m.return(g32(P))),
      set(Hd, m.i32.sub(g32(P), c32(OBJ_HEADER))),
      m.if(m.i32.eq(m.i32.load(4, 4, g32(Hd)), c32(KIND.forwarded)), m.return(m.i32.load(0, 4, g32(Hd)))),
      set(N, m.i32.add(m.i32.load(0, 4, g32(Hd)), c32(OBJ_HEADER))),
      m.call('h_copy', [gl(H.free), g32(Hd), g32(N)], NONE),
      set(Q, m.i32.add(gl(H.free), c32(OBJ_HEADER))),
      m.global.set(H.free, m.i32.add(gl(H.free), g32(N))),
      m.i32.store(4, 4, g32(Hd), c32(KIND.forwarded)),
      m.i32.store(0, 4, g32(Hd), g32(Q)),
      m.return(g32(Q)),
    ]);
  }

  // h_fwd(tag, v) -> v after the collection moved what it points to
  {
    const [T, V] = [0, 1];
    fn('h_fwd', [I32, I64], I64, [], [
      m.if(m.i32.eq(g32(T), c32(TAG.table)), m.return(m.i64.extend_u(m.call('h_move', [m.i32.wrap(g64(V))], I32)))),
      m.if(m.i32.eq(g32(T), c32(TAG.str)), m.return(pack(m.call('h_move', [ptrOf(g64(V))], I32), lenOf(g64(V))))),
      m.return(g64(V)),
    ]);
  }

  // h_gc(): copy what module state reaches into the other semispace
  {
    const [To, Scan, K, I, End] = [0, 1, 2, 3, 4];
    const b = lbl(), l = lbl();
    const slot = (off: number) => m.i32.add(g32(I), c32(off));
    fn('h_gc', [], NONE, [I32, I32, I32, I32, I32], [
      m.global.set(H.old, gl(H.from)),
      // binaryen.js: select(condition, ifTrue, ifFalse)
      set(To, m.select(m.i32.eq(gl(H.from), c32(mem.base)), c32(mem.base + mem.semi), c32(mem.base))),
      m.global.set(H.free, g32(To)),
      m.call(GC_ROOTS, [], NONE),
      set(Scan, g32(To)),
      m.block(b, [m.loop(l, m.block(null, [
        m.br(b, m.i32.ge_u(g32(Scan), gl(H.free))),
        set(K, m.i32.load(4, 4, g32(Scan))),
        set(End, m.i32.add(m.i32.add(g32(Scan), c32(OBJ_HEADER)), m.i32.load(0, 4, g32(Scan)))),
        // a table: its slot array
        m.if(m.i32.eq(g32(K), c32(KIND.table)), m.if(m.i32.load(OBJ_HEADER, 4, g32(Scan)),
          m.i32.store(OBJ_HEADER, 4, g32(Scan), m.call('h_move', [m.i32.load(OBJ_HEADER, 4, g32(Scan))], I32)))),
        // a slot array: the keys and values of its taken slots
        m.if(m.i32.eq(g32(K), c32(KIND.slots)), forRange(I, m.i32.add(g32(Scan), c32(OBJ_HEADER)), g32(End), SLOT_BYTES, [
          m.if(m.i32.load(0, 4, g32(I)), m.block(null, [
            m.i64.store(8, 8, g32(I), m.call('h_fwd', [m.i32.load(0, 4, g32(I)), m.i64.load(8, 8, g32(I))], I64)),
            m.i64.store(16, 8, g32(I), m.call('h_fwd', [m.i32.load(4, 4, g32(I)), m.i64.load(16, 8, slot(0))], I64)),
          ])),
        ])),
        set(Scan, g32(End)),
        m.br(l),
      ]))]),
      m.global.set(H.from, g32(To)),
      m.global.set(H.top, gl(H.free)),
      m.global.set(H.end, m.i32.add(g32(To), c32(mem.semi))),
      // the next collection once the semispace holds twice the live size (at least MIN_COLLECT_BYTES,
      // at most 3/4 of it, so that a packet that ran out of room is always followed by a collection)
      set(K, m.i32.shl(m.i32.sub(gl(H.free), g32(To)), c32(1))),
      m.global.set(H.limit, m.select(m.i32.lt_u(g32(K), c32(minLimit)), c32(minLimit), g32(K))),
      m.if(m.i32.gt_u(gl(H.limit), c32(maxLimit)), m.global.set(H.limit, c32(maxLimit))),
    ]);
  }
}

/** The batch loop's check before each packet: collect once the semispace holds more than h_limit bytes. */
export function collectIfNeeded(binaryen: B, m: M): number {
  const gl = (n: string) => m.global.get(n, binaryen.i32);
  return m.if(m.i32.gt_u(m.i32.sub(gl(H.top), gl(H.from)), gl(H.limit)), m.call('h_gc', [], binaryen.none));
}
