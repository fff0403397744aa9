// The widened compiled subset, each feature against Debian's lua5.4:
// int-or-float values, float `%` (exact fmod), integer for loops with float
// limits (forlimit), goto/labels, pcall's status, flow-sensitive nil checks,
// fuel only on back edges and recursive calls, and syntaxErrorOf.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { checkScript, compile, syntaxErrorOf } from '../compiler/index.js';
import { compileOk, corpusPackets, load, luaVerdicts, verdictName } from './support/compiler-helpers.js';

const lua = (code: string) => execFileSync('lua5.4', ['-e', code], { encoding: 'latin1' });

/** A Lua literal for a value lua5.4 printed: integers exactly, floats as hex, NaN as `false`. */
const LITERAL = `local function lit(r)
  if math.type(r) == 'integer' then return r == math.mininteger and 'math.mininteger' or string.format('%d', r) end
  if r ~= r then return 'false' end
  if r == math.huge then return 'math.huge' elseif r == -math.huge then return '-math.huge' end
  return string.format('%a', r)
end`;

/** One single-byte packet per case: byte i selects case i (1-based). */
const casePackets = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array([i + 1]));

/**
 * For each case, lua5.4 computes `expr` (over a, b) and the compiled filter
 * must reproduce it exactly; operands come from constant tables indexed by the
 * packet, so a column holding integers and floats is an int-or-float value.
 */
async function exactly(expr: string, cases: [string, string][], prelude = '') {
  const A = `{${cases.map((c) => c[0]).join(', ')}}`, B = `{${cases.map((c) => c[1]).join(', ')}}`;
  const want = lua(`${LITERAL}
    ${prelude}
    local A, B = ${A}, ${B}
    for i = 1, #A do local a, b = A[i], B[i]
      local ok, r = pcall(function() return ${expr} end)
      io.write(ok and lit(r) or 'nil', ',') end`).split(',').filter((x) => x);
  const src = `local data = require'data'
local L = data.layout{ i = {0, 8} }
${prelude}
local A, B, E = ${A}, ${B}, {${want.join(', ')}}
function filter(pkt)
  local i = pkt:layout(L).i
  local a, b = A[i], B[i]
  local r = ${expr}
  local e = E[i]
  if e == false then return r ~= r end
  return r == e
end`;
  const got = load(await compileOk(src, 'case.lua', 1)).run(casePackets(cases.length)).map(verdictName);
  const expected = want.map((w) => (w === 'nil' ? 'error' : 'accept'));
  expect(got, `${src}\n${want.join(" ")}`).toEqual(expected);
  // integer vs float results: `// 0` raises only for integers
  const kind = src.replace('local e = E[i]', 'local z = r // 0 do return true end\n  local e = E[i]');
  const pk = casePackets(cases.length);
  expect(load(await compileOk(kind, 'kind.lua', 1)).run(pk).map(verdictName)).toEqual(luaVerdicts(kind, pk));
}

const FLOATS: [string, string][] = [
  ['5.5', '2'], ['-5.5', '2'], ['5.5', '-2'], ['-5.5', '-2'], ['7', '2.5'], ['1e300', '3'], ['-1e300', '7.25'],
  ['3', '1e-300'], ['0.1', '0.03'], ['-0.0', '3'], ['5', 'math.huge'], ['-5', 'math.huge'], ['5', '-math.huge'],
  ['math.huge', '2'], ['4.0', '0.0'], ['2.5', '-0.0'], ['1.7976931348623157e308', '4.9e-324'], ['4.9e-324', '3'],
  ['9007199254740993', '0.5'], ['-7.75', '0.25'],
];

describe('float % is fmod-exact', () => {
  test('float operands', async () => { await exactly('a % b', FLOATS); });
});

const MIXED: [string, string][] = [
  ['7', '2'], ['7', '2.0'], ['7.5', '2'], ['-7', '2'], ['-7', '-2.5'], ['math.maxinteger', '1'], ['math.mininteger', '-1'],
  ['3', '0'], ['3.0', '0'], ['0', '0.0'], ['1', '3'], ['10', '4'],
];

