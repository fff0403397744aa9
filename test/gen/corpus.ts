// A few real network-layer packets from the corpus captures, as a pool for
// the packet generator.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCapture } from '../../runtime/capture/read.js';
import { isSupportedLinkType, networkPacket } from '../../runtime/capture/link.js';

/** Up to `perFile` packets from each of about `files` captures of `dir`, spread over the sorted list. */
export function corpusSample(dir: string, files = 6, perFile = 4): Uint8Array[] {
  const out: Uint8Array[] = [];
  const names = readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort();
  const step = Math.max(1, Math.floor(names.length / files));
  for (let i = 0; i < names.length && out.length < files * perFile; i += step) {
    const { records } = parseCapture(readFileSync(join(dir, names[i])), names[i]);
    for (const r of records.slice(0, perFile)) {
      if (isSupportedLinkType(r.linkType)) out.push(networkPacket(r).slice());
    }
  }
  return out;
}
