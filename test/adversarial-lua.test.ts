// Hostile scripts on the interpreter: runaway loops and recursion (Lua and C
// stack), memory bombs, sandbox escapes. Each packet gets the documented
// verdict and message; the run goes on; the process stays healthy.
import { describe, expect, test } from 'vitest';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { bytes, luaFilter, runFilter } from './support/adversarial-helpers.js';

/** One packet per case: packet length i+1 runs case i; the last packet (length 0) is a normal one. */
function casesScript(cases: string[], normal = 'return true'): string {
  return `local cases = {\n${cases.map((c) => `  function(pkt) ${c} end,`).join('\n')}\n}
function filter(pkt)
  if #pkt == 0 then ${normal} end
  return cases[#pkt](pkt)
end`;
}

function packetsFor(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 1; i <= n; i++) out.push(new Uint8Array(i), new Uint8Array(0));
  return out;
}

describe('runaway code is stopped per packet', () => {
  test('loops, recursion, and loops hidden in callbacks, handlers and metamethods', async () => {
    const cases = [
      'while true do end',
      'local function f(n) return 1 + f(n) end return f(0)',                      // Lua stack
      'local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end f()', // C stack through pcall
      'local t = setmetatable({}, {}) getmetatable(t).__index = function(_, k) return t[k] end return t.x',
      'local function f(s) return (s:gsub(".", f)) end return f("ab")',
      'local o = setmetatable({}, { __tostring = function(o) return tostring(o) end }) return tostring(o)',
      'local t = {3, 2, 1} table.sort(t, function() while true do end end)',
      'return ("x"):rep(100):gsub(".", function() while true do end end)',
      'xpcall(function() while true do end end, function() while true do end end) return true',
      'while true do xpcall(error, function() while true do end end) end',
      'while true do pcall(function() while true do end end) end',
      'local x <close> = setmetatable({}, { __close = function() while true do end end }) while true do end',
      'error(setmetatable({}, { __tostring = function() while true do end end }))',
      'local function f() local x <close> = setmetatable({}, { __close = f }) end f() return true',
    ];
    const f = await luaFilter(casesScript(cases), 'run.lua', { fuel: 50_000 });
    const r = runFilter(f, packetsFor(cases.length));
    expect(r.v).toEqual(cases.flatMap(() => [ERROR, ACCEPT]));
    const m = r.errors.map((e) => e.message);
    const fuel = /^run\.lua:\d+:\d+: fuel exhausted \(50000 steps\)$/;
    expect(m[0]).toMatch(fuel);
    // the call-depth limit (docs/SEMANTICS.md) stops recursion, through pcall, callbacks and
    // metamethods too, before Lua's own stack and C-stack limits
    const depth = /^run\.lua:\d+:\d+: stack overflow \(more than 150 nested calls\)$/;
    for (const i of [1, 2, 3, 4, 5]) expect(m[i]).toMatch(depth);
    for (const i of [6, 7, 8, 9, 10, 11]) expect(m[i]).toMatch(fuel);
    expect(m[12]).toBe('run.lua: (error object is a table value)');
    expect(m[13]).toMatch(depth);
    f.close();
  });

  test('1,000 packets that each exhaust their fuel complete, and the filter still works', async () => {
    const f = await luaFilter('function filter(pkt) if #pkt > 0 then while true do end end return true end', 'f.lua', { fuel: 20_000 });
    const packets = Array.from({ length: 1000 }, () => bytes(1));
    packets.push(new Uint8Array(0));
    const r = runFilter(f, packets);
    expect(r.v.slice(0, 1000).every((v) => v === ERROR)).toBe(true);
    expect(r.v[1000]).toBe(ACCEPT);
    expect(r.errors).toHaveLength(1000);
    expect(new Set(r.errors.map((e) => e.message))).toEqual(new Set(['f.lua:1:1: fuel exhausted (20000 steps)']));
    expect(runFilter(f, [new Uint8Array(0)]).v).toEqual([ACCEPT]);
    f.close();
  });
});

