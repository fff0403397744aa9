// `--verify`: run the compiled and the interpreted engine side by side on
// every packet and record each packet where their verdicts differ. The
// pair is itself a Filter, so the runner needs no special case.
import { ACCEPT, ERROR, REJECT, type Filter, type FilterError, type PacketBatch } from './filter.js';

export interface Disagreement {
  /** index of the packet in the run (0-based, across batches) */
  packet: number;
  wasm: string;
  lua: string;
}

const NAMES: Record<number, string> = { [REJECT]: 'reject', [ACCEPT]: 'accept', [ERROR]: 'error' };

export class VerifyingFilter implements Filter {
  readonly engine = 'wasm' as const;
  readonly disagreements: Disagreement[] = [];
  private seen = 0;
  private luaVerdicts = new Uint8Array(0);

  /** The compiled filter's verdicts are the ones the run uses. */
  constructor(private readonly compiled: Filter, private readonly interpreted: Filter) {}

  filterBatch(batch: PacketBatch, verdicts: Uint8Array): FilterError[] {
    if (this.luaVerdicts.length < batch.count) this.luaVerdicts = new Uint8Array(batch.count);
    const errors = this.compiled.filterBatch(batch, verdicts);
    const luaErrors = this.interpreted.filterBatch(batch, this.luaVerdicts);
    const luaMessage = new Map(luaErrors.map((e) => [e.index, e.message]));
    const wasmMessage = new Map(errors.map((e) => [e.index, e.message]));
    for (let i = 0; i < batch.count; i++) {
      if (verdicts[i] !== this.luaVerdicts[i]) {
        const describe = (v: number, m?: string) => (m ? `${NAMES[v]} (${m})` : NAMES[v]);
        this.disagreements.push({
          packet: this.seen + i,
          wasm: describe(verdicts[i], wasmMessage.get(i)),
          lua: describe(this.luaVerdicts[i], luaMessage.get(i)),
        });
      }
    }
    this.seen += batch.count;
    return errors;
  }

  close(): void {
    this.compiled.close();
    this.interpreted.close();
  }
}
