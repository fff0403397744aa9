// Lua 5.4 pattern text → pattern AST.
//
// Lua reports malformed patterns lazily: lstrlib.c's matcher raises an error
// only when it reaches the bad item (so `("abc"):find("x%")` is just nil).
// The AST mirrors that: items are parsed in the order the matcher walks them,
// and the first bad item becomes an `error` item that raises when reached.
// `parsePattern` (strict) throws on it instead; `parsePatternLazy` keeps it.
// Every error Lua can raise here is static for a given pattern position
// (capture levels only depend on the pattern prefix), so this is exact.

/** Membership of each byte 0..255 (1 = in the set). */
export type ByteSet = Uint8Array;

export type Quantifier = '' | '*' | '+' | '-' | '?';

export type PatternItem =
  /** one byte from `set`, with an optional repetition suffix */
  | { kind: 'single'; set: ByteSet; quant: Quantifier; pos: number }
  /** `(` (position=false) or `()` (position=true); opens capture `index` (0-based) */
  | { kind: 'open'; index: number; position: boolean; pos: number }
  /** `)` closing capture `index` */
  | { kind: 'close'; index: number; pos: number }
  /** `$` as the last pattern character: the subject must end here */
  | { kind: 'end'; pos: number }
  /** `%bxy` */
  | { kind: 'balance'; open: number; close: number; pos: number }
  /** `%f[set]` */
  | { kind: 'frontier'; set: ByteSet; pos: number }
  /** `%1`..`%9`: capture `index` (0-based); a position capture never matches */
  | { kind: 'backref'; index: number; position: boolean; pos: number }
  /** reaching this item raises Lua error `code` (see patternErrorMessage) */
  | { kind: 'error'; code: number; pos: number };

export interface PatternAst {
  /** pattern started with `^` */
  anchored: boolean;
  items: PatternItem[];
  /** number of `(` items reached before any error (Lua's capture level at the end) */
  captureCount: number;
  /** per capture: true for `()` position captures */
  positionCaptures: boolean[];
}

// Error codes returned by generated matchers (negative) and their Lua messages.
export const ERR_TOO_COMPLEX = -1;
export const ERR_ENDS_WITH_PERCENT = -2;
export const ERR_MISSING_BRACKET = -3;
export const ERR_BALANCE_ARGS = -4;
export const ERR_FRONTIER_BRACKET = -5;
export const ERR_INVALID_PATTERN_CAPTURE = -6;
export const ERR_UNFINISHED_CAPTURE = -7;
export const ERR_TOO_MANY_CAPTURES = -8;
/** `invalid capture index %n` is code ERR_CAPTURE_INDEX_BASE - n, n in 0..9 */
export const ERR_CAPTURE_INDEX_BASE = -10;

const FIXED_MESSAGES: Record<number, string> = {
  [ERR_TOO_COMPLEX]: 'pattern too complex',
  [ERR_ENDS_WITH_PERCENT]: "malformed pattern (ends with '%')",
  [ERR_MISSING_BRACKET]: "malformed pattern (missing ']')",
  [ERR_BALANCE_ARGS]: "malformed pattern (missing arguments to '%b')",
  [ERR_FRONTIER_BRACKET]: "missing '[' after '%f' in pattern",
  [ERR_INVALID_PATTERN_CAPTURE]: 'invalid pattern capture',
  [ERR_UNFINISHED_CAPTURE]: 'unfinished capture',
  [ERR_TOO_MANY_CAPTURES]: 'too many captures',
};

/** The message Lua raises for a (negative) matcher error code. */
export function patternErrorMessage(code: number): string {
  const fixed = FIXED_MESSAGES[code];
  if (fixed !== undefined) return fixed;
  const n = ERR_CAPTURE_INDEX_BASE - code;
  if (Number.isInteger(n) && n >= 0 && n <= 9) return `invalid capture index %${n}`;
  return `unknown pattern error ${code}`;
}

export class PatternSyntaxError extends Error {
  constructor(
    readonly code: number,
    /** byte offset in the pattern of the item that is malformed */
    readonly position: number,
  ) {
    super(patternErrorMessage(code));
    this.name = 'PatternSyntaxError';
  }
}