describe('values that may be integers or floats', () => {
  for (const op of ['+', '-', '*', '/', '//', '%']) test(`a ${op} b`, async () => { await exactly(`a ${op} b`, MIXED); });
  test('unary minus and comparisons', async () => {
    await exactly('-a', MIXED);
    await exactly('(a < b) and 1 or 0', MIXED);
  });
});

describe('integer for loops with float limits (Lua 5.4 forlimit)', () => {
  // b = -12345 stands for NaN (a table constructor takes constants only)
  const prelude = `
local function count(a, b, step)
  if b == -12345 then b = 0/0 end
  local n, s = 0, 0
  for i = a, b, step do
    n = n + 1
    s = s + i
    if n > 5 then break end
  end
  return n * 1000 + s % 1000
end`;
  const loops: [string, string][] = [
    ['1', '3.7'], ['-3', '-3.5'], ['3', '2.5'], ['9223372036854775805', '1e300'], ['5', '-1e300'], ['1', '-12345'],
    ['1', 'math.huge'], ['-2', '2.0'], ['0', '0.999'], ['0', '-0.5'], ['-9223372036854775805', '-1e300'], ['4', '-math.huge'],
  ];
  test('ascending', async () => { await exactly('count(a, b, 1)', loops, prelude); });
  test('descending', async () => { await exactly('count(a, b, -1)', loops.filter((c) => c[1] !== '-12345'), prelude); });
});

const CORPUS_SAMPLE = ['v4.pcap', 'v6.pcap', 'many-protocols.pcap', 'truncated_ip.pcap', 'arp.pcap']
  .flatMap((c) => corpusPackets(c).slice(0, 150));
CORPUS_SAMPLE.push(new Uint8Array(0), new Uint8Array([0x45]), new Uint8Array([0x60, 0, 0]));

/** Compiles and checks against lua5.4 on corpus packets; the verdicts must not be all alike. */
async function sameAsLua(src: string, fuel?: number) {
  const got = load(await compileOk(src, 't.lua', 1), fuel).run(CORPUS_SAMPLE).map(verdictName);
  expect(got).toEqual(luaVerdicts(src, CORPUS_SAMPLE));
  expect(new Set(got).size).toBeGreaterThan(1);
  return got;
}

const reasonsOf = (src: string) => checkScript(src, { file: 't.lua' }).reasons;

describe('goto and labels', () => {
  test('continue idiom, forward exits, backward loops', async () => {
    await sameAsLua(`local data = require'data'
local B = data.layout{ b = {0, 8} }
function filter(pkt)
  local odd = 0
  for i = 0, 20 do
    local s = pkt:segment(i, 1)
    if not s then goto done end
    if s:layout(B).b % 2 == 0 then goto continue end
    odd = odd + 1
    ::continue::
  end
  ::done::
  local k = 0
  ::again::
  k = k + 1
  if k < #pkt % 5 then goto again end
  if (odd + k) % 3 == 0 then goto reject end
  do return odd > 4 end
  ::reject::
  return false
end`);
  });
  test("Lua's goto rules: syntax errors, or reasons the interpreter reports at load", () => {
    // luaparse itself rejects these, with a position
    expect(syntaxErrorOf(checkScript('function filter(p) goto x end', { file: 't.lua' }))?.message).toMatch(/no visible label 'x'/);
    expect(syntaxErrorOf(checkScript('function filter(p) goto x local a = 1 ::x:: return a end', { file: 't.lua' }))?.message)
      .toMatch(/jumps into the scope of local 'a'/);
    // a label at the end of its block is outside every local's scope
    expect(reasonsOf('function filter(p) do goto x local a = 1 ::x:: end return true end')).toEqual([]);
    expect(reasonsOf('function filter(p) ::x:: do ::x:: end return true end')[0]).toMatch(/label 'x' already defined/);
  });
  test('a backward goto costs fuel', async () => {
    const m = load(await compileOk('function filter(p) local n = 0 ::top:: n = n + 1 if n < 100 then goto top end return true end', 'test.lua', 3, 50));
    expect(m.run([new Uint8Array(1)])[0]).toBeGreaterThanOrEqual(2);
    expect(m.errors[m.run([new Uint8Array(1)])[0]! - 2]!.message).toBe('fuel exhausted (50 steps)');
  });
});

