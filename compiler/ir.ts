// The typed IR between lower and codegen: structured statements over pure,
// Wasm-typed expressions. Every runtime check is explicit (error statements
// name a site: message + line:col) and so is every fuel point.

export type WType = 'i32' | 'i64' | 'f64';

export type Expr =
  | { k: 'i32'; v: number }
  | { k: 'i64'; v: bigint }
  | { k: 'f64'; v: number }
  | { k: 'get'; l: number; ty: WType }
  | { k: 'gget'; g: string; ty: WType }
  | { k: 'un'; op: string; a: Expr; ty: WType }
  | { k: 'bin'; op: string; a: Expr; b: Expr; ty: WType }
  /** lazy conditional: only the chosen arm is evaluated */
  | { k: 'if'; c: Expr; t: Expr; f: Expr; ty: WType }
  /** unsigned byte load at addr + off (bounds were checked by the IR before) */
  | { k: 'load8'; addr: Expr; off: number }
  /** call of a pure runtime helper (never fails) */
  | { k: 'helper'; fn: string; args: Expr[]; ty: WType };

export type Stmt =
  | { k: 'set'; l: number; e: Expr }
  | { k: 'gset'; g: string; e: Expr }
  | { k: 'if'; c: Expr; t: Stmt[]; f: Stmt[] }
  | { k: 'block'; label: string; body: Stmt[] }
  | { k: 'loop'; label: string; body: Stmt[] }
  | { k: 'br'; label: string; c?: Expr }
  /** return; a dyn value is returned as [tag, payload] */
  | { k: 'ret'; e: Expr[] }
  | { k: 'error'; site: number }
  /** spend one unit of fuel; error `site` when exhausted */
  | { k: 'fuel'; site: number }
  /**
   * call of a compiled Lua function; results go to locals `dst`. An error
   * propagates, unless `status` is given (pcall): then that i32 local gets 1,
   * or 0 and the error is cleared (exhausted fuel still propagates).
   */
  | { k: 'call'; fn: string; args: Expr[]; dst: number[]; status?: number };

export interface Site { message: string; line: number; column: number }

export interface IRFunc {
  name: string;
  params: WType[];
  results: WType[];
  /** all locals, params first */
  locals: { ty: WType; name: string }[];
  body: Stmt[];
}

export interface IRGlobal { name: string; ty: WType; init: Expr }

export interface IRModule {
  funcs: IRFunc[];
  globals: IRGlobal[];
  sites: Site[];
  /** name of the compiled `filter` function: (view i64, time i64) -> i32 truthiness */
  filter: string;
  /** whether `filter` reads its time argument (else the batch loop passes 0, not the descriptor's) */
  time?: boolean;
  /** whether the script reads packet bytes at offsets computed from packet bytes (a segment at a variable offset) */
  dependentReads?: boolean;
  /** name of the main chunk function */
  init: string;
  /** present when the script uses run-time tables (heap/): the runtime, its collector and the function gc_roots */
  heap?: true;
  /** present when the module uses strings: constants for the data segment and the pattern matchers to emit */
  strings?: { constants: Uint8Array; patterns: { name: string; bytes: Uint8Array; mode: 'match' | 'find' | 'plain' | 'gmatch' }[] };
}

export const i32 = (v: number): Expr => ({ k: 'i32', v: v | 0 });
export const i64 = (v: bigint): Expr => ({ k: 'i64', v: BigInt.asIntN(64, v) });
export const f64 = (v: number): Expr => ({ k: 'f64', v });

const RESULT: Record<string, WType> = {};
for (const op of ['eq', 'ne', 'lt_s', 'lt_u', 'le_s', 'le_u', 'gt_s', 'gt_u', 'ge_s', 'ge_u', 'eqz', 'lt', 'le', 'gt', 'ge'])
  for (const t of ['i32', 'i64', 'f64']) RESULT[`${t}.${op}`] = 'i32';

export function bin(op: string, a: Expr, b: Expr): Expr {
  const ty = RESULT[op] ?? (op.slice(0, 3) as WType);
  // small peepholes that keep the IR readable and help binaryen: a comparison of a
  // constant with a lazy if whose leaves are constants (a tag chosen by conditions)
  // is pushed into the leaves, leaving a tree of conditions that codegen turns into jumps
  const fold = CONST_CMP[op];
  if (fold && b.k === 'i32' && constLeaves(a, 8)) {
    const push = (x: Expr): Expr => (x.k === 'i32' ? i32(fold(x.v, b.v) ? 1 : 0) : x.k === 'if' ? simplifyBool(x.c, push(x.t), push(x.f)) : x);
    return push(a);
  }
  return { k: 'bin', op, a, b, ty };
}

const CONST_CMP: Record<string, (x: number, y: number) => boolean> = {
  'i32.eq': (x, y) => x === y,
  'i32.ne': (x, y) => x !== y,
  'i32.gt_u': (x, y) => (x >>> 0) > (y >>> 0),
  'i32.lt_u': (x, y) => (x >>> 0) < (y >>> 0),
};

