// Pass 1b (before check): generic `for` loops over constant tables become
// straight-line code. `for k, v in pairs(T) do B end`, where T is a
// module-level local bound once to a constructor of literals and never
// changed, is rewritten in the AST to
//
//   repeat do local k, v = K1, V1; B end  do local k, v = K2, V2; B end ... until true
//
// so `break` still leaves the loop, each copy of B sees its key and value as
// constants (a pattern from a constant list is compiled to its own matcher,
// a plain `string.find` needle is a constant), and no table exists at run
// time. Measured on ids-signatures.lua: 14 plain needles and 4 patterns are
// 18 specialized searches, with no lookup at all.
//
// Order: `ipairs` and `pairs` over a constructor made only of positional items
// visit 1..n, as Lua does. `pairs` over other tables visits the entries in an
// order Lua does not define (Wasmoon's hash order is not ours), so it is
// unrolled only when the body cannot tell the order apart: no break/goto, no
// assignment, no call other than side-effect-free string/math builtins, and
// every `return` returns the same literal values, and all keys (all values)
// have one Lua type. Such a loop ends with that one result whichever entry
// triggers it, and a type error hits every entry alike. Not excluded: an
// error that depends on a value, not its type (`x // v` with one v = 0), in a
// table where another entry returns first; the engines may then disagree on
// that packet (error vs the literal result). Other generic for loops are left
// alone and the checker rejects them as before.
import type * as L from 'luaparse';
import type { ParseResult } from '../parse.js';
import { visit } from '../parse.js';
import type { TableDef } from '../types.js';

type Lit = { kind: 'nil' | 'bool' | 'int' | 'float' | 'str'; node: L.Expression; key: string };
interface ConstTable { entries: { key: Lit; value: Lit }[]; sequence: boolean }

/** Rewrites every unrollable generic for loop of the chunk in place. Idempotent. */
export function unrollConstantLoops(p: ParseResult): void {
  const tables = constantTables(p);
  if (tables.size === 0) return;
  const rewrite = (body: L.Statement[]): void => {
    for (let i = 0; i < body.length; i++) {
      const s = body[i]!;
      const r = s.type === 'ForGenericStatement' ? unroll(p, s, tables) : null;
      if (r) body[i] = r;
    }
  };
  visit(p.ast, (n) => {
    const b = (n as { body?: unknown }).body;
    if (Array.isArray(b)) rewrite(b as L.Statement[]);
    if (n.type === 'IfStatement') for (const c of n.clauses) rewrite(c.body);
  });
}

const nameOf = (e: L.Expression): string | undefined => (e.type === 'Identifier' ? e.name : undefined);

/** Module-level locals bound once to a literal constructor and used only for reading. */
function constantTables(p: ParseResult): Map<string, { t: ConstTable; end: number }> {
  const out = new Map<string, { t: ConstTable; end: number }>();
  const decls = new Map<string, number>();
  const count = (name: string) => decls.set(name, (decls.get(name) ?? 0) + 1);
  // every binding of every name anywhere: a table name must be bound exactly once
  visit(p.ast, (n) => {
    switch (n.type) {
      case 'LocalStatement': n.variables.forEach((v) => count(v.name)); break;
      case 'ForNumericStatement': count(n.variable.name); break;
      case 'ForGenericStatement': n.variables.forEach((v) => count(v.name)); break;
      case 'FunctionDeclaration':
        n.parameters.forEach((x) => { if (x.type === 'Identifier') count(x.name); });
        if (n.identifier?.type === 'Identifier') count(n.identifier.name);
        break;
      default: break;
    }
  });
  for (const s of p.ast.body) {
    if (s.type !== 'LocalStatement' || s.variables.length !== 1 || s.init.length !== 1) continue;
    const init = s.init[0]!;
    const name = s.variables[0]!.name;
    if (init.type !== 'TableConstructorExpression' || decls.get(name) !== 1) continue;
    const t = literalTable(p, init);
    if (t) out.set(name, { t, end: (s as unknown as { range: [number, number] }).range[1] });
  }
  if (out.size === 0) return out;
  // any use other than `T[k]`, `T.k` (read), `#T` or `pairs(T)` / `ipairs(T)` disqualifies T
  const bad = new Set<string>();
  const ok = new Set<L.Node>();
  visit(p.ast, (n) => {
    if ((n.type === 'IndexExpression' || n.type === 'MemberExpression') && nameOf(n.base)) ok.add(n.base);
    if (n.type === 'CallExpression' && (nameOf(n.base) === 'pairs' || nameOf(n.base) === 'ipairs') && n.arguments.length === 1)
      ok.add(n.arguments[0]!);
    if (n.type === 'AssignmentStatement') for (const t of n.variables) {
      const b = t.type === 'IndexExpression' || t.type === 'MemberExpression' ? nameOf(t.base) : nameOf(t);
      if (b) bad.add(b);
    }
    if (n.type === 'LocalStatement') n.variables.forEach((v) => ok.add(v));
    if (n.type === 'UnaryExpression' && n.operator === '#') ok.add(n.argument);
  });
  visit(p.ast, (n) => { if (n.type === 'Identifier' && out.has(n.name) && !ok.has(n)) bad.add(n.name); });
  for (const b of bad) out.delete(b);
  return out;
}

