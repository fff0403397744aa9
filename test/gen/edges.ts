// Exhaustive integer/float edge tables: every operator over every pair of
// edge values, once with literal operands (the compiler may fold them) and
// once with operands read from the packet (computed at run time). Each
// script observes one expression per check, 8 calls per check: the bits of
// an integer result folded to 8 bits, or a bool result, or a float result
// compared with 8 thresholds (including its sign, for -0.0).
export interface EdgeScript {
  name: string;
  source: string;
  /** calls per packet */
  times: number;
  packets: Uint8Array[];
}

const INTS: bigint[] = [0n, 1n, -1n, 2n, 3n, -3n, 7n, -7n, 63n, 64n, 65n, -63n, -64n, 255n, 1n << 32n,
  (1n << 63n) - 1n, -(1n << 63n), -(1n << 63n) + 1n];
const FLOATS = ['0.0', '(-0.0)', '0.5', '(-0.5)', '1.0', '(-1.5)', '9.2233720368547758e18', '(-9.2233720368547758e18)',
  '9.223372036854775e18', '9007199254740993.0', '(1/0)', '(-1/0)', '(0/0)', '1e308'];

const INT_OPS = ['+', '-', '*', '//', '%', '&', '|', '~', '<<', '>>'];

function lit(v: bigint): string {
  if (v === -(1n << 63n)) return 'math.mininteger';
  return v < 0n ? `(-${-v})` : `${v}`;
}

type Kind = 'int' | 'bool' | 'float';

function script(title: string, exprs: [Kind, string][], prelude: string[]): string {
  const out = ["local data = require'data'", ...prelude, 'local n = -1', 'function filter(pkt)', '  n = n + 1',
    `  local q = n % ${exprs.length * 8}`, '  local c, bit = q // 8, q % 8'];
  exprs.forEach(([kind, e], k) => {
    out.push(`  if c == ${k} then`);
    if (kind === 'int') {
      out.push(`    local r = ${e}`, '    r = r ~ (r >> 32)', '    r = r ~ (r >> 16)', '    r = r ~ (r >> 8)', '    return (r >> bit) & 1 == 1');
    } else if (kind === 'bool') {
      out.push(`    return ${e}`);
    } else {
      out.push(`    local f = ${e}`, '    if bit == 0 then return f ~= f end', '    if bit == 1 then return 1 / f < 0 end',
        '    if bit == 2 then return f < -9.2233720368547758e18 end', '    if bit == 3 then return f < -1 end',
        '    if bit == 4 then return f < 0.5 end', '    if bit == 5 then return f <= 1 end',
        '    if bit == 6 then return f < 9007199254740992 end', '    return f >= 9.2233720368547758e18');
    }
    out.push('  end');
  });
  out.push('  return nil', 'end', '');
  return `-- edge table: ${title}\n` + out.join('\n');
}

const be64 = (vs: bigint[]) => {
  const p = new Uint8Array(vs.length * 8);
  const dv = new DataView(p.buffer);
  vs.forEach((v, i) => dv.setBigInt64(i * 8, v));
  return p;
};
const PAIR = "local P = data.layout{ a = {0, 64}, b = {64, 64}, c = {128, 64}, d = {192, 64} }";

/** Float operands computed at run time from packet integers: a / b. */
const FLOAT_PAIRS: [bigint, bigint][] = [[0n, 1n], [0n, -1n], [1n, 2n], [-1n, 2n], [1n, 0n], [-1n, 0n], [0n, 0n],
  [(1n << 63n) - 1n, 1n], [-(1n << 63n), 1n], [9007199254740993n, 1n], [3n, 1n], [-7n, 2n]];

export function edgeScripts(): EdgeScript[] {
  const scripts: EdgeScript[] = [];
  // run time: one small script per operator, operands from the packet, one packet per pair
  const pairs = INTS.flatMap((a) => INTS.map((b) => be64([a, b])));
  for (const op of INT_OPS) {
    scripts.push({
      name: `int ${op} (packet values)`, times: 8, packets: pairs,
      source: script(`int ${op}`, [['int', `(pkt:layout(P).a ${op} pkt:layout(P).b)`]], [PAIR]),
    });
  }
  scripts.push({
    name: 'unary, abs, int/float conversions (packet values)', times: 6 * 8, packets: INTS.map((a) => be64([a, 3n])),
    source: script('unary', [['int', '(-pkt:layout(P).a)'], ['int', '(~pkt:layout(P).a)'], ['int', 'math.abs(pkt:layout(P).a)'],
      ['float', '(pkt:layout(P).a / pkt:layout(P).b)'], ['float', '(pkt:layout(P).a + 0.5)'], ['float', '(pkt:layout(P).a / 0)']], [PAIR]),
  });
  // exact comparison of a run-time integer with float literals near the edges
  scripts.push({
    name: 'int/float comparisons (packet values)', times: FLOATS.length * 6 * 8, packets: INTS.map((a) => be64([a])),
    source: script('int/float comparisons', FLOATS.flatMap((f) => ['<', '<=', '==', '>', '>=', '~='].map((op): [Kind, string] =>
      ['bool', `(pkt:layout(P).a ${op} ${f})`])), [PAIR]),
  });
  const fpairs = FLOAT_PAIRS.flatMap(([a, b]) => FLOAT_PAIRS.map(([c, d]) => be64([a, b, c, d])));
  scripts.push({
    name: 'float arithmetic (packet values)', times: 7 * 8, packets: fpairs,
    source: script('float arithmetic', ['+', '-', '*', '/', '//'].map((op): [Kind, string] =>
      ['float', `((pkt:layout(P).a / pkt:layout(P).b) ${op} (pkt:layout(P).c / pkt:layout(P).d))`])
      .concat(['<', '=='].map((op): [Kind, string] =>
        ['bool', `((pkt:layout(P).a / pkt:layout(P).b) ${op} (pkt:layout(P).c / pkt:layout(P).d))`])), [PAIR]),
  });
  // compile time: the same operators on literals (the compiler may fold them), a smaller value set
  const small = [0n, -1n, -7n, 64n, -64n, (1n << 63n) - 1n, -(1n << 63n)];
  const consts: [Kind, string][] = [];
  for (const op of INT_OPS) {
    small.forEach((a) => small.forEach((b) => {
      if ((op === '//' || op === '%') && b === 0n && a !== 1n) return;
      consts.push(['int', `(${lit(a)} ${op} ${lit(b)})`]);
    }));
  }
  FLOATS.forEach((f) => small.forEach((a) => consts.push(['bool', `(${lit(a)} < ${f})`], ['bool', `(${f} <= ${lit(a)})`])));
  scripts.push({ name: 'operators on literals', times: consts.length * 8, packets: [new Uint8Array(0)], source: script('literals', consts, []) });
  return scripts;
}