describe('pcall', () => {
  test('the status of a call that may fail', async () => {
    const got = await sameAsLua(`local data = require'data'
local L = data.layout{ v = {0, 4}, far = {240, 8} }
local calls = 0
local function risky(p, k)
  calls = calls + 1
  if p.far + k > 300 then error('big') end
  return true
end
function filter(pkt)
  pkt:layout(L)
  local ok = pcall(risky, pkt, pkt.v)
  if not ok then return calls % 2 == 0 end
  pcall(risky, pkt, 1000)
  return pkt.v == 4
end`);
    expect(got).toContain('accept');
  });
  test('its error message is outside the subset', () => {
    expect(reasonsOf('local function f() end function filter(p) local ok, msg = pcall(f) return ok end')[0])
      .toMatch(/results of pcall other than its status/);
    expect(reasonsOf('function filter(p) return pcall(print) end')[0]).toMatch(/pcall of a value that is not a known script function/);
  });
  test('exhausted fuel is not caught', async () => {
    const m = load(await compileOk('local function spin() while true do end end function filter(p) return not pcall(spin) end', 'test.lua', 3, 1000));
    const v = m.run([new Uint8Array(0)])[0]!;
    expect(m.errors[v - 2]?.message).toBe('fuel exhausted (1000 steps)');
  });
});

describe('speed-related rewrites keep Lua semantics', () => {
  test('nil checks dropped after `if not v then return end` come back after reassignment', async () => {
    await sameAsLua(`local data = require'data'
local P = data.layout{ a = {0, 16}, b = {16, 16} }
local function f(v)
  if not v then return false end
  v:layout(P)
  local x = v.a
  if x > 1000 then
    v = v:segment(30)
    if not v then return true end
    v:layout(P)
  end
  return v.b ~= nil and v.b > 3
end
function filter(pkt)
  local s = pkt:segment(20)
  return f(s) or (s ~= nil and f(s:segment(2)))
end`);
  });
  test('only calls that may recurse cost fuel', async () => {
    const src = `local function leaf(x) return x + 1 end
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
function filter(p) local s = 0 for i = 1, 3 do s = leaf(s) end return fact(#p) > 0 end`;
    const ir = await compile(src, { file: 't.lua', stopAfter: 'ir' });
    expect(ir.ok && ir.dump).toMatch(/func f\d+_fact[^]*?fuel #/);
    expect(ir.ok && ir.dump!.split('func ').find((f) => f.startsWith('f1_leaf'))).not.toMatch(/fuel/);
    // 2 back edges (3 iterations) + 10 recursive calls
    expect(load(await compileOk(src), 12).run([new Uint8Array(10)])).toEqual([1]);
    expect(load(await compileOk(src), 11).run([new Uint8Array(10)])[0]).toBeGreaterThanOrEqual(2);
  });
});

describe('syntaxErrorOf', () => {
  test('parse failures give the error with line and column; other failures none', async () => {
    const bad = await compile('function filter(p)\n  return 1 +\nend', { file: 'bad.lua' });
    expect(syntaxErrorOf(bad)).toMatchObject({ file: 'bad.lua', line: 3, column: 1 });
    expect(syntaxErrorOf(checkScript('x = = 1', { file: 'c.lua' }))).toMatchObject({ line: 1 });
    expect(syntaxErrorOf(await compile('local x = 1', { file: 'n.lua' }))).toBeUndefined();
    expect(syntaxErrorOf(checkScript('function filter(p) return true end', { file: 'ok.lua' }))).toBeUndefined();
  });
});
