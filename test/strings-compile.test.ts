// Compiled string operations against real Lua 5.4 (Wasmoon). Each case is
// an expression over a subject `s`; the compiled filter receives packets
// [n][subject (n bytes)][expected tostring(result)] and accepts when its
// own tostring(result) equals the expected one, computed by Lua on the bare
// subject. Lua errors must be runtime errors (not traps) in the module.
import { LuaFactory, type LuaEngine } from 'wasmoon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScript } from '../compiler/index.js';
import { compileOk, load } from './support/compiler-helpers.js';

const PRELUDE = `local T = { abc = 1, ['a b'] = 2, x = 'y', [3] = 'three' }`;

/** hand-picked subjects, then pseudo-random ones over an alphabet the patterns care about (fixed seed) */
const SUBJECTS = ['', 'a', 'abc', 'hello world', 'key=val', '(a(b)c)', '  padded  ', '12ab34', 'aab', 'ABC def',
  'x', 'a b', 'z\0y\xff\x80', '%d+', 'b', '  42  ', 'GET / HTTP/1.1\r\nHost: x\r\n'];
{
  const ALPHA = 'aabbAZ019 =()%.-\r\n\t\0\xff';
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let i = 0; i < 60; i++) {
    let t = '';
    for (let j = rnd(30); j > 0; j--) t += ALPHA[rnd(ALPHA.length)];
    SUBJECTS.push(t);
  }
}

const CASES = [
  // sub / byte / len with Lua's index rules
  's:sub(2, -2)', 's:sub(-3)', 's:sub(0)', 's:sub(5, 2)', 'string.sub(s, -100, 100)', 's:sub(2, 2)',
  's:byte(1)', 's:byte(-1)', 's:byte(#s + 1)', 's:byte()', 'string.byte(s, 3)', 's:byte(0)',
  '#s', 's:len()', 'string.len(s) + 1',
  // copies into the arena
  's:upper()', 's:lower()', 'string.upper(s) .. s:lower()', 's:rep(3)', 's:rep(0)', 'string.rep(s, 2)',
  'string.char(72, 105)', 'string.char()', 'string.char(s:byte(1) or 0, 255)',
  // concatenation and number formatting
  '#s .. s', 's .. 1', '-5 .. s', 's .. math.mininteger', "s .. '|' .. s:sub(1, 1) .. #s",
  'tostring(#s)', 'tostring(s:byte(1) or nil)', 's .. 1.5', '#s / 4 .. s', 'tostring(#s / 3)', '(#s * 1e15) .. ""',
  'tostring(#s / 0)', 'tostring(-#s / 0)', '(#s - 8) * 0.1 .. ""', '2^53 .. s', 'tostring(1e100 * #s)', 'tostring(s == "abc")', 'tostring(s)', 'tonumber(#s)',
  // patterns: find (single value), match, captures, anchors, init
  's:find("b")', 's:find("b", 3)', 's:find("%d+")', 's:find(".", 1, true)', 's:find("", 10)', 's:find("a", -2)',
  's:find("%s")', 'string.find(s, "(", 1, true)',
  's:match("%a+")', 's:match("(%d+)")', 's:match("()b")', 's:match("^(%w+)=(%w*)$")', 's:match("%s*(.-)%s*$")',
  's:match("%b()")', 's:match("%f[%w]%w+", 2)', 's:match("(a)%1")', 's:match("[%z\\255]")', 's:match(".-b", -3)',
  's:match("Host:%s*([^\\r\\n]+)")',
  // comparison, equality, string keys
  's < "m"', 's <= "abc"', '"abc" < s', 's > "a b"', 's == "hello world"', 's ~= s:upper()',
  'T[s]', 'T[s:sub(1, 1)]', 'T[s] or T[#s]',
  '(s:match("%d+") or "none") .. "!"',
  // errors
  'string.char(256 + #s)', 's:sub(1, 1) < 1',
];

/** gmatch loops: a body appending each iteration's captures to r (a string). */
const GMATCH = [
  `for w in s:gmatch('%a+') do r = r .. '<' .. w .. '>' end`,
  `for k, v in string.gmatch(s, '(%w+)=(%w+)') do r = r .. k .. ':' .. v .. ';' end`,
  `for p, c in s:gmatch('()(.)') do r = r .. p .. c end`,
  `for e in s:gmatch('a*') do r = r .. '[' .. e .. ']' end`,            // empty matches
  `for x, y in s:gmatch('^(a)') do r = r .. x .. tostring(y) end`,       // '^' is a literal in gmatch
  `for w in s:gmatch('%S+') do if #r > 3 then break end r = r .. w end`,
  // several results of find / match
  `local i, j = s:find('b+') r = tostring(i) .. ',' .. tostring(j)`,
  `local i, j, c, d = s:find('(%a)(%d*)', 2) r = tostring(i) .. tostring(j) .. tostring(c) .. tostring(d)`,
  `local k, v, extra = s:match('^(%w+)=(%w*)()') r = tostring(k) .. '/' .. tostring(v) .. '/' .. tostring(extra)`,
  `local a, b = s:match('(a)'), s:byte(-1) r = tostring(a) .. tostring(b)`,
  `local p, q = s:find('.', 1, true) r = tostring(p) .. tostring(q)`,
];

