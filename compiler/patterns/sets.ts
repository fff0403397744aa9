// Byte-set membership tests as straight-line Wasm: a few range compares
// when the set is simple, else a 256-bit bitmap held in four i64 constants.
import binaryen from 'binaryen';
import type { ByteSet } from './parse.js';

export type Range = [lo: number, hi: number];

export function setRanges(set: ByteSet): Range[] {
  const out: Range[] = [];
  for (let c = 0; c < 256; c++) {
    if (!set[c]) continue;
    const lo = c;
    while (c + 1 < 256 && set[c + 1]) c++;
    out.push([lo, c]);
  }
  return out;
}

export function setSize(set: ByteSet): number {
  let n = 0;
  for (let c = 0; c < 256; c++) n += set[c];
  return n;
}

export function complementSet(set: ByteSet): ByteSet {
  return set.map((b) => 1 - b);
}

export function setsDisjoint(a: ByteSet, b: ByteSet): boolean {
  for (let c = 0; c < 256; c++) if (a[c] && b[c]) return false;
  return true;
}

/** The only member of a one-byte set, else -1. */
export function singleByte(set: ByteSet): number {
  return setSize(set) === 1 ? set.indexOf(1) : -1;
}

/**
 * An i32 expression, 1 if the byte read by `c()` is in `set`, else 0.
 * `c` may be called several times: it must be side-effect free (a local.get).
 */
export function emitSetTest(m: binaryen.Module, set: ByteSet, c: () => number): number {
  const size = setSize(set);
  if (size === 0) return m.i32.const(0);
  if (size === 256) return m.i32.const(1);
  const ranges = setRanges(set);
  if (ranges.length <= 3) return anyRange(m, ranges, c);
  const comp = setRanges(complementSet(set));
  if (comp.length <= 2) return m.i32.eqz(anyRange(m, comp, c));
  return bitmapTest(m, set, c);
}

function rangeTest(m: binaryen.Module, [lo, hi]: Range, c: () => number): number {
  if (lo === hi) return m.i32.eq(c(), m.i32.const(lo));
  if (lo === 0) return m.i32.le_u(c(), m.i32.const(hi));
  if (hi === 255) return m.i32.ge_u(c(), m.i32.const(lo));
  return m.i32.le_u(m.i32.sub(c(), m.i32.const(lo)), m.i32.const(hi - lo));
}

function anyRange(m: binaryen.Module, ranges: Range[], c: () => number): number {
  let e = rangeTest(m, ranges[0], c);
  for (let i = 1; i < ranges.length; i++) e = m.i32.or(e, rangeTest(m, ranges[i], c));
  return e;
}

function bitmapTest(m: binaryen.Module, set: ByteSet, c: () => number): number {
  const words: bigint[] = []; // bit b of word w: byte 64w + b
  for (let w = 0; w < 4; w++) {
    let x = 0n;
    for (let b = 63; b >= 0; b--) x = (x << 1n) | BigInt(set[w * 64 + b]);
    words.push(BigInt.asIntN(64, x));
  }
  const k = (w: number) => i64const(m, words[w]);
  const bit = (word: number) =>
    m.i32.wrap(m.i64.and(m.i64.shr_u(word, m.i64.extend_u(c())), i64const(m, 1n)));
  const ge = (v: number) => m.i32.ge_u(c(), m.i32.const(v));
  const low = m.select(ge(64), k(1), k(0));
  const upperEmpty = words[2] === 0n && words[3] === 0n;
  if (upperEmpty) return m.i32.and(m.i32.lt_u(c(), m.i32.const(128)), bit(low));
  return bit(m.select(ge(128), m.select(ge(192), k(3), k(2)), low));
}

/** binaryen 132's i64.const takes one bigint (its .d.ts still declares two i32 halves). */
function i64const(m: binaryen.Module, v: bigint): number {
  return (m.i64.const as unknown as (v: bigint) => number)(v);
}
