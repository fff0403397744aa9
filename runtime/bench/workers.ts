// `luapf bench --workers N`: N worker threads, each with its own filter
// instance, share the batches of one packet set (worker k takes batches k,
// k + N, ...). The packet bytes go to the workers once, in shared memory.
// Samples run in all workers at once; a sample's rate is the sum of the
// workers' rates. This file is both the coordinator (benchWorkers) and the
// worker's body (run when loaded as a worker with `luapfBench` data).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { makePass, summarize, timePasses, warmUp, type BenchOptions, type BenchResult, type PacketSet, type Pass } from './measure.js';
import type { EngineName } from '../engine/filter.js';
import { loadEngine, type LoadOptions } from '../engine/load.js';

/** The filter each worker loads: loadEngine's options, with the source as bytes (they cross to the worker) and one engine. */
export interface WorkerFilterSpec extends LoadOptions {
  /** script text (latin1) or module bytes */
  source: Uint8Array;
  name: string;
  engine: EngineName;
}

interface WorkerInit {
  luapfBench: true;
  filter: WorkerFilterSpec;
  set: PacketSet;
  first: number;
  stride: number;
  batchSize: number;
}

type ToWorker = { cmd: 'warm' | 'sample'; ns: number } | { cmd: 'close' };
type FromWorker =
  | { type: 'ready'; accepted: number; errors: number; packets: number }
  | { type: 'done'; packets: number; elapsedNs: number }
  | { type: 'error'; message: string };

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

/**
 * Measures a filter with `workers` threads over `set`. The filter is loaded
 * in each worker from `spec` (a script compiles through the compile cache).
 * Needs the built JavaScript (a worker cannot load TypeScript).
 */
export async function benchWorkers(
  spec: WorkerFilterSpec, set: PacketSet, workers: number, options: BenchOptions = {},
): Promise<BenchResult> {
  const batchSize = options.batchSize ?? 1024;
  const shared = shareSet(set);
  const handles: WorkerHandle[] = [];
  try {
    for (let k = 0; k < workers; k++) {
      const init: WorkerInit = { luapfBench: true, filter: spec, set: shared, first: k, stride: workers, batchSize };
      handles.push(new WorkerHandle(new Worker(new URL(import.meta.url), { workerData: init })));
    }
    const ready = (await Promise.all(handles.map((h) => h.next()))).map((m) => expect(m, 'ready'));
    const first = ready.reduce((a, r) => ({ accepted: a.accepted + r.accepted, errors: a.errors + r.errors }), { accepted: 0, errors: 0 });
    await Promise.all(handles.map((h) => h.ask({ cmd: 'warm', ns: (options.warmupSeconds ?? 0.5) * 1e9 })));
    const samples = options.samples ?? 5;
    const mpps: number[] = [];
    for (let s = 0; s < samples; s++) {
      const done = (await Promise.all(handles.map((h) => h.ask({ cmd: 'sample', ns: (options.sampleSeconds ?? 1) * 1e9 }))))
        .map((m) => expect(m, 'done'));
      mpps.push(done.reduce((sum, d) => sum + (d.packets / d.elapsedNs) * 1e3, 0));
      options.onSample?.(s + 1, samples);
    }
    return summarize(set, spec.engine, first, mpps, workers);
  } finally {
    await Promise.all(handles.map((h) => h.worker.terminate()));
  }
}

async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  let pass: Pass;
  try {
    const filter = await loadEngine(init.filter);
    pass = makePass(filter, init.set, init.batchSize, { first: init.first, stride: init.stride });
    port.postMessage({ type: 'ready', ...pass() } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
    return;
  }
  port.on('message', (m: ToWorker) => {
    if (m.cmd === 'close') { port.close(); return; }
    if (m.cmd === 'warm') {
      warmUp(pass, m.ns);
      port.postMessage({ type: 'done', packets: 0, elapsedNs: 0 } satisfies FromWorker);
      return;
    }
    port.postMessage({ type: 'done', ...timePasses(pass, m.ns) } satisfies FromWorker);
  });
}

if (!isMainThread && (workerData as Partial<WorkerInit> | null)?.luapfBench) {
  void workerMain(workerData as WorkerInit);
}
