// The call-depth limit (docs/SEMANTICS.md, "Call depth"): one limit and one
// message on both engines, counted only in scripts whose calls may nest that
// deep. test/regressions/call-depth.lua runs the differential at 149, 150,
// 151, 300 and 30000 levels; here: the two halves agree on the limit, which
// scripts pay for counting, and the interpreter's rewrite of a counted
// script changes nothing else.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CALL_DEPTH_MESSAGE as STACK_OVERFLOW, MAX_CALL_DEPTH } from '../compiler/abi.js';
import { compile } from '../compiler/index.js';
import { countedSource, mayNest } from '../runtime/engine/call-depth.js';
import { createLuaFilter } from '../runtime/engine/lua.js';
import { loadFilter } from '../runtime/index.js';
import { repeatedBatch } from './gen/differential.js';
import { REPO } from './support/paths.js';

const examples = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.lua'));
const read = (f: string) => readFileSync(join(REPO, 'examples', f), 'latin1');

describe('call depth', () => {
  it('is 150 calls, one message for both engines', () => {
    expect(MAX_CALL_DEPTH).toBe(150);
    expect(STACK_OVERFLOW).toBe('stack overflow (more than 150 nested calls)');
  });

  it('is counted only where calls may nest that deep', () => {
    const may = (src: string) => mayNest(src, MAX_CALL_DEPTH);
    expect(may('function filter(pkt) return #pkt > 0 end')).toBe(false);
    expect(may('local function a(x) return x end local function b(x) return a(x) + 1 end function filter(pkt) return b(#pkt) > 0 end')).toBe(false);
    // inside `local f = function ... end`, f is the outer f: no recursion
    expect(may('local function f() return 1 end function filter(pkt) local f = function() return f() end return f() end')).toBe(false);
    expect(may('local f = function() return 1 end function filter(pkt) return f() end')).toBe(false);
    expect(may('local s = "f() function" function filter(pkt) return s end')).toBe(false);
    expect(may('local x <const> = 1 local function f() return x end function filter(pkt) return f() end')).toBe(false);
    // recursion, direct, mutual, through pcall or through filter itself
    expect(may('local function r(n) if n == 0 then return 0 end return r(n - 1) end function filter(pkt) return r(3) end')).toBe(true);
    expect(may('function a(n) return b(n) end function b(n) return a(n) end function filter(pkt) return true end')).toBe(true);
    expect(may('local function r(n) pcall(r, n) end function filter(pkt) r(1) return true end')).toBe(true);
    expect(may('function filter(pkt) if #pkt > 1 then return filter(pkt:segment(1)) end return true end')).toBe(true);
    // function values it cannot follow
    expect(may('local function cb(c) return c end function filter(pkt) return ("x"):gsub(".", cb) end')).toBe(true);
    expect(may('function filter(pkt) local t = { f = function() end } return t end')).toBe(true);
    expect(may('local t = {} function t.m() end function filter(pkt) return true end')).toBe(true);
    expect(may('function filter(pkt) return _G.filter ~= nil end')).toBe(true);
    // a chain of distinct calls longer than the limit
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `local function f${i + 1}() return ${i ? `f${i}()` : '1'} end`).join('\n') +
      `\nfunction filter(pkt) return f${n}() end`;
    expect(may(chain(MAX_CALL_DEPTH))).toBe(false);
    expect(may(chain(MAX_CALL_DEPTH + 1))).toBe(true);
  });

  it('costs the examples nothing: none is counted on either engine', async () => {
    for (const f of examples) {
      expect(countedSource(read(f)), f).toBeUndefined();
      const ir = await compile(read(f), { file: f, stopAfter: 'ir' });
      expect(ir.ok && ir.dump, f).not.toMatch(/call_depth/);
    }
    const rec = await compile('local function r(n) if n == 0 then return 0 end return r(n - 1) end function filter(pkt) return r(#pkt) == 0 end',
      { file: 'r.lua', stopAfter: 'ir' });
    expect(rec.ok && rec.dump).toMatch(/call_depth/);
  });

  it('the interpreter runs a counted script as it runs it written (verdicts and messages)', async () => {
    // every form the rewrite touches: returns of values, of calls, with parentheses and
    // semicolons, none, falling off the end, varargs, methods, closures, goto to the end
    const src = `local data = require'data'
local function two(...) return ... end
local function none() end
local function tail(n, acc) if n == 0 then return acc end return tail(n - 1, acc + 1) end
local t = {}
function t.m(x) return (two(x, 1)) ; end
function t:n(x) return self == t, two(x) end
local function jump(x)
  if x then goto done end
  local y = 1
  ::done::
end
local function closure(k)
  local f = function(z) return z + k end
  return f(1), #{ two(1, 2, 3) }, select('#', none()), select('#', two())
end
function filter(pkt)
  local s = "return f( -- not code"   -- ( return
  local a, b = t.m(#pkt)
  local c, d, e = t:n(5)
  jump(#pkt > 1)
  local p, q, r, u = closure(#pkt)
  if tail(10, 0) ~= 10 or b ~= nil or not c or d ~= 5 or p ~= 1 + #pkt or q ~= 3 or r ~= 0 or u ~= 0 then return false end
  if #pkt == 2 then error('two bytes') end
  return a == #pkt and pcall(tail, 3, 0)
end`;
    expect(countedSource(src)).toBeDefined();
    const packets = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(2), new Uint8Array(3)];
    const batch = repeatedBatch(packets, 2);
    const run = async (countDepth: boolean) => {
      const l = await createLuaFilter(src, 'rw.lua', {}, { countDepth });
      const v = new Uint8Array(batch.count);
      const errors = l.filterBatch(batch, v);
      l.close();
      return { v: [...v], errors };
    };
    const plain = await run(false);
    expect(plain.v).toEqual([1, 1, 1, 1, 2, 2, 1, 1]);
    expect(await run(true)).toEqual(plain);
    // and the rewrite keeps every line where it was
    expect(countedSource(src)!.split('\n').length).toBe(src.split('\n').length);
  });

  it('a script that is not counted runs as written: a tail call to a runtime function shows no runtime position', async () => {
    const src = "function filter(pkt) return require'package' end";
    expect(countedSource(src)).toBeUndefined();
    const l = await createLuaFilter(src, 'tail.lua');
    const errors = l.filterBatch(repeatedBatch([new Uint8Array(0)], 1), new Uint8Array(1));
    l.close();
    expect(errors.map((e) => e.message)).toEqual(["tail.lua: module 'package' not found (filters can require only 'data')"]);
  });

  it('an overflow in the main chunk is the same load error on both engines', async () => {
    const src = 'local function r(n) if n == 0 then return 0 end return 1 + r(n - 1) end\nlocal x = r(200)\nfunction filter(pkt) return x > 0 end';
    for (const engine of ['wasm', 'lua'] as const) {
      await expect(loadFilter(src, { engine, name: 'm.lua' }), engine).rejects.toThrow(`m.lua:1:60: ${STACK_OVERFLOW}`);
    }
    // r(149) is 150 calls deep
    await expect(loadFilter(src.replace('200', '149'), { engine: 'wasm', name: 'm.lua' })).resolves.toBeDefined();
    await expect(loadFilter(src.replace('200', '149'), { engine: 'lua', name: 'm.lua' })).resolves.toBeDefined();
  });
});
