// filter(pkt, time): the second argument is the packet's capture time as an
// integer count of nanoseconds since the Unix epoch, exact, on every engine
// that runs the script.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packetSetFromRecords } from '../runtime/bench/measure.js';
import { readCaptureFile } from '../runtime/capture/read.js';
import { ACCEPT } from '../runtime/engine/filter.js';
import { loadEngine } from '../runtime/engine/load.js';
import { CORPUS } from './support/paths.js';

// Accepts a packet when the time the script sees equals the one the test
// computes, so any loss of precision rejects.
function scriptFor(times: bigint[]): string {
  return [
    'local expected = {', ...times.map((t) => `  ${t},`), '}',
    'local n = 0',
    'function filter(pkt, time)',
    '  n = n + 1',
    '  return math.type(time) == "integer" and time == expected[n]',
    'end',
  ].join('\n');
}

describe('capture time as filter\'s second argument', () => {
  for (const engine of ['lua', 'wasm'] as const) for (const file of ['nanosecs_big_endian.pcap', 'tcp-handshake-nano.pcap', 'v4.pcap', 'be_test010.pcapng']) {
    it(`the ${engine} engine sees the exact nanosecond times of ${file}`, async () => {
      const { records } = readCaptureFile(join(CORPUS, file));
      const times = records.map((r) => BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec));
      const filter = await loadEngine({ source: scriptFor(times), name: 'time.lua', engine });
      expect(filter.engine).toBe(engine);
      const set = packetSetFromRecords(file, records);
      const verdicts = new Uint8Array(set.count);
      const errors = filter.filterBatch(set, verdicts);
      filter.close();
      expect(errors).toEqual([]);
      expect([...verdicts]).toEqual(new Array(set.count).fill(ACCEPT));
    });
  }
});
