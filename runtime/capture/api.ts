// The library's capture entry points: reading from a path, URL, stream or
// bytes in memory, and writing a whole sequence of records in one call.
import { fileURLToPath } from 'node:url';
import { CaptureReader, openCapture, type CaptureRecord } from './read.js';
import { createCaptureWriter, type CaptureWriterOptions, type WritableRecord } from './write.js';
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

/** Options of writeCapture. */
export interface WriteCaptureOptions extends CaptureWriterOptions {
  /** link type of the file (pcap) or first interface (pcapng); default: the first record's, else 1 (ETHERNET) */
  linkType?: number;
}

/**
 * Writes records to a capture file (path, '-' for standard output, file:
 * URL, or a writable stream) and resolves with the number written once
 * everything has landed. The format is 'pcap' unless `format: 'pcapng'`
 * (needed for records of mixed link types). Throws CaptureError for a
 * record the format cannot hold.
 */
export async function writeCapture(
  destination: string | URL | NodeJS.WritableStream,
  records: Iterable<WritableRecord> | AsyncIterable<WritableRecord>,
  options: WriteCaptureOptions = {},
): Promise<number> {
  const dest = destination instanceof URL ? fileURLToPath(destination) : destination;
  if (dest === '') throw new OptionsError('destination', dest, 'a path, URL or a stream');
  const { linkType, ...writerOptions } = options;
  if (linkType !== undefined && (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffffffff)) {
    throw new OptionsError('linkType', linkType, 'a LINKTYPE_* number');
  }
  let writer: ReturnType<typeof createCaptureWriter> | undefined;
  const open = (first?: WritableRecord) => (writer ??= createCaptureWriter(dest, linkType ?? first?.linkType ?? 1, writerOptions));
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
