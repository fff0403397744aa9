// examples/lunatik/ over real captures: each script's rejected count
// equals a tshark display filter's (test/support/lunatik-expected.ts),
// re-derived here with tshark when it is installed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../runtime/engine/load.js';
import { runCaptures } from '../runtime/run/run.js';
import { LUNATIK_EXPECTED } from './support/lunatik-expected.js';
import { CORPUS, REPO } from './support/paths.js';
import { hasTshark } from './support/tools.js';

const TSHARK = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE'];

function tsharkCount(capture: string, expr: string): number {
  const r = spawnSync('tshark', [...TSHARK, '-r', capture, '-Y', expr], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

for (const ex of LUNATIK_EXPECTED) {
  describe(`examples/lunatik/${ex.example}.lua`, () => {
    const path = join(REPO, 'examples', 'lunatik', `${ex.example}.lua`);
    for (const row of ex.rows) {
      it(`${row.capture}: ${row.rejected} of ${row.packets} rejected`, async () => {
        const filter = await loadEngine({ path, name: `${ex.example}.lua`, ...(ex.options ? { lunatik: { ...ex.options, detect: true } } : {}) });
        expect('lunatik' in filter).toBe(true);
        try {
          const s = await runCaptures(filter, [join(CORPUS, row.capture)], { onError: 'pass' });
          expect(s.total.packets).toBe(row.packets);
          expect(s.total.rejected).toBe(row.rejected);
        } finally {
          filter.close();
        }
      }, 30_000);
      it.skipIf(!hasTshark)(`${row.capture}: tshark agrees${hasTshark ? '' : ' (skipped: tshark is not installed)'}`, () => {
        expect(tsharkCount(join(CORPUS, row.capture), ex.rejectExpr)).toBe(row.rejected);
      }, 60_000);
    }
  });
}
