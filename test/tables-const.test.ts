// Generic for loops over constant tables (compiler/tables/unroll.ts): which
// loops compile, and compiled verdicts against the Lua engine packet by packet
// over generated scripts and packets.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScript, compile } from '../compiler/index.js';
import type { Filter } from '../runtime/engine/filter.js';
import { createLuaFilter } from '../runtime/engine/lua.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { batchOf } from './support/adversarial-helpers.js';
import { REPO } from './support/paths.js';

function run(f: Filter, packets: Uint8Array[]): number[] {
  const v = new Uint8Array(packets.length);
  f.filterBatch(batchOf(packets, 0, 1_700_000_000), v);
  return [...v];
}

/** Verdicts of both engines; throws if the script does not compile. */
export async function bothEngines(source: string, packets: Uint8Array[]): Promise<{ wasm: number[]; lua: number[] }> {
  const r = await compile(source, { file: 't.lua', optimize: 1 });
  if (!r.ok) throw new Error(`does not compile:\n${r.reasons.join('\n')}\n${source}`);
  const w = new WasmFilter(r.wasm);
  const l = await createLuaFilter(source, 't.lua');
  try {
    return { wasm: run(w, packets), lua: run(l, packets) };
  } finally { w.close(); l.close(); }
}

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const engine = (src: string) => checkScript(src, { file: 't.lua' }).engine;

describe('generic for over constant tables', () => {
  it('ids-signatures.lua compiles', () => {
    const src = fs.readFileSync(path.join(REPO, 'examples/ids-signatures.lua'), 'latin1');
    expect(checkScript(src, { file: 'ids-signatures.lua' }).reasons).toEqual([]);
  });

  it('unrolls pairs over a string set with an order-independent body', async () => {
    const src = `local S = { ['abc'] = true, ['x\\0y'] = true, zz = true }
function filter(pkt)
  local s = tostring(pkt)
  for k in pairs(S) do if string.find(s, k, 1, true) then return false end end
  return true
end`;
    expect(engine(src)).toBe('wasm');
    const pk = ['abc', 'ab', 'x\0y', 'xy', 'zz', 'z', ''].map(latin1);
    const r = await bothEngines(src, pk);
    expect(r.wasm).toEqual([0, 1, 0, 1, 0, 1, 1]);
    expect(r.wasm).toEqual(r.lua);
  });

  it('ipairs visits 1..n in order and stops at the first hole; break leaves the loop', async () => {
    const src = `local L = { 'a', 'b', 'c', [5] = 'e' }
function filter(pkt)
  local s = tostring(pkt)
  local n = 0
  for i, v in ipairs(L) do
    if s:find(v, 1, true) then n = n * 10 + i end
    if i == 2 and s:find('!', 1, true) then break end
  end
  return n == 0 or n == 13 or n == 1 or n == 2
end`;
    expect(engine(src)).toBe('wasm');
    const pk = ['', 'a', 'b', 'ac', 'abc', 'ab!c', 'e', 'bc'].map(latin1);
    const r = await bothEngines(src, pk);
    expect(r.wasm).toEqual(r.lua);
    expect(r.wasm).toEqual([1, 1, 1, 1, 0, 0, 1, 0]);
  });

  it('keeps order-dependent pairs loops and changed tables on the interpreter', () => {
    const dependent = `local S = { a = 1, b = 2 }
function filter(pkt)
  for k, v in pairs(S) do if #pkt > v then return k == 'a' end end
  return true
end`;
    expect(engine(dependent)).toBe('lua');
    // values of different types could fail for some entries and not others
    const mixed = `local S = { a = 1, b = 'x' }
function filter(pkt)
  for k, v in pairs(S) do if #pkt > v then return false end end
  return true
end`;
    expect(engine(mixed)).toBe('lua');
    expect(engine(mixed.replace("'x'", '2'))).toBe('wasm');
    const mutated = `local L = { 'a' }
L[2] = 'b'
function filter(pkt) for _, v in ipairs(L) do if tostring(pkt) == v then return false end end return true end`;
    // changed: a run-time table, whose ipairs order is Lua's
    expect(engine(mutated)).toBe('wasm');
  });

  it('#t of a constant sequence is a constant; of a table with holes it stays interpreted', async () => {
    const src = `local L = { 10, 20, 30, [4] = 40 }
function filter(pkt) return #pkt == #L end`;
    expect(engine(src)).toBe('wasm');
    const r = await bothEngines(src, [latin1('abcd'), latin1('abc')]);
    expect(r.wasm).toEqual([1, 0]);
    expect(r.wasm).toEqual(r.lua);
    expect(engine(`local L = { 1, 2, [4] = 4 }\nfunction filter(pkt) return #pkt == #L end`)).toBe('lua');
  });
});

