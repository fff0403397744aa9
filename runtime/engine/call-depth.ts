// The call-depth limit on the interpreter (docs/SEMANTICS.md, "Call
// depth"): at most MAX_CALL_DEPTH calls of the script's own functions in
// progress, counted as the compiled engine counts them.
//
// Only a script that may nest its calls deeper pays anything. mayNest
// decides it from the source; the compiler answers the same question from
// its own call graph (compiler/callgraph.ts). The answer must never be "no"
// for a script that can go deeper, so whatever this does not follow counts
// as "it may":
//   - a function value that escapes: passed as an argument (other than by
//     name to pcall or xpcall), stored in a table or another variable,
//     returned, compared, a method or field function, an anonymous function;
//   - _G or _ENV, through which any global function may be reached.
// Otherwise calls are by name, and the functions a name may hold are known:
// a cycle among them, or a chain of more calls than the limit, may nest too
// deep.
//
// Such a script is counted by rewriting its text (same lines, so Lua's
// messages keep their line numbers): each function body starts with
//   local __luapf_d = __luapf_n + 1 if __luapf_d > N then __luapf_over() end __luapf_n = __luapf_d do
// and ends `end __luapf_n = __luapf_d - 1`, and `return e` becomes
// `return __luapf_ret(__luapf_d - 1, e)`, which sets the count back after e
// is evaluated (so `return f(x)` is no longer a tail call: it counts, as in
// the compiled engine, which has no tail calls). __luapf_n is a local of the
// main chunk; the prefix added to line 1 hands its getter and setter to the
// runtime (engine/lua.ts), which sets it back where an error is caught
// (pcall, xpcall) and before each packet. A hook on every call and return
// did the same at 8 times the cost of the script (the hook also runs for
// every library and data-view call); this costs a few instructions a call
// (+3 to +5% on call-heavy filters).
import luaparse from 'luaparse';
import type * as L from 'luaparse';
import { maskLua } from './position.js';
import { MAX_CALL_DEPTH } from '../../compiler/abi.js';


type Fn = L.FunctionDeclaration | L.Chunk;
/** The functions a variable (a local, or a global by name) is ever bound to. */
interface Binding { fns: Set<Fn> }
type Ranged = { range: [number, number] };

/** Whether the script may nest calls of its functions more than `limit` deep (true when luaparse cannot read it). */
export function mayNest(source: string, limit: number): boolean {
  return analyse(source, limit).deep;
}

/**
 * The script rewritten to count its calls, when it may nest them deeper than
 * MAX_CALL_DEPTH (or `always`); undefined when it cannot (or when luaparse
 * cannot read it: it is not counted then, and the compiler, which parses
 * with luaparse too, does not compile it either).
 */
export function countedSource(source: string, always = false): string | undefined {
  const a = analyse(source, MAX_CALL_DEPTH);
  if (!(a.deep || always) || !a.edits) return undefined;
  // applied from the end; at one position, in the order they were made
  const edits = [[0, PREFIX] as [number, string], ...a.edits].map((e, i) => ({ at: e[0], text: e[1], i }));
  edits.sort((x, y) => y.at - x.at || y.i - x.i);
  let out = source;
  for (const { at, text } of edits) out = out.slice(0, at) + text + out.slice(at);
  return out;
}

/** Line 1's prefix: the counter, the return helper, and the runtime's hand-over (deleted from the environment at once). */
const PREFIX = 'local __luapf_n, __luapf_ret, __luapf_over = 0 do local h = _ENV.__luapf _ENV.__luapf = nil ' +
  '__luapf_over = h.overflow function __luapf_ret(d, ...) __luapf_n = d return ... end ' +
  'h.register(function() return __luapf_n end, function(d) __luapf_n = d end, __luapf_ret) end ';
const ENTER = ` local __luapf_d = __luapf_n + 1 if __luapf_d > ${MAX_CALL_DEPTH} then __luapf_over() end __luapf_n = __luapf_d do `;
const LEAVE = ' end __luapf_n = __luapf_d - 1 ';
const BACK = '__luapf_n = __luapf_d - 1 ';

