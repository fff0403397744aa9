// Pass 1: source text → luaparse AST, with Lua 5.4 attributes and exact
// integer literals. Errors are returned as data, never thrown.
import luaparse from 'luaparse';
import type { CallExpression, Chunk, Expression, Node, StringCallExpression, TableCallExpression } from 'luaparse';

export interface SourceError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatError(e: SourceError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

/** A numeric literal decided the Lua 5.4 way from its raw text. */
export type LuaNumber = { kind: 'int'; value: bigint } | { kind: 'float'; value: number };

export interface Attribute {
  name: 'const' | 'close';
  line: number;
  column: number;
  /** offset in the source of the attribute text */
  index: number;
}

export interface ParseResult {
  ok: true;
  ast: Chunk;
  /** local-variable attributes, keyed by the Identifier node they follow */
  attributes: Map<Node, Attribute>;
  /** numeric literal values, keyed by NumericLiteral node */
  numbers: Map<Node, LuaNumber>;
  /** string literal byte strings (each char code 0..255), keyed by StringLiteral node */
  strings: Map<Node, string>;
  /**
   * calls and `...` written inside parentheses, `(f())`: one value, not a list
   * (luaparse drops the parentheses, so they are found in the text)
   */
  parens: Set<Node>;
  source: string;
  file: string;
}

export type ParseOutcome = ParseResult | { ok: false; errors: SourceError[] };

const INT64_MOD = 1n << 64n;

/** BigInt → signed 64-bit (Lua integer wrap-around). */
export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Lua 5.4 `l_str2int` / `l_str2d` rules for a numeral as written in source. */
export function parseLuaNumber(raw: string): LuaNumber | null {
  const s = raw.trim();
  if (/^0[xX]/.test(s)) {
    const body = s.slice(2);
    if (/^[0-9a-fA-F]+$/.test(body)) {
      // hex integers wrap around modulo 2^64
      return { kind: 'int', value: wrapInt64(BigInt('0x' + body) % INT64_MOD) };
    }
    const m = /^([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(body);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
    const intPart = m[1] ?? '';
    const frac = m[2] ?? '';
    const exp = m[3] ? parseInt(m[3], 10) : 0;
    // exact mantissa as BigInt, then one correctly rounded scaling
    const mant = BigInt('0x' + (intPart + frac || '0'));
    return { kind: 'float', value: scaleBinary(mant, exp - 4 * frac.length) };
  }
  if (/^\d+$/.test(s)) {
    const v = BigInt(s);
    if (v < 1n << 63n) return { kind: 'int', value: v };
    return { kind: 'float', value: Number(s) };
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return { kind: 'float', value: Number(s) };
  return null;
}

function scaleBinary(mant: bigint, exp2: number): number {
  if (mant === 0n) return 0;
  // Number(bigint) rounds correctly; scaling by a power of two is exact unless it under/overflows
  let v = Number(mant);
  if (exp2 >= 0) return v * 2 ** exp2;
  // avoid double rounding: shift the BigInt when the result would be subnormal-free
  while (exp2 < -1000) { v /= 2 ** 1000; exp2 += 1000; }
  return v * 2 ** exp2;
}

/**
 * Blanks out `<const>` / `<close>` after names in a `local` statement, keeping
 * every other character where it was so positions stay exact.
 */
function stripAttributes(src: string): { text: string; found: { name: 'const' | 'close'; index: number }[] } {
  const out = src.split('');
  const found: { name: 'const' | 'close'; index: number }[] = [];
  let i = 0;
  let inLocal = false; // inside `local a, b` before `=`
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '-' && src[i + 1] === '-') {
      const lb = /^--\[(=*)\[/.exec(src.slice(i, i + 260));
      if (lb) {
        const close = ']' + lb[1] + ']';
        const e = src.indexOf(close, i + lb[0].length);
        i = e < 0 ? n : e + close.length;
      } else {
        const e = src.indexOf('\n', i);
        i = e < 0 ? n : e;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      inLocal = false;
      continue;
    }
    if (c === '[' && /^\[=*\[/.test(src.slice(i, i + 258))) {
      const m = /^\[(=*)\[/.exec(src.slice(i, i + 258))!;
      const close = ']' + m[1] + ']';
      const e = src.indexOf(close, i + m[0].length);
      i = e < 0 ? n : e + close.length;
      inLocal = false;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200))!;
      if (m[0] === 'local') inLocal = true;
      else if (m[0] === 'function') inLocal = false;
      i += m[0].length;
      continue;
    }
    if (c === '<' && inLocal) {
      const m = /^<\s*(const|close)\s*>/.exec(src.slice(i, i + 40));
      if (m) {
        found.push({ name: m[1] as 'const' | 'close', index: i });
        for (let k = i; k < i + m[0].length; k++) if (out[k] !== '\n') out[k] = ' ';
        i += m[0].length;
        continue;
      }
    }
    if (!/[\s,]/.test(c)) inLocal = false;
    i++;
  }
  return { text: out.join(''), found };
}

function lineCol(src: string, index: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < index; i++) if (src.charCodeAt(i) === 10) { line++; last = i; }
  return { line, column: index - last };
}

/**
 * Parses a script. `source` must be a byte string (read the file as latin1);
 * columns are 1-based, as in `FILE:LINE:COL`.
 */
export function parse(source: string, file: string): ParseOutcome {
  const { text, found } = stripAttributes(source);
  let ast: Chunk;
  try {
    ast = luaparse.parse(text, {
      luaVersion: '5.3',
      locations: true,
      ranges: true,
      comments: false,
      scope: false,
      encodingMode: 'pseudo-latin1',
    } as luaparse.Options);
  } catch (e) {
    const err = e as { line?: number; column?: number; message?: string };
    const msg = String(err.message ?? e).replace(/^\[\d+:\d+\]\s*/, '');
    return { ok: false, errors: [{ file, line: err.line ?? 1, column: (err.column ?? 0) + 1, message: msg }] };
  }
  const attributes = new Map<Node, Attribute>();
  const numbers = new Map<Node, LuaNumber>();
  const strings = new Map<Node, string>();
  const errors: SourceError[] = [];
  // attach each attribute to the nearest preceding Identifier in a local statement
  const localIds: { node: Node; end: number }[] = [];
  visit(ast, (node) => {
    if (node.type === 'LocalStatement') for (const v of node.variables) localIds.push({ node: v, end: (v as unknown as { range: [number, number] }).range[1] });
    if (node.type === 'NumericLiteral') {
      const num = parseLuaNumber(node.raw);
      if (!num) {
        const lc = node.loc!.start;
        errors.push({ file, line: lc.line, column: lc.column + 1, message: `malformed number near '${node.raw}'` });
      } else numbers.set(node, num);
    }
    if (node.type === 'StringLiteral') strings.set(node, node.value ?? '');
  });
  for (const a of found) {
    let best: { node: Node; end: number } | undefined;
    for (const id of localIds) if (id.end <= a.index && (!best || id.end > best.end)) best = id;
    const lc = lineCol(source, a.index);
    if (!best || !/^\s*$/.test(source.slice(best.end, a.index))) {
      errors.push({ file, ...lc, message: `unexpected attribute '<${a.name}>'` });
      continue;
    }
    attributes.set(best.node, { name: a.name, index: a.index, ...lc });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, ast, attributes, numbers, strings, parens: parenthesized(ast, text), source, file };
}

type Ranged = Node & { range: [number, number] };

/**
 * The multi-value expressions (calls, `...`) written in parentheses. After an
 * expression, `)` closes either the argument list of a call or a
 * parenthesised expression; the argument lists' closing positions are known
 * from the calls' ranges, so any other `)` right after a call wraps it.
 */
function parenthesized(ast: Chunk, text: string): Set<Node> {
  const closes = new Set<number>();
  const multi: Ranged[] = [];
  const params = new Set<Node>();
  visit(ast, (n) => {
    if (n.type === 'CallExpression') closes.add((n as Ranged).range[1] - 1);
    if (n.type === 'FunctionDeclaration') for (const p of n.parameters) params.add(p);
    if (n.type === 'CallExpression' || n.type === 'TableCallExpression' || n.type === 'StringCallExpression' ||
      (n.type === 'VarargLiteral' && !params.has(n))) multi.push(n as Ranged);
  });
  const out = new Set<Node>();
  for (const n of multi) {
    const at = nextToken(text, n.range[1]);
    if (text[at] === ')' && !closes.has(at)) out.add(n);
  }
  return out;
}

/** Index of the first character at or after `i` that is neither white space nor inside a comment. */
function nextToken(text: string, i: number): number {
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (!text.startsWith('--', i)) return i;
    const long = /^--\[(=*)\[/.exec(text.slice(i, i + 260));
    if (long) {
      const e = text.indexOf(']' + long[1] + ']', i + long[0].length);
      i = e < 0 ? text.length : e + long[1]!.length + 2;
    } else {
      const e = text.indexOf('\n', i);
      i = e < 0 ? text.length : e;
    }
  }
}

/** Pre-order walk over every AST node. */
export function visit(node: unknown, f: (n: Node) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) { for (const x of node) visit(x, f); return; }
  const n = node as Node & Record<string, unknown>;
  if (typeof n.type === 'string') f(n);
  for (const k of Object.keys(n)) {
    if (k === 'loc' || k === 'range') continue;
    const v = n[k];
    if (v && typeof v === 'object') visit(v, f);
  }
}

/** The arguments of a call in any of its three forms: `f(a, b)`, `f{...}`, `f'...'`. */
export function callArgs(e: CallExpression | TableCallExpression | StringCallExpression): Expression[] {
  if (e.type === 'CallExpression') return e.arguments;
  if (e.type === 'TableCallExpression') return [e.arguments];
  return [e.argument];
}