/** Lua's LUA_MAXCAPTURES. */
export const MAX_CAPTURES = 32;

const PCT = 0x25; // '%'

// C-locale <ctype.h> predicates (bytes >= 128 are in no class).
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number) => isAlpha(c) || isDigit(c);
const isGraph = (c: number) => c >= 0x21 && c <= 0x7e;

function classPredicate(lowerCl: number): ((c: number) => boolean) | null {
  switch (String.fromCharCode(lowerCl)) {
    case 'a': return isAlpha;
    case 'c': return (c) => c < 0x20 || c === 0x7f;
    case 'd': return isDigit;
    case 'g': return isGraph;
    case 'l': return isLower;
    case 'p': return (c) => isGraph(c) && !isAlnum(c);
    case 's': return (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
    case 'u': return isUpper;
    case 'w': return isAlnum;
    case 'x': return (c) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    case 'z': return (c) => c === 0; // deprecated in Lua, still accepted
    default: return null;
  }
}

/** Does byte `c` match `%cl` (a class letter, or any other byte escaped)? */
function matchClass(c: number, cl: number): boolean {
  const pred = classPredicate(isUpper(cl) ? cl + 32 : cl);
  if (pred === null) return cl === c;
  return isLower(cl) ? pred(c) : !pred(c);
}

/** The set of `%cl` over all bytes. */
export function classSet(cl: number): ByteSet {
  const set = new Uint8Array(256);
  for (let c = 0; c < 256; c++) set[c] = matchClass(c, cl) ? 1 : 0;
  return set;
}

/**
 * Does `c` match the bracket class whose `[` is at `open` and closing `]` at
 * `close`? Walks the set text the way Lua does, quirks included (`[a-]`,
 * `[]]`, a `%` right before the closing `]` escaping it, ...).
 */
function matchBracket(c: number, p: Uint8Array, open: number, close: number): boolean {
  let i = open;
  let negate = false;
  if (p[i + 1] === 0x5e /* ^ */) { negate = true; i++; }
  while (++i < close) {
    if (p[i] === PCT) {
      i++;
      if (matchClass(c, p[i] ?? 0)) return !negate;
    } else if (p[i + 1] === 0x2d /* - */ && i + 2 < close) {
      i += 2;
      if (p[i - 2] <= c && c <= p[i]) return !negate;
    } else if (p[i] === c) {
      return !negate;
    }
  }
  return negate;
}

function bracketSet(p: Uint8Array, open: number, close: number): ByteSet {
  const set = new Uint8Array(256);
  for (let c = 0; c < 256; c++) set[c] = matchBracket(c, p, open, close) ? 1 : 0;
  return set;
}

class Stop {
  constructor(readonly code: number, readonly pos: number) {}
}

/** Index just past the single-character class starting at `p` (Lua's classend). */
function classEnd(pat: Uint8Array, p: number, end: number): number {
  const c = pat[p++];
  if (c === PCT) {
    if (p >= end) throw new Stop(ERR_ENDS_WITH_PERCENT, p - 1);
    return p + 1;
  }
  if (c === 0x5b /* [ */) {
    if (p < end && pat[p] === 0x5e) p++;
    // the first set character is taken literally, so `[]]` is a set of `]`
    do {
      if (p >= end) throw new Stop(ERR_MISSING_BRACKET, p);
      if (pat[p++] === PCT && p < end) p++;
    } while (p >= end || pat[p] !== 0x5d);
    return p + 1;
  }
  return p;
}

function singleSet(pat: Uint8Array, p: number, ep: number): ByteSet {
  const c = pat[p];
  if (c === 0x2e /* . */) return new Uint8Array(256).fill(1);
  if (c === PCT) return classSet(pat[p + 1]);
  if (c === 0x5b) return bracketSet(pat, p, ep - 1);
  const set = new Uint8Array(256);
  set[c] = 1;
  return set;
}

export interface ParseOptions {
  /** a leading `^` anchors the match (true for find/match/gsub; gmatch takes it literally) */
  caretAnchors?: boolean;
}

/** Parse keeping Lua's lazy errors as `error` items (matchers raise them when reached). */
export function parsePatternLazy(pattern: Uint8Array, options: ParseOptions = {}): PatternAst {
  const pat = pattern;
  const end = pat.length;
  let p = 0;
  const anchored = (options.caretAnchors ?? true) && end > 0 && pat[0] === 0x5e;
  if (anchored) p = 1;
  const items: PatternItem[] = [];
  const positionCaptures: boolean[] = [];
  const unfinished: boolean[] = []; // per capture, still open at p
  try {
    while (p < end) {
      const c = pat[p];
      const pos = p;
      if (c === 0x28 /* ( */) {
        if (positionCaptures.length >= MAX_CAPTURES) throw new Stop(ERR_TOO_MANY_CAPTURES, pos);
        const position = p + 1 < end && pat[p + 1] === 0x29;
        items.push({ kind: 'open', index: positionCaptures.length, position, pos });
        positionCaptures.push(position);
        unfinished.push(!position);
        p += position ? 2 : 1;
      } else if (c === 0x29 /* ) */) {
        const index = unfinished.lastIndexOf(true);
        if (index < 0) throw new Stop(ERR_INVALID_PATTERN_CAPTURE, pos);
        unfinished[index] = false;
        items.push({ kind: 'close', index, pos });
        p++;
      } else if (c === 0x24 /* $ */ && p + 1 === end) {
        items.push({ kind: 'end', pos });
        p++;
      } else if (c === PCT && p + 1 < end && pat[p + 1] === 0x62 /* b */) {
        if (p + 3 >= end) throw new Stop(ERR_BALANCE_ARGS, pos);
        items.push({ kind: 'balance', open: pat[p + 2], close: pat[p + 3], pos });
        p += 4;
      } else if (c === PCT && p + 1 < end && pat[p + 1] === 0x66 /* f */) {
        p += 2;
        if (p >= end || pat[p] !== 0x5b) throw new Stop(ERR_FRONTIER_BRACKET, pos);
        const ep = classEnd(pat, p, end);
        items.push({ kind: 'frontier', set: bracketSet(pat, p, ep - 1), pos });
        p = ep;
      } else if (c === PCT && p + 1 < end && isDigit(pat[p + 1])) {
        const l = pat[p + 1] - 0x31; // '%0' gives -1: always invalid
        if (l < 0 || l >= positionCaptures.length || unfinished[l]) {
          throw new Stop(ERR_CAPTURE_INDEX_BASE - (l + 1), pos);
        }
        items.push({ kind: 'backref', index: l, position: positionCaptures[l], pos });
        p += 2;
      } else {
        const ep = classEnd(pat, p, end);
        const set = singleSet(pat, p, ep);
        const s = ep < end ? pat[ep] : 0;
        let quant: Quantifier = '';
        if (s === 0x2a || s === 0x2b || s === 0x2d || s === 0x3f) quant = String.fromCharCode(s) as Quantifier;
        items.push({ kind: 'single', set, quant, pos });
        p = quant ? ep + 1 : ep;
      }
    }
    // a successful match with a capture still open fails when Lua pushes it
    if (unfinished.includes(true)) throw new Stop(ERR_UNFINISHED_CAPTURE, end);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    items.push({ kind: 'error', code: e.code, pos: e.pos });
  }
  return { anchored, items, captureCount: positionCaptures.length, positionCaptures };
}

/** Lua's SPECIALS: string.find without any of these does a plain substring search. */
export function hasSpecials(pattern: Uint8Array): boolean {
  return pattern.some((c) => '^$*+?.([%-'.includes(String.fromCharCode(c)));
}

/** The AST of a plain substring search for `text` (string.find with plain=true). */
export function plainAst(text: Uint8Array): PatternAst {
  const items: PatternItem[] = Array.from(text, (c, pos) => {
    const set = new Uint8Array(256);
    set[c] = 1;
    return { kind: 'single', set, quant: '', pos };
  });
  return { anchored: false, items, captureCount: 0, positionCaptures: [] };
}

/** Parse a pattern, throwing PatternSyntaxError if any part of it is malformed. */
export function parsePattern(pattern: Uint8Array, options: ParseOptions = {}): PatternAst {
  const ast = parsePatternLazy(pattern, options);
  const last = ast.items[ast.items.length - 1];
  if (last?.kind === 'error') throw new PatternSyntaxError(last.code, last.pos);
  return ast;
}
