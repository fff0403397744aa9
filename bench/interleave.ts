// Several filters measured on one packet set with their samples interleaved
// and each of them set up first in turn. On this machine whole runs move
// 20-40%, and on streaming captures the filter whose memory was set up first
// gained up to 30%: only measurements taken side by side, in every set-up
// order, give ratios worth comparing.
import { makePass, summarize, timePasses, warmUp, type BenchResult, type PacketSet, type Pass, type VerdictMode } from '../runtime/bench/measure.js';
import type { Filter } from '../runtime/engine/filter.js';

export interface Contender {
  label: string;
  make: () => Promise<Filter>;
  /** how a compiled filter's pass counts (default: the module counts, when it can) */
  verdicts?: VerdictMode;
}

export interface InterleaveOptions {
  /** samples per contender and set-up order */
  rounds: number;
  sampleSeconds: number;
  warmupSeconds: number;
  batchSize?: number;
}

/**
 * For each rotation of the set-up order: fresh filters, warm-up, then
 * `rounds` rounds of one sample each. The accept count reported is that of
 * each contender's very first pass (stateful filters may differ later).
 */
export async function interleaved(set: PacketSet, contenders: Contender[], o: InterleaveOptions): Promise<Record<string, BenchResult>> {
  const n = contenders.length;
  const samples: number[][] = contenders.map(() => []);
  const first: ({ accepted: number; errors: number } | undefined)[] = contenders.map(() => undefined);
  const engines: string[] = contenders.map(() => '');
  for (let start = 0; start < n; start++) {
    const order = contenders.map((_, k) => (start + k) % n);
    const filters: Filter[] = [];
    const passes: Pass[] = [];
    try {
      for (const c of order) {
        const f = await contenders[c]!.make();
        filters.push(f);
        engines[c] = f.engine;
        passes[c] = makePass(f, set, o.batchSize ?? 1024, contenders[c]!.verdicts);
        const counts = passes[c]!();
        first[c] ??= counts;
      }
      for (const c of order) warmUp(passes[c]!, o.warmupSeconds * 1e9);
      for (let r = 0; r < o.rounds; r++) {
        for (const c of order) {
          const t = timePasses(passes[c]!, o.sampleSeconds * 1e9);
          samples[c]!.push((t.packets / t.elapsedNs) * 1e3);
        }
      }
    } finally {
      for (const f of filters) f.close();
    }
  }
  return Object.fromEntries(contenders.map((c, k) => [c.label, summarize(set, engines[k]!, first[k]!, samples[k]!)]));
}
