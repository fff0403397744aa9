// Property-based differential testing of the compiler: random programs of the
// compiled subset (test/gen/programs.ts) run on random and real packets must
// give the same verdict (accept/reject/error) call by call on the compiled
// engine and on the interpreter. Plus exhaustive edge tables for the integer
// and float operators (test/gen/edges.ts).
//
// Seeded, so a run is reproducible: LUAPF_PROP_SEED and LUAPF_PROP_RUNS
// override the seed and the number of programs.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusSample } from './gen/corpus.js';
import { describeOutcome, differential, formatReproducer } from './gen/differential.js';
import { edgeScripts } from './gen/edges.js';
import { packetsArb, programArb, SLOTS } from './gen/programs.js';
import { CORPUS } from './support/paths.js';

const SEED = Number(process.env.LUAPF_PROP_SEED ?? 20240611);
const RUNS = Number(process.env.LUAPF_PROP_RUNS ?? 80);
const TIME_LIMIT_MS = 18_000;
/** heap semispace of the compiled programs: their tables hold a few KiB, each call leaves some garbage */
const HEAP = 32 * 1024;

describe('compiled and interpreted verdicts agree on random programs', () => {
  let pool: Uint8Array[] = [];
  beforeAll(() => {
    pool = corpusSample(CORPUS);
  });

  it('random programs × random and captured packets', async () => {
    expect(pool.length).toBeGreaterThan(5);
    const stats = { runs: 0, compiled: 0, calls: 0, verdicts: [0, 0, 0] };
    const property = fc.asyncProperty(programArb({}, 4), packetsArb(pool, 6), fc.constantFrom(0, 3), async (prog, packets, optimize) => {
      stats.runs++;
      // a small heap, so that the tables' state lives through many collections
      const o = await differential(prog.source, packets, prog.checks * SLOTS, { optimize, heapMemory: HEAP });
      if (o.kind === 'uncompiled') return;
      stats.compiled++;
      if (o.kind === 'agree') {
        stats.calls += o.calls;
        o.counts.forEach((c, i) => (stats.verdicts[i] += c));
        return;
      }
      throw new Error(`${describeOutcome(o)}\n(optimize ${optimize})\n` +
        formatReproducer({ source: prog.source, packets, times: prog.checks * SLOTS }));
    });
    await fc.assert(property, { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true });
    console.log(`property: ${stats.runs} programs, ${stats.compiled} compiled (${(100 * stats.compiled / Math.max(1, stats.runs)).toFixed(0)}%), ` +
      `${stats.calls} calls agree (reject/accept/error ${stats.verdicts.join('/')}), seed ${SEED}`);
    expect(stats.runs).toBeGreaterThan(5);
    // the generator is typed: nearly every program must be in the subset, or the test tests nothing
    expect(stats.compiled / stats.runs).toBeGreaterThan(0.8);
    // and the observations must not be all errors
    expect(stats.verdicts[0] + stats.verdicts[1]).toBeGreaterThan(stats.calls / 3);
  }, 120_000);
});

describe('operator edge tables agree', () => {
  it.each(edgeScripts().map((s) => [s.name, s] as const))('%s', async (_, s) => {
    const o = await differential(s.source, s.packets, s.times, { optimize: 1, name: 'edges.lua' });
    expect(o.kind, describeOutcome(o)).toBe('agree');
  });
});
