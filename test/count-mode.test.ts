// filter_count (docs/ABI.md, "Counting"): the benchmark's loop, in which a
// module whose filter cannot fail counts its own accepts. Over real captures
// it must count exactly what the verdict words of filter_batch say, for the
// classic filters, the examples that have it and stateful or time-reading
// scripts; at every remainder of its four-packet step; with its touch-ahead
// at the very end of memory; and modules whose filter can fail have no such
// export.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { loadPacketSet, makePass, memoryFor, type PacketSet } from '../runtime/bench/measure.js';
import { writeDescriptor, WasmFilter } from '../runtime/engine/wasm.js';
import { CORPUS, FILTERS, REPO } from './support/paths.js';

async function module(source: string, prefetch?: number): Promise<Uint8Array> {
  const r = await compile(source, { file: 'f.lua', prefetch });
  if (!r.ok) throw new Error(r.reasons.join('\n'));
  return r.wasm;
}

const captures = readdirSync(CORPUS).filter((f) => /\.pcap$/.test(f) && !f.startsWith('empty'));
const sets: PacketSet[] = captures.flatMap((f) => {
  try {
    return [loadPacketSet(join(CORPUS, f), 3, f)];
  } catch {
    return []; // link types layer 3 cannot strip: not this test's subject
  }
});

/** accepts counted from the verdict words, then by the module itself, each over a fresh instance (filters keep state) */
function bothWays(wasm: Uint8Array, set: PacketSet, batchSize = 1024): { words: number; count: number } {
  const limits = { memoryBytes: memoryFor(set) };
  const words = makePass(new WasmFilter(wasm, limits), set, batchSize, 'words')();
  expect(words.errors).toBe(0);
  const count = makePass(new WasmFilter(wasm, limits), set, batchSize, 'count')();
  return { words: words.accepted, count: count.accepted };
}

describe('filter_count', () => {
  const classic = readdirSync(FILTERS).filter((f) => f.endsWith('.lua'));
  it.each(classic)('counts what the verdict words say: %s over every corpus capture', async (name) => {
    const wasm = await module(readFileSync(join(FILTERS, name), 'latin1'));
    expect(new WasmFilter(wasm).counts).toBe(true);
    for (const set of sets) {
      const r = bothWays(wasm, set);
      expect(r.count, set.name).toBe(r.words);
    }
  });

  it('counts what the verdict words say for the examples that have it', async () => {
    let withCount = 0;
    for (const name of readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.lua'))) {
      const r = await compile(readFileSync(join(REPO, 'examples', name), 'latin1'), { file: name });
      if (!r.ok || !new WasmFilter(r.wasm).counts) continue;
      withCount++;
      for (const set of sets) expect(bothWays(r.wasm, set).count, `${name} × ${set.name}`).toBe(bothWays(r.wasm, set).words);
    }
    expect(withCount).toBeGreaterThan(1);
  });

  it('keeps state across packets and reads the time, as filter_batch does', async () => {
    const source = `
      local n, last = 0, 0
      function filter(pkt, time)
        n = n + 1
        local gap = time - last
        last = time
        return (n & 3) == 0 or (#pkt > 100 and gap < 1000000)
      end`;
    const wasm = await module(source);
    expect(new WasmFilter(wasm).counts).toBe(true);
    for (const set of sets.slice(0, 12)) {
      const r = bothWays(wasm, set, 7);
      expect(r.count, set.name).toBe(r.words);
    }
  });

  it('counts every packet at any remainder of its step, with or without touching ahead', async () => {
    const wasm = await module(readFileSync(join(FILTERS, 'tcp-port-80.lua'), 'latin1'), 0);
    const ahead = await module(readFileSync(join(FILTERS, 'tcp-port-80.lua'), 'latin1'), 3);
    const many = sets.find((s) => s.name === 'many-protocols.pcap')!;
    fc.assert(fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9 }), (start, n) => {
      const slice: PacketSet = {
        ...many, count: n, offsets: many.offsets.subarray(start, start + n), lengths: many.lengths.subarray(start, start + n),
        timestampsSec: many.timestampsSec.subarray(start, start + n), timestampsNsec: many.timestampsNsec.subarray(start, start + n),
      };
      for (const w of [wasm, ahead]) {
        const r = bothWays(w, slice);
        expect(r.count).toBe(r.words);
      }
    }), { numRuns: 60 });
  });

  it('touches ahead only within the call: descriptors ending at the end of memory do not trap', async () => {
    const filter = new WasmFilter(await module(readFileSync(join(FILTERS, 'tcp-syn.lua'), 'latin1'), 16));
    const n = 9;
    const start = filter.reserve(n * 80);
    const base = filter.memory.buffer.byteLength - n * 16;
    const u32 = new Uint32Array(filter.memory.buffer);
    const bytes = new Uint8Array(filter.memory.buffer);
    for (let i = 0; i < n; i++) {
      // IPv4 TCP, SYN on even packets
      bytes.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], start + i * 40);
      bytes[start + i * 40 + 33] = i % 2 === 0 ? 0x02 : 0x10;
      writeDescriptor(u32, (base + i * 16) >>> 2, start + i * 40, 40, 0, 0);
    }
    expect(filter.countRaw(base, n)).toBe(5);
  });

  it('is absent from modules whose filter can fail, and the pass counts their verdict words instead', async () => {
    const wasm = await module(`function filter(pkt) if #pkt > 60 then error('long') end return #pkt > 40 end`);
    const f = new WasmFilter(wasm);
    expect(f.counts).toBe(false);
    const many = sets.find((s) => s.name === 'many-protocols.pcap')!;
    const r = makePass(new WasmFilter(wasm, { memoryBytes: memoryFor(many) }), many, 1024, 'count')();
    expect(r.errors).toBeGreaterThan(0);
    expect(r.accepted).toBeGreaterThan(0);
  });
});
