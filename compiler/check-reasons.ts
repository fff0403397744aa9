// How check words and filters its reasons, so that `luapf check` names the
// first cause rather than everything that follows from it: a library
// function the compiler does not compile is "not compiled yet" (it runs fine
// on the interpreter), and its result, like any value check could not type,
// gets the kind UNKNOWN (types.ts); a reason about what is done with such a
// value is a knock-on effect of one already reported, and is dropped.
import type * as L from 'luaparse';
import type { Ann } from './check-result.js';
import { callArgs } from './parse.js';
import { UNKNOWN } from './types.js';

/** Lua 5.4's library functions a filter's sandbox has (docs/SEMANTICS.md), as `lib.name` or the base function's name. */
const LIBRARY = new Set([
  ...['assert', 'error', 'getmetatable', 'ipairs', 'next', 'pairs', 'pcall', 'print', 'rawequal', 'rawget', 'rawlen',
    'rawset', 'require', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'xpcall'],
  ...['byte', 'char', 'find', 'format', 'gmatch', 'gsub', 'len', 'lower', 'match', 'pack', 'packsize', 'rep', 'reverse',
    'sub', 'unpack', 'upper'].map((n) => `string.${n}`),
  ...['concat', 'insert', 'move', 'pack', 'remove', 'sort', 'unpack'].map((n) => `table.${n}`),
  ...['abs', 'acos', 'asin', 'atan', 'ceil', 'cos', 'deg', 'exp', 'floor', 'fmod', 'log', 'max', 'min', 'modf', 'rad',
    'random', 'randomseed', 'sin', 'sqrt', 'tan', 'tointeger', 'type', 'ult'].map((n) => `math.${n}`),
  ...['char', 'codepoint', 'codes', 'len', 'offset'].map((n) => `utf8.${n}`),
  'data.new', 'data.layout',
]);

/** Globals Lua has but the sandbox leaves out (DESIGN.md §2). */
const NOT_IN_SANDBOX = new Set(['io', 'os', 'debug', 'coroutine', 'package', 'load', 'loadfile', 'dofile', 'collectgarbage']);

/** Why a call of the library function (or other builtin name) `name` is not compiled. */
export function uncompiledCall(name: string): string {
  if (LIBRARY.has(name)) return `${name} is not compiled yet`;
  return `call to '${name}', which Lua 5.4's libraries do not have (it is nil)`;
}

/** The reason for reading `name` from a global that is never assigned (nil), if the sandbox explains it. */
export function missingGlobal(name: string): string | undefined {
  return NOT_IN_SANDBOX.has(name) ? `'${name}' is not available to filters (the sandbox has no ${name})` : undefined;
}

/** The expressions a node operates on directly. */
function operandsOf(n: L.Node): (L.Node | null | undefined)[] {
  switch (n.type) {
    case 'BinaryExpression': case 'LogicalExpression': return [n.left, n.right];
    case 'UnaryExpression': return [n.argument];
    case 'MemberExpression': return [n.base];
    case 'IndexExpression': return [n.base, n.index];
    case 'CallExpression': case 'TableCallExpression': case 'StringCallExpression':
      return [n.base, n.base.type === 'MemberExpression' ? n.base.base : null, ...callArgs(n)];
    case 'ReturnStatement': return n.arguments;
    case 'LocalStatement': case 'AssignmentStatement': return n.init;
    case 'ForNumericStatement': return [n.start, n.end, n.step];
    default: return [];
  }
}

/**
 * Whether a reason at `node` follows from a value check could not type: one
 * of its operands is UNKNOWN, or (with `self`) the node's own value is. Where
 * a node's UNKNOWN type comes from its own reason, only its operands count.
 */
export function isKnockOn(ann: Map<L.Node, Ann>, node: L.Node, self: boolean): boolean {
  const unknown = (x: L.Node | null | undefined) => !!x && ((ann.get(x)?.ty.m ?? 0) & UNKNOWN) !== 0;
  return (self && unknown(node)) || operandsOf(node).some(unknown);
}
