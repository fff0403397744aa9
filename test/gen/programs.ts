// Random filter scripts in the compiled subset, for differential testing of
// the compiler against the interpreter (test/compiler-property.test.ts,
// bench/fuzz.ts).
//
// Generation is type-directed (int, float and bool expressions, each over the
// variables of its scope) so that most programs type-check. A program holds
// several independent "checks"; a module-level call counter picks the check
// and one of SLOTS observation slots per call, so running each packet
// `checks * SLOTS` times in a row observes every check on it: slots 0..7 are
// the bits of the check's integer result folded to 8 bits (any single-bit
// difference survives the xor fold), slot 8 compares its float result with a
// threshold, slot 9 tells its sign (including -0.0). One Lua state and one
// module then cover many expressions, which keeps the (slow to create)
// interpreter per program affordable.
//
// Everything is rendered to Lua text inside fast-check arbitraries built with
// `map`, so fast-check's shrinking shrinks the program structure itself.
import fc from 'fast-check';

/** observation slots per check */
export const SLOTS = 10;

export interface GenProgram {
  source: string;
  /** number of checks: each packet must be run `checks * SLOTS` times in a row */
  checks: number;
}

/**
 * Constructs the generator may emit. The defaults are what compiles and
 * agrees today; off by default because the compiler gets them wrong (see
 * test/regressions/pending/): `orDefault` and `ternary` (internal error
 * "cannot convert dyn to int/float" in lowering), `nanFor` (a float for loop
 * with a NaN bound runs once in Lua, never when compiled), `powNegZero`
 * (constant folding of (-0.0)^1 gives +0.0). `floatMod`,
 * `powAny`, `oddLittle`, `mixedFor` are outside the checked subset.
 */
export interface GenFeatures {
  /** `f % g` on floats (outside the subset when this was written) */
  floatMod: boolean;
  /** `x ^ y` with non-constant exponents */
  powAny: boolean;
  /** little-endian fields that are not whole bytes */
  oddLittle: boolean;
  /** numeric for with integer start/step and a float limit */
  mixedFor: boolean;
  /** local functions and the bounded recursive helper */
  functions: boolean;
  /** loops (numeric for, while, repeat) */
  loops: boolean;
  /** `pkt:segment(o, n)` expressions */
  segments: boolean;
  /** `(pkt:layout(L).f or 0)`: a nil-or-int value defaulted with `or` */
  orDefault: boolean;
  /** `(c and x or y)`: the and/or idiom with a non-constant condition */
  ternary: boolean;
  /** float for loops whose start, limit or step may be NaN (else they are replaced by 0.0 first) */
  nanFor: boolean;
  /** `x ^ k` with any base (else the base goes through math.abs, so it is never -0.0) */
  powNegZero: boolean;
  /**
   * run-time tables kept in module state (compiler/heap/): an integer map N, a
   * map M of mixed values (numbers, booleans, strings from the packet, tables),
   * a sequence Q (table.insert / table.remove at positions), a record R with a
   * nested sequence; stores, reads (unions defaulted with `or`), `#`, and
   * order-independent pairs / ipairs loops
   */
  tables: boolean;
}

export const DEFAULT_FEATURES: GenFeatures = {
  floatMod: false, powAny: false, oddLittle: false, mixedFor: false, functions: true, loops: true, segments: true,
  orDefault: false, ternary: false, nanFor: false, powNegZero: false, tables: true,
};

/** the module-level tables of the `tables` feature */
const TABLES_INIT = [
  'local N = {}', 'local M = {}', 'local Q = {}', "local R = { n = 0, tag = 'a', sub = { 1, 2 } }", 'R.n = 0',
  // function values: picked from a table by a computed key, passed to a function that calls them
  'local F = { function(a, b) return a + b end, function(a, b) return (a ~ b) * 3 end, function(a, b) return a - b * 2 end }',
  'local function apply(f, a, b) return f(a, b) end',
].join('\n');

// ---- literals -----------------------------------------------------------------

const MAXI = (1n << 63n) - 1n;
const MINI = -(1n << 63n);

