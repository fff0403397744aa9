// `npm run fuzz -- [--seconds N] [--count N] [--seed S] [--wide] [--out DIR]`:
// random programs of the compiled subset × random and captured packets, run
// on the compiled engine and on the interpreter. On a disagreement (or a
// compiler/engine crash) fast-check shrinks the case, and the reproducer is
// saved as DIR/fuzz-SEED-K.lua (default test/regressions/pending/) with the
// packets as hex in its header; test/regressions.test.ts runs it once it is
// moved up to test/regressions/. Bounded by time and by count.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { corpusSample } from '../test/gen/corpus.js';
import { describeOutcome, differential, formatReproducer, type Outcome } from '../test/gen/differential.js';
import { packetsArb, programArb, SLOTS, type GenFeatures } from '../test/gen/programs.js';

/** heap semispace of the fuzzed modules: small, so that the generated tables live through collections */
const FUZZ_HEAP = 32 * 1024;

interface Args { seconds: number; count: number; seed: number; wide: boolean; out: string; corpus: string }

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 60, count: Number.MAX_SAFE_INTEGER, seed: Date.now() % 1_000_000_007, wide: false,
    out: resolve('test', 'regressions', 'pending'), corpus: resolve('..', 'shared', 'corpus', 'pcap'),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const num = () => {
      const s = v();
      const x = Number(s);
      if (!Number.isFinite(x) || x < 0) throw new Error(`${k}: not a non-negative number: ${s}`);
      return x;
    };
    if (k === '--seconds') a.seconds = num();
    else if (k === '--count') a.count = num();
    else if (k === '--seed') a.seed = num();
    else if (k === '--wide') a.wide = true;
    else if (k === '--out') a.out = resolve(v());
    else if (k === '--corpus') a.corpus = resolve(v());
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run fuzz -- [--seconds N=60] [--count N] [--seed S] [--wide] [--out DIR] [--corpus DIR]\n' +
        '  --wide  also generate constructs outside the subset today (float %, any ^, odd little-endian fields,\n' +
        '          mixed for loops, `x or default`, the and/or idiom,\n' +
        '          NaN float loop bounds, -0.0 as a base of ^): uncompiled programs are counted and skipped');
      process.exit(0);
    } else throw new Error(`unknown option ${k} (try --help)`);
  }
  return a;
}

/** What makes two failures "the same bug", to save one reproducer each. */
function signature(o: Outcome): string {
  if (o.kind === 'crash') return `${o.engine}:${o.message.split('\n')[0].replace(/\d+/g, 'N')}`;
  if (o.kind === 'disagree') return `disagree:lua ${o.first.lua}/wasm ${o.first.wasm}:${(o.first.luaError ?? '').replace(/^.*?:\d+: /, '').replace(/\d+/g, 'N')}`;
  return o.kind;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const wide: Partial<GenFeatures> = args.wide
    ? { floatMod: true, powAny: true, oddLittle: true, mixedFor: true, orDefault: true, ternary: true, nanFor: true, powNegZero: true } : {};
  let pool: Uint8Array[] = [];
  try {
    pool = corpusSample(args.corpus);
  } catch (e) {
    console.error(`fuzz: no corpus packets (${(e as Error).message}); random packets only`);
  }
  const deadline = Date.now() + args.seconds * 1000;
  const stats = { cases: 0, compiled: 0, calls: 0, failures: 0, shrinkRuns: 0 };
  const seen = new Set<string>();
  const saved: string[] = [];
  let shrinking = false;
  let round = 0;
  console.log(`fuzz: seed ${args.seed}, ${args.seconds} s, ${pool.length} corpus packets${args.wide ? ', wide' : ''}`);
  while (Date.now() < deadline && stats.cases < args.count) {
    const seed = args.seed + round++;
    let last: Outcome | undefined;
    const property = fc.asyncProperty(programArb(wide, 6), packetsArb(pool, 8), fc.constantFrom(0, 1, 3), async (prog, packets, optimize) => {
      const counting = !shrinking;
      if (counting) stats.cases++;
      else stats.shrinkRuns++;
      const o = await differential(prog.source, packets, prog.checks * SLOTS, { optimize, heapMemory: FUZZ_HEAP });
      if (counting && o.kind !== 'uncompiled') stats.compiled++;
      if (counting && o.kind === 'agree') stats.calls += o.calls;
      if (o.kind === 'disagree' || o.kind === 'crash') {
        shrinking = true;
        last = o;
        return false;
      }
      return true;
    });
    const runs = Math.max(1, Math.min(25, args.count - stats.cases));
    const r = await fc.check(property, {
      seed, numRuns: runs, interruptAfterTimeLimit: Math.max(1000, deadline - Date.now() + 60_000), markInterruptAsFailure: false,
    });
    shrinking = false;
    if (!r.failed || !r.counterexample) continue;
    stats.failures++;
    // re-run the shrunk case: `last` holds the last failing outcome, which may be an intermediate one
    const [prog, packets, optimize] = r.counterexample;
    const outcome = await differential(prog.source, packets, prog.checks * SLOTS, { optimize, heapMemory: FUZZ_HEAP });
    const o = outcome.kind === 'disagree' || outcome.kind === 'crash' ? outcome : last!;
    const sig = signature(o);
    console.log(`\nfailure (seed ${seed}, ${r.numShrinks} shrinks): ${describeOutcome(o)}`);
    if (seen.has(sig)) {
      console.log('  same signature as an earlier failure: not saved again');
      continue;
    }
    seen.add(sig);
    mkdirSync(args.out, { recursive: true });
    const file = join(args.out, `fuzz-${seed}.lua`);
    writeFileSync(file, formatReproducer({ source: prog.source, packets, times: prog.checks * SLOTS },
      [`found by npm run fuzz (seed ${seed}${args.wide ? ', --wide' : ''})`, `outcome: ${describeOutcome(o).replace(/\n/g, ' ')}`,
        `optimize: ${optimize}`]), 'latin1');
    saved.push(file);
    console.log(`  saved ${file}`);
  }
  console.log(`\nfuzz: ${stats.cases} cases, ${stats.compiled} compiled (${(100 * stats.compiled / Math.max(1, stats.cases)).toFixed(1)}%), ` +
    `${stats.calls} filter calls agreed, ${stats.failures} disagreements or crashes (${seen.size} distinct), ${stats.shrinkRuns} shrink runs`);
  for (const f of saved) console.log(`  reproducer: ${f}`);
  return stats.failures ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exit(2);
});
