// The compiled module's contract beyond verdicts: filter's time argument
// read from the descriptor, the Wasm features a module declares (SIMD only
// where a pattern uses it), and Lua's messages for n//0, n%0 and fuel.
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { ACCEPT, ERROR, REJECT, type PacketBatch } from '../runtime/engine/filter.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { createLuaFilter } from '../runtime/engine/lua.js';

async function wasmOf(src: string, opts: { simd?: boolean; fuel?: number } = {}) {
  const r = await compile(src, { file: 'f.lua', wat: true, ...opts });
  if (!r.ok) throw new Error(r.reasons.join('\n'));
  const section = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(new WebAssembly.Module(r.wasm), 'luapf')[0]!));
  return { wasm: r.wasm, wat: r.wat!, section };
}

function timedBatch(times: [number, number][]): PacketBatch {
  const n = times.length;
  return {
    bytes: new Uint8Array(n), offsets: Uint32Array.from(times, (_, i) => i), lengths: new Uint32Array(n).fill(1), count: n,
    timestampsSec: Float64Array.from(times, (t) => t[0]), timestampsNsec: Uint32Array.from(times, (t) => t[1]),
  };
}

describe('filter(pkt, time)', () => {
  const src = `local last = 0
function filter(pkt, time)
  local ok = math.type(time) == 'integer' and time > last
  last = time
  return ok and time // 1000000000 == 1700000000 and time % 1000 == 789
end`;
  const times: [number, number][] = [[1700000000, 123456789], [1700000000, 123456790], [1700000001, 789], [1700000000, 999999789], [1700000002, 0]];

  it('sees the exact nanosecond time on both engines', async () => {
    const { wasm } = await wasmOf(src);
    const w = new WasmFilter(wasm);
    const l = await createLuaFilter(src, 'f.lua');
    const vw = new Uint8Array(times.length), vl = new Uint8Array(times.length);
    expect(w.filterBatch(timedBatch(times), vw)).toEqual([]);
    expect(l.filterBatch(timedBatch(times), vl)).toEqual([]);
    w.close();
    l.close();
    // 2nd: 790 % 1000; 3rd: another second; 4th: earlier than the 3rd
    expect([...vw]).toEqual([ACCEPT, REJECT, REJECT, REJECT, REJECT]);
    expect([...vw]).toEqual([...vl]);
  });

  it('is not read from the descriptor when the script ignores it', async () => {
    const { wat } = await wasmOf('function filter(pkt) return #pkt > 0 end');
    expect(wat).not.toMatch(/i64\.load offset=8/);
    expect((await wasmOf(src)).wat).toMatch(/i64\.load offset=8/);
  });
});

describe('features', () => {
  const pattern = `function filter(pkt) return tostring(pkt):match('SSH%-([^ ]+)') == nil end`;
  it('a pattern with a literal first byte scans with SIMD and says so', async () => {
    const m = await wasmOf(pattern);
    expect(m.section.features).toEqual(['mutable-globals', 'sign-ext', 'simd128']);
    expect(m.wat).toMatch(/i8x16\.eq/);
  });
  it('no SIMD without such a pattern, or with simd: false', async () => {
    for (const m of [await wasmOf('function filter(pkt) return #pkt > 3 end'),
      await wasmOf(`function filter(pkt) return tostring(pkt):match('%d+') == nil end`), await wasmOf(pattern, { simd: false })]) {
      expect(m.section.features).toEqual(['mutable-globals', 'sign-ext']);
      expect(m.wat).not.toMatch(/v128|i8x16/);
    }
  });
  it('the SIMD scan finds the byte at every position and never reads past the subject', async () => {
    const src = `function filter(pkt) return tostring(pkt):find('S', 1) ~= nil end`;
    const { wasm } = await wasmOf(src);
    const w = new WasmFilter(wasm);
    // 'S' at each position of packets of 1..40 bytes, and packets without it followed by an 'S'
    const packets: Uint8Array[] = [];
    for (let n = 1; n <= 40; n++) {
      for (let at = 0; at < n; at++) { const p = new Uint8Array(n).fill(0x41); p[at] = 0x53; packets.push(p); }
      packets.push(new Uint8Array(n).fill(0x41));
    }
    const total = packets.reduce((s, p) => s + p.length + 1, 0);
    const bytes = new Uint8Array(total).fill(0x53);
    const offsets = new Uint32Array(packets.length), lengths = new Uint32Array(packets.length);
    let at = 0;
    packets.forEach((p, i) => { bytes.set(p, at); offsets[i] = at; lengths[i] = p.length; at += p.length + 1; });
    const v = new Uint8Array(packets.length);
    w.filterBatch({ bytes, offsets, lengths, count: packets.length, timestampsSec: new Float64Array(packets.length), timestampsNsec: new Uint32Array(packets.length) }, v);
    w.close();
    expect([...v]).toEqual(packets.map((p) => (p.includes(0x53) ? ACCEPT : REJECT)));
  });
});

describe('messages as Lua 5.4 gives them', () => {
  it("n//0, n%0 and exhausted fuel", async () => {
    const src = `function filter(pkt)
  local z = #pkt - 1
  if #pkt == 1 then return 1 // z end
  if #pkt == 2 then return 1 % (z - 1) end
  while true do end
end`;
    const { wasm } = await wasmOf(src, { fuel: 500 });
    const w = new WasmFilter(wasm, { fuel: 500 });
    const l = await createLuaFilter(src, 'f.lua', { fuel: 500 });
    const batch = { bytes: new Uint8Array(6), offsets: Uint32Array.of(0, 1, 3), lengths: Uint32Array.of(1, 2, 3), count: 3,
      timestampsSec: new Float64Array(3), timestampsNsec: new Uint32Array(3) };
    const vw = new Uint8Array(3), vl = new Uint8Array(3);
    const ew = w.filterBatch(batch, vw).map((e) => e.message.replace(/^(f\.lua:\d+):\d+:/, '$1:'));
    const el = l.filterBatch(batch, vl).map((e) => e.message.replace(/^(f\.lua:\d+):\d+:/, '$1:'));
    w.close();
    l.close();
    expect([...vw]).toEqual([ERROR, ERROR, ERROR]);
    expect(ew.slice(0, 2)).toEqual(['f.lua:3: attempt to divide by zero', "f.lua:4: attempt to perform 'n%0'"]);
    expect(ew.slice(0, 2)).toEqual(el.slice(0, 2));
    // the loop line differs (compiled: the loop; Lua: wherever the hook fired), the text does not
    expect(ew[2]).toMatch(/^f\.lua:5: fuel exhausted \(500 steps\)$/);
    expect(el[2]).toMatch(/^f\.lua:\d+: fuel exhausted \(500 steps\)$/);
  });
});
