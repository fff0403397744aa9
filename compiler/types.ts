// The static type lattice shared by check, lower and codegen.
// A type is a set of kinds (bit mask) plus, when known, the one constant value.

export const NIL = 1, FALSE = 2, TRUE = 4, INT = 8, FLOAT = 16, STR = 32, VIEW = 64,
  LAYOUT = 128, TABLE = 256, FUNC = 512, DATA = 1024, BUILTIN = 2048;
/**
 * A value check could not type (the result of a call it does not compile, a
 * field of a nil value, ...): its cause is a reason already, so reasons about
 * what is done with such a value are knock-on effects and are not reported.
 * Never compiled: a script with one has a reason.
 */
export const UNKNOWN = 4096;
/**
 * A run-time table (a heap object, tables/heap-*.ts): held as a `dyn` value
 * with TAG.table. Its type carries the table class (`Ty.tab`) that says
 * which key and value types its tables may hold.
 */
export const HTAB = 8192;
export const BOOL = FALSE | TRUE;
export const FALSY = NIL | FALSE;
export const NUM = INT | FLOAT;
/** kinds that exist only at compile time: values of these kinds must be known constants */
export const STATIC = LAYOUT | TABLE | FUNC | DATA | BUILTIN;

export type Const =
  | { k: 'nil' }
  | { k: 'bool'; v: boolean }
  | { k: 'int'; v: bigint }
  | { k: 'float'; v: number }
  | { k: 'str'; v: string }
  | { k: 'layout'; id: number }
  | { k: 'table'; id: number }
  | { k: 'func'; id: number }
  | { k: 'data' }
  | { k: 'builtin'; name: string };

export interface Ty {
  m: number;
  c?: Const;
  /** with HTAB: the class of the run-time tables this value may be */
  tab?: TabClass;
  /** with FUNC: the script functions (FnInfo ids) this value may be */
  fns?: ReadonlySet<number>;
}

/**
 * The tables of one or more constructors that flow together (unification:
 * a variable or table slot that may hold tables of two classes merges them).
 * `key` and `val` are the joins of every key and value stored, so a read of
 * `t[k]` has type `val` or nil. Classes only merge and grow, as types do.
 */
export interface TabClass {
  id: number;
  parent?: TabClass;
  key: Ty;
  /** every value stored */
  val: Ty;
  /** the values stored under each constant string key (`t.name = v`, `{ name = v }`): records keep a type per field */
  fields: Map<string, Ty>;
  /** the values stored under computed keys that may be strings (they may land on any field) */
  anyStr: Ty;
}

/** The type of `t.name` for a table of class `c`, nil excluded. */
export function fieldOf(c: TabClass, name: string): Ty {
  const r = findTab(c);
  return join(r.fields.get(name) ?? BOTTOM, r.anyStr);
}

export function findTab(t: TabClass): TabClass {
  while (t.parent) t = t.parent;
  return t;
}

/** Merges two table classes (their key and value types join); returns the representative. */
export function unifyTabs(a: TabClass, b: TabClass): TabClass {
  const x = findTab(a), y = findTab(b);
  if (x === y) return x;
  const [root, child] = x.id < y.id ? [x, y] : [y, x];
  child.parent = root;
  root.key = join(root.key, child.key);
  root.val = join(root.val, child.val);
  root.anyStr = join(root.anyStr, child.anyStr);
  for (const [k, t] of child.fields) root.fields.set(k, join(root.fields.get(k) ?? BOTTOM, t));
  return root;
}

export const BOTTOM: Ty = { m: 0 };

export function constTy(c: Const): Ty {
  switch (c.k) {
    case 'nil': return { m: NIL, c };
    case 'bool': return { m: c.v ? TRUE : FALSE, c };
    case 'int': return { m: INT, c };
    case 'float': return { m: FLOAT, c };
    case 'str': return { m: STR, c };
    case 'layout': return { m: LAYOUT, c };
    case 'table': return { m: TABLE, c };
    case 'func': return { m: FUNC, c, fns: new Set([c.id]) };
    case 'data': return { m: DATA, c };
    case 'builtin': return { m: BUILTIN, c };
  }
}

export function sameConst(a?: Const, b?: Const): boolean {
  if (!a || !b || a.k !== b.k) return false;
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  if (a.k === 'float') return Object.is(x.v, y.v);
  return x.v === y.v && x.id === y.id && x.name === y.name;
}

export function join(a: Ty, b: Ty): Ty {
  if (a.m === 0) return b;
  if (b.m === 0) return a;
  const m = a.m | b.m;
  const tab = a.tab && b.tab ? unifyTabs(a.tab, b.tab) : a.tab ?? b.tab;
  const out: Ty = sameConst(a.c, b.c) ? { m, c: a.c } : { m };
  if (tab) out.tab = findTab(tab);
  const fns = a.fns && b.fns ? new Set([...a.fns, ...b.fns]) : a.fns ?? b.fns;
  if (fns) out.fns = fns;
  return out;
}

