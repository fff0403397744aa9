// Lua 5.4 patterns compiled to specialized Wasm matchers.
//
// Usage: `emitPatternMatcher(module, bytes, 'match_ssh')` adds
// `match_ssh(subject: i32, len: i32, init: i32, caps: i32) -> i32` to a
// Binaryen module (its memory 0). Semantics are those of lstrlib.c's
// `str_find_aux` for string.find/string.match (not the plain-search path of
// find, which gives the same answers for patterns without specials).
import binaryen from 'binaryen';
import { generateMatcher } from './codegen.js';
import { hasSpecials, parsePattern, parsePatternLazy, plainAst, type PatternAst } from './parse.js';

export {
  parsePattern,
  parsePatternLazy,
  plainAst,
  hasSpecials,
  patternErrorMessage,
  PatternSyntaxError,
  MAX_CAPTURES,
  ERR_TOO_COMPLEX,
  type PatternAst,
  type PatternItem,
  type ByteSet,
} from './parse.js';
export { MAX_MATCH_DEPTH } from './codegen.js';
export type { ParseOptions } from './parse.js';

export interface PatternMatcher {
  funcName: string;
  /** captures the pattern defines; the caps area needs (captureCount + 1) * 8 bytes */
  captureCount: number;
  /** per capture: true for a position capture `()`, written as (pos, -1) */
  positionCaptures: boolean[];
  /** pattern starts with `^` */
  anchored: boolean;
  /**
   * The pattern is malformed somewhere. Like Lua, the matcher raises the
   * error (returns its negative code) only if matching reaches that point.
   */
  malformed: boolean;
  /** the function counts recursion depth for Lua's "pattern too complex" */
  tracksDepth: boolean;
  /** the function uses SIMD (the module's SIMD128 feature was enabled) */
  usesSimd: boolean;
}

export interface EmitPatternOptions {
  /**
   * 'match' (default): pattern semantics, as string.match / gmatch / gsub see it.
   * 'find': string.find without `plain`: a pattern with none of Lua's
   * specials `^$*+?.([%-` is searched as plain text (so `)` is just a byte).
   * 'plain': string.find(s, p, init, true).
   * 'gmatch': like 'match' but a leading `^` is an ordinary byte, as in gmatch.
   */
  mode?: 'match' | 'find' | 'plain' | 'gmatch';
  /**
   * true (default): try start positions init, init+1, ... (find/match).
   * false: try only `init`, for hosts that run gmatch/gsub's own loop
   * (which rejects an empty match at the end of the previous one).
   */
  search?: boolean;
  /**
   * Throw PatternSyntaxError now for a malformed pattern instead of emitting
   * a matcher that returns the error code when the bad part is reached.
   */
  strict?: boolean;
  /**
   * Scan for a leading literal byte 16 bytes at a time with i8x16.eq.
   * Enables SIMD128 on the module when it is used (default true; only a
   * pattern whose first item is one literal byte uses it). Measured in
   * test/patterns.test.ts: 2-5x faster scans over 1 KB subjects.
   */
  simd?: boolean;
}

/**
 * Adds to `module` a function `funcName(subject, len, init, caps) -> i32`:
 * - subject: address of the subject's first byte in memory 0; len: its length;
 * - init: 0-based start position (init > len: no match);
 * - caps: scratch area of (captureCount + 1) * 8 bytes; on a match it receives
 *   the whole match as (start, end) at caps + 0 and capture k (1-based) at
 *   caps + 8k, 0-based [start, end); a position capture is (pos, -1).
 * Returns 1 on a match, 0 on none, or a negative error code
 * (`patternErrorMessage(code)` gives Lua's message, e.g. -1 "pattern too complex").
 */
export function emitPatternMatcher(
  module: binaryen.Module,
  pattern: Uint8Array,
  funcName: string,
  options: EmitPatternOptions = {},
): PatternMatcher {
  const mode = options.mode ?? 'match';
  let ast: PatternAst;
  if (mode === 'plain' || (mode === 'find' && !hasSpecials(pattern))) ast = plainAst(pattern);
  else {
    const parseOptions = { caretAnchors: mode !== 'gmatch' };
    ast = options.strict ? parsePattern(pattern, parseOptions) : parsePatternLazy(pattern, parseOptions);
  }
  const { tracksDepth, usesSimd } = generateMatcher(module, ast, funcName, {
    simd: options.simd ?? true,
    search: options.search ?? true,
  });
  if (usesSimd) module.setFeatures(module.getFeatures() | binaryen.Features.SIMD128);
  return {
    funcName,
    captureCount: ast.captureCount,
    positionCaptures: ast.positionCaptures.slice(),
    anchored: ast.anchored,
    malformed: ast.items.some((it) => it.kind === 'error'),
    tracksDepth,
    usesSimd,
  };
}
