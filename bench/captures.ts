// The benchmark captures: the shapes of ../shared/bench/gen_captures.py (generated once per
// scale into .cache/bench-scale-S) and many-protocols.pcap from the corpus.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPacketSet, type PacketSet } from '../runtime/bench/measure.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const CAPTURE_NAMES = ['ping-flood', 'tcp-1k', 'web-mix', 'many-protocols'];

/** Loads the named captures into memory, generating the missing synthetic ones at `scale`. */
export function benchCaptures(names: string[], scale: number): PacketSet[] {
  const unknown = names.filter((c) => !CAPTURE_NAMES.includes(c));
  if (unknown.length > 0) throw new Error(`unknown capture ${unknown.join(', ')} (known: ${CAPTURE_NAMES.join(', ')})`);
  const generated = names.filter((c) => c !== 'many-protocols');
  const dir = join(REPO_ROOT, '.cache', `bench-scale-${scale}`);
  const missing = generated.filter((c) => !existsSync(join(dir, `${c}.pcap`)));
  if (missing.length > 0) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating ${missing.join(', ')} at scale ${scale} into ${dir} ...\n`);
    execFileSync('python3', [join(SHARED, 'bench', 'gen_captures.py'), '-o', dir, '--scale', String(scale), ...missing], { stdio: 'inherit' });
  }
  return names.map((c) => {
    const path = c === 'many-protocols' ? join(SHARED, 'corpus', 'pcap', 'many-protocols.pcap') : join(dir, `${c}.pcap`);
    return loadPacketSet(path, 3, c);
  });
}
