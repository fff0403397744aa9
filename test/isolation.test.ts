// Filters in one process share nothing, and a packet that errors, runs out
// of fuel or traps does not change the verdicts of the packets after it.
import { describe, expect, test } from 'vitest';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { bytes, luaFilter, runFilter, wasmFilter } from './support/adversarial-helpers.js';

// verdict = packet length is odd; length 1 errors, length 3 loops, length 5 recurses without end
const FLAKY = `local function deep(n) return 1 + deep(n + 1) end
function filter(pkt)
  local n = #pkt
  if n == 1 then error('boom') end
  if n == 3 then while true do end end
  if n == 5 then return deep(0) > 0 end
  return n % 2 == 1
end`;
const CLEAN = `function filter(pkt) local n = #pkt if n == 1 or n == 3 or n == 5 then return nil end return n % 2 == 1 end`;

const lengths = [2, 7, 1, 9, 3, 4, 5, 11, 1, 1, 8, 3, 13, 5, 6];
const packets = lengths.map((n) => new Uint8Array(n).fill(n));

describe('a failing packet does not change later verdicts', () => {
  for (const engine of ['wasm', 'lua'] as const) {
    test(`${engine}: same verdicts as a script that never fails, on every packet that does not fail`, async () => {
      const make = engine === 'wasm' ? wasmFilter : luaFilter;
      const limits = { fuel: 30_000 };
      const flaky = await make(FLAKY, 'flaky.lua', limits);
      const clean = await make(CLEAN, 'clean.lua', limits);
      const a = runFilter(flaky, packets, 3);
      const b = runFilter(clean, packets, 3);
      const failing = lengths.map((n) => n === 1 || n === 3 || n === 5);
      expect(a.v).toEqual(b.v.map((v, i) => (failing[i] ? ERROR : v)));
      expect(a.errors.map((e) => e.index)).toEqual(failing.flatMap((f, i) => (f ? [i] : [])));
      // the same packets one by one, and again as one batch: nothing carried over
      const single = packets.map((p) => runFilter(flaky, [p]).v[0]);
      expect(single).toEqual(a.v);
      expect(runFilter(flaky, packets).v).toEqual(a.v);
      flaky.close();
      clean.close();
    });
  }
});

describe('two filters in one process share no state', () => {
  const COUNTER = `count = 0
function filter(pkt) count = count + 1 return count % 2 == 1 end`;

  for (const engine of ['wasm', 'lua'] as const) {
    test(`${engine}: globals are per filter`, async () => {
      const make = engine === 'wasm' ? wasmFilter : luaFilter;
      const a = await make(COUNTER, 'a.lua');
      const b = await make(COUNTER, 'b.lua');
      expect(runFilter(a, [bytes(0), bytes(0), bytes(0)]).v).toEqual([ACCEPT, REJECT, ACCEPT]);
      // b starts from its own zero, whatever a did
      expect(runFilter(b, [bytes(0), bytes(0)]).v).toEqual([ACCEPT, REJECT]);
      expect(runFilter(a, [bytes(0)]).v).toEqual([REJECT]);
      a.close();
      // closing a leaves b working
      expect(runFilter(b, [bytes(0)]).v).toEqual([ACCEPT]);
      b.close();
    });
  }

  test('lua: shared libraries, the string metatable and memory are per filter', async () => {
    const a = await luaFilter(`string.upper = nil; math.pi = 3
      getmetatable('').__index = function() return 'a' end
      local keep = {}
      function filter(pkt) keep[#keep + 1] = ('x'):rep(1 << 16) return true end`, 'a.lua', { memoryBytes: 1 << 20 });
    const b = await luaFilter(`function filter(pkt)
        return string.upper('x') == 'X' and math.pi > 3.14 and ('x').len == string.len and #('y'):rep(1 << 17) > 0
      end`, 'b.lua', { memoryBytes: 1 << 20 });
    // a fills its cap; b still has all of its own
    const ra = runFilter(a, Array.from({ length: 40 }, () => bytes(0)));
    expect(ra.v).toContain(ERROR);
    expect(runFilter(b, [bytes(0), bytes(0)])).toEqual({ v: [ACCEPT, ACCEPT], errors: [] });
    a.close();
    b.close();
  });

  test('wasm: fuel limits are per filter', async () => {
    const src = 'function filter(pkt) local s = 0 for i = 1, 5000 do s = s + i end return s > 0 end';
    const poor = await wasmFilter(src, 'poor.lua', { fuel: 1000 });
    const rich = await wasmFilter(src, 'rich.lua', { fuel: 100_000 });
    expect(runFilter(poor, [bytes(0)]).v).toEqual([ERROR]);
    expect(runFilter(rich, [bytes(0)]).v).toEqual([ACCEPT]);
    expect(runFilter(poor, [bytes(0)]).v).toEqual([ERROR]);
    poor.close();
    rich.close();
  });

  test('wasm: a runaway recursion (a call-depth error) in one filter leaves another filter of the same module untouched', async () => {
    const src = `hits = 0
local function deep(n) return 1 + deep(n + 1) end
function filter(pkt) hits = hits + 1 if #pkt == 1 then return deep(0) > 0 end return hits end`;
    const a = await wasmFilter(src, 'a.lua', { fuel: 2_000_000_000 });
    const b = await wasmFilter(src, 'b.lua', { fuel: 2_000_000_000 });
    expect(runFilter(a, [bytes(1), bytes(1), bytes(0, 0)]).v).toEqual([ERROR, ERROR, ACCEPT]);
    expect(runFilter(b, [bytes(0, 0)]).v).toEqual([ACCEPT]);
    a.close();
    b.close();
  });
});
