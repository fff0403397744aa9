// Flow-sensitive narrowing for lower.ts: after `if not v then return end`,
// inside `if v ~= nil then`, or on the right of `v and ...`, a local is known
// not to be nil (or false), so its reads drop the nil checks. Facts are kept
// per function, only for the function's own locals (a call cannot change
// them), and are dropped where the variable is assigned and at loop heads.
import type * as L from 'luaparse';
import type { Var } from './check-result.js';
import type { Lowerer } from './lower.js';
import { FALSY, NIL } from './types.js';

/** [variable, kinds it cannot hold, bytes a view is known to have at least] */
export type Fact = [Var, number, number?];

/** Records facts in the current state. */
export function addFacts(l: Lowerer, add: Fact[]): void {
  for (const [v, m, len] of add) {
    if (m) l.facts.set(v, (l.facts.get(v) ?? 0) | m);
    if (len) l.lens.set(v, Math.max(l.lens.get(v) ?? 0, len));
  }
}

/** A field of an own local view compared with a non-nil value: the comparison ran, so the field was in the view. */
function fieldLen(l: Lowerer, a: L.Expression, b: L.Expression): Fact[] {
  if (a.type !== 'MemberExpression' || a.base.type !== 'Identifier') return [];
  const f = l.c.ann.get(a)?.field;
  const v = own(l, a.base);
  const other = l.c.ann.get(b)?.ty;
  if (!f || f.kind !== 'number' || !v || !other || other.m & NIL) return [];
  const need = Math.ceil((f.offset + f.length) / 8);
  return need > 0xffffffff ? [] : [[v, 0, need]];
}

/** The variable `n` names, if it is a local of the function being lowered (the only ones facts are kept for). */
function own(l: Lowerer, n: L.Expression): Var | undefined {
  if (n.type !== 'Identifier') return undefined;
  const v = l.c.ann.get(n)?.var;
  return v && v.kind !== 'global' && v.fn === l.info && l.info !== l.c.main ? v : undefined;
}

/** Kinds a condition excludes when it evaluates to `truth`. */
export function factsOf(l: Lowerer, e: L.Expression, truth: boolean): Fact[] {
  switch (e.type) {
    case 'Identifier': {
      const v = own(l, e);
      return v && truth ? [[v, FALSY]] : [];
    }
    case 'UnaryExpression': return e.operator === 'not' ? factsOf(l, e.argument, !truth) : [];
    case 'LogicalExpression':
      if (e.operator === 'and' && truth) return [...factsOf(l, e.left, true), ...factsOf(l, e.right, true)];
      if (e.operator === 'or' && !truth) return [...factsOf(l, e.left, false), ...factsOf(l, e.right, false)];
      return [];
    case 'BinaryExpression': {
      if (e.operator !== '==' && e.operator !== '~=') return [];
      const ne = (e.operator === '~=') === truth;
      if (!ne) return [...fieldLen(l, e.left, e.right), ...fieldLen(l, e.right, e.left)];
      const v = e.right.type === 'NilLiteral' ? own(l, e.left) : e.left.type === 'NilLiteral' ? own(l, e.right) : undefined;
      return v ? [[v, NIL]] : [];
    }
    default: return [];
  }
}

/** Runs `body` with extra facts; afterwards the facts are as before, minus variables `body` assigned. */
export function withFacts(l: Lowerer, add: Fact[], body: () => void): void {
  const saved = new Map(l.facts), savedLens = new Map(l.lens);
  const mark = l.assignLog.length;
  addFacts(l, add);
  body();
  l.facts = saved;
  l.lens = savedLens;
  for (const v of l.assignLog.slice(mark)) { l.facts.delete(v); l.lens.delete(v); }
}

/** Runs a loop body with no facts (a back edge may bring any state), then drops what it assigned. */
export function inLoop(l: Lowerer, body: () => void): void {
  const saved = l.facts, savedLens = l.lens;
  const mark = l.assignLog.length;
  l.facts = new Map();
  l.lens = new Map();
  body();
  l.facts = saved;
  l.lens = savedLens;
  for (const v of l.assignLog.slice(mark)) { l.facts.delete(v); l.lens.delete(v); }
}

/** Whether a block never falls through to the statement after it. */
export function exits(body: L.Statement[]): boolean {
  const s = body[body.length - 1];
  if (!s) return false;
  if (s.type === 'ReturnStatement' || s.type === 'BreakStatement' || s.type === 'GotoStatement') return true;
  if (s.type === 'CallStatement' && s.expression.type === 'CallExpression' && s.expression.base.type === 'Identifier')
    return s.expression.base.name === 'error';
  if (s.type === 'DoStatement') return exits(s.body);
  if (s.type === 'IfStatement') return s.clauses.some((c) => c.type === 'ElseClause') && s.clauses.every((c) => exits(c.body));
  return false;
}
