// The batch loop's touch-ahead (compile option `prefetch`, docs/ABI.md): when
// it is on by default, that it never changes a verdict, and that a packet
// whose descriptor points outside memory fails alone, not the packets that
// touched it ahead of time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { writeDescriptor, WasmFilter } from '../runtime/engine/wasm.js';
import { FILTERS, REPO } from './support/paths.js';

async function compiled(source: string, prefetch?: number) {
  const r = await compile(source, { file: 'f.lua', prefetch });
  if (!r.ok) throw new Error(r.reasons.join('\n'));
  return r.wasm;
}

function sectionOptions(wasm: Uint8Array): Record<string, number> {
  const module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  return JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, 'luapf')[0])).options;
}

const bench = (name: string) => readFileSync(join(FILTERS, `${name}.lua`), 'latin1');

/** IPv4 + TCP header, ports as given */
function tcp4(source: number, destination: number): Uint8Array {
  const p = new Uint8Array(40);
  p.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6]);
  p.set([source >> 8, source & 255, destination >> 8, destination & 255], 20);
  return p;
}

describe('prefetch', () => {
  it('is on by default only for scripts that read at packet-computed offsets, and is recorded', async () => {
    expect(sectionOptions(await compiled(bench('ip'))).prefetch).toBe(0);
    expect(sectionOptions(await compiled(bench('icmp'))).prefetch).toBe(0);
    expect(sectionOptions(await compiled(bench('tcp-syn'))).prefetch).toBe(16);
    expect(sectionOptions(await compiled(bench('tcp-port-80'))).prefetch).toBe(16);
    expect(sectionOptions(await compiled(bench('ip'), 5)).prefetch).toBe(5);
    await expect(compile(bench('ip'), { file: 'f.lua', prefetch: -1 })).rejects.toThrow(RangeError);
    await expect(compile(bench('ip'), { file: 'f.lua', prefetch: 1.5 })).rejects.toThrow(RangeError);
  });

  it('touches ahead within the batch without changing verdicts; a descriptor outside memory fails only its own packet', async () => {
    const source = readFileSync(join(REPO, 'examples', 'tcp-port.lua'), 'latin1');
    // ports 22 and 80 accept; 5 packets, the 4th points past the end of memory
    const packets = [tcp4(1000, 80), tcp4(1000, 443), tcp4(22, 9), null, tcp4(80, 1)];
    const want = [1, 0, 1, 'trap', 1];
    for (const prefetch of [0, 1, 2, 3, 16]) {
      const filter = new WasmFilter(await compiled(source, prefetch));
      const start = filter.reserve(packets.length * 20 + 64 * packets.length);
      // descriptors end at the end of memory: reading one past the last would trap
      const base = filter.memory.buffer.byteLength - packets.length * 16;
      const verdicts = start;
      let at = verdicts + packets.length * 4;
      const u32 = new Uint32Array(filter.memory.buffer);
      const bytes = new Uint8Array(filter.memory.buffer);
      packets.forEach((p, i) => {
        if (p) {
          bytes.set(p, at);
          writeDescriptor(u32, (base >>> 2) + i * 4, at, p.length, 0, 0);
          at += p.length;
        } else {
          writeDescriptor(u32, (base >>> 2) + i * 4, filter.memory.buffer.byteLength + 4096, 40, 0, 0);
        }
      });
      const traps = filter.runRaw(base, verdicts, packets.length);
      const words = [...new Uint32Array(filter.memory.buffer, verdicts, packets.length)];
      expect({ prefetch, traps, verdicts: words.map((w, i) => (want[i] === 'trap' && w > 1 ? 'trap' : w)) })
        .toEqual({ prefetch, traps: 1, verdicts: want });
      filter.close();
    }
  });
});
