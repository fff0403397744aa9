// How compiled strings live in memory (no binaryen here: check and lower
// import this). A string value is an i64 `ptr << 32 | len`, exactly like a
// data view, so `tostring(view)` copies nothing and `s:sub` is a narrower
// view. Everything the module owns lies below heap_base:
//   [0, CAPS)            unused (address 0 is never a string)
//   [CAPS, CONST_BASE)   capture scratch of the pattern matchers
//   [CONST_BASE, ...)    constant strings (a data segment)
//   [arenaBase, +size)   the per-packet arena for `..`, upper, lower, rep, char
//                        and number formatting; reset before every packet
// heap_base follows the arena.

/** nil in a STR-typed i64: the same sentinel as a nil view */
export { NIL_VIEW as NIL_STR } from '../abi.js';
/** returned by allocating helpers when the arena is full */
export const OOM_STR = -2n;
export const OOM_MESSAGE = 'not enough memory';

export const CAPS = 16;
/** 32 captures + the whole match, 8 bytes each, rounded up */
export const CAPS_BYTES = 512;
export const CONST_BASE = CAPS + CAPS_BYTES;
/** default arena size per packet */
export const ARENA_BYTES = 64 * 1024;

export const packStr = (ptr: number, len: number): bigint => (BigInt(ptr) << 32n) | BigInt(len);

/** Constant strings placed in one data segment, deduplicated. */
export class ConstPool {
  private map = new Map<string, number>();
  private bytes: number[] = [];

  /** packed (ptr, len) of a constant string (latin1: one char = one byte) */
  add(s: string): bigint {
    let off = this.map.get(s);
    if (off === undefined) {
      off = CONST_BASE + this.bytes.length;
      for (let i = 0; i < s.length; i++) this.bytes.push(s.charCodeAt(i) & 0xff);
      this.map.set(s, off);
    }
    return packStr(off, s.length);
  }

  get size(): number { return this.bytes.length; }
  data(): Uint8Array { return Uint8Array.from(this.bytes); }
}

export interface StringMemory {
  /** bytes of the data segment at CONST_BASE */
  constants: Uint8Array;
  arenaBase: number;
  arenaBytes: number;
  heapBase: number;
}

export function stringMemory(constants: Uint8Array, arenaBytes = ARENA_BYTES): StringMemory {
  const arenaBase = Math.ceil((CONST_BASE + constants.length) / 16) * 16;
  return { constants, arenaBase, arenaBytes, heapBase: arenaBase + arenaBytes };
}
