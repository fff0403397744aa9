// `luapf bench --workers N`: throughput with N worker threads, and the
// scaling figure (N workers / one worker). The measurement is built so that
// the figure cannot exceed N (or the cores) by artefact:
//   - one worker and N workers are measured the same way, by the same pool
//     of N threads: a one-worker sample runs worker 0 alone, an N-worker
//     sample runs all of them; samples alternate (1, N, N, 1, ...) so that
//     drift and other load hit both alike; every thread has the same warm-up;
//   - every worker runs its own filter over the WHOLE packet set, as the one
//     worker does: splitting the set would give each thread a smaller
//     working set (it fits the caches better), i.e. faster per packet than
//     the single worker it is compared with;
//   - a sample's rate is all packets done / the wall-clock window from the
//     first start to the last finish (workers are released together by a
//     barrier), not a sum of per-worker rates, which would count workers
//     that ran one after another, each with a core to itself, as parallel.
// Nothing is capped: a figure above min(N, cores) can only come from noise,
// and the samples' spread is reported with it. This file is both the
// coordinator (benchWorkers) and the worker's body (run when loaded as a
// worker with `luapfBench` data); compileAside's worker is here too.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  makePass, median, summarize, timePasses, warmUp, type BenchOptions, type BenchResult, type PacketSet, type Pass, type WarmUpResult,
} from './measure.js';
import type { EngineName } from '../engine/filter.js';
import { loadEngine, type LoadOptions, type ScriptCompile } from '../engine/load.js';
import { scriptText } from '../engine/script-bytes.js';

/** The filter each worker loads: loadEngine's options, with the source as bytes (they cross to the worker) and one engine. */
export interface WorkerFilterSpec extends LoadOptions {
  /** script text (latin1) or module bytes */
  source: Uint8Array;
  name: string;
  engine: EngineName;
  /** the script's compile (compileAside), so that workers do not compile */
  compiled?: ScriptCompile;
}

/**
 * Compiles a script in a worker thread that exits afterwards, and returns
 * the result (through the compile cache, as loadEngine would). Binaryen's
 * code then never runs in the measuring isolates: V8 tiers up a hot Wasm
 * function in a background job, and the jobs binaryen's own huge module
 * queues would keep a filter on baseline code for seconds (measured), a
 * warm-up no length of which can be sure to outlast.
 */