describe('multiple return values of script functions', () => {
  it('returns up to four values of any representation; missing ones are nil', async () => {
    const src = `local data = require'data'
local hdr = data.layout{ a = {0, 8}, b = {8, 8} }
local function split(pkt)
  local a = pkt:layout(hdr).a
  if a == nil then return nil end
  if a == 0 then return a, 'zero' end
  if a == 1 then return a, a / 2, pkt:segment(1), tostring(pkt) end
  return a, a > 10, pkt:segment(1)
end
function filter(pkt)
  local a, b, seg, s = split(pkt)
  local x, y = split(pkt), 7
  if x ~= a or y ~= 7 then return false end
  if a == nil then return b == nil and seg == nil end
  if a == 0 then return b == 'zero' and seg == nil and s == nil end
  if a == 1 then return b == 0.5 and #seg == #pkt - 1 and s == tostring(pkt) end
  return b == (a > 10) and seg ~= nil and #seg + 1 == #pkt and s == nil
end`;
    expect(checkScript(src, { file: 't.lua' }).reasons).toEqual([]);
    const pk = [[], [0], [0, 5], [1, 2, 3], [1], [5, 1], [20, 1, 2]].map((x) => Uint8Array.from(x));
    const r = await bothEngines(src, pk);
    expect(r.lua).toEqual([1, 1, 1, 1, 2, 1, 1]); // [1]: segment(1) is nil, #nil fails
    expect(r.wasm).toEqual(r.lua);
  });

  it('keeps a later view with a layout and the value list of a call as a later value interpreted', () => {
    expect(engine(`local data = require'data'
local h = data.layout{ a = {0, 8} }
local function f(pkt) return 1, pkt:layout(h) end
function filter(pkt) local _, v = f(pkt) return v.a == 1 end`)).toBe('lua');
    expect(engine(`local function f(x) return x, x end
local function g(x) return x, f(x) end
function filter(pkt) local a, b, c = g(#pkt) return c == a end`)).toBe('lua');
  });
});

// ------------------------------------------------- generated scripts, both engines

const ALPHA = ['a', 'b', 'ab', 'ba', '\0', 'a\0b', 'aa', 'xyz'];
const luaStr = (s: string) => `'${[...s].map((c) => (c === '\0' ? '\\0' : c)).join('')}'`;

const scriptArb = fc.record({
  keys: fc.uniqueArray(fc.constantFrom(...ALPHA), { minLength: 0, maxLength: 6 }),
  form: fc.constantFrom('set-pairs', 'list-ipairs', 'list-pairs', 'list-ipairs-count', 'set-index'),
  verdict: fc.boolean(),
});

function scriptOf(g: { keys: string[]; form: string; verdict: boolean }): string {
  const set = `local T = { ${g.keys.map((k) => `[${luaStr(k)}] = true`).join(', ')} }`;
  const list = `local T = { ${g.keys.map(luaStr).join(', ')} }`;
  const ret = g.verdict ? 'true' : 'false';
  switch (g.form) {
    case 'set-pairs':
      return `${set}\nfunction filter(pkt)\n  local s = tostring(pkt)\n  for k, v in pairs(T) do if v and s:find(k, 1, true) then return ${ret} end end\n  return ${!g.verdict}\nend`;
    case 'list-pairs':
      return `${list}\nfunction filter(pkt)\n  local s = tostring(pkt)\n  for i, k in pairs(T) do if s:find(k, 1, true) then return i % 2 == 0 end end\n  return ${ret}\nend`;
    case 'list-ipairs':
      return `${list}\nfunction filter(pkt)\n  local s = tostring(pkt)\n  for i, k in ipairs(T) do if s == k then return i >= ${g.keys.length >> 1} end end\n  return ${ret}\nend`;
    case 'list-ipairs-count':
      return `${list}\nfunction filter(pkt)\n  local s, n = tostring(pkt), 0\n  for _, k in ipairs(T) do\n    if #s < #k then break end\n    if s:sub(1, #k) == k then n = n + 1 end\n  end\n  return n % 2 == ${g.verdict ? 1 : 0}\nend`;
    default:
      return `${set}\nfunction filter(pkt) return T[tostring(pkt)] == ${g.verdict ? 'nil' : 'true'} end`;
  }
}

describe('generated constant-table loops: compiled agrees with the Lua engine packet by packet', () => {
  it('random tables, loop forms and packets', async () => {
    const packets = fc.array(fc.array(fc.constantFrom(...ALPHA), { maxLength: 3 }).map((p) => p.join('')), { minLength: 1, maxLength: 12 });
    await fc.assert(fc.asyncProperty(scriptArb, packets, async (g, pk) => {
      const src = scriptOf(g);
      const r = await bothEngines(src, pk.map(latin1));
      expect(r.wasm, src).toEqual(r.lua);
    }), { numRuns: 25, seed: 5 });
  }, 60_000);
});

