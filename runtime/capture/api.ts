// The library's capture entry points: reading from a path, URL, stream or
// bytes in memory, and writing a whole sequence of records in one call.
import { fileURLToPath } from 'node:url';
import { CaptureReader, openCapture, type CaptureRecord } from './read.js';
import {
  createCaptureWriter, destinationOf, type CaptureDestination, type CaptureWriter, type CaptureWriterOptions, type WritableRecord,
} from './write.js';
import { OptionsError } from '../api/options.js';

/** Where readCapture reads from. */
export type CaptureSource = string | URL | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Opens a pcap or pcapng capture: a file path ('-' is standard input), a
 * file: URL, the file's bytes, or a readable stream of bytes. Iterate the
 * result with `for await` to get one CaptureRecord per packet (link type,
 * timestamp, original length, bytes), or with `batches()` for arrays.
 * Reading is lazy and in constant memory. A malformed capture raises
 * CaptureError (with the byte offset) after every good packet before the
 * fault has been delivered.
 */
export function readCapture(source: CaptureSource, options?: { name?: string }): CaptureReader {
  const name = options?.name;
  if (source instanceof URL) return openCapture(fileURLToPath(source), name ?? fileURLToPath(source));
  if (source instanceof Uint8Array) return new CaptureReader(once(source), name ?? '<buffer>');
  if (typeof source === 'string') {
    if (source === '') throw new OptionsError('source', source, 'a path, URL, bytes or a stream');
    return openCapture(source, name);
  }
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return openCapture(source as NodeJS.ReadableStream, name);
  }
  throw new OptionsError('source', source, 'a path, URL, bytes or a stream');
}

/** Options of writeCapture: the same as createCaptureWriter's. */
export type WriteCaptureOptions = CaptureWriterOptions;

/**
 * Writes records to a capture file (path, '-' for standard output, file:
 * URL, or a writable stream) and resolves with the number written once
 * everything has landed. The format is 'pcap' unless `format: 'pcapng'`
 * (needed for records of mixed link types); the link type is `linkType`,
 * else the first record's. Throws CaptureError for a record the format
 * cannot hold.
 */
export async function writeCapture(
  destination: CaptureDestination,
  records: Iterable<WritableRecord> | AsyncIterable<WritableRecord>,
  options: WriteCaptureOptions = {},
): Promise<number> {
  const dest = destinationOf(destination);
  const { linkType } = options;
  if (linkType !== undefined && (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffffffff)) {
    throw new OptionsError('linkType', linkType, 'a LINKTYPE_* number');
  }
  let writer: CaptureWriter | undefined;
  const open = (first?: WritableRecord) => (writer ??= createCaptureWriter(dest, { ...options, linkType: linkType ?? first?.linkType ?? 1 }));
  try {
    let n = 0;
    for await (const record of records as AsyncIterable<WritableRecord>) {
      open(record).write(record);
      if (++n % 1024 === 0) await writer!.ready();
    }
    open();
  } finally {
    // the file is completed even when a record was refused, like the command line does
    await (writer ?? open()).close();
  }
  return writer!.count;
}

export type { CaptureRecord };
