// Batch building: packets copied once, back to back, into a PacketBatch
// (engine/filter.ts) that every engine takes. One builder serves the runner,
// the library's PacketFilter and the benchmark's record sets; each keeps its
// own rule for when a batch is full.
import type { PacketBatch } from '../engine/filter.js';
import { networkPacket, type Layer } from '../capture/link.js';

/** A capture record as far as a batch needs it. */
export interface BatchRecord {
  data: Uint8Array;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  epbFlags?: number;
}

/** A reusable batch of up to `capacity` packets; the byte array grows as needed. */
export class BatchBuilder implements PacketBatch {
  bytes: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  timestampsSec: Float64Array;
  timestampsNsec: Uint32Array;
  /** LINKTYPE_* per packet: the record's at layer 2, RAW (101) otherwise */
  linkTypes: Uint32Array;
  /** each packet's direction from its pcapng epb_flags (0 unknown, 1 inbound, 2 outbound) */
  directions: Uint8Array;
  count = 0;
  /** bytes of `bytes` in use */
  used = 0;

  constructor(readonly capacity: number, initialBytes = 1 << 20) {
    this.bytes = new Uint8Array(initialBytes);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.timestampsSec = new Float64Array(capacity);
    this.timestampsNsec = new Uint32Array(capacity);
    this.linkTypes = new Uint32Array(capacity);
    this.directions = new Uint8Array(capacity);
  }

  reset(): void {
    this.count = 0;
    this.used = 0;
  }

  /** Appends a copy of `packet`, captured at `tsSec` seconds plus `tsNsec` nanoseconds. */
  add(packet: Uint8Array, tsSec: number, tsNsec: number): void {
    if (this.used + packet.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + packet.length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(packet, this.used);
    const i = this.count++;
    this.offsets[i] = this.used;
    this.lengths[i] = packet.length;
    this.timestampsSec[i] = tsSec;
    this.timestampsNsec[i] = tsNsec;
    this.linkTypes[i] = 101;
    this.directions[i] = 0;
    this.used += packet.length;
  }

  /** Appends what a filter sees of a capture record at `layer` (capture/link.ts). Throws LinkTypeError. */
  addRecord(record: BatchRecord, layer: Layer): void {
    this.add(networkPacket(record, layer), record.tsSec, record.tsNsec);
    if (layer === 2) this.linkTypes[this.count - 1] = record.linkType;
    this.directions[this.count - 1] = (record.epbFlags ?? 0) & 3;
  }
}