function analyse(source: string, limit: number): { deep: boolean; edits?: [number, string][] } {
  const masked = maskLua(source);
  let ast: L.Chunk;
  try {
    // Lua 5.4 attributes blanked (luaparse reads 5.3); strings and comments already are
    const text = masked.replace(/<\s*(const|close)\s*>/g, (m) => ' '.repeat(m.length));
    ast = luaparse.parse(text, { luaVersion: '5.3', comments: false, scope: false, locations: false, ranges: true } as L.Options);
  } catch {
    return { deep: true };
  }
  const globals = new Map<string, Binding>();
  const scopes: Map<string, Binding>[] = [];
  const calls: [Fn, Binding][] = [];
  const values: Binding[] = [];
  const edits: [number, string][] = [];
  let escapes = false;

  const declare = (name: string, b: Binding = { fns: new Set() }): Binding => {
    scopes[scopes.length - 1]!.set(name, b);
    return b;
  };
  const lookup = (name: string): Binding | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const b = scopes[i]!.get(name);
      if (b) return b;
    }
    return undefined;
  };
  const resolve = (name: string): Binding => {
    const b = lookup(name);
    if (b) return b;
    let g = globals.get(name);
    if (!g) globals.set(name, (g = { fns: new Set() }));
    return g;
  };
  const isGlobal = (name: string) => lookup(name) === undefined;

  const block = (body: L.Statement[], cur: Fn, before?: () => void) => {
    scopes.push(new Map());
    before?.();
    for (const s of body) stmt(s, cur);
    scopes.pop();
  };
  /** A function bound to `b` (a function that escapes: to a fresh binding): its body is a node of the call graph. */
  const bind = (b: Binding, f: L.FunctionDeclaration) => {
    b.fns.add(f);
    const [from, to] = (f as unknown as Ranged).range;
    const open = masked.indexOf('(', from);
    edits.push([masked.indexOf(')', open) + 1, ENTER]);
    block(f.body, f, () => { for (const p of f.parameters) if (p.type === 'Identifier') declare(p.name); });
    edits.push([to - 'end'.length, LEAVE]);
  };
  /** `e` in the place of a value: a function there escapes. */
  const value = (e: L.Expression | null | undefined, cur: Fn): void => {
    if (!e) return;
    switch (e.type) {
      case 'Identifier':
        if ((e.name === '_G' || e.name === '_ENV') && isGlobal(e.name)) escapes = true;
        values.push(resolve(e.name));
        return;
      case 'FunctionDeclaration': escapes = true; bind({ fns: new Set() }, e); return;
      case 'CallExpression': case 'StringCallExpression': case 'TableCallExpression': call(e, cur); return;
      case 'BinaryExpression': case 'LogicalExpression': value(e.left, cur); value(e.right, cur); return;
      case 'UnaryExpression': value(e.argument, cur); return;
      case 'MemberExpression': value(e.base, cur); return;
      case 'IndexExpression': value(e.base, cur); value(e.index, cur); return;
      case 'TableConstructorExpression':
        for (const f of e.fields) { if (f.type === 'TableKey') value(f.key, cur); value(f.value, cur); }
        return;
      default: return;
    }
  };
  const call = (e: L.CallExpression | L.StringCallExpression | L.TableCallExpression, cur: Fn) => {
    const args = e.type === 'CallExpression' ? e.arguments : e.type === 'TableCallExpression' ? [e.arguments] : [e.argument];
    const base = e.base;
    if (base.type !== 'Identifier') { value(base, cur); args.forEach((a) => value(a, cur)); return; }
    calls.push([cur, resolve(base.name)]);
    // pcall(f, ...) and xpcall(f, handler, ...) call f (and the handler) from C
    const byName = (base.name === 'pcall' || base.name === 'xpcall') && isGlobal(base.name) ? (base.name === 'pcall' ? 1 : 2) : 0;
    args.forEach((a, i) => {
      if (i < byName && a.type === 'Identifier') calls.push([cur, resolve(a.name)]);
      else value(a, cur);
    });
  };
  /** `return e...` of a function: the count goes back after e is evaluated (before, when e cannot call anything). */
  const leave = (s: L.ReturnStatement) => {
    const [from, to] = (s as unknown as Ranged).range;
    const plain = (e: L.Expression) => /Literal$/.test(e.type) || (e.type === 'Identifier' && !isGlobal(e.name));
    if (s.arguments.every(plain)) { edits.push([from, BACK]); return; }
    let end = to;
    while (/[\s;]/.test(masked[end - 1]!)) end--;
    edits.push([from + 'return'.length, ' __luapf_ret(__luapf_d - 1, '], [end, ')']);
  };
  const stmt = (s: L.Statement, cur: Fn): void => {
    switch (s.type) {
      case 'LocalStatement': {
        // the new locals are in scope only after the statement (a function here sees the outer names)
        const bs: Binding[] = s.variables.map(() => ({ fns: new Set() }));
        s.init.forEach((e, i) => { if (e.type === 'FunctionDeclaration' && bs[i]) bind(bs[i]!, e); else value(e, cur); });
        s.variables.forEach((v, i) => declare(v.name, bs[i]));
        return;
      }
      case 'AssignmentStatement':
        s.init.forEach((e, i) => {
          const t = s.variables[i];
          if (e.type === 'FunctionDeclaration' && t?.type === 'Identifier') bind(resolve(t.name), e);
          else value(e, cur);
        });
        for (const t of s.variables) if (t.type !== 'Identifier') value(t, cur);
        return;
      case 'FunctionDeclaration': {
        const id = s.identifier;
        if (id?.type === 'Identifier') bind(s.isLocal ? declare(id.name) : resolve(id.name), s);
        else { escapes = true; bind({ fns: new Set() }, s); }
        return;
      }
      case 'CallStatement': value(s.expression, cur); return;
      case 'ReturnStatement':
        s.arguments.forEach((e) => value(e, cur));
        if (cur !== ast) leave(s);
        return;
      case 'IfStatement':
        for (const c of s.clauses) { if (c.type !== 'ElseClause') value(c.condition, cur); block(c.body, cur); }
        return;
      case 'WhileStatement': value(s.condition, cur); block(s.body, cur); return;
      case 'RepeatStatement':
        scopes.push(new Map());
        for (const x of s.body) stmt(x, cur);
        value(s.condition, cur);
        scopes.pop();
        return;
      case 'DoStatement': block(s.body, cur); return;
      case 'ForNumericStatement':
        value(s.start, cur); value(s.end, cur); value(s.step, cur);
        block(s.body, cur, () => declare(s.variable.name));
        return;
      case 'ForGenericStatement':
        s.iterators.forEach((e) => value(e, cur));
        block(s.body, cur, () => s.variables.forEach((v) => declare(v.name)));
        return;
      default: return;
    }
  };
  block(ast.body, ast);
  if (escapes || values.some((b) => b.fns.size > 0)) return { deep: true, edits };

  const callees = new Map<Fn, Set<Fn>>();
  for (const [f, b] of calls) {
    let out = callees.get(f);
    if (!out) callees.set(f, (out = new Set()));
    for (const g of b.fns) out.add(g);
  }
  // the longest chain of calls from each function; through a cycle it has no end
  const longest = new Map<Fn, number>();
  const onPath = new Set<Fn>();
  const chain = (f: Fn): number => {
    const known = longest.get(f);
    if (known !== undefined) return known;
    if (onPath.has(f)) return Infinity;
    onPath.add(f);
    let n = 0;
    for (const g of callees.get(f) ?? []) n = Math.max(n, 1 + chain(g));
    onPath.delete(f);
    longest.set(f, n);
    return n;
  };
  return { deep: [...callees.keys()].some((f) => chain(f) > limit), edits };
}
