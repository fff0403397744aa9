// Shared helpers for the capture and link-layer tests: the corpus, its
// manifest, tshark's fields, and chunked streams.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { CaptureError, type CaptureReader, type CaptureRecord } from '../../runtime/capture/read.js';
import { CORPUS } from './paths.js';

export const corpusPath = (file: string) => join(CORPUS, file);
export const INVALID_FILE = 'pcap-invalid-version-1.pcap';

export interface ManifestRow {
  file: string;
  /** e.g. pcap-le-us, pcapng-be */
  format: string;
  linkTypes: number[];
  packets: number;
  bytes: number;
}

export function manifest(): ManifestRow[] {
  const lines = fs.readFileSync(corpusPath('MANIFEST.tsv'), 'latin1').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
    return i;
  };
  const [f, fmt, lt, pk, by] = ['file', 'format', 'link_type', 'packets', 'bytes'].map(col) as [number, number, number, number, number];
  return lines.slice(1).map((line) => {
    const c = line.split('\t');
    return {
      file: c[f]!,
      format: c[fmt]!,
      linkTypes: c[lt]!.split(',').map((s) => Number(s.split(':')[0])),
      packets: Number(c[pk]),
      bytes: Number(c[by]),
    };
  });
}

/** Runs tshark on a file and returns one array of field values per packet. */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): Promise<string[][]> {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=/t', ...extra, ...fields.flatMap((f) => ['-e', f])];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
    });
  });
}

/** A Readable delivering `bytes` in fresh chunks of `size` bytes (or sizes drawn from `sizes` in turn). */
export function chunkedStream(bytes: Uint8Array, sizes: number | number[]): Readable {
  const list = typeof sizes === 'number' ? [sizes] : sizes;
  function* gen() {
    let i = 0;
    for (let p = 0; p < bytes.length; i++) {
      const n = Math.max(1, list[i % list.length]!);
      yield Buffer.from(bytes.subarray(p, p + n));
      p += n;
    }
  }
  return Readable.from(gen());
}

export interface Collected {
  records: CaptureRecord[];
  error?: CaptureError;
}

/** Iterates a reader to the end; a CaptureError ends the list, any other error is rethrown. */
export async function collect(reader: CaptureReader): Promise<Collected> {
  const records: CaptureRecord[] = [];
  try {
    for await (const r of reader) records.push(r);
  } catch (e) {
    if (e instanceof CaptureError) return { records, error: e };
    throw e;
  }
  return { records };
}

/** Record fields that must survive any reading path (offset included). */
export function plain(r: CaptureRecord) {
  return { linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, origLen: r.origLen, offset: r.offset, data: Buffer.from(r.data).toString('hex') };
}

export function epochString(r: CaptureRecord): string {
  return `${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`;
}

/** A classic pcap file header: little-endian, microseconds, version 2.4. */
export function pcapHeader(linkType: number, snaplen = 65535): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(linkType, 20);
  return header;
}
