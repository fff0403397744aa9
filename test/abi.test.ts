// docs/ABI.md is enough to drive a compiled module: a plain Node script that
// imports nothing from luapf (only fs and WebAssembly) runs modules made by
// `luapf compile` over packets and must give luapf's verdicts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/index.js';
import { packetSetFromRecords } from '../runtime/bench/measure.js';
import { readCaptureFile } from '../runtime/capture/read.js';
import { ACCEPT, ERROR, REJECT } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { CORPUS, REPO } from './support/paths.js';

// The host, written from docs/ABI.md alone. Input: a module and a file of
// packets (u32 length + bytes, repeated). Output: one verdict word a line.
const HOST = String.raw`
import { readFileSync } from 'node:fs';
const [moduleFile, packetFile] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(moduleFile));
const info = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, 'luapf')[0]));
if (info.abi !== 1) throw new Error('unknown ABI ' + info.abi);
const packets = [];
const raw = readFileSync(packetFile);
for (let at = 0; at < raw.length; ) {
  const n = raw.readUInt32LE(at);
  packets.push(raw.subarray(at + 4, at + 4 + n));
  at += 4 + n;
}
const bytes = packets.reduce((s, p) => s + p.length, 0);
const pages = info.memory.minPages + Math.ceil((packets.length * 20 + bytes + 64) / 65536) + 1;
const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
if (exports.init() !== 0) throw new Error('init failed');
const base = Math.ceil(exports.heap_base.value / 16) * 16;
const descs = base, verdicts = descs + 16 * packets.length;
let at = verdicts + 4 * packets.length;
const view = new DataView(memory.buffer), mem = new Uint8Array(memory.buffer);
packets.forEach((p, i) => {
  mem.set(p, at);
  view.setUint32(descs + 16 * i, at, true);
  view.setUint32(descs + 16 * i + 4, p.length, true);
  view.setBigInt64(descs + 16 * i + 8, BigInt(i) * 1000000n, true);
  at += p.length;
});
let done = 0;
while (done < packets.length) {
  try {
    exports.filter_batch(descs + 16 * done, packets.length - done, verdicts + 4 * done);
    break;
  } catch {
    const failed = done + exports.cursor.value;   // a trap: that packet is an error
    view.setUint32(verdicts + 4 * failed, 2, true);
    done = failed + 1;
  }
}
const out = [];
for (let i = 0; i < packets.length; i++) {
  const w = view.getUint32(verdicts + 4 * i, true);
  out.push(w < 2 ? String(w) : 'error ' + info.errors[w - 2].message);
}
console.log(out.join('\n'));
`;

describe('a plain Node host written from docs/ABI.md', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'luapf-abi-'));
  const hostFile = join(tmp, 'host.mjs');
  writeFileSync(hostFile, HOST);

  const cases: [string, string[]][] = [
    ['examples/tcp-port.lua', ['v4.pcap', 'v6.pcap', 'sll.pcap']],
    ['examples/icmp-echo.lua', ['VlanPackets.pcap', 'v6.pcap']],
    ['test/filters/arith.lua', ['many-protocols.pcap']],
  ];
  it.each(cases)('%s', async (filterPath, captures) => {
    const source = readFileSync(join(REPO, filterPath), 'latin1');
    const compiled = await compile(source, { file: filterPath });
    if (!compiled.ok) throw new Error(compiled.reasons.join('\n'));
    const moduleFile = join(tmp, 'filter.wasm');
    writeFileSync(moduleFile, compiled.wasm);

    const records = captures.flatMap((c) => readCaptureFile(join(CORPUS, c)).records);
    const set = packetSetFromRecords('abi', records);
    const chunks: Buffer[] = [];
    for (let i = 0; i < set.count; i++) {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(set.lengths[i]);
      chunks.push(len, Buffer.from(set.bytes.subarray(set.offsets[i], set.offsets[i] + set.lengths[i])));
    }
    const packetFile = join(tmp, 'packets.bin');
    writeFileSync(packetFile, Buffer.concat(chunks));

    const run = spawnSync(process.execPath, [hostFile, moduleFile, packetFile], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const hostVerdicts = run.stdout.trim().split('\n').map((l) => (l === '1' ? ACCEPT : l === '0' ? REJECT : ERROR));

    const luapf = await loadEngine({ source, name: filterPath, engine: 'lua' });
    const expected = new Uint8Array(set.count);
    luapf.filterBatch(set, expected);
    luapf.close();
    expect(hostVerdicts).toEqual([...expected]);
    expect(new Set(hostVerdicts).size).toBeGreaterThan(1);
  });
});

describe('descriptors', () => {
  it('a packet of 2^31 bytes or more keeps its offset (binaryen once made the length load sign-extending)', async () => {
    const source = `local data = require'data'
local ip = data.layout{ version = {0, 4} }
function filter(pkt) return #pkt > 100 and pkt:layout(ip).version == 4 end`;
    for (const optimize of [0, 3]) {
      const compiled = await compile(source, { file: 'big.lua', optimize });
      if (!compiled.ok) throw new Error(compiled.reasons.join('\n'));
      const memory = new WebAssembly.Memory({ initial: 32770, maximum: 32770 });
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(compiled.wasm as Uint8Array<ArrayBuffer>), { env: { memory } }) as unknown as
        { exports: { init(): number; filter_batch(d: number, n: number, v: number): number } };
      expect(exports.init()).toBe(0);
      const view = new DataView(memory.buffer);
      new Uint8Array(memory.buffer)[65536] = 0x45;
      view.setUint32(1024, 65536, true);
      view.setUint32(1028, 2 ** 31 + 16, true);
      exports.filter_batch(1024, 1, 2048);
      expect(view.getUint32(2048, true), `-O${optimize}`).toBe(1);
    }
  });
});