function intLit(v: bigint): string {
  if (v === MINI) return '(-0x7fffffffffffffff - 1)';
  return v < 0n ? `(-${-v})` : `${v}`;
}

/** edge integers, several spelled as Lua writes them (hex literals wrap modulo 2^64) */
const INT_EDGE = [
  '0', '1', '(-1)', '2', '3', '7', '8', '31', '32', '63', '64', '65', '(-63)', '(-64)', '(-65)', '255', '256', '65535',
  '0x7fffffffffffffff', '0x8000000000000000', '0xffffffffffffffff', 'math.maxinteger', 'math.mininteger',
  '(-0x7fffffffffffffff - 1)', '9223372036854775807', '4294967295', '4294967296', '(-4294967296)', '0x100000000',
  '2147483647', '(-2147483648)',
];

const intLiteral: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...INT_EDGE), weight: 4 },
  { arbitrary: fc.integer({ min: -300, max: 300 }).map((v) => intLit(BigInt(v))), weight: 4 },
  { arbitrary: fc.bigInt(MINI, MAXI).map(intLit), weight: 1 },
);

function floatLit(v: number): string {
  if (Number.isNaN(v)) return '(0/0)';
  if (v === Infinity) return '(1/0)';
  if (v === -Infinity) return '(-1/0)';
  if (Object.is(v, -0)) return '(-0.0)';
  let s = Math.abs(v).toString();
  if (!/[.e]/.test(s)) s += '.0';
  return v < 0 ? `(-${s})` : s;
}

const FLOAT_EDGE = [
  '0.0', '(-0.0)', '0.5', '(-0.5)', '1.0', '(-1.0)', '1.5', '(-1.5)', '2.5', '0.1', '3.0', '64.0', '63.0',
  '1e308', '(-1e308)', '5e-324', '2.2250738585072014e-308', '(1/0)', '(-1/0)', '(0/0)', '1e400',
  '9.2233720368547758e18', '(-9.2233720368547758e18)', '9.223372036854775e18', '9007199254740992.0',
  '9007199254740993.0', '4503599627370495.5', '18446744073709551616.0',
];

const floatLiteral: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...FLOAT_EDGE), weight: 4 },
  { arbitrary: fc.integer({ min: -40, max: 40 }).map((v) => floatLit(v / 4)), weight: 2 },
  { arbitrary: fc.double({ noNaN: false }).map(floatLit), weight: 1 },
);

// ---- layouts ------------------------------------------------------------------

export const FIELDS = ['a', 'b', 'c', 'd'] as const;
const LAYOUTS = 3;

function fieldArb(f: GenFeatures): fc.Arbitrary<string> {
  const big = fc.record({
    offset: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 80 * 8 }), weight: 5 }, fc.constantFrom(0, 1, 7, 8, 9, 600, 632, 639, 640, 100000)),
    length: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 64 }), weight: 6 }, fc.constantFrom(1, 8, 16, 32, 63, 64, 64)),
    endian: fc.constantFrom('', '', 'b', 'l', 'h'),
    named: fc.boolean(),
  });
  return big.map(({ offset, length, endian, named }) => {
    // little-endian fields must be whole bytes to compile
    if ((endian === 'l' || endian === 'h') && !f.oddLittle) {
      offset -= offset % 8;
      length = Math.max(8, length - (length % 8));
    }
    const e = endian === 'l' ? 'little' : endian === 'h' ? 'host' : endian === 'b' ? 'big' : '';
    if (named) return `{offset = ${offset}, length = ${length}${e ? `, endian = '${e}'` : ''}}`;
    return `{${offset}, ${length}${e ? `, 'number', '${e}'` : ''}}`;
  });
}

function layoutsArb(f: GenFeatures): fc.Arbitrary<string[]> {
  const one = fc.tuple(...FIELDS.map(() => fieldArb(f))).map((fs) =>
    `data.layout{ ${fs.map((d, i) => `${FIELDS[i]} = ${d}`).join(', ')} }`);
  return fc.tuple(...Array.from({ length: LAYOUTS }, () => one));
}

