// Reads at every bit offset around the end of a packet (and of a segment)
// give nil on both engines, never a trap and never a byte of the next packet
// or of whatever follows it in memory: packets are followed by canary bytes
// (0xAA…), both in batch.bytes and, through runResident, in the compiled
// module's own memory.
import { describe, expect, test } from 'vitest';
import { ACCEPT, REJECT, type FilterError } from '../runtime/engine/filter.js';
import type { WasmFilter } from '../runtime/engine/wasm.js';
import { CANARY, batchOf, luaFilter, runFilter, wasmFilter } from './support/adversarial-helpers.js';

const MAX_LEN = 10;
const MAX_BIT = 8 * MAX_LEN + 16;
const WIDTHS = [1, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64];

/**
 * One script per field shape: fields f0..fN at bit offsets 0..MAX_BIT; byte 0
 * of the packet selects the field, the verdict says whether it read non-nil.
 * `seg`: the fields are read on pkt:segment(1, #pkt - 2), so a read past the
 * segment's end still lies inside the packet.
 */
function fieldScript(width: number, little: boolean, seg: boolean): string {
  // the compiled subset takes little-endian fields on whole bytes only
  const offsets = Array.from({ length: MAX_BIT + 1 }, (_, o) => o).filter((o) => !little || o % 8 === 0);
  const fields = offsets.map((o) => `f${o} = {${o}, ${width}${little ? ", 'number', 'little'" : ''}}`);
  const branches = offsets.map((o) => `if s == ${o} then return v.f${o} ~= nil end`);
  return `local data = require'data'
local SEL = data.layout{ sel = {0, 8} }
local L = data.layout{ ${fields.join(', ')} }
function filter(pkt)
  pkt:layout(SEL)
  local s = pkt.sel
  if s == nil then return false end
  ${seg ? 'local v = pkt:segment(1, #pkt - 2)\n  if v == nil then return false end\n  v:layout(L)' : 'pkt:layout(L)'}
  ${(seg ? branches : branches.map((b) => b.replace('v.f', 'pkt.f'))).join('\n  ')}
  return false
end`;
}

/** Every (length, field) pair; body bytes are 0x00 so a non-nil read past the end can only come from outside. */
function cases(): { packets: Uint8Array[]; expect: (width: number, seg: boolean, little: boolean) => number[] } {
  const packets: Uint8Array[] = [];
  const shape: [number, number][] = [];
  for (let len = 1; len <= MAX_LEN; len++) {
    for (let o = 0; o <= MAX_BIT; o++) {
      const p = new Uint8Array(len);
      p[0] = o;
      packets.push(p);
      shape.push([len, o]);
    }
  }
  return {
    packets,
    expect: (w, seg, little) => shape.map(([len, o]) => {
      if (little && o % 8 !== 0) return REJECT;
      const viewBits = 8 * (seg ? len - 2 : len);
      if (seg && len < 2) return REJECT;
      return o + w <= viewBits ? ACCEPT : REJECT;
    }),
  };
}

/** Lays packets into the module's memory by hand, each followed by `gap` canary bytes, and runs them. */
function runResidentWithCanaries(f: WasmFilter, packets: Uint8Array[], gap: number): { v: number[]; errors: FilterError[] } {
  const n = packets.length;
  const payload = packets.reduce((s, p) => s + p.length + gap, 0);
  const base = f.reserve(n * 20 + gap + payload);
  const verdictBase = base + 16 * n;
  let at = verdictBase + 4 * n;
  const mem = new Uint8Array(f.memory.buffer);
  const dv = new DataView(f.memory.buffer);
  mem.fill(CANARY, at, at + gap); // canaries before the first packet too
  at += gap;
  packets.forEach((p, i) => {
    mem.set(p, at);
    dv.setUint32(base + 16 * i, at, true);
    dv.setUint32(base + 16 * i + 4, p.length, true);
    dv.setBigInt64(base + 16 * i + 8, 0n, true);
    at += p.length;
    for (let k = 0; k < gap; k++) mem[at++] = (CANARY + k) & 0xff;
  });
  const verdicts = new Uint8Array(n);
  const errors = f.runResident(base, verdictBase, n, verdicts);
  return { v: Array.from(verdicts), errors };
}

