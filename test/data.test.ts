// The data library (runtime/engine/data-lib.ts) checked three ways: the §3 vectors
// and random fields against a bit-string reference written in JS, each run
// both in the engine (Wasmoon) and in Debian's native lua5.4 when present.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DATA_LIB_LUA } from '../runtime/engine/data-lib.js';
import { ACCEPT, type PacketBatch } from '../runtime/engine/filter.js';
import { createLuaFilter } from '../runtime/engine/lua.js';
import { DATA_VECTORS, RTP_VECTOR, hexToBytes, luaLiteral } from './support/data-vectors.js';
import { hasLua54 as LUA54 } from './support/tools.js';
const dir = mkdtempSync(join(tmpdir(), 'luapf-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Field value by reading bits one at a time; luadata's little-endian group reversal. */
function reference(bytes: Uint8Array, bo: number, w: number, little: boolean): bigint | null {
  if (w <= 0 || w > 64 || bo < 0 || bo + w > bytes.length * 8) return null;
  let bits = '';
  for (let i = bo; i < bo + w; i++) bits += (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  if (little && w > 8) {
    const groups: string[] = [];
    for (let i = 0; i < w; i += 8) groups.push(bits.slice(i, i + 8));
    bits = groups.reverse().join('');
  }
  let v = BigInt('0b' + bits);
  if (w === 64 && v >= 1n << 63n) v -= 1n << 64n;
  return v;
}

const luaBytes = (b: Uint8Array) => '"' + Array.from(b, (x) => '\\' + x).join('') + '"';

interface Case {
  bytes: Uint8Array;
  field: string;
  expected: number | bigint | string | null;
}

/**
 * A Lua chunk that expects `data` in scope and evaluates every case;
 * `check()` returns '' or a description of the failures.
 */
function selfTest(cases: Case[]): string {
  const rows = cases.map(
    (c, i) => `  { ${luaBytes(c.bytes)}, ${c.field}, ${luaLiteral(c.expected)}, ${i + 1} },`,
  );
  return [
    'local cases = {',
    ...rows,
    '}',
    'local function check()',
    '  local bad = {}',
    '  for _, c in ipairs(cases) do',
    '    local d = data.new(c[1])',
    '    if #c[1] == 0 then d = data.new("x"):segment(0, 0) end',
    '    local ok, got = pcall(function() return d:layout{ f = c[2] }.f end)',
    '    if not ok or got ~= c[3] or math.type(got) ~= math.type(c[3]) then',
    '      bad[#bad + 1] = "case " .. c[4] .. ": got " .. tostring(got) .. " want " .. tostring(c[3])',
    '    end',
    '  end',
    '  return table.concat(bad, "; ")',
    'end',
  ].join('\n');
}

function oneByte(): PacketBatch {
  return {
    bytes: new Uint8Array([0]),
    offsets: new Uint32Array([0]),
    lengths: new Uint32Array([1]),
    timestampsSec: new Float64Array(1),
    timestampsNsec: new Uint32Array(1),
    count: 1,
  };
}

/** Runs a self-test chunk in the engine: the filter accepts iff check() is clean. */
async function runInEngine(chunk: string): Promise<string> {
  // a failure comes back as the packet's error message
  const src = `local data = require'data'\n${chunk}\nlocal result = check()\nfunction filter() if result ~= '' then error(result, 0) end return true end`;
  const f = await createLuaFilter(src, 'selftest.lua');
  try {
    const v = new Uint8Array(1);
    const errs = f.filterBatch(oneByte(), v);
    return v[0] === ACCEPT ? '' : errs.map((e) => e.message).join('\n');
  } finally {
    f.close();
  }
}

function runInLua54(chunk: string): string {
  const lib = join(dir, 'data.lua');
  writeFileSync(lib, DATA_LIB_LUA, 'latin1');
  const main = join(dir, 'main.lua');
  writeFileSync(main, `local data = dofile(${JSON.stringify(lib)})\n${chunk}\nio.write(check())`, 'latin1');
  return execFileSync('lua5.4', [main], { encoding: 'latin1' });
}

const vectorCases: Case[] = DATA_VECTORS.map((v) => ({
  bytes: hexToBytes(v.hex),
  field: v.field,
  expected: v.expected,
}));

// deterministic pseudo-random fields, biased toward the edges
function randomCases(count: number, seed: number): Case[] {
  let s = seed >>> 0;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const len = rnd(11);
    const bytes = Uint8Array.from({ length: len }, () => (rnd(4) === 0 ? 0xff : rnd(256)));
    const bo = rnd(len * 8 + 4) - 2;
    const w = rnd(6) === 0 ? 64 - rnd(3) : rnd(67);
    const little = rnd(2) === 1;
    const field = little ? `{${bo},${w},'number','little'}` : `{${bo},${w}}`;
    out.push({ bytes, field, expected: reference(bytes, bo, w, little) });
  }
  return out;
}

describe('reference implementation', () => {
  test('agrees with every numeric §3 vector', () => {
    for (const v of DATA_VECTORS) {
      const m = /^\{(-?\d+),(\d+)(?:,'n\w*','(\w)\w*')?\}$/.exec(v.field);
      if (!m) continue;
      const got = reference(hexToBytes(v.hex), Number(m[1]), Number(m[2]), m[3] === 'l' || m[3] === 'h');
      expect(got === null ? null : got, `${v.hex} ${v.field}`).toEqual(
        v.expected === null ? null : BigInt(v.expected as number | bigint),
      );
    }
  });
});

describe('data library in the engine', () => {
  test('§3 vectors and extra vectors', async () => {
    expect(await runInEngine(selfTest(vectorCases))).toBe('');
  });
  test('random fields match the bit-string reference', async () => {
    expect(await runInEngine(selfTest(randomCases(400, 7)))).toBe('');
  });
  test('a failing case is reported (the harness can fail)', async () => {
    const wrong: Case = { bytes: hexToBytes('FFAB'), field: '{0,4}', expected: 0xe };
    expect(await runInEngine(selfTest([wrong]))).toMatch(/case 1: got 15 want 14/);
  });
  test('RTP layout', async () => {
    const checks = Object.entries(RTP_VECTOR.expected).map(([k, v]) => `r.${k} == ${v}`).join(' and ');
    const chunk = `function check() local r = data.new(${luaBytes(hexToBytes(RTP_VECTOR.hex))}):layout(${RTP_VECTOR.layout}) return (${checks}) and '' or 'rtp' end`;
    expect(await runInEngine(chunk)).toBe('');
  });
});

describe.skipIf(!LUA54)('data library under native lua5.4', () => {
  test('§3 vectors and extra vectors', () => {
    expect(runInLua54(selfTest(vectorCases))).toBe('');
  });
  test('random fields match the bit-string reference', () => {
    expect(runInLua54(selfTest(randomCases(400, 7)))).toBe('');
  });
  test('views, segments and errors behave the same as in the engine', async () => {
    const chunk = String.raw`
function check()
  local out = {}
  local function put(...)
    for i = 1, select('#', ...) do
      -- positions differ between the two hosts (chunk names): drop them
      out[#out + 1] = (tostring((select(i, ...))):gsub('^[^:]*:%d+: ', ''))
    end
  end
  local d = data.new("\1\2\3\4")
  put(#d, #d:segment(1), d:segment(4), d:segment(1, 3) and 'ok', d:segment(1, 4), d:segment(-1))
  put(#d:segment(0, 0), tostring(d:segment(2)) == "\3\4", d:segment(1):segment(1, 1):layout{x={0,8}}.x)
  put(data.new(0), #data.new(5), tostring(data.new(2)) == "\0\0")
  put(pcall(d.segment, d, 1.5))
  put(pcall(function() d.x = 1 end))
  put(pcall(data.new, {}))
  put(select(2, pcall(function() return d:layout{ f = { 'a', 1 } } end)))
  put(getmetatable(d), d.layout == d.segment, d:layout{ segment = {0, 8} }.segment ~= 1)
  put(d:layout{ q = 5, r = {0, 8} }.q, d.r)
  local lay = data.layout{ a = {0, 4}, b = {offset = 4, length = 4} }
  put(data.layout(lay) == lay, d:layout(lay).a, d.b, d.c)
  return table.concat(out, ',')
end`;
    const native = runInLua54(chunk);
    const src = `local data = require'data'\n${chunk}\nlocal r = check()\nfunction filter() error(r, 0) end`;
    const f = await createLuaFilter(src, 'x.lua');
    const errs = f.filterBatch(oneByte(), new Uint8Array(1));
    f.close();
    expect(errs[0].message).toBe(`x.lua: ${native}`);
    expect(native).toBe(
      '4,3,nil,ok,nil,nil,0,true,3,nil,5,true,false,bad argument #1 to \'segment\' (number has no integer representation),' +
        "false,data views are read-only (cannot assign field 'x'),false,bad argument #1 to 'new' (string or number expected, got table)," +
        "layout field 'f': offset must be an integer, got string,data,false,true,nil,1,true,0,1,nil",
    );
  });
});