function literal(p: ParseResult, e: L.Expression): Lit | null {
  switch (e.type) {
    case 'BooleanLiteral': return { kind: 'bool', node: e, key: `b:${e.value}` };
    case 'StringLiteral': return { kind: 'str', node: e, key: `s:${p.strings.get(e)}` };
    case 'NumericLiteral': {
      const n = p.numbers.get(e);
      if (!n) return null;
      return n.kind === 'int' ? { kind: 'int', node: e, key: `i:${n.value}` } : { kind: 'float', node: e, key: `f:${n.value}` };
    }
    default: return null;
  }
}

function literalTable(p: ParseResult, e: L.TableConstructorExpression): ConstTable | null {
  const entries: ConstTable['entries'] = [];
  const seen = new Set<string>();
  let next = 1n;
  let sequence = true;
  for (const f of e.fields) {
    const value = literal(p, f.value);
    let key: Lit | null;
    if (f.type === 'TableValue') key = intLit(p, next++, f.value);
    else if (f.type === 'TableKeyString') { key = strLit(p, f.key.name, f.key); sequence = false; }
    else { key = literal(p, f.key); sequence = false; }
    // floats as keys normalize in Lua, duplicates resolve by constructor order: leave both to the interpreter
    if (!key || !value || key.kind === 'float' || seen.has(key.key)) return null;
    seen.add(key.key);
    entries.push({ key, value });
  }
  return { entries, sequence };
}

function intLit(p: ParseResult, v: bigint, at: L.Node): Lit {
  const node = { type: 'NumericLiteral', value: Number(v), raw: String(v), loc: at.loc, range: (at as unknown as { range: unknown }).range } as unknown as L.NumericLiteral;
  p.numbers.set(node, { kind: 'int', value: v });
  return { kind: 'int', node, key: `i:${v}` };
}

function strLit(p: ParseResult, v: string, at: L.Node): Lit {
  const node = { type: 'StringLiteral', value: v, raw: JSON.stringify(v), loc: at.loc, range: (at as unknown as { range: unknown }).range } as unknown as L.StringLiteral;
  p.strings.set(node, v);
  return { kind: 'str', node, key: `s:${v}` };
}

/** A deep copy of an AST subtree that carries the parse side tables along. */
function clone<T>(p: ParseResult, n: T): T {
  if (Array.isArray(n)) return n.map((x) => clone(p, x)) as T;
  if (!n || typeof n !== 'object') return n;
  const src = n as unknown as L.Node & Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) out[k] = k === 'loc' || k === 'range' ? src[k] : clone(p, src[k]);
  const node = out as unknown as L.Node;
  const s = p.strings.get(src), num = p.numbers.get(src), a = p.attributes.get(src);
  if (s !== undefined) p.strings.set(node, s);
  if (num !== undefined) p.numbers.set(node, num);
  if (a !== undefined) p.attributes.set(node, a);
  if (p.parens.has(src)) p.parens.add(node);
  return node as T;
}