/** whether `e` is an i32 constant or a lazy if (at most `depth` deep) whose arms all are */
function constLeaves(e: Expr, depth: number): boolean {
  if (e.k === 'i32') return true;
  return e.k === 'if' && e.ty === 'i32' && depth > 0 && constLeaves(e.t, depth - 1) && constLeaves(e.f, depth - 1);
}

/** `if c then t else f` for 0/1 values: `c`, `not c` or an and/or shape */
function simplifyBool(c: Expr, t: Expr, f: Expr): Expr {
  if (t.k === 'i32' && f.k === 'i32') {
    if (t.v === f.v) return t;
    return t.v ? (isBool(c) ? c : { k: 'bin', op: 'i32.ne', a: c, b: i32(0), ty: 'i32' }) : not(c);
  }
  return cond(c, t, f, 'i32');
}

export function un(op: string, a: Expr, ty: WType): Expr {
  return { k: 'un', op, a, ty };
}

export function not(c: Expr): Expr {
  if (c.k === 'i32') return i32(c.v ? 0 : 1);
  if (c.k === 'un' && c.op === 'i32.eqz' && isBool(c.a)) return c.a;
  return un('i32.eqz', c, 'i32');
}

/** whether `e` is an i32 0/1 by construction (a comparison or eqz) */
export function isBool(e: Expr): boolean {
  return (e.k === 'bin' && RESULT[e.op] === 'i32') || (e.k === 'un' && e.op === 'i32.eqz');
}

export function cond(c: Expr, t: Expr, f: Expr, ty: WType): Expr {
  if (c.k === 'i32') return c.v ? t : f;
  // inside an arm the condition's value is known: `if c then (if c then a else b)` is `if c then a`
  const key = printExpr(c);
  t = assume(t, key, true);
  f = assume(f, key, false);
  if (t.k === f.k && (t.k === 'i32' || t.k === 'i64') && t.v === (f as typeof t).v) return t;
  return { k: 'if', c, t, f, ty };
}

/** Rewrites `e` knowing that the condition printed as `key` is true (false). */
export function assume(e: Expr, key: string, v: boolean): Expr {
  if (isBool(e) && printExpr(e) === key) return i32(v ? 1 : 0);
  switch (e.k) {
    case 'if': {
      if (printExpr(e.c) === key) return assume(v ? e.t : e.f, key, v);
      const c = assume(e.c, key, v), t = assume(e.t, key, v), f = assume(e.f, key, v);
      return c === e.c && t === e.t && f === e.f ? e : { ...e, c, t, f };
    }
    case 'un': {
      if (e.op === 'i32.eqz' && printExpr(e.a) === key) return i32(v ? 0 : 1);
      const a = assume(e.a, key, v);
      return a === e.a ? e : { ...e, a };
    }
    case 'bin': {
      const a = assume(e.a, key, v), b = assume(e.b, key, v);
      return a === e.a && b === e.b ? e : bin(e.op, a, b);
    }
    default: return e;
  }
}

/** Number of IR nodes in `e`, counting up to `limit`. */
export function exprSize(e: Expr, limit = Infinity): number {
  let n = 0;
  const walk = (x: Expr): void => {
    if (n > limit) return;
    n++;
    switch (x.k) {
      case 'un': walk(x.a); break;
      case 'bin': walk(x.a); walk(x.b); break;
      case 'if': walk(x.c); walk(x.t); walk(x.f); break;
      case 'load8': walk(x.addr); break;
      case 'helper': x.args.forEach(walk); break;
      default: break;
    }
  };
  walk(e);
  return n;
}

/** Whether every local `e` reads is in `locals`. */
export function readsOnly(e: Expr, locals: ReadonlySet<number>): boolean {
  switch (e.k) {
    case 'get': return locals.has(e.l);
    case 'un': return readsOnly(e.a, locals);
    case 'bin': return readsOnly(e.a, locals) && readsOnly(e.b, locals);
    case 'if': return readsOnly(e.c, locals) && readsOnly(e.t, locals) && readsOnly(e.f, locals);
    case 'load8': return readsOnly(e.addr, locals);
    case 'helper': return e.args.every((a) => readsOnly(a, locals));
    default: return true;
  }
}

/** Whether `e` reads one of these locals or globals. */
export function readsAny(e: Expr, locals: ReadonlySet<number>, globals: ReadonlySet<string>): boolean {
  switch (e.k) {
    case 'get': return locals.has(e.l);
    case 'gget': return globals.has(e.g);
    case 'un': return readsAny(e.a, locals, globals);
    case 'bin': return readsAny(e.a, locals, globals) || readsAny(e.b, locals, globals);
    case 'if': return readsAny(e.c, locals, globals) || readsAny(e.t, locals, globals) || readsAny(e.f, locals, globals);
    case 'load8': return readsAny(e.addr, locals, globals);
    case 'helper': return e.args.some((a) => readsAny(a, locals, globals));
    default: return false;
  }
}

