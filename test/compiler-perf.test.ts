// Header-filter speed against the hand-written Wasm baselines (bench/baselines.ts):
// filter_batch alone, many-protocols.pcap resident in memory, same process.
// Timing on a shared machine is noisy, so this runs only with LUAPF_PERF=1
// (`LUAPF_PERF=1 npx vitest run test/compiler-perf.test.ts`) and prints a table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASELINE_NAMES, baselineWat } from '../bench/baselines.js';
import { compileOk, corpusPackets } from './support/compiler-helpers.js';
import { FILTERS } from './support/paths.js';

interface Bench { ex: Record<string, any>; descs: number; verd: number; n: number; memory: WebAssembly.Memory }

function setup(wasm: Uint8Array, packets: Uint8Array[]): Bench {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory } }).exports as Record<string, any>;
  ex.init();
  const n = packets.length;
  const descs = 4096, verd = descs + 16 * n;
  let at = verd + 4 * n;
  const need = at + packets.reduce((s, p) => s + p.length, 0);
  memory.grow(Math.ceil(need / 65536));
  const dv = new DataView(memory.buffer), mem = new Uint8Array(memory.buffer);
  packets.forEach((p, i) => {
    mem.set(p, at);
    dv.setUint32(descs + 16 * i, at, true);
    dv.setUint32(descs + 16 * i + 4, p.length, true);
    at += p.length;
  });
  return { ex, descs, verd, n, memory };
}

function nsPerPacket(b: Bench, rounds: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 20; k++) b.ex.filter_batch(b.descs, b.n, b.verd);
    times.push(Number(process.hrtime.bigint() - t0) / (20 * b.n));
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 4)]!;
}

describe.skipIf(!process.env.LUAPF_PERF)('compiled header filters vs hand-written Wasm', () => {
  it('many-protocols.pcap', async () => {
    const binaryen = (await import('binaryen')).default;
    const packets = corpusPackets('many-protocols.pcap');
    const rows: string[] = [];
    for (const name of BASELINE_NAMES) {
      const src = readFileSync(join(FILTERS, `${name}.lua`), 'latin1');
      const ours = setup(await compileOk(src, `${name}.lua`), packets);
      const m = binaryen.parseText(baselineWat(name));
      const base = setup(m.emitBinary(), packets);
      m.dispose();
      // same verdicts first
      ours.ex.filter_batch(ours.descs, ours.n, ours.verd);
      base.ex.filter_batch(base.descs, base.n, base.verd);
      expect(Array.from(new Uint32Array(ours.memory.buffer, ours.verd, ours.n)), name)
        .toEqual(Array.from(new Uint32Array(base.memory.buffer, base.verd, base.n)));
      const a: number[] = [], b: number[] = [];
      for (let i = 0; i < 3; i++) { a.push(nsPerPacket(ours, 15)); b.push(nsPerPacket(base, 15)); }
      const x = Math.min(...a), y = Math.min(...b);
      rows.push(`${name.padEnd(18)} compiled ${x.toFixed(2)} ns  hand-written ${y.toFixed(2)} ns  ratio ${(x / y).toFixed(2)}`);
    }
    console.log(`${packets.length} packets\n${rows.join('\n')}`);
    expect(rows.length).toBe(BASELINE_NAMES.length);
  }, 120_000);
});