// ---- expressions --------------------------------------------------------------

interface Scope {
  name: string;
  ints: string[];
  floats: string[];
  pkt: boolean;
  /** int functions of two int arguments callable here */
  fns: string[];
}

type Kind = 'int' | 'float' | 'bool';

class ExprGen {
  private memo = new Map<string, fc.Arbitrary<string>>();
  /**
   * `wild`: also bare field reads (nil on short packets), lengths of possibly
   * nil segments, divisions by a literal zero, failing asserts. An error
   * anywhere hides a whole check, so only some checks are wild.
   */
  constructor(private f: GenFeatures, readonly wild: boolean) {}

  get(scope: Scope, kind: Kind, depth: number): fc.Arbitrary<string> {
    const key = `${scope.name}/${kind}/${depth}`;
    let a = this.memo.get(key);
    if (!a) {
      a = kind === 'int' ? this.int(scope, depth) : kind === 'float' ? this.float(scope, depth) : this.bool(scope, depth);
      this.memo.set(key, a);
    }
    return a;
  }

  private field(): fc.Arbitrary<string> {
    return fc.tuple(fc.integer({ min: 1, max: LAYOUTS }), fc.constantFrom(...FIELDS)).map(([l, n]) => `pkt:layout(L${l}).${n}`);
  }