describe('memory bombs hit the cap', () => {
  const CAP = 4 << 20;

  test('string.rep, concatenation, tables, string.format, table.concat; memory returns under the cap', async () => {
    const cases = [
      "return #string.rep('x', 1e9)",
      "return #string.rep('x', 2^62)",
      "return #string.rep('ab', 1e8, ',')",
      "local s = 'x' while true do s = s .. s end",
      "local s = '' for i = 1, 1e9 do s = s .. ('c'):rep(65536) .. i end",
      'local t = {} for i = 1, 1e9 do t[i] = i end',
      'local t = {} for i = 1, 1e9 do t[{}] = i end',
      "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end",
      "local t = {} for i = 1, 30 do t[i] = ('y'):rep(1 << 20) end return #table.concat(t)",
      "return #string.format('%s%s%s%s', ('z'):rep(1 << 20), ('z'):rep(1 << 20), ('z'):rep(1 << 20), ('z'):rep(1 << 20))",
      "return #table.concat({}, ('s'):rep(1e7))",
      "local t = {} t[1e9] = 1 return #string.rep(string.rep('q', 1e6), 100)",
    ];
    const f = await luaFilter(casesScript(cases, "return #string.rep('n', 1e5) == 1e5"), 'bomb.lua', {
      memoryBytes: CAP, fuel: 2_000_000_000,
    });
    const r = runFilter(f, packetsFor(cases.length));
    const want = cases.flatMap(() => [ERROR, ACCEPT]);
    expect(r.v, JSON.stringify(r.errors)).toEqual(want);
    for (const e of r.errors) expect(e.message).toMatch(/not enough memory|too large/);
    expect(r.errors.map((e) => e.index)).toEqual(cases.map((_, i) => 2 * i));
    // garbage from the bombs is collected as the script allocates again
    runFilter(f, Array.from({ length: 200 }, () => new Uint8Array(0)));
    expect(f.memoryUsed).toBeLessThan(CAP + (1 << 20));
    f.close();
  });

  test('state that grows across packets fails packets at the cap, never the run', async () => {
    const f = await luaFilter(`local keep = {}
      function filter(pkt)
        keep[#keep + 1] = string.rep(tostring(pkt), 64)
        return true
      end`, 'grow.lua', { memoryBytes: 1 << 20 });
    const packets = Array.from({ length: 3000 }, (_, i) => new Uint8Array(16).fill(i & 255));
    const r = runFilter(f, packets);
    // early packets fit; once the cap is reached packets fail (a few pass when the GC frees their garbage)
    expect(r.v.indexOf(ERROR)).toBeGreaterThan(100);
    expect(r.errors.length).toBeGreaterThan(2000);
    expect(new Set(r.errors.map((e) => e.message))).toEqual(new Set(['grow.lua: not enough memory']));
    expect(f.memoryUsed).toBeLessThan(2 << 20);
    // more full batches, up to the largest sub-batch, never fail as a whole
    for (const n of [4096, 5000]) {
      const more = runFilter(f, Array.from({ length: n }, () => new Uint8Array(16)));
      expect(more.errors.length).toBeGreaterThan(n - 100);
      expect(more.errors.every((e) => e.message === 'grow.lua: not enough memory')).toBe(true);
    }
    f.close();
  });

  test('a bomb in the main chunk is a load error, not a crash', async () => {
    await expect(luaFilter("local s = string.rep('x', 1e9) function filter() end", 'main.lua', { memoryBytes: CAP }))
      .rejects.toThrow(/not enough memory/);
  });
});