describe('field reads around the end of the view', () => {
  const { packets, expect: want } = cases();
  const shapes: [number, boolean, boolean][] = [];
  for (const w of WIDTHS) shapes.push([w, false, false]);
  for (const w of [16, 24, 64]) shapes.push([w, true, false]);
  for (const w of [1, 9, 64]) shapes.push([w, false, true]);

  for (const [w, little, seg] of shapes) {
    test(`width ${w}${little ? ' little-endian' : ''}${seg ? ' in a segment' : ''}`, async () => {
      const src = fieldScript(w, little, seg);
      const expected = want(w, seg, little);
      const wasm = await wasmFilter(src, 'bounds.lua', { fuel: 100_000 });
      const lua = await luaFilter(src, 'bounds.lua', { fuel: 100_000 });
      try {
        // the next packet starts right after: its selector byte is non-zero
        const back = runFilter(wasm, packets);
        expect(back.errors).toEqual([]);
        expect(back.v).toEqual(expected);
        // canaries between packets in batch.bytes
        expect(runFilter(wasm, packets, 9)).toEqual(back);
        // canaries between packets in the module's own memory
        expect(runResidentWithCanaries(wasm, packets, 9)).toEqual(back);
        expect(runFilter(lua, packets, 9)).toEqual(back);
      } finally {
        wasm.close();
        lua.close();
      }
    });
  }
});

describe('segments around the end', () => {
  test('pkt:segment(o, len) for o and len around the end, same on both engines', async () => {
    const src = `local L = { o = {0, 8}, l = {8, 8} }
      function filter(pkt)
        pkt:layout(L)
        local s = pkt:segment(pkt.o - 4, pkt.l - 4)
        if s == nil then return false end
        local t = s:segment(#s - 1, 1)
        return t ~= nil and #t == 1
      end`;
    const packets: Uint8Array[] = [];
    const expected: number[] = [];
    for (let len = 2; len <= 8; len++) {
      for (let o = 0; o < 14; o++) {
        for (let l = 0; l < 14; l++) {
          const p = new Uint8Array(len);
          p[0] = o;
          p[1] = l;
          packets.push(p);
          const so = o - 4, sl = l - 4;
          const ok = so >= 0 && so < len && sl >= 0 && so + sl <= len;
          expected.push(ok && sl >= 1 ? ACCEPT : REJECT);
        }
      }
    }
    const wasm = await wasmFilter(src, 'seg.lua');
    const lua = await luaFilter(src, 'seg.lua');
    const w = runResidentWithCanaries(wasm, packets, 5);
    expect(w).toEqual({ v: expected, errors: [] });
    expect(runFilter(wasm, packets, 5)).toEqual(w);
    expect(runFilter(lua, packets, 5)).toEqual(w);
    wasm.close();
    lua.close();
  });
});

describe('Lua engine only (outside the compiled subset)', () => {
  test('string fields, negative offsets, tostring and string.byte never see a canary', async () => {
    // each check is true when it saw nothing beyond the view
    const src = `local data = require'data'
      local L = data.layout{ s0 = {0, 1, 's'}, sEnd = {offset = 0, length = 4096, type = 's'},
        neg = {-8, 8}, neg1 = {-1, 2}, w0 = {0, 0}, w65 = {0, 65} }
      function filter(pkt)
        pkt:layout(L)
        local n = #pkt
        local s = tostring(pkt)
        local ok = #s == n and s:byte(n + 1) == nil and s:sub(n + 1) == ''
          and pkt.neg == nil and pkt.neg1 == nil and pkt.w0 == nil and pkt.w65 == nil
          and (pkt.s0 == nil) == (n == 0) and pkt.sEnd == nil
          and not s:find('\\xaa', 1, true)
        for len = 0, n + 3 do
          local str = data.layout{ x = {n - len, len + 1, 's'} }
          local seg = pkt:segment(0, n)
          if seg then seg:layout(str) ok = ok and seg.x == nil end
          local sub = pkt:segment(1)
          if sub then ok = ok and not tostring(sub):find('\\xaa', 1, true) and #tostring(sub) == n - 1 end
        end
        return ok
      end`;
    const lua = await luaFilter(src, 'lstr.lua');
    const packets = Array.from({ length: 12 }, (_, n) => new Uint8Array(n).fill(0x11));
    expect(runFilter(lua, packets, 16)).toEqual({ v: packets.map(() => ACCEPT), errors: [] });
    lua.close();
  });
});

test('the canary batch really has canaries where an overread would land', () => {
  const b = batchOf([new Uint8Array(3), new Uint8Array(1)], 4);
  expect(Array.from(b.bytes)).toEqual([0, 0, 0, 0xaa, 0xab, 0xac, 0xad, 0, 0xaa, 0xab, 0xac, 0xad]);
});
