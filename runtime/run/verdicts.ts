// The verdict policy, written once for the runner (run.ts), the zero-copy
// runner (resident.ts) and the library's PacketFilter: engines only report
// accept, reject or error per packet; here an error takes the --on-error
// verdict, is counted (as an error, and as accepted or rejected), and the
// first few are kept. Also the types the two runners share, so neither
// imports the other's.
import type { CaptureInfo, CaptureRecord } from '../capture/parse.js';

/** What a packet whose filter call failed becomes. */
export type OnError = 'drop' | 'pass';

/** A packet's outcome as reported per packet (`--verdicts`). */
export type VerdictName = 'accept' | 'reject' | 'error';

export interface Counts {
  packets: number;
  /** packets passed, errors included under --on-error pass */
  accepted: number;
  /** packets dropped, errors included under --on-error drop */
  rejected: number;
  /** packets whose filter call failed (also counted as accepted or rejected) */
  errors: number;
}

export function zeroCounts(): Counts {
  return { packets: 0, accepted: 0, rejected: 0, errors: 0 };
}

export function addCounts(into: Counts, from: Counts): void {
  into.packets += from.packets;
  into.accepted += from.accepted;
  into.rejected += from.rejected;
  into.errors += from.errors;
}

/** Called for every packet of a run, in order; n counts from 1 in each capture. */
export type OnVerdict = (capture: string, n: number, verdict: VerdictName, message?: string) => void;

/** What a run over captures tells its caller as it goes (both runners take them as they are). */
export interface RunCallbacks {
  /** called for every packet, in order; n counts from 1 in each capture */
  onVerdict?: OnVerdict;
  /** receives every accepted packet's whole frame, its number, and the error it passed with (--on-error pass) */
  onAccept?: (record: CaptureRecord, capture: string, n: number, error?: string) => void;
  /** called once per capture when its header has been read */
  onCaptureStart?: (capture: string, info: CaptureInfo) => void;
  /** called after every batch, for progress displays; bytesSoFar: the file offset past the last packet filtered */
  onProgress?: (capture: string, packetsSoFar: number, bytesSoFar: number) => void;
  /** awaited after each chunk of input: lets a slow consumer (the -w writer) hold the reader back */
  drain?: () => Promise<void>;
}

/** A packet whose filter call failed, as a run keeps it. */
export interface FirstError {
  capture: string;
  /** the packet's number in its capture, from 1 */
  packet: number;
  /** the engine's text: "file:line:col: message" where the position is known */
  message: string;
}

/**
 * The policy over one filter's life or one run: counts each packet into
 * the Counts it is given and keeps the first `keepErrors` errors (of type
 * E: a message, or an error object).
 */
export class VerdictPolicy<E> {
  readonly firstErrors: E[] = [];
  private readonly passErrors: boolean;

  constructor(onError: OnError, private readonly keepErrors: number) {
    this.passErrors = onError === 'pass';
  }

  /** True while another error would be kept: callers build an error's text only when it is, or when someone listens. */
  get keeping(): boolean {
    return this.firstErrors.length < this.keepErrors;
  }

  /**
   * A packet whose filter call failed: counts the error, keeps `error` among
   * the first ones, and returns the verdict --on-error gives it (true:
   * pass). The packet itself is counted by `count`.
   */
  failed(counts: Counts, error: E | undefined): boolean {
    counts.errors++;
    if (error !== undefined && this.firstErrors.length < this.keepErrors) this.firstErrors.push(error);
    return this.passErrors;
  }

  /** Counts one packet as passed or dropped. */
  count(counts: Counts, passed: boolean): void {
    counts.packets++;
    if (passed) counts.accepted++;
    else counts.rejected++;
  }
}

/**
 * One capture of a run under the policy: counts into `counts`, keeps errors
 * as FirstError, and reports each packet to `onVerdict`.
 */
export class CaptureTally {
  /** the text of the last failed call, when it was read (see `failed`) */
  lastError: string | undefined;

  constructor(
    readonly name: string,
    readonly counts: Counts,
    private readonly policy: VerdictPolicy<FirstError>,
    private readonly onVerdict?: OnVerdict,
    /** read every error's text (an onAccept listener wants the error a passed packet carries) */
    private readonly wantText = false,
  ) {}

  /** A packet whose call returned: counts and reports it; returns `accepted`. */
  returned(accepted: boolean): boolean {
    this.policy.count(this.counts, accepted);
    this.onVerdict?.(this.name, this.counts.packets, accepted ? 'accept' : 'reject');
    return accepted;
  }

  /**
   * A packet whose call failed; `message` (or the function giving it) is
   * read only when the error is kept or reported, into `lastError`.
   * Returns whether the packet passes.
   */
  failed(message: string | (() => string)): boolean {
    const n = this.counts.packets + 1;
    const text = this.wantText || this.onVerdict || this.policy.keeping ? (typeof message === 'string' ? message : message()) : undefined;
    this.lastError = text;
    const passed = this.policy.failed(this.counts, text === undefined ? undefined : { capture: this.name, packet: n, message: text });
    this.policy.count(this.counts, passed);
    this.onVerdict?.(this.name, n, 'error', text);
    return passed;
  }
}
