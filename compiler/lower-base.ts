// The vocabulary of the lowering files: how a lowered Lua value is held
// (Val), the Wasm types of each representation, and the constants several of
// them emit. A leaf, so that lower.ts and its helpers (lower-*.ts,
// strings/lower.ts, tables/mutable-lower.ts) share these values without
// importing each other.
import type { Expr, WType } from './ir.js';
import type { Rep, Ty } from './types.js';

/** A lowered value: IR expressions in the representation its static type allows (types.ts `repOf`). */
export type Val =
  | { rep: 'none'; ty: Ty }
  | { rep: 'bool' | 'int' | 'float' | 'view'; e: Expr; ty: Ty }
  | { rep: 'dyn'; tag: Expr; val: Expr; ty: Ty };

/** nil in the 'view' representation (a data view or a string): no view has all 64 bits set */
export { NIL_VIEW } from './abi.js';

/** the error of a packet that ran out of fuel (index.ts appends the count to it in the module's section) */
export const FUEL_MESSAGE = 'fuel exhausted';

/** The Wasm values that hold one value of a representation. */
export function wtypes(rep: Rep): WType[] {
  switch (rep) {
    case 'none': return [];
    case 'bool': return ['i32'];
    case 'int': case 'view': return ['i64'];
    case 'float': return ['f64'];
    case 'dyn': return ['i32', 'i64'];
  }
}
