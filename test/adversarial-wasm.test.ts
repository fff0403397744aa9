// Hostile scripts on the compiled engine (what compiles today): endless
// loops, runaway recursion (the call-depth limit, docs/SEMANTICS.md), integer
// edge values; each gets its verdict, the next packet is unaffected, and the
// verdicts match the Lua engine's.
import { describe, expect, test } from 'vitest';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { bytes, luaFilter, runFilter, wasmFilter } from './support/adversarial-helpers.js';

/** Runs `src` on both engines over packets of the given lengths; the verdicts must agree. */
async function both(src: string, lengths: number[], limits = {}) {
  const packets = lengths.map((n) => new Uint8Array(n).fill(n));
  const w = await wasmFilter(src, 'adv.lua', limits);
  const l = await luaFilter(src, 'adv.lua', limits);
  const wasm = runFilter(w, packets, 7);
  const lua = runFilter(l, packets, 7);
  w.close();
  l.close();
  expect(wasm.v, 'compiled vs interpreter').toEqual(lua.v);
  expect(wasm.errors.map((e) => e.index)).toEqual(lua.errors.map((e) => e.index));
  return { wasm, lua };
}

describe('fuel', () => {
  test('an endless loop fails its packet only; the next packets run', async () => {
    const src = `function filter(pkt)
  if #pkt == 1 then while true do end end
  if #pkt == 2 then local i = 0 repeat i = i + 1 until i < 0 end
  if #pkt == 3 then for i = 1, math.maxinteger do end end
  return #pkt > 3
end`;
    const { wasm } = await both(src, [1, 4, 2, 5, 3, 6, 1], { fuel: 50_000 });
    expect(wasm.v).toEqual([ERROR, ACCEPT, ERROR, ACCEPT, ERROR, ACCEPT, ERROR]);
    for (const e of wasm.errors) expect(e.message).toMatch(/^adv\.lua:\d+:\d+: fuel exhausted \(50000 steps\)$/);
    expect(wasm.errors.map((e) => e.message.split(':')[1])).toEqual(['2', '3', '4', '2']);
  });

  test('1,000 packets that each exhaust their fuel all complete, then a normal packet', async () => {
    const f = await wasmFilter('function filter(pkt) if #pkt > 0 then while true do end end return true end', 'f.lua', { fuel: 100_000 });
    const packets = Array.from({ length: 1000 }, () => bytes(1));
    packets.push(new Uint8Array(0));
    const r = runFilter(f, packets);
    expect(r.v.slice(0, 1000).every((v) => v === ERROR)).toBe(true);
    expect(r.v[1000]).toBe(ACCEPT);
    expect(r.errors).toHaveLength(1000);
    f.close();
  });
});

describe('recursion: the call-depth limit is an error verdict, the same on both engines', () => {
  // fuel high enough that the depth runs out first
  const limits = { fuel: 2_000_000_000 };

  test('unbounded recursion (tail and non-tail), then normal packets', async () => {
    const src = `local function f(n) return f(n + 1) end
local function g(n) return 1 + g(n + 1) end
function h(n) if n < 0 then return 0 end return h(n + 1) * 2 end
function filter(pkt)
  if #pkt == 1 then return f(0) end
  if #pkt == 2 then return g(0) > 0 end
  if #pkt == 3 then return h(0) > 0 end
  return #pkt == 4
end`;
    const f = await wasmFilter(src, 'rec.lua', limits);
    const r = runFilter(f, [bytes(1), bytes(1, 1, 1, 1), bytes(2, 2), bytes(0, 0, 0, 0, 0), bytes(3, 3, 3), bytes(4, 4, 4, 4)]);
    expect(r.v).toEqual([ERROR, ACCEPT, ERROR, REJECT, ERROR, ACCEPT]);
    expect(r.errors.map((e) => e.index)).toEqual([0, 2, 4]);
    expect(r.errors.map((e) => e.message)).toEqual(['1:28', '2:32', '3:49'].map((at) => `rec.lua:${at}: stack overflow (more than 150 nested calls)`));
    // the module's state is still sound: a later batch works
    expect(runFilter(f, [bytes(4, 4, 4, 4), bytes(1)]).v).toEqual([ACCEPT, ERROR]);
    f.close();
    // the interpreter fails those packets at the same calls
    const l = await luaFilter(src, 'rec.lua', { fuel: 5_000_000 });
    const lr = runFilter(l, [bytes(1), bytes(1, 1, 1, 1), bytes(2, 2), bytes(3, 3, 3)]);
    expect(lr.v).toEqual([ERROR, ACCEPT, ERROR, ERROR]);
    expect(lr.errors.map((e) => e.message)).toEqual(r.errors.map((e) => e.message));
    l.close();
  });

  test('a batch of 200 stack overflows in a row completes', async () => {
    const f = await wasmFilter('local function g(n) return 1 + g(n + 1) end function filter(pkt) return g(#pkt) > 0 end', 'r.lua', limits);
    const r = runFilter(f, Array.from({ length: 200 }, () => bytes(0)));
    expect(r.v.every((v) => v === ERROR)).toBe(true);
    expect(r.errors).toHaveLength(200);
    f.close();
  });

  test('globals written before the trap keep their values (state persists like a kernel Lua state)', async () => {
    const src = `count = 0
local function g(n) return 1 + g(n + 1) end
function filter(pkt)
  count = count + 1
  if #pkt == 1 then return g(0) > 0 end
  return count == #pkt
end`;
    const { wasm } = await both(src, [1, 2, 3, 1, 5], limits);
    expect(wasm.v).toEqual([ERROR, ACCEPT, ACCEPT, ERROR, ACCEPT]);
  });
});