let lua: LuaEngine;
let runCase: (expr: string, subjectHex: string) => string;
beforeAll(async () => {
  lua = await new LuaFactory().createEngine();
  await lua.doString(`
    local function unhex(h) return (h:gsub('..', function(x) return string.char(tonumber(x, 16)) end)) end
    local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end
    function run_case(expr, sh)
      local body = expr:match('^do: (.*)')
      body = body and ('local r = "" ' .. body) or ('local r = ' .. expr)
      local f = assert(load(${JSON.stringify(PRELUDE)} .. ' return function(s) ' .. body .. ' return tostring(r) end'))()
      local ok, v = pcall(f, unhex(sh))
      return ok and ('V' .. hex(v)) or 'E'
    end`);
  runCase = lua.global.get('run_case') as typeof runCase;
});
afterAll(() => lua?.global.close());

/** tostring(EXPR) in real Lua for each subject; null where Lua raises an error. */
function expected(expr: string, subjects: string[]): (string | null)[] {
  return subjects.map((s) => {
    const r = runCase(expr, Buffer.from(s, 'latin1').toString('hex'));
    return r === 'E' ? null : Buffer.from(r.slice(1), 'hex').toString('latin1');
  });
}

const filterFor = (expr: string) => `${PRELUDE}
function filter(pkt)
  local t = tostring(pkt)
  local n = t:byte(1)
  local s = t:sub(2, n + 1)
  local want = t:sub(n + 2)
  ${expr.startsWith('do: ') ? `local r = ''\n  ${expr.slice(4)}` : `local r = ${expr}`}
  return tostring(r) == want
end`;

describe('compiled string expressions agree with Lua 5.4', () => {
  it.each([...CASES, ...GMATCH.map((g) => 'do: ' + g)])('%s', async (expr) => {
    const source = filterFor(expr);
    expect(checkScript(source, { file: 'case.lua' })).toMatchObject({ engine: 'wasm' });
    const f = load(await compileOk(source, 'case.lua', 1));
    const want = expected(expr, SUBJECTS);
    const packets = SUBJECTS.map((s, i) => Uint8Array.from(Buffer.from(String.fromCharCode(s.length) + s + (want[i] ?? ''), 'latin1')));
    const verdicts = f.run(packets);
    const got = verdicts.map((v, i) => ({ s: SUBJECTS[i], v: v === 1 ? 'ok' : v === 0 ? 'differs' : v >= 2 ? 'error' : 'trap' }));
    expect(got).toEqual(SUBJECTS.map((s, i) => ({ s, v: want[i] === null ? 'error' : 'ok' })));
  });
});

describe('string limits and the subset boundary', () => {
  it('a full arena is a runtime error for that packet only (the arena is reset per packet)', async () => {
    const f = load(await compileOk(`function filter(pkt)
      local s = tostring(pkt)
      return #(s:rep(#s)) > 0
    end`));
    const small = new Uint8Array(100).fill(0x61), big = new Uint8Array(1000).fill(0x62);
    const v = f.run([small, big, small, ...Array(300).fill(small)]);
    expect(v[0]).toBe(1);
    expect(f.errors[v[1]! - 2]?.message).toBe('not enough memory');
    expect(v.slice(2).every((x) => x === 1)).toBe(true);
  });

  it('strings built in a loop keep extending the arena string in place', async () => {
    const f = load(await compileOk(`function filter(pkt)
      local s = ''
      for i = 1, 5000 do s = s .. 'ab' end
      return #s == 10000 and s:sub(-3) == 'bab'
    end`));
    expect(f.run(Array(50).fill(new Uint8Array(1)))).toEqual(Array(50).fill(1));
  });

  it('keeps scripts outside the subset on the Lua engine, with reasons', () => {
    const cases: [string, RegExp][] = [
      [`function filter(pkt) local p = tostring(pkt):sub(1, 1) return tostring(pkt):match(p) ~= nil end`, /pattern that is not a constant/],
      [`local last = '' function filter(pkt) last = tostring(pkt) return true end`, /non-constant string stored in module-level/],
      [`local function f(s) return s:find('x') end function filter(pkt) return f(tostring(pkt)) end`, /value list of string.find/],
      [`function filter(pkt) return tostring(pkt):match('[a') end`, /malformed pattern/],
      // no value at all when out of range: tostring() would raise 'value expected'
      [`function filter(pkt) return tostring(tostring(pkt):byte(1)) == 'nil' end`, /value list of string.find/],
      [`function filter(pkt) return tostring(pkt) .. {} end`, /concatenation of a value that is not a string or a number/],
    ];
    for (const [src, why] of cases) {
      const r = checkScript(src, { file: 'x.lua' });
      expect(r.engine).toBe('lua');
      expect(r.reasons.join('\n')).toMatch(why);
    }
  });
});
