// `npm run bench:ab`: one filter compiled with several sets of compile options,
// measured in one process with samples alternating between the variants, each
// variant set up first in turn. On this machine whole runs move 20-40%, and on
// streaming captures the module whose memory was set up first gained up to
// 30%: comparing two separate `npm run bench` runs cannot show a 10% change.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { compile, type CompileOptions } from '../compiler/index.js';
import { memoryFor, type BenchResult, type VerdictMode } from '../runtime/bench/measure.js';
import { WasmFilter } from '../runtime/engine/wasm.js';
import { benchCaptures, REPO_ROOT } from './captures.js';
import { interleaved } from './interleave.js';

/** compile options, and `verdicts`: how the pass counts (runtime/bench/measure.ts, VerdictMode) */
type VariantOptions = Pick<CompileOptions, 'prefetch' | 'optimize' | 'fuel' | 'simd'> & { verdicts?: VerdictMode };
const VARIANT_KEYS = ['prefetch', 'optimize', 'fuel', 'simd', 'verdicts'];

interface AbOptions {
  filter: string;
  variants: [label: string, options: VariantOptions][];
  captures: string[];
  scale: number;
  rounds: number;
  seconds: number;
  out: string;
}

class UsageError extends Error {}

const USAGE = `usage: npm run bench:ab -- FILTER.lua --variant LABEL=JSON --variant LABEL=JSON [...]
       [--captures a,b] [--scale F] [--rounds N] [--seconds S] [--out FILE]
  --variant LABEL=JSON  compile options of one variant (keys: ${VARIANT_KEYS.join(', ')}), e.g. off='{"prefetch":0}';
                        "verdicts": "words" measures the verdict-word loop instead of the module's own count
  --captures a,b        ping-flood, tcp-1k, web-mix, many-protocols (default: many-protocols)
  --scale F             size of the generated captures (default 0.05)
  --rounds N            samples per variant and setup order (default 5)
  --seconds S           minimum seconds per sample (default 0.2)
`;

function parseArgs(argv: string[]): AbOptions {
  const o: AbOptions = { filter: '', variants: [], captures: ['many-protocols'], scale: 0.05, rounds: 5, seconds: 0.2, out: join(REPO_ROOT, 'bench-results', 'ab.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--variant') {
      const v = next();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new UsageError(`--variant ${v}: expected LABEL=JSON`);
      let options: unknown;
      try {
        options = JSON.parse(v.slice(eq + 1));
      } catch (e) {
        throw new UsageError(`--variant ${v}: ${(e as Error).message}`);
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new UsageError(`--variant ${v}: expected a JSON object`);
      const bad = Object.keys(options).filter((k) => !VARIANT_KEYS.includes(k));
      if (bad.length > 0) throw new UsageError(`--variant ${v}: unknown option ${bad.join(', ')} (known: ${VARIANT_KEYS.join(', ')})`);
      const verdicts = (options as VariantOptions).verdicts;
      if (verdicts !== undefined && verdicts !== 'count' && verdicts !== 'words') throw new UsageError(`--variant ${v}: verdicts is "count" or "words"`);
      o.variants.push([v.slice(0, eq), options as VariantOptions]);
    } else if (a === '--captures') o.captures = next().split(',');
    else if (a === '--scale') o.scale = Number(next());
    else if (a === '--rounds') o.rounds = Number(next());
    else if (a === '--seconds') o.seconds = Number(next());
    else if (a === '--out') o.out = next();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (o.filter === '') o.filter = a;
    else throw new UsageError(`one filter only (got ${o.filter} and ${a})`);
  }
  if (o.filter === '') throw new UsageError('no filter given');
  if (o.variants.length < 2) throw new UsageError('give at least two --variant');
  if (new Set(o.variants.map((v) => v[0])).size !== o.variants.length) throw new UsageError('variant labels must differ');
  if (!(o.rounds >= 1) || !(o.seconds > 0) || !(o.scale > 0)) throw new UsageError('--rounds, --seconds and --scale must be positive');
  return o;
}

async function main(): Promise<void> {
  let o: AbOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench:ab: ${e.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const source = readFileSync(o.filter, 'latin1');
  const modules: Uint8Array[] = [];
  for (const [label, { verdicts: _, ...options }] of o.variants) {
    const r = await compile(source, { file: basename(o.filter), ...options });
    if (!r.ok) throw new Error(`${label}: ${o.filter} does not compile:\n${r.reasons.join('\n')}`);
    modules.push(r.wasm);
  }
  const cells: { capture: string; packets: number; results: (BenchResult & { label: string; options: VariantOptions; vsFirst: number })[] }[] = [];
  for (const set of benchCaptures(o.captures, o.scale)) {
    process.stderr.write(`${basename(o.filter)} × ${set.name}: ${o.variants.length} variants × ${o.variants.length} setup orders × ${o.rounds} rounds ...\n`);
    const memoryBytes = memoryFor(set);
    const byLabel = await interleaved(set, o.variants.map(([label, options], k) => ({ label, verdicts: options.verdicts, make: async () => new WasmFilter(modules[k]!, { memoryBytes }) })),
      { rounds: o.rounds, sampleSeconds: o.seconds, warmupSeconds: 0.3 });
    const base = byLabel[o.variants[0]![0]]!.medianMpps;
    const results = o.variants.map(([label, options]) => ({ label, options, ...byLabel[label]!, vsFirst: byLabel[label]!.medianMpps / base }));
    if (new Set(results.map((r) => r.accepted)).size !== 1) {
      throw new Error(`${set.name}: the variants do not accept the same packets (${results.map((r) => `${r.label} ${r.accepted}`).join(', ')})`);
    }
    cells.push({ capture: set.name, packets: set.count, results });
    process.stdout.write(`${set.name}: ${results.map((r) => `${r.label} ${r.medianMpps.toFixed(1)} Mpps (x${r.vsFirst.toFixed(2)})`).join(', ')}\n`);
  }
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, options: o, cells }, null, 2)}\n`);
  process.stdout.write(`JSON: ${o.out}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench:ab: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
