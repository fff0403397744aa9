// `luapf run` on a Lunatik script: what the packets' outcomes (outcome.ts)
// become. -w writes an accepted packet's final bytes (rewritten, link
// header and VLAN tag in place); --inject gets the packets skb:forward()
// and XDP_TX sent, stamped with the time of the packet that caused them
// and a comment naming it; printed lines go to --log (or standard error)
// prefixed with their capture and packet; --verdicts gets the verdict
// name, mark and what the packet did; the summary counts packets by
// verdict name, so STOLEN, QUEUE and REDIRECT are counted apart.
import type { CaptureRecord } from '../capture/read.js';
import type { CaptureWriter, WritableRecord } from '../capture/write.js';
import type { LunatikFilter } from './engine.js';
import type { LunatikOutcome } from './outcome.js';

export interface LunatikCounts {
  /** packets by the verdict the kernel acts on: ACCEPT, DROP, STOLEN, QUEUE, REPEAT, STOP, XDP_PASS, XDP_TX, … */
  verdicts: Record<string, number>;
  /** packets a hook or callback wrote to */
  rewritten: number;
  /** packets sent by skb:forward() or XDP_TX */
  injected: number;
  /** lines printed while packets ran */
  printed: number;
}

function zero(): LunatikCounts {
  return { verdicts: {}, rewritten: 0, injected: 0, printed: 0 };
}

export interface LunatikRunSinks {
  /** where injected packets go (--inject) */
  inject?: CaptureWriter;
  /** where a printed line goes, prefixed and with its newline */
  log: (line: Uint8Array) => void;
}

export class LunatikRun {
  /** counts per capture, in the order met */
  readonly captures = new Map<string, LunatikCounts>();
  readonly total = zero();
  private outcomes: LunatikOutcome[] = [];
  private next = 0;
  /** the verdict of a packet that failed before its verdict was known: the kernel lets it on */
  private readonly onFailure: string;
  /** the outcome of the packet the runner reported last */
  private current: LunatikOutcome | undefined;

  constructor(filter: LunatikFilter, private readonly sinks: LunatikRunSinks) {
    filter.onOutcomes = (outcomes) => {
      this.outcomes = outcomes;
      this.next = 0;
    };
    this.onFailure = filter.lunatik.hooks.length > 0 ? 'ACCEPT' : 'XDP_PASS';
  }

  /**
   * Takes the next packet's outcome: the runner reports every packet once,
   * in order (its onVerdict), right after the batch that holds it. Counts
   * it, writes its injected packets and printed lines, and returns the
   * columns --verdicts adds (verdict name, mark, what it did).
   */
  take(capture: string, n: number): string {
    const o = this.outcomes[this.next++];
    if (o === undefined) throw new Error(`Lunatik outcome missing for ${capture}#${n}`);
    this.current = o;
    let counts = this.captures.get(capture);
    if (counts === undefined) this.captures.set(capture, (counts = zero()));
    const verdict = o.verdict ?? this.onFailure;
    for (const c of [counts, this.total]) {
      c.verdicts[verdict] = (c.verdicts[verdict] ?? 0) + 1;
      if (o.rewritten) c.rewritten++;
      if (o.injected.length > 0) c.injected += o.injected.length;
      c.printed += o.logs.length;
    }
    for (const inj of o.injected) {
      this.sinks.inject?.write({
        linkType: o.linkType, tsSec: o.tsSec, tsNsec: o.tsNsec, origLen: inj.frame.length, data: inj.frame,
        comment: `${inj.kind === 'forward' ? 'skb:forward()' : 'XDP_TX'} by ${capture}#${n}`,
      });
    }
    if (o.logs.length > 0) {
      const prefix = Buffer.from(`${capture}#${n}: `, 'latin1');
      for (const line of o.logs) this.sinks.log(Buffer.concat([prefix, line, Buffer.from('\n')]));
    }
    const did = [o.rewritten ? 'rewritten' : '', o.injected.length > 0 ? `injected=${o.injected.length}` : ''].filter(Boolean);
    return `${verdict}\t0x${o.mark.toString(16)}\t${did.length > 0 ? did.join(',') : '-'}`;
  }

  /**
   * What -w writes of the accepted packet just taken: its final bytes, or
   * nothing for a frame XDP_TX sent back out (it is in --inject).
   */
  written(record: CaptureRecord): WritableRecord | undefined {
    const o = this.current;
    if (o?.verdict === 'XDP_TX') return undefined;
    if (!o?.rewritten) return record;
    const data = o.rewritten;
    // a truncated capture keeps what was not captured; a resized packet changes its length on the wire
    const origLen = Math.max(record.origLen + data.length - record.data.length, data.length);
    return { ...record, data, origLen };
  }
}

/** The summary's line of verdict names (STOLEN, QUEUE and REDIRECT always shown: counted apart from DROP). */
export function describeCounts(c: LunatikCounts, xdpOnly: boolean): string {
  const always = xdpOnly ? ['XDP_REDIRECT'] : ['STOLEN', 'QUEUE'];
  const names = [...new Set([...Object.keys(c.verdicts), ...always])];
  const parts = names.map((v) => `${v} ${c.verdicts[v] ?? 0}`);
  return `Lunatik verdicts: ${parts.join(', ')}; rewritten ${c.rewritten}, injected ${c.injected}, printed lines ${c.printed}`;
}
