// The compiled engine against the interpreter: every filter that compiles
// (examples, the classic bench filters, test/filters), over every corpus
// capture, must give the same verdict on every packet, errors included.
// Captures run in one order through one instance per engine, so filters
// that keep state across packets are compared on the same history.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScript } from '../compiler/index.js';
import { packetSetFromRecords, type PacketSet } from '../runtime/bench/measure.js';
import { parseCapture } from '../runtime/capture/read.js';
import { ERROR, REJECT, ACCEPT, type Filter } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { CORPUS, REPO, SHARED } from './support/paths.js';

const filterDirs = [join(REPO, 'examples'), join(SHARED, 'bench', 'filters'), join(REPO, 'test', 'filters')];
const filters = filterDirs.flatMap((dir) => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.lua')).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
});
const compiled = filters.filter((path) => checkScript(readFileSync(path, 'latin1'), { file: path }).engine === 'wasm');

const MANIFEST_PACKETS = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1)
  .reduce((sum, row) => sum + Number(row.split('\t')[5]), 0);

let sets: PacketSet[];
beforeAll(() => {
  sets = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => {
    // A broken capture still gives the packets before the fault.
    const { records } = parseCapture(readFileSync(join(CORPUS, f)), f);
    return packetSetFromRecords(f, records);
  });
});

const NAME: Record<number, string> = { [REJECT]: 'reject', [ACCEPT]: 'accept', [ERROR]: 'error' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('compiled and interpreted verdicts agree packet by packet over the corpus', () => {
  it('compiles the header examples and the classic filters', () => {
    const names = compiled.map((p) => p.split('/').pop());
    for (const expected of ['tcp-port.lua', 'icmp-echo.lua', 'rtp-payload-type.lua', 'ip.lua', 'tcp-syn.lua', 'portrange-0-6000.lua']) {
      expect(names).toContain(expected);
    }
  });

  const opened: Filter[] = [];
  afterAll(() => opened.forEach((f) => f.close()));

  it.each(compiled.map((p) => [relative(REPO, p), p]))('%s', async (_, path) => {
    const memoryBytes = 256 << 20;
    const wasm = await loadEngine({ path, engine: 'wasm', limits: { memoryBytes } });
    const lua = await loadEngine({ path, engine: 'lua', limits: { memoryBytes } });
    opened.push(wasm, lua);
    const mismatches: string[] = [];
    let packets = 0;
    for (const set of sets) {
      const vw = new Uint8Array(set.count);
      const vl = new Uint8Array(set.count);
      wasm.filterBatch(set, vw);
      lua.filterBatch(set, vl);
      packets += set.count;
      for (let i = 0; i < set.count && mismatches.length < 5; i++) {
        if (vw[i] !== vl[i]) {
          const p = set.bytes.subarray(set.offsets[i], set.offsets[i] + set.lengths[i]);
          mismatches.push(`${set.name}#${i + 1}: wasm ${NAME[vw[i]]}, lua ${NAME[vl[i]]}; pkt ${hex(p.subarray(0, 80))}`);
        }
      }
    }
    // Every packet of the corpus but the one behind the invalid-version header.
    expect(packets).toBe(MANIFEST_PACKETS - 1);
    expect(mismatches).toEqual([]);
  });
});
