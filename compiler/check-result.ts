// What check leaves for lower: the contract between the two passes, field
// by field (as the header of Pallene's typechecker.lua does for its AST).
// Types only: lower, codegen and the helpers of both import this file, never
// check.ts, so the passes depend on the result and not on each other.
//
// Everything here is final when check returns ok: types are the fixpoint of
// inference over the whole program, and every AST node lower visits has an
// Ann. Layouts and tables are numbered by their index in `layouts`/`tables`.
import type * as L from 'luaparse';
import type { LabelMap } from './labels.js';
import type { FieldDef, LSet, LayoutDef, TableDef, Ty } from './types.js';

/** Why a script is outside the compiled subset, at a source position. */
export interface Reason { line: number; column: number; message: string }

/** A variable: each local and parameter declaration, and each Lua global name, is one. */
export interface Var {
  /** index in CheckResult.vars (lower names Wasm globals after it) */
  id: number;
  /** the name as written */
  name: string;
  /** owning function; null for Lua globals */
  fn: FnInfo | null;
  /** how it was declared */
  kind: 'local' | 'param' | 'global';
  /** the join of every value it ever holds (flow-insensitive) */
  ty: Ty;
  /** assigned anywhere other than its declaration */
  reassigned: boolean;
  /** line of the declaration (of the first use, for a global) */
  line: number;
  /** its column, from 1 */
  column: number;
}

/** A function of the script; the main chunk is one too. */
export interface FnInfo {
  /** index in CheckResult.fns (lower names Wasm functions after it) */
  id: number;
  /** the declared name, or 'main chunk', 'anonymous function', 'method' */
  name: string;
  /** its AST node: the body lower walks */
  node: L.FunctionDeclaration | L.Chunk;
  /** the enclosing function; null for the main chunk */
  parent: FnInfo | null;
  /** its parameters, in order */
  params: Var[];
  /** the join of the first values of all its returns (nil when it falls off the end) */
  retTy: Ty;
  /** layouts a returned view may carry */
  retLayouts: Set<number>;
  /** types of the return values after the first (check-returns.ts); empty: one value */
  extraRet: Ty[];
  /** per parameter: layouts its view may carry on entry (the join over all calls) */
  paramEntry: Set<number>[];
  /** per parameter: layouts its view may carry when the function returns */
  paramExit: Set<number>[];
}

/** What check found out about one AST node (an expression, mostly). */
export interface Ann {
  /** its static type */
  ty: Ty;
  /** layouts the view value may carry */
  ls?: LSet;
  /** resolved field of a view field read (null: always nil) */
  field?: FieldDef | null;
  /** the variable an identifier names */
  var?: Var;
  /** the script function a call calls (or pcall calls) */
  callee?: FnInfo;
  /** the script functions a call of a function value may call (one is picked at run time by the value) */
  callees?: FnInfo[];
  /** the builtin a call calls: 'layout', 'segment', 'pcall', 'error', 'string.find', ... */
  builtin?: string;
  /** constant pattern of string.find / string.match / string.gmatch */
  pattern?: PatternInfo & { plain: boolean };
  /** the call may give more than one value (find, match with captures) */
  multi?: boolean;
}

/** What a constant pattern needs at lowering time. */
export interface PatternInfo {
  /** the pattern's bytes */
  bytes: Uint8Array;
  /** how many captures it defines */
  captures: number;
  /** per capture: a position capture `()` (an integer) rather than a string */
  positionCaptures: boolean[];
}

/** The result of check: reasons when the script is outside the subset, else all lower needs. */
export interface CheckResult {
  /** no reasons: lower may run */
  ok: boolean;
  /** why the script is outside the compiled subset, sorted by position */
  reasons: Reason[];
  /** every function, main chunk first (index = FnInfo.id) */
  fns: FnInfo[];
  /** the main chunk (runs once, at instantiation) */
  main: FnInfo;
  /** the global function `filter` the host calls per packet (null only when not ok) */
  filter: FnInfo | null;
  /** every variable (index = Var.id) */
  vars: Var[];
  /** per AST node: its type and what it refers to */
  ann: Map<L.Node, Ann>;
  /** per declaring Identifier node: the variable it declares */
  declVar: Map<L.Node, Var>;
  /** constant layout tables, with field offsets resolved (index = layout id) */
  layouts: LayoutDef[];
  /** constant and mutable tables (index = table id) */
  tables: TableDef[];
  /** goto targets (labels.ts) */
  labels: LabelMap;
}