  private int(s: Scope, d: number): fc.Arbitrary<string> {
    const leaves: fc.WeightedArbitrary<string>[] = [{ arbitrary: intLiteral, weight: 4 }];
    if (s.ints.length) leaves.push({ arbitrary: fc.constantFrom(...s.ints), weight: 4 });
    if (s.pkt) {
      leaves.push({ arbitrary: fc.constant('#pkt'), weight: 1 });
      if (this.f.orDefault) leaves.push({ arbitrary: fc.tuple(this.field(), intLiteral).map(([x, v]) => `(${x} or ${v})`), weight: 3 });
      if (this.wild) leaves.push({ arbitrary: this.field(), weight: 2 });
    }
    if (d <= 0) return fc.oneof(...leaves);
    const i = this.get(s, 'int', d - 1);
    const b = this.get(s, 'bool', d - 1);
    const bin = fc.tuple(i, fc.constantFrom('+', '-', '*', '//', '%', '&', '|', '~', '<<', '>>'), i)
      .map(([x, op, y]) => `(${x} ${op} ${y})`);
    // shift counts near the edges are where implementations differ
    const shift = fc.tuple(i, fc.constantFrom('<<', '>>'), fc.constantFrom('63', '64', '65', '(-1)', '(-63)', '(-64)', '1', '0', '32'))
      .map(([x, op, y]) => `(${x} ${op} ${y})`);
    const divEdge = fc.tuple(i, fc.constantFrom('//', '%'), fc.constantFrom('(-1)', '(-7)', '7', '2', '(-2)', 'math.mininteger', ...(this.wild ? ['0'] : [])))
      .map(([x, op, y]) => `(${x} ${op} ${y})`);
    const ops: fc.WeightedArbitrary<string>[] = [
      ...leaves,
      { arbitrary: bin, weight: 8 },
      { arbitrary: shift, weight: 2 },
      { arbitrary: divEdge, weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom('-', '~'), i).map(([op, x]) => `(${op}${x})`), weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom('min', 'max'), i, i).map(([m, x, y]) => `math.${m}(${x}, ${y})`), weight: 1 },
      { arbitrary: i.map((x) => `math.abs(${x})`), weight: 1 },
    ];
    if (this.f.ternary) ops.push({ arbitrary: fc.tuple(b, i, i).map(([c, x, y]) => `(${c} and ${x} or ${y})`), weight: 1 });
    if (s.pkt && this.f.segments) {
      if (this.wild) ops.push({ arbitrary: fc.tuple(i, i).map(([o, n]) => `#pkt:segment(${o}, ${n})`), weight: 1 });
      if (this.f.orDefault) ops.push({
        arbitrary: fc.tuple(i, i, fc.integer({ min: 1, max: LAYOUTS }), fc.constantFrom(...FIELDS), intLiteral)
          .map(([o, n, l, fd, v]) => `(pkt:segment(${o}, ${n}):layout(L${l}).${fd} or ${v})`),
        weight: 1,
      });
    }
    if (s.fns.length) {
      ops.push({ arbitrary: fc.tuple(fc.constantFrom(...s.fns), i, i).map(([fn, x, y]) => `${fn}(${x}, ${y})`), weight: 2 });
    }
    if (this.f.tables && s.pkt) {
      ops.push(
        { arbitrary: i.map((x) => `(N[${x} % 16] or 0)`), weight: 2 },
        { arbitrary: fc.constantFrom('#Q', 'R.n', '#R.sub', '(Q[1] or 0)', '(R.sub[#R.sub] or 0)'), weight: 2 },
        { arbitrary: fc.tuple(i, i, i).map(([k, x, y]) => `F[(${k}) % 3 + 1](${x}, ${y})`), weight: 1 },
        { arbitrary: fc.tuple(i, i, i).map(([k, x, y]) => `apply(F[(${k}) % 3 + 1], ${x}, ${y})`), weight: 1 },
      );
      // a key that may miss: calling nil is an error
      if (this.wild) ops.push({ arbitrary: fc.tuple(i, i).map(([k, x]) => `F[(${k}) % 5](${x}, 1)`), weight: 1 });
    }
    return fc.oneof(...ops);
  }

  private float(s: Scope, d: number): fc.Arbitrary<string> {
    const leaves: fc.WeightedArbitrary<string>[] = [{ arbitrary: floatLiteral, weight: 3 }];
    if (s.floats.length) leaves.push({ arbitrary: fc.constantFrom(...s.floats), weight: 3 });
    if (d <= 0) return fc.oneof(...leaves);
    const i = this.get(s, 'int', d - 1);
    const fl = this.get(s, 'float', d - 1);
    const b = this.get(s, 'bool', d - 1);
    const numOps = ['+', '-', '*', '/', '//', ...(this.f.floatMod ? ['%'] : [])];
    const ops: fc.WeightedArbitrary<string>[] = [
      ...leaves,
      { arbitrary: fc.tuple(fl, fc.constantFrom(...numOps), fl).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 5 },
      // mixed int/float arithmetic converts the integer
      { arbitrary: fc.tuple(i, fc.constantFrom(...numOps), fl).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      { arbitrary: fc.tuple(fl, fc.constantFrom(...numOps), i).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      { arbitrary: fc.tuple(i, i).map(([x, y]) => `(${x} / ${y})`), weight: 3 },
      { arbitrary: fc.tuple(fl, fc.constantFrom('0', '1', '2', '2.0')).map(([x, y]) => `(${this.f.powNegZero ? x : `math.abs(${x})`} ^ ${y})`), weight: 1 },
      { arbitrary: fl.map((x) => `(-${x})`), weight: 1 },
      { arbitrary: fc.tuple(fc.constantFrom('min', 'max'), fl, fl).map(([m, x, y]) => `math.${m}(${x}, ${y})`), weight: 1 },
      { arbitrary: fl.map((x) => `math.abs(${x})`), weight: 1 },
    ];
    if (this.f.ternary) ops.push({ arbitrary: fc.tuple(b, fl, fl).map(([c, x, y]) => `(${c} and ${x} or ${y})`), weight: 1 });
    if (this.f.powAny) ops.push({ arbitrary: fc.tuple(fl, fl).map(([x, y]) => `(${x} ^ ${y})`), weight: 1 });
    return fc.oneof(...ops);
  }

  private bool(s: Scope, d: number): fc.Arbitrary<string> {
    const leaves: fc.WeightedArbitrary<string>[] = [{ arbitrary: fc.constantFrom('true', 'false'), weight: 1 }];
    if (s.pkt) {
      leaves.push({ arbitrary: fc.tuple(this.field(), fc.constantFrom('==', '~=')).map(([x, op]) => `(${x} ${op} nil)`), weight: 2 });
    }
    if (d <= 0) return fc.oneof(...leaves);
    const i = this.get(s, 'int', d - 1);
    const fl = this.get(s, 'float', d - 1);
    const b = this.get(s, 'bool', d - 1);
    const cmp = fc.constantFrom('==', '~=', '<', '<=', '>', '>=');
    const ops: fc.WeightedArbitrary<string>[] = [
      ...leaves,
      { arbitrary: fc.tuple(i, cmp, i).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 4 },
      { arbitrary: fc.tuple(fl, cmp, fl).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      // exact int/float comparison, including near 2^63
      { arbitrary: fc.tuple(i, cmp, fl).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      { arbitrary: fc.tuple(fl, cmp, i).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      { arbitrary: b.map((x) => `(not ${x})`), weight: 1 },
      { arbitrary: fc.tuple(b, fc.constantFrom('and', 'or'), b).map(([x, op, y]) => `(${x} ${op} ${y})`), weight: 2 },
      { arbitrary: i.map((x) => `(${x} == nil)`), weight: 1 },
    ];
    if (s.pkt && this.f.segments) {
      ops.push({ arbitrary: fc.tuple(i, i, fc.constantFrom('==', '~=')).map(([o, n, op]) => `(pkt:segment(${o}, ${n}) ${op} nil)`), weight: 1 });
    }
    if (this.f.tables && s.pkt) {
      // M's values are a union: comparisons pick by the run-time tag
      ops.push(
        { arbitrary: fc.tuple(i, fc.constantFrom('==', '~='), fc.oneof(i, fl, fc.constantFrom("'a'", 'true', 'nil', 'R', 'R.sub'))).map(([k, op, v]) => `(M[${k} % 8] ${op} ${v})`), weight: 2 },
        { arbitrary: i.map((k) => `(M[${k} % 8] == tostring(pkt):sub(1, 2))`), weight: 1 },
        { arbitrary: fc.constantFrom("(R.tag == 'a')", '(R.tag < tostring(pkt))', '(N[0] == nil)'), weight: 1 },
        { arbitrary: fc.tuple(i, i).map(([k, j]) => `(F[(${k}) % 3 + 1] == F[(${j}) % 3 + 1])`), weight: 1 },
      );
    }
    return fc.oneof(...ops);
  }
}

// ---- statements ---------------------------------------------------------------

const indent = (s: string) => s.split('\n').map((l) => (l ? '  ' + l : l)).join('\n');

function stmtArb(g: ExprGen, f: GenFeatures, s: Scope, depth: number): fc.Arbitrary<string> {
  const e = (k: Kind, d = 2) => g.get(s, k, d);
  // `+ 0` keeps a nil-or-integer field read out of the for header's type (nil is then an arithmetic error)
  const num = (k: 'int' | 'float') => g.get(s, k, 1).map((x) => `(${x} + 0)`);
  const block = depth > 0 ? fc.array(stmtArb(g, f, s, depth - 1), { maxLength: 3 }).map((xs) => xs.join('\n')) : fc.constant('');
  const assign = fc.oneof(
    fc.tuple(fc.constantFrom(...s.ints), e('int')).map(([v, x]) => `${v} = ${x}`),
    fc.tuple(fc.constantFrom(...s.floats), e('float')).map(([v, x]) => `${v} = ${x}`),
    // multiple assignment: every value is computed before any variable changes (`a, b = b, a`)
    fc.tuple(fc.shuffledSubarray(s.ints, { minLength: 2, maxLength: 2 }), e('int'), e('int'), fc.boolean())
      .map(([[v, w], x, y, swap]) => (swap ? `${v}, ${w} = ${w}, ${v}` : `${v}, ${w} = ${x}, ${y}`)),
  );
  const opts: fc.WeightedArbitrary<string>[] = [
    { arbitrary: assign, weight: 4 },
    // a field read that keeps the old value when the field is nil
    { arbitrary: fc.tuple(fc.constantFrom(...s.ints), fc.integer({ min: 1, max: LAYOUTS }), fc.constantFrom(...FIELDS))
      .map(([v, l, fd]) => `do\n  local t = pkt:layout(L${l}).${fd}\n  if t ~= nil then ${v} = t end\nend`), weight: 3 },
  ];
  if (f.tables && s.pkt) {
    const key = e('int', 1).map((k) => `(${k}) % 8`);
    const mval = fc.oneof(e('int', 1), e('float', 1), e('bool', 1), fc.constantFrom("'a'", "'b'", 'tostring(pkt):sub(1, 2)', '{ #pkt }', 'R.sub', 'nil'));
    opts.push(
      { arbitrary: fc.tuple(e('int', 1), e('int', 1)).map(([k, x]) => `N[(${k}) % 16] = ${x}`), weight: 2 },
      { arbitrary: e('int', 1).map((k) => `N[(${k}) % 16] = nil`), weight: 1 },
      { arbitrary: fc.tuple(key, mval).map(([k, x]) => `M[${k}] = ${x}`), weight: 2 },
      { arbitrary: e('int', 1).map((x) => `if #Q < 64 then table.insert(Q, ${x}) end`), weight: 1 },
      { arbitrary: fc.tuple(e('int', 1), e('int', 0)).map(([x, p]) => `if #Q < 64 then table.insert(Q, (${p}) % (#Q + 1) + 1, ${x}) end`), weight: 1 },
      { arbitrary: fc.constantFrom('table.remove(Q)', 'table.remove(Q, 1)', 'if #Q > 2 then table.remove(Q, 2) end'), weight: 1 },
      { arbitrary: e('int', 1).map((x) => `R.n = R.n + ${x}\nif #R.sub < 32 then R.sub[#R.sub + 1] = ${x} end`), weight: 1 },
      { arbitrary: fc.constantFrom("R.tag = tostring(pkt):sub(2, 4)", "R.tag = 'a'"), weight: 1 },
      // order-independent traversals: xor and counts do not depend on pairs' order
      { arbitrary: fc.constantFrom(...s.ints).map((v) => `for k, x in pairs(N) do ${v} = ${v} ~ (k * x) end`), weight: 1 },
      { arbitrary: fc.constantFrom(...s.ints).map((v) => `for k, x in pairs(M) do if x == true or x == 'a' then ${v} = ${v} + 1 end end`), weight: 1 },
      { arbitrary: fc.constantFrom(...s.ints).map((v) => `for i, x in ipairs(Q) do ${v} = ${v} * 3 + x * i end`), weight: 1 },
    );
  }
  if (g.wild) {
    opts.push(
      // float keys: normalised when integral, NaN an error on store
      { arbitrary: fc.tuple(e('float', 1), e('int', 1)).map(([k, x]) => (f.tables && s.pkt ? `M[${k}] = ${x}` : 'do end')), weight: 1 },
      { arbitrary: fc.tuple(e('bool', 1), fc.constantFrom("error('boom')", "assert(false, 'no')")).map(([c, x]) => `if ${c} then ${x} end`), weight: 1 },
      { arbitrary: e('bool', 1).map((c) => `assert(${c}, 'assert')`), weight: 1 },
    );
  }
  if (depth > 0) {
    opts.push({
      arbitrary: fc.tuple(e('bool'), block, fc.array(fc.tuple(e('bool'), block), { maxLength: 2 }), fc.option(block))
        .map(([c, t, elifs, els]) =>
          `if ${c} then\n${indent(t)}\n` + elifs.map(([c2, b2]) => `elseif ${c2} then\n${indent(b2)}\n`).join('') +
          (els !== null ? `else\n${indent(els)}\n` : '') + 'end'),
      weight: 2,
    });
    if (f.loops) {
      // every loop carries its own iteration guard, so it ends whatever its bounds
      const guard = fc.integer({ min: 0, max: 12 });
      const intFor = fc.tuple(num('int'), num('int'), fc.option(fc.oneof(num('int'), fc.constantFrom('(-1)', '2', '(-3)', '0', 'math.maxinteger', 'math.mininteger'))), guard, block)
        .map(([a, z, st, k, body]) =>
          `do\n  local g = 0\n  for i = ${a}, ${z}${st !== null ? ', ' + st : ''} do\n    g = g + 1\n    if g > ${k} then break end\n` +
          // the control variable is an ordinary local: assigning it leaves the iteration count alone
          `    ${s.ints[0]} = ${s.ints[0]} ~ i\n${k % 3 === 0 ? '    i = i * 2 + g\n' : ''}${indent(indent(body))}\n  end\nend`);
      const floatFor = fc.tuple(num('float'), num('float'), fc.option(fc.oneof(num('float'), fc.constantFrom('0.25', '(-0.5)', '0.0', '1e-300'))), guard, block)
        .map(([a, z, st, k, body]) => {
          const nan = f.nanFor ? '' : `  if lo ~= lo then lo = 0.0 end\n  if hi ~= hi then hi = 0.0 end\n  if st ~= st then st = 1.0 end\n`;
          return `do\n  local g = 0\n  local lo, hi, st = ${a}, ${z}, ${st ?? '1.0'}\n${nan}  for i = lo, hi${st !== null ? ', st' : ''} do\n` +
            `    g = g + 1\n    if g > ${k} then break end\n    ${s.floats[0]} = ${s.floats[0]} + i\n${indent(indent(body))}\n  end\nend`;
        });
      const whileLoop = fc.tuple(e('bool', 1), guard, block).map(([c, k, body]) =>
        `do\n  local w = 0\n  while w < ${k} and ${c} do\n    w = w + 1\n${indent(indent(body))}\n  end\nend`);
      const repeatLoop = fc.tuple(e('bool', 1), guard, block).map(([c, k, body]) =>
        `do\n  local w = 0\n  repeat\n    w = w + 1\n${indent(indent(body))}\n  until w >= ${k} or ${c}\nend`);
      const loops = [intFor, floatFor, whileLoop, repeatLoop];
      if (f.mixedFor) {
        loops.push(fc.tuple(num('int'), num('float'), guard).map(([a, z, k]) =>
          `do\n  local g = 0\n  for i = ${a}, ${z} do\n    g = g + 1\n    if g > ${k} then break end\n    ${s.ints[0]} = ${s.ints[0]} + i\n  end\nend`));
      }
      opts.push({ arbitrary: fc.oneof(...loops), weight: 2 });
    }
  }
  return fc.oneof(...opts);
}

// ---- programs -----------------------------------------------------------------

const STATE_INTS = ['s1', 's2'];
const STATE_FLOATS = ['g1'];

export function programArb(features: Partial<GenFeatures> = {}, maxChecks = 6): fc.Arbitrary<GenProgram> {
  const f = { ...DEFAULT_FEATURES, ...features };
  const g = new ExprGen(f, false);
  const wild = new ExprGen(f, true);
  const fnScope1: Scope = { name: 'h1', ints: ['a', 'b', ...STATE_INTS], floats: STATE_FLOATS, pkt: false, fns: [] };
  const fnScope2: Scope = { name: 'h2', ints: ['a', 'b', ...STATE_INTS], floats: STATE_FLOATS, pkt: false, fns: ['h1', 'rec'] };
  const fns = f.functions ? ['h1', 'h2', 'rec'] : [];
  const initScope: Scope = { name: 'init', ints: STATE_INTS, floats: STATE_FLOATS, pkt: true, fns };
  const scope: Scope = { name: 'filter', ints: ['x1', 'x2', ...STATE_INTS], floats: ['y1', ...STATE_FLOATS], pkt: true, fns };

  const fnBody = (sc: Scope) => fc.oneof(
    g.get(sc, 'int', 3).map((x) => `return ${x}`),
    fc.tuple(g.get(sc, 'bool', 2), g.get(sc, 'int', 2), g.get(sc, 'int', 2))
      .map(([c, x, y]) => `if ${c} then return ${x} end\nreturn ${y}`),
  );

  const checkOf = (g: ExprGen) => fc.record({
    x1: g.get(initScope, 'int', 2),
    x2: g.get(initScope, 'int', 1),
    y1: g.get(initScope, 'float', 2),
    body: fc.array(stmtArb(g, f, scope, 2), { maxLength: 4 }),
    r: g.get(scope, 'int', 3),
    fr: g.get(scope, 'float', 3),
    threshold: fc.oneof(floatLiteral, intLiteral),
  });
  const check = fc.oneof({ arbitrary: checkOf(g), weight: 3 }, { arbitrary: checkOf(wild), weight: 1 });

  return fc.record({
    layouts: layoutsArb(f),
    s: fc.tuple(intLiteral, intLiteral, floatLiteral),
    h1: f.functions ? fnBody(fnScope1) : fc.constant(''),
    h2: f.functions ? fnBody(fnScope2) : fc.constant(''),
    checks: fc.array(check, { minLength: 1, maxLength: maxChecks }),
  }).map(({ layouts, s, h1, h2, checks }) => {
    const n = checks.length;
    const out: string[] = [
      '-- generated by test/gen/programs.ts',
      "local data = require'data'",
      ...layouts.map((l, i) => `local L${i + 1} = ${l}`),
      `local s1, s2, g1 = ${s[0]}, ${s[1]}, ${s[2]}`,
      'local n = -1',
      ...(f.tables ? [TABLES_INIT] : []),
    ];
    if (f.functions) {
      out.push(
        'local function rec(k, acc)',
        '  if k <= 0 or k > 20 then return acc end',
        '  return rec(k - 1, (acc ~ k) * 31)',
        'end',
        `local function h1(a, b)\n${indent(h1)}\nend`,
        `local function h2(a, b)\n${indent(h2)}\nend`,
      );
    }
    out.push(
      'function filter(pkt)',
      '  n = n + 1',
      `  local q = n % ${n * SLOTS}`,
      `  local c, bit = q // ${SLOTS}, q % ${SLOTS}`,
    );
    checks.forEach((c, k) => {
      out.push(
        `  if c == ${k} then`,
        `    local x1 = ${c.x1}`,
        `    local x2 = ${c.x2}`,
        `    local y1 = ${c.y1}`,
        ...c.body.map((b) => indent(indent(b))),
        `    local r = ${c.r}`,
        `    local fr = ${c.fr}`,
        '    if bit < 8 then',
        '      r = r ~ (r >> 32)',
        '      r = r ~ (r >> 16)',
        '      r = r ~ (r >> 8)',
        '      return (r >> bit) & 1 == 1',
        `    elseif bit == 8 then`,
        `      return fr < ${c.threshold}`,
        '    end',
        '    return 1 / fr < 0',
        '  end',
      );
    });
    out.push('  return nil', 'end', '');
    return { source: out.join('\n'), checks: n };
  });
}

// ---- packets ------------------------------------------------------------------

const PATTERNS = [
  new Uint8Array(0), Uint8Array.of(0xff, 0xab), Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd),
  new Uint8Array(20).fill(0xff), new Uint8Array(64).fill(0), new Uint8Array(80).fill(0x80),
];

/** Random packets (0..80 bytes, biased towards 00/FF/80 bytes) mixed with packets from `pool` (real captures). */
export function packetsArb(pool: readonly Uint8Array[] = [], max = 8): fc.Arbitrary<Uint8Array[]> {
  const byte = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 255 }), weight: 4 }, fc.constantFrom(0, 0xff, 0x80, 0x7f, 0x01));
  const random = fc.array(byte, { maxLength: 80 }).map((b) => Uint8Array.from(b));
  const arbs: fc.WeightedArbitrary<Uint8Array>[] = [
    { arbitrary: random, weight: 5 },
    { arbitrary: fc.constantFrom(...PATTERNS), weight: 1 },
  ];
  if (pool.length) arbs.push({ arbitrary: fc.constantFrom(...pool), weight: 3 });
  return fc.array(fc.oneof(...arbs), { minLength: 1, maxLength: max });
}