/** Whether statements call a script function (which may change any global). */
export function hasCall(ss: readonly Stmt[]): boolean {
  return ss.some((s) => s.k === 'call' || (s.k === 'if' && (hasCall(s.t) || hasCall(s.f))) ||
    ((s.k === 'block' || s.k === 'loop') && hasCall(s.body)));
}

/** Whether `e` reads a Wasm global (which a call may change). */
export function readsGlobal(e: Expr): boolean {
  switch (e.k) {
    case 'gget': return true;
    case 'un': return readsGlobal(e.a);
    case 'bin': return readsGlobal(e.a) || readsGlobal(e.b);
    case 'if': return readsGlobal(e.c) || readsGlobal(e.t) || readsGlobal(e.f);
    case 'load8': return readsGlobal(e.addr);
    case 'helper': return true;
    default: return false;
  }
}

export const and = (a: Expr, b: Expr) => (a.k === 'i32' ? (a.v ? b : i32(0)) : b.k === 'i32' && b.v ? a : cond(a, b, i32(0), 'i32'));
export const or = (a: Expr, b: Expr) => (a.k === 'i32' ? (a.v ? i32(1) : b) : b.k === 'i32' && !b.v ? a : cond(a, i32(1), b, 'i32'));

export function typeOf(e: Expr): WType {
  switch (e.k) {
    case 'i32': case 'i64': case 'f64': return e.k;
    case 'load8': return 'i64';
    default: return e.ty;
  }
}

// ---- printing (`--dump ir`) ----------------------------------------------------------

export function printExpr(e: Expr, names?: string[]): string {
  const p = (x: Expr) => printExpr(x, names);
  switch (e.k) {
    case 'i32': case 'i64': case 'f64': return `${e.k}:${String(e.v)}`;
    case 'get': return names?.[e.l] ?? `$${e.l}`;
    case 'gget': return `@${e.g}`;
    case 'un': return `(${e.op} ${p(e.a)})`;
    case 'bin': return `(${e.op} ${p(e.a)} ${p(e.b)})`;
    case 'if': return `(if ${p(e.c)} then ${p(e.t)} else ${p(e.f)})`;
    case 'load8': return `(load8 ${p(e.addr)}+${e.off})`;
    case 'helper': return `(${e.fn} ${e.args.map(p).join(' ')})`;
  }
}

export function printStmts(ss: Stmt[], indent: string, names: string[], sites: Site[]): string {
  const out: string[] = [];
  const p = (x: Expr) => printExpr(x, names);
  for (const s of ss) {
    switch (s.k) {
      case 'set': out.push(`${indent}${names[s.l]} = ${p(s.e)}`); break;
      case 'gset': out.push(`${indent}@${s.g} = ${p(s.e)}`); break;
      case 'if':
        out.push(`${indent}if ${p(s.c)} then`, printStmts(s.t, indent + '  ', names, sites));
        if (s.f.length) out.push(`${indent}else`, printStmts(s.f, indent + '  ', names, sites));
        out.push(`${indent}end`);
        break;
      case 'block': out.push(`${indent}block ${s.label}`, printStmts(s.body, indent + '  ', names, sites), `${indent}end`); break;
      case 'loop': out.push(`${indent}loop ${s.label}`, printStmts(s.body, indent + '  ', names, sites), `${indent}end`); break;
      case 'br': out.push(`${indent}br ${s.label}${s.c ? ' if ' + p(s.c) : ''}`); break;
      case 'ret': out.push(`${indent}return ${s.e.map(p).join(', ')}`); break;
      case 'error': {
        const site = sites[s.site]!;
        out.push(`${indent}error #${s.site} ${site.line}:${site.column}: ${site.message}`);
        break;
      }
      case 'fuel': out.push(`${indent}fuel #${s.site}`); break;
      case 'call': out.push(`${indent}${s.dst.map((d) => names[d]).join(', ')}${s.dst.length ? ' = ' : ''}${s.status !== undefined ? `${names[s.status]} = pcall` : 'call'} ${s.fn}(${s.args.map(p).join(', ')})`); break;
    }
  }
  return out.filter((x) => x !== '').join('\n');
}

export function printModule(m: IRModule): string {
  const out: string[] = [];
  for (const g of m.globals) out.push(`global @${g.name}: ${g.ty} = ${printExpr(g.init)}`);
  for (const f of m.funcs) {
    const names = f.locals.map((l) => l.name);
    const params = f.locals.slice(0, f.params.length).map((l) => `${l.name}: ${l.ty}`).join(', ');
    out.push(`func ${f.name}(${params}) -> (${f.results.join(', ')})`);
    for (const l of f.locals.slice(f.params.length)) out.push(`  local ${l.name}: ${l.ty}`);
    out.push(printStmts(f.body, '  ', names, m.sites), 'end');
  }
  out.push('sites:');
  m.sites.forEach((s, i) => out.push(`  #${i} ${s.line}:${s.column}: ${s.message}`));
  return out.join('\n');
}