export async function compileAside(source: Uint8Array, name: string, fuel?: number): Promise<ScriptCompile> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { luapfCompile: true, source, name, fuel } });
  try {
    return await new Promise<ScriptCompile>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`compile worker exited with code ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

interface WorkerInit {
  luapfBench: true;
  filter: WorkerFilterSpec;
  set: PacketSet;
  batchSize: number;
  /** barrier: [released generation, arrivals] */
  barrier: Int32Array;
}

type ToWorker = { cmd: 'warm'; ns: number } | { cmd: 'sample'; ns: number; parties: number; generation: number };
type FromWorker =
  | { type: 'ready'; accepted: number; errors: number; packets: number }
  | { type: 'warm'; warmup: WarmUpResult }
  | { type: 'done'; packets: number; startNs: number; endNs: number }
  | { type: 'error'; message: string };

/** One timed run of a worker: its packets and when it started and finished (process-wide monotonic clock). */
export interface WorkerSample { packets: number; startNs: number; endNs: number }

/**
 * Mpps of workers that ran side by side: every packet over the window from
 * the first start to the last finish. Workers that did not overlap in time
 * get no credit for running in parallel.
 */
export function aggregateMpps(samples: readonly WorkerSample[]): number {
  const start = Math.min(...samples.map((s) => s.startNs));
  const end = Math.max(...samples.map((s) => s.endNs));
  const packets = samples.reduce((sum, s) => sum + s.packets, 0);
  return end > start ? (packets / (end - start)) * 1e3 : 0;
}

/** Copies typed arrays into SharedArrayBuffers so that workers receive them without a copy each. */
function shareSet(set: PacketSet): PacketSet {
  const share = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T => {
    // a Buffer (the capture's bytes) becomes a plain Uint8Array: `new Buffer(...)` is deprecated and warns
    const Ctor = (a instanceof Uint8Array ? Uint8Array : a.constructor) as new (b: SharedArrayBuffer, o: number, n: number) => T;
    const out = new Ctor(new SharedArrayBuffer(a.byteLength), 0, a.length);
    (out as unknown as { set(x: T): void }).set(a);
    return out;
  };
  return {
    name: set.name, count: set.count, totalBytes: set.totalBytes,
    bytes: share(set.bytes), offsets: share(set.offsets), lengths: share(set.lengths),
    timestampsSec: share(set.timestampsSec), timestampsNsec: share(set.timestampsNsec),
  };
}

class WorkerHandle {
  private waiting: ((m: FromWorker) => void) | undefined;
  private failure: Error | undefined;
  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`bench worker exited with code ${code}`)));
  }
  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ type: 'error', message: e.message });
  }
  next(): Promise<FromWorker> {
    if (this.failure) return Promise.resolve({ type: 'error', message: this.failure.message });
    return new Promise((resolve) => { this.waiting = resolve; });
  }
  async ask(cmd: ToWorker): Promise<FromWorker> {
    const reply = this.next();
    this.worker.postMessage(cmd);
    return reply;
  }
}

function expect<T extends FromWorker['type']>(m: FromWorker, type: T): Extract<FromWorker, { type: T }> {
  if (m.type === 'error') throw new Error(`bench worker: ${m.message}`);
  if (m.type !== type) throw new Error(`bench worker: expected ${type}, got ${m.type}`);
  return m as Extract<FromWorker, { type: T }>;
}

/** The scaling of a filter over worker threads, as `luapf bench --workers` reports it. */
export interface Scaling {
  engine: string;
  capture: string;
  workers: number;
  /** cores the machine offers (os.availableParallelism()) */
  cores: number;
  /** median Mpps with `workers` threads / median Mpps with one, same pool, samples alternating */
  ratio: number;
  /** the ratio of each pair of samples (one worker, then N, taken back to back), for its spread */
  pairRatios: number[];
}

/**
 * Measures a filter with one worker thread and with each count in `counts`
 * (e.g. [1, 4]), all from one pool of max(counts) threads, samples
 * alternating between the counts. Every thread loads the filter from
 * `spec` (a script compiles through the compile cache) and runs it over
 * the whole set. Returns one result per count, in order. Needs the built
 * JavaScript (a worker cannot load TypeScript).
 */
export async function benchWorkers(
  spec: WorkerFilterSpec, set: PacketSet, counts: readonly number[], options: BenchOptions = {},
): Promise<BenchResult[]> {
  const size = Math.max(...counts);
  const batchSize = options.batchSize ?? 1024;
  const shared = shareSet(set);
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  const handles: WorkerHandle[] = [];
  try {
    for (let k = 0; k < size; k++) {
      const init: WorkerInit = { luapfBench: true, filter: spec, set: shared, batchSize, barrier };
      handles.push(new WorkerHandle(new Worker(new URL(import.meta.url), { workerData: init })));
    }
    const ready = (await Promise.all(handles.map((h) => h.next()))).map((m) => expect(m, 'ready'));
    // every worker ran the whole set once: worker 0's first pass is the count reported
    const first = { accepted: ready[0].accepted, errors: ready[0].errors };
    const warm = (await Promise.all(handles.map((h) => h.ask({ cmd: 'warm', ns: (options.warmupSeconds ?? 0.5) * 1e9 }))))
      .map((m) => expect(m, 'warm').warmup);
    const warmup: WarmUpResult = { seconds: Math.max(...warm.map((w) => w.seconds)), settled: warm.every((w) => w.settled) };
    const samples = options.samples ?? 5;
    const mpps = counts.map((): number[] => []);
    let generation = 0;
    for (let s = 0; s < samples; s++) {
      // alternate the order of the counts from one sample to the next
      const order = counts.map((_, i) => i);
      if (s % 2 === 1) order.reverse();
      for (const i of order) {
        const parties = counts[i];
        generation++;
        Atomics.store(barrier, 1, 0);
        const done = (await Promise.all(handles.slice(0, parties).map((h) =>
          h.ask({ cmd: 'sample', ns: (options.sampleSeconds ?? 1) * 1e9, parties, generation }))))
          .map((m) => expect(m, 'done'));
        mpps[i].push(aggregateMpps(done));
      }
      options.onSample?.(s + 1, samples);
    }
    return counts.map((n, i) => summarize(set, spec.engine, first, mpps[i], n, warmup));
  } finally {
    await Promise.all(handles.map((h) => h.worker.terminate()));
  }
}

/** The scaling figure from benchWorkers' results for one worker and for `workers`. */
export function scalingOf(one: BenchResult, many: BenchResult, engine: string): Scaling {
  const workers = many.workers ?? 1;
  const pairRatios = many.samples.map((m, i) => m / one.samples[i]);
  return {
    engine, capture: many.capture, workers, cores: availableParallelism(),
    ratio: median(many.samples) / median(one.samples), pairRatios,
  };
}

/** Waits until `parties` workers of this generation arrived, then all start together. */
function arriveAndWait(barrier: Int32Array, parties: number, generation: number): void {
  if (Atomics.add(barrier, 1, 1) + 1 === parties) {
    Atomics.store(barrier, 0, generation);
    Atomics.notify(barrier, 0);
    return;
  }
  for (let seen = Atomics.load(barrier, 0); seen !== generation; seen = Atomics.load(barrier, 0)) {
    Atomics.wait(barrier, 0, seen, 1000);
  }
}

async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  let pass: Pass;
  try {
    const filter = await loadEngine(init.filter);
    pass = makePass(filter, init.set, init.batchSize);
    port.postMessage({ type: 'ready', ...pass() } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
    return;
  }
  port.on('message', (m: ToWorker) => {
    if (m.cmd === 'warm') {
      port.postMessage({ type: 'warm', warmup: warmUp(pass, m.ns) } satisfies FromWorker);
      return;
    }
    arriveAndWait(init.barrier, m.parties, m.generation);
    // one clock for every thread of the process
    const startNs = Number(process.hrtime.bigint());
    const { packets } = timePasses(pass, m.ns);
    const endNs = Number(process.hrtime.bigint());
    port.postMessage({ type: 'done', packets, startNs, endNs } satisfies FromWorker);
  });
}

if (!isMainThread && (workerData as Partial<WorkerInit> | null)?.luapfBench) {
  void workerMain(workerData as WorkerInit);
}

if (!isMainThread && (workerData as { luapfCompile?: boolean } | null)?.luapfCompile) {
  const { source, name, fuel } = workerData as { source: Uint8Array; name: string; fuel?: number };
  const { compileCached } = await import('../engine/compile-cache.js');
  parentPort!.postMessage(await compileCached(scriptText(source), { file: name, fuel }));
}