describe('integer edge values', () => {
  test('wrap-around, floor division and modulo at the extremes, same verdicts as Lua', async () => {
    // #pkt keeps the values out of constant folding; each packet length picks one check
    const checks = [
      'math.mininteger // -1 == math.mininteger',
      '(math.mininteger + n) // -1 == math.mininteger',
      '(math.mininteger + n) % -1 == 0',
      'math.maxinteger + 1 + n == math.mininteger + n',
      'math.mininteger - 1 - n == math.maxinteger - n',
      '-(math.mininteger + n) == math.mininteger',
      '(math.mininteger + n) * -1 == math.mininteger',
      'math.maxinteger * 2 + n == -2 + n',
      '(math.mininteger + n) // 1 == math.mininteger',
      '(-7 - n) // 2 == -4 and (-7 - n) % 2 == 1',
      '(7 + n) % -2 == -1 and (7 + n) // -2 == -4',
      '(math.mininteger + n) % math.maxinteger == math.maxinteger - 1',
      '(1 << (64 + n)) == 0 and (1 << (63 + n)) == math.mininteger',
      '(-1 >> (64 + n)) == 0 and (-1 >> (63 + n)) == 1 - n',
      '(8 >> -(1 + n)) == 16 and (8 << -(1 + n)) == 4',
      '(1 << -(64 + n)) == 0 and (1 << (1000 * (n + 1))) == 0',
      '(1 << (math.mininteger + n)) == 0 and (1 >> (math.maxinteger - n)) == 0',
      '(math.mininteger + n) >> 63 == 1',
      '~(math.maxinteger - n) == math.mininteger + n',
      'math.abs(math.mininteger + n) == math.mininteger',
      '(math.maxinteger - n) // (math.mininteger + n) == -1',
      'math.mininteger // (math.maxinteger - n) == -2',
      '1 / (n - n) > math.maxinteger and -1 / (n - n) < math.mininteger',
      '(n - n) / (n - n) ~= (n - n) / (n - n)',
      'math.maxinteger < 9223372036854775808.0 and math.mininteger == -9223372036854775808.0',
    ];
    const ok = checks.map((_, i) => i);
    const compiled = `function filter(pkt)\n  local n = #pkt - #pkt\n  ${checks.map((c, i) => `if #pkt == ${i} then return ${c} end`).join('\n  ')}\n  return nil\nend`;
    const { wasm, lua } = await both(compiled, ok);
    expect(lua.v).toEqual(ok.map(() => ACCEPT));
    expect(wasm.errors).toEqual([]);
  });

  test('division and modulo by zero are errors for that packet only', async () => {
    const src = `function filter(pkt)
  local z = #pkt % 2
  if #pkt == 2 then return 1 // z end
  if #pkt == 4 then return math.mininteger % z end
  if #pkt == 6 then return (#pkt * 0) // z end
  return 7 // (z + 1) == 3 and 7.0 // (z - 1) == math.huge
end`;
    const { wasm, lua } = await both(src, [1, 2, 3, 4, 5, 6, 7]);
    expect(wasm.v).toEqual([ACCEPT, ERROR, ACCEPT, ERROR, ACCEPT, ERROR, ACCEPT]);
    const lineOnly = (errors: { message: string }[]) => errors.map((e) => e.message.replace(/^(adv\.lua:\d+):\d+:/, '$1:'));
    expect(lineOnly(lua.errors)).toEqual([
      'adv.lua:3: attempt to divide by zero',
      "adv.lua:4: attempt to perform 'n%0'",
      'adv.lua:5: attempt to divide by zero',
    ]);
    // the same messages and lines (the interpreter's column is derived from the line, the compiled one is the operator's)
    expect(lineOnly(wasm.errors)).toEqual(lineOnly(lua.errors));
  });
});

describe('misuse', () => {
  test('filterBatch and runResident after close() throw a clear error', async () => {
    const f = await wasmFilter('function filter(pkt) return true end');
    expect(runFilter(f, [bytes(1)]).v).toEqual([ACCEPT]);
    f.close();
    f.close();
    expect(() => runFilter(f, [bytes(1)])).toThrow(/after close/);
    expect(() => f.runResident(0, 0, 0, new Uint8Array(0))).toThrow(/after close/);
  });

  test('a batch whose packets lie outside batch.bytes, or a short verdict array, is refused', async () => {
    const f = await wasmFilter('function filter(pkt) return true end');
    const batch = { bytes: new Uint8Array(4), offsets: Uint32Array.of(2), lengths: Uint32Array.of(5), count: 1,
      timestampsSec: new Float64Array(1), timestampsNsec: new Uint32Array(1) };
    expect(() => f.filterBatch(batch, new Uint8Array(1))).toThrow(RangeError);
    batch.lengths[0] = 2;
    expect(() => f.filterBatch(batch, new Uint8Array(0))).toThrow(RangeError);
    const v = new Uint8Array(1);
    expect(f.filterBatch(batch, v)).toEqual([]);
    expect(v[0]).toBe(ACCEPT);
    f.close();
  });
});