describe('sandbox escapes', () => {
  test('load, require, io/os/debug, string.dump, the string metatable, _G and _ENV', async () => {
    const cases = [
      'return load("return 1")',
      'return loadstring("return 1")',
      'return dofile("/etc/passwd")',
      'return loadfile("/etc/passwd")',
      "return require'os'.exit(1)",
      "return require'io'.open('/etc/passwd')",
      "return require'debug'.getregistry()",
      "return require'package'",
      'return os.exit(1)',
      'return io.write("x")',
      'return debug.getinfo(1)',
      'return string.dump(filter)',
      "return getmetatable('').__index.dump(filter)",
      "return ('').dump(filter)",
      'return collectgarbage("count")',
      'return coroutine.create(print)',
      'return package.loadlib("libc.so.6", "system")',
      "return _G.load('return 1')",
      "return _ENV.debug.sethook()",
      'return setmetatable(pkt, {})',
      'return setmetatable({}, { __gc = function() while true do end end })',
      'return setmetatable(_G, { __index = function() return load end }) and foo("return 1")',
      'return getmetatable(pkt).__index.x',
    ];
    const f = await luaFilter(casesScript(cases), 'esc.lua');
    const r = runFilter(f, packetsFor(cases.length));
    expect(r.v).toEqual(cases.flatMap(() => [ERROR, ACCEPT]));
    const m = r.errors.map((e) => e.message);
    expect(m[0]).toMatch(/attempt to call a nil value \(global 'load'\)/);
    expect(m[4]).toMatch(/module 'os' not found \(filters can require only 'data'\)/);
    expect(m[8]).toMatch(/attempt to index a nil value \(global 'os'\)/);
    expect(m[11]).toMatch(/attempt to call a nil value \(field 'dump'\)/);
    // at the script's call (the script counts its calls: no tail call, docs/SEMANTICS.md)
    expect(m[7]).toBe("esc.lua:9:24: module 'package' not found (filters can require only 'data')");
    expect(m[19]).toBe('esc.lua: cannot change a protected metatable');
    expect(m[20]).toBe('esc.lua:22:24: __gc metamethods are not available to filters');
    expect(m[21]).toMatch(/stack overflow \(more than 150 nested calls\)/);
    expect(m[22]).toMatch(/attempt to index a nil value/);
    for (const msg of m) expect(msg).not.toMatch(/luapf:|data:\d/);
    f.close();
  });

  test('the view exposes nothing to reach through', async () => {
    const f = await luaFilter(`function filter(pkt)
      local k = next(pkt)
      return getmetatable(pkt) == 'data' and rawget(pkt, 1) == nil and pkt[1] == nil and rawlen(pkt) == 0
        and (k == nil or (type(k) == 'table' and next(k) == nil and getmetatable(k) == nil))
    end`, 'view.lua');
    expect(runFilter(f, [bytes(1, 2, 3)])).toEqual({ v: [ACCEPT], errors: [] });
    f.close();
  });

  test("changing the shared libraries only changes the script's own view: the data library keeps working", async () => {
    const f = await luaFilter(`local ok
      string.sub, string.byte, string.rep, string.unpack = nil, nil, nil, nil
      table.concat, table.unpack, math.tointeger = nil, nil, nil
      getmetatable('').__index = function(_, k) return 'hijacked:' .. k end
      function filter(pkt)
        pkt:layout{ a = {0, 8}, w = {4, 16, 'n', 'l'} }
        local seg = pkt:segment(1, 1)
        return not ok and pkt.a == 0x12 and pkt.w == 0x4523 and #tostring(pkt) == 3 and seg and #seg == 1
          and ('x').anything == 'hijacked:anything'
      end
      setmetatable(_G, { __newindex = function() error('no globals') end })
      ok = pcall(function() x = 1 end)`, 'hijack.lua');
    expect(runFilter(f, [bytes(0x12, 0x34, 0x56), bytes(0x13, 0x34, 0x56)])).toEqual({ v: [ACCEPT, REJECT], errors: [] });
    f.close();
  });

  test('errors raised with odd values and messages never break the error path', async () => {
    const cases = [
      'error()',
      'error(nil)',
      'error(setmetatable({}, { __tostring = function() return 42 end }))',
      'error(setmetatable({}, { __tostring = function() error("again") end }))',
      "error(setmetatable({}, { __tostring = function() return ('m'):rep(1e9) end }))",
      "error(('e'):rep(1e5))",
      "error('\\0\\255 binary')",
      'error(pkt)',
    ];
    const f = await luaFilter(casesScript(cases), 'odd.lua', { memoryBytes: 4 << 20 });
    const r = runFilter(f, packetsFor(cases.length));
    expect(r.v).toEqual(cases.flatMap(() => [ERROR, ACCEPT]));
    const m = r.errors.map((e) => e.message);
    expect(m[0]).toBe('odd.lua: (error object is a nil value)');
    expect(m[2]).toBe('odd.lua: 42'); // tostring converts a number from __tostring
    expect(m[3]).toBe('odd.lua: (error object is a table value)');
    expect(m[4]).toBe('odd.lua: (error object is a table value)');
    expect(m[5]).toMatch(/^odd\.lua:\d+:\d+: e+\.\.\.$/); // long messages are cut
    expect(m[5].length).toBeLessThan(1100);
    expect(m[6]).toMatch(/\0\xff binary$/);
    f.close();
  });
});

describe('integer edge values in the interpreter', () => {
  test('formatting, conversion and string.rep at the extremes', async () => {
    const f = await luaFilter(`function filter(pkt)
      return tostring(math.mininteger) == '-9223372036854775808' and math.mininteger // -1 == math.mininteger
        and math.mininteger % -1 == 0 and math.tointeger(2^63) == nil and string.format('%d', math.mininteger) == '-9223372036854775808'
        and string.rep('x', math.mininteger) == '' and string.rep('x', -1) == '' and ('abc'):sub(math.mininteger, math.maxinteger) == 'abc'
        and ('abc'):byte(math.maxinteger) == nil and ('abc'):byte(math.mininteger) == nil
        and not pcall(string.rep, 'x', 2^63) and select('#', ('abc'):byte(1, math.maxinteger)) == 3
        and (1 << 64) == 0 and (1 >> -1) == 2 and (math.maxinteger + 1) == math.mininteger
        and not pcall(function() return 1 // (#pkt - #pkt) end) and not pcall(function() return 1 % (#pkt - #pkt) end)
        and pkt:segment(math.maxinteger) == nil and pkt:segment(0, math.maxinteger) == nil and pkt:segment(math.mininteger) == nil
        and pkt:layout{ a = {math.maxinteger, 8}, b = {math.mininteger, 8}, c = {0, math.maxinteger} }.a == nil and pkt.b == nil and pkt.c == nil
        and not pcall(pkt.segment, pkt, 0.5) and not pcall(pkt.segment, pkt, 2^63)
        -- offsets whose end wraps around 2^63 must not wrap back into the batch's bytes
        and pkt:layout{ s = {math.maxinteger, 2, 's'}, t = {1, math.maxinteger, 's'}, u = {math.maxinteger - 6, 9},
          v = {math.mininteger, 2, 's'}, w = {(1 << 62) - 1, (1 << 62) + 2, 's'} }.s == nil
        and pkt.t == nil and pkt.u == nil and pkt.v == nil and pkt.w == nil
    end`, 'int.lua');
    // packets around it in the same batch: a wrapped offset would land in them
    expect(runFilter(f, [bytes(9, 9, 9), bytes(1, 2, 3), bytes(7, 7, 7, 7)], 4)).toEqual({ v: [ACCEPT, ACCEPT, ACCEPT], errors: [] });
    f.close();
  });
});