function unroll(p: ParseResult, s: L.ForGenericStatement, tables: Map<string, { t: ConstTable; end: number }>): L.Statement | null {
  if (s.iterators.length !== 1) return null;
  const call = s.iterators[0]!;
  if (call.type !== 'CallExpression' || call.arguments.length !== 1) return null;
  const how = nameOf(call.base);
  const name = nameOf(call.arguments[0]!);
  const ct = name === undefined ? undefined : tables.get(name);
  if ((how !== 'pairs' && how !== 'ipairs') || !ct) return null;
  // the loop must come after the table's declaration (otherwise T is a global there)
  if ((s as unknown as { range: [number, number] }).range[0] < ct.end) return null;
  if (s.variables.length > 2) return null;
  let entries = ct.t.entries;
  if (how === 'ipairs') {
    entries = [];
    for (let i = 1n; ; i++) {
      const e = ct.t.entries.find((x) => x.key.key === `i:${i}`);
      if (!e) break;
      entries.push(e);
    }
  } else if (!ct.t.sequence && !(uniform(entries) && orderIndependent(s.body))) return null;
  const copies: L.Statement[] = entries.map((e) => {
    const init = [e.key, e.value].slice(0, s.variables.length).map((x) => clone(p, x.node));
    const local = { type: 'LocalStatement', variables: s.variables.map((v) => clone(p, v)), init, loc: s.loc, range: (s as unknown as { range: unknown }).range } as unknown as L.LocalStatement;
    return { type: 'DoStatement', body: [local, ...clone(p, s.body)], loc: s.loc, range: (s as unknown as { range: unknown }).range } as unknown as L.DoStatement;
  });
  const yes = { type: 'BooleanLiteral', value: true, raw: 'true', loc: s.loc, range: (s as unknown as { range: unknown }).range };
  return { type: 'RepeatStatement', body: copies, condition: yes, loc: s.loc, range: (s as unknown as { range: unknown }).range } as unknown as L.RepeatStatement;
}

const uniform = (es: ConstTable['entries']) =>
  es.every((e) => e.key.kind === es[0]!.key.kind && e.value.kind === es[0]!.value.kind);

const PURE_CALLS = new Set(['find', 'match', 'sub', 'byte', 'len', 'lower', 'upper', 'rep', 'reverse', 'format',
  'tostring', 'tonumber', 'type', 'abs', 'min', 'max', 'floor', 'ceil', 'fmod', 'tointeger', 'ult']);
const PURE_MODULES = new Set(['string', 'math']);

/** Whether the loop body's outcome is the same whichever order the entries are visited in. */
function orderIndependent(body: L.Statement[]): boolean {
  let ok = true;
  let result: string | undefined;
  visit(body, (n) => {
    switch (n.type) {
      case 'BreakStatement': case 'GotoStatement': case 'LabelStatement': case 'AssignmentStatement':
      case 'FunctionDeclaration': case 'ForGenericStatement': case 'VarargLiteral':
        ok = false; break;
      case 'ReturnStatement': {
        const lits = n.arguments.map((a) => (['NilLiteral', 'BooleanLiteral', 'NumericLiteral', 'StringLiteral'].includes(a.type) ? (a as { raw: string }).raw : null));
        if (lits.includes(null)) { ok = false; break; }
        const key = lits.join(',');
        if (result !== undefined && result !== key) ok = false;
        result = key;
        break;
      }
      case 'CallExpression': case 'StringCallExpression': case 'TableCallExpression': {
        const b = n.base;
        if (b.type === 'Identifier') { if (!PURE_CALLS.has(b.name)) ok = false; }
        else if (b.type === 'MemberExpression') {
          const mod = nameOf(b.base);
          if (!PURE_CALLS.has(b.identifier.name) || (b.indexer === '.' && !(mod && PURE_MODULES.has(mod)))) ok = false;
        } else ok = false;
        break;
      }
      default: break;
    }
  });
  return ok;
}

/**
 * `#t` of a constant table when Lua's answer is unique: integer keys exactly
 * 1..n (a sequence) give n; with a hole, Lua may return any border, so null.
 */
export function tableBorder(t: TableDef): bigint | null {
  const ints = t.entries.filter((x) => x.key.k === 'int').map((x) => (x.key as { v: bigint }).v);
  const n = BigInt(ints.length);
  return ints.every((k) => k >= 1n && k <= n) ? n : null;
}
