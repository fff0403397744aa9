// Lua semantics of compile-time constants, shared by check (which folds
// them into constant types) and lower (which emits the folded value): one
// definition, so the two passes cannot disagree on a folded result.
import type { Const } from './types.js';

/**
 * Largest exponent exactPow folds: with a base of 2 or more the power is past
 * the double range long before (2^1024), and the bound keeps the BigInt
 * power small; a base of ±1 beyond it is left unfolded.
 */
const MAX_EXACT_EXPONENT = 1100n;

/** base^exp for constant integral operands when the result is exact in a double (so C's pow agrees). */
export function exactPow(a?: Const, b?: Const): number | null {
  const int = (c?: Const) => (c?.k === 'int' ? c.v : c?.k === 'float' && Number.isInteger(c.v) && Math.abs(c.v) < 2 ** 53 ? BigInt(c.v) : null);
  const x = int(a), n = int(b);
  if (x === null || n === null || n < 0n || n > MAX_EXACT_EXPONENT) return null;
  // BigInt has no -0: pow(-0.0, n) is -0.0 for odd n
  if (x === 0n && n > 0n) return a?.k === 'float' && Object.is(a.v, -0) && n % 2n === 1n ? -0 : 0;
  const r = x ** n;
  const abs = r < 0n ? -r : r;
  if (abs < 1n << 53n || (abs & (abs - 1n)) === 0n && abs < 1n << 1023n) return Number(r);
  return null;
}

/** Lua's tostring of a constant (integers, strings, booleans, nil). */
export function constString(c: Const): string {
  switch (c.k) {
    case 'str': return c.v;
    case 'int': return String(c.v);
    case 'bool': return String(c.v);
    case 'nil': return 'nil';
    default: throw new Error(`internal: tostring of constant ${c.k}`);
  }
}