export function tyEq(a: Ty, b: Ty): boolean {
  if ((a.tab ? findTab(a.tab) : undefined) !== (b.tab ? findTab(b.tab) : undefined)) return false;
  if ((a.fns?.size ?? 0) !== (b.fns?.size ?? 0) || [...(a.fns ?? [])].some((f) => !b.fns!.has(f))) return false;
  return a.m === b.m && (a.c === b.c || sameConst(a.c, b.c));
}

/** Removes kinds from a type (keeping a constant only if its kind survives, a table class only with HTAB). */
export function without(t: Ty, mask: number): Ty {
  const m = t.m & ~mask;
  const out: Ty = t.c && (constTy(t.c).m & m) ? { m, c: t.c } : { m };
  if (t.tab && m & HTAB) out.tab = t.tab;
  if (t.fns && m & FUNC) out.fns = t.fns;
  return out;
}

export function only(t: Ty, mask: number): Ty {
  return without(t, ~mask);
}

/** How a value of this type is held at run time. */
export type Rep = 'none' | 'bool' | 'int' | 'float' | 'view' | 'dyn';

export function repOf(t: Ty): Rep | null {
  if (t.m === 0) return 'none';
  if (t.m & UNKNOWN) return null;
  if (t.c && t.m === constTy(t.c).m) return 'none';
  if (t.m === NIL) return 'none';
  // a function value that may be one of several, or something else: (TAG.func, its id)
  if (t.m & FUNC && t.fns && (t.m & STATIC & ~FUNC) === 0) return 'dyn';
  if ((t.m & STATIC) !== 0) return null;
  if ((t.m & ~BOOL) === 0) return 'bool';
  if (t.m === INT) return 'int';
  if (t.m === FLOAT) return 'float';
  if ((t.m & ~(VIEW | NIL)) === 0) return 'view';
  // a string is held like a view: i64 ptr << 32 | len, nil all ones
  if ((t.m & ~(STR | NIL)) === 0) return 'view';
  return 'dyn';
}

export function tyName(t: Ty): string {
  const names: [number, string][] = [[NIL, 'nil'], [FALSE, 'false'], [TRUE, 'true'], [INT, 'integer'],
    [FLOAT, 'float'], [STR, 'string'], [VIEW, 'data'], [LAYOUT, 'layout'], [TABLE, 'table'],
    [FUNC, 'function'], [DATA, 'module'], [BUILTIN, 'builtin'], [UNKNOWN, 'unknown'], [HTAB, 'table']];
  const parts = names.filter(([b]) => t.m & b).map(([, n]) => n);
  if (t.c && t.c.k !== 'nil' && t.c.k !== 'bool') {
    const c = t.c as Record<string, unknown>;
    const v = c.k === 'str' ? JSON.stringify(c.v) : String(c.v ?? c.id ?? c.name ?? '');
    return `${parts.join('|')}=${v}`;
  }
  return parts.join('|') || 'never';
}

/** Lua type name for a single kind, as error messages print it. */
export function luaTypeName(kind: number): string {
  if (kind & NIL) return 'nil';
  if (kind & BOOL) return 'boolean';
  if (kind & NUM) return 'number';
  if (kind & STR) return 'string';
  if (kind & VIEW) return 'userdata';
  if (kind & FUNC) return 'function';
  return 'table';
}

/** Runtime tags of dynamically typed values (`dyn` rep: i32 tag + i64 payload). */
export const TAG = { nil: 0, false: 1, true: 2, int: 3, float: 4, view: 5, str: 6, table: 7, func: 8 } as const;

/** The one kind bit of each run-time tag (TAG's inverse). */
export const KIND_OF_TAG = [NIL, FALSE, TRUE, INT, FLOAT, VIEW, STR, HTAB, FUNC] as const;

export interface FieldDef {
  name: string;
  kind: 'number' | 'string';
  /** bits for numbers, bytes for strings */
  offset: number;
  length: number;
  little: boolean;
}

export interface LayoutDef {
  id: number;
  fields: Map<string, FieldDef>;
  line: number;
  column: number;
}

export interface TableDef {
  id: number;
  entries: { key: Const; value: Const }[];
}

/** Layout state of a view: set of layout ids, -1 meaning "no layout attached". */
export type LSet = ReadonlySet<number>;
export const NO_LAYOUT = -1;

/** The union of two layout sets (either may be missing: nothing known yet). */
export function lsJoin(a: Iterable<number> | undefined, b: Iterable<number> | undefined): Set<number> {
  const s = new Set<number>(a ?? []);
  for (const x of b ?? []) s.add(x);
  return s;
}
export const lsEq = (a: LSet, b: LSet) => a.size === b.size && [...a].every((x) => b.has(x));
