// The heap's collector (compiler/heap/gc.ts): a filter keeping per-source
// state over many packets, as a port-scan or rate-limit filter does. A
// module-level table grows to 100,000 entries, is churned (entries removed,
// others added), holds records with strings, and every packet also makes a
// table that is garbage after it. Over the run the module allocates several
// times its whole heap: it runs only because collections between packets
// reclaim the garbage, and the counts stay exact across them (compiled and
// interpreted agree packet by packet, with no error).
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import type { Filter, FilterError } from '../runtime/engine/filter.js';
import { createLuaFilter } from '../runtime/engine/lua.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { batchOf } from './support/adversarial-helpers.js';

function run(f: Filter, packets: Uint8Array[]): { verdicts: number[]; errors: FilterError[] } {
  const verdicts: number[] = [], errors: FilterError[] = [];
  for (let at = 0; at < packets.length; at += 5000) {
    const part = packets.slice(at, at + 5000);
    const v = new Uint8Array(part.length);
    for (const e of f.filterBatch(batchOf(part, 0, 1_700_000_000), v)) errors.push({ ...e, index: e.index + at });
    verdicts.push(...v);
  }
  return { verdicts, errors };
}

// packet: op (0 count, 1 forget, 2 check a count, 3 record, 4 check a record), key (24 bits), expected (16 bits)
const SRC = `local data = require'data'
local P = data.layout{ op = {0, 8}, key = {8, 24}, want = {32, 16} }
local counts = {}      -- key -> packets seen
local size = 0
local records = {}     -- key % 1000 -> { n = …, name = string from the packet }
function filter(pkt)
  pkt:layout(P)
  local op, k = pkt.op, pkt.key
  local scratch = { k, op, tostring(pkt) }   -- garbage after this packet
  if op == 0 then
    local c = counts[k]
    if c == nil then size = size + 1 c = 0 end
    counts[k] = c + 1
    return counts[k] % 2 == 0
  elseif op == 1 then
    if counts[k] ~= nil then size = size - 1 end
    counts[k] = nil
    return size % 3 == 0
  elseif op == 2 then
    return (counts[k] or 0) == pkt.want and #scratch == 3
  elseif op == 3 then
    local r = records[k % 1000]
    if r == nil then r = { n = 0 } records[k % 1000] = r end
    r.n = r.n + 1
    r.name = tostring(pkt):sub(2, 4)
    return true
  end
  local r = records[k % 1000]
  return r ~= nil and r.n == pkt.want and r.name == tostring(pkt):sub(2, 4) and size > 0
end`;

const pk = (op: number, key: number, want = 0) => Uint8Array.from([op, key >> 16, (key >> 8) & 0xff, key & 0xff, want >> 8, want & 0xff]);

describe('the heap collector', () => {
  it('a 100,000-entry table, churned, with records: exact counts, no error, bounded heap', async () => {
    const packets: Uint8Array[] = [];
    const model = new Map<number, number>();
    const N = 100_000;
    for (let k = 0; k < N; k++) { packets.push(pk(0, k)); model.set(k, 1); }
    // churn: forget the oldest half, count new keys and recount some old ones
    for (let k = 0; k < N / 2; k++) {
      packets.push(pk(1, k)); model.delete(k);
      packets.push(pk(0, N + k)); model.set(N + k, 1);
      if (k % 7 === 0) { const o = N / 2 + k; packets.push(pk(0, o)); model.set(o, model.get(o)! + 1); }
    }
    // records[k % 1000]: how many keys mapped there, and the last one (whose bytes are its name)
    const recs = new Map<number, { n: number; last: number }>();
    for (let i = 0; i < 40_000; i++) {
      const k = (i * 7919) % 5000;
      packets.push(pk(3, k));
      recs.set(k % 1000, { n: (recs.get(k % 1000)?.n ?? 0) + 1, last: k });
    }
    // checks: every count the model knows of a sample, some forgotten keys, every record
    for (let k = 0; k < 2 * N; k += 97) packets.push(pk(2, k, model.get(k) ?? 0));
    for (const { n, last } of recs.values()) packets.push(pk(4, last, n));

    // a 100,000-key table's slot array is 8 MiB, and a rehash holds the old one and the new one at
    // once: a 32 MiB semispace (the default is 8), and a host memory cap with room for both semispaces
    const r = await compile(SRC, { file: 'gc.lua', optimize: 1, heapMemory: 32 << 20 });
    if (!r.ok) throw new Error(r.reasons.join('\n'));
    const w = new WasmFilter(r.wasm, { memoryBytes: 96 << 20 });
    const l = await createLuaFilter(SRC, 'gc.lua');
    try {
      const semi = (w.info.memory as { heapBytes: number }).heapBytes;
      // each packet leaves a table (header, slot array) and a string behind: more than both semispaces hold over the run
      expect(packets.length * 300).toBeGreaterThan(2 * semi);
      const a = run(w, packets);
      expect(a.errors).toEqual([]);
      const checks = packets.map((p, i) => (p[0] === 2 || p[0] === 4 ? i : -1)).filter((i) => i >= 0);
      expect(checks.every((i) => a.verdicts[i] === 1)).toBe(true);
      const b = run(l, packets);
      expect(b.errors).toEqual([]);
      expect(a.verdicts).toEqual(b.verdicts);
    } finally { w.close(); l.close(); }
  }, 240_000);
});
