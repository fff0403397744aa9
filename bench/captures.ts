// The benchmark captures: the shapes of ../shared/bench/gen_captures.py (generated once per
// scale into .cache/bench-scale-S) and many-protocols.pcap from the corpus.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPacketSet, type PacketSet } from '../runtime/bench/measure.js';

/** the checkout: the nearest directory above this file with a package.json (from bench/ in the sources, dist/bench/ built) */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const CAPTURE_NAMES = ['ping-flood', 'tcp-1k', 'web-mix', 'many-protocols'];

/** The files of the named captures, generating the missing synthetic ones at `scale` (into `dir`, by default .cache/bench-scale-S). */
export function capturePaths(names: string[], scale: number, dir = join(REPO_ROOT, '.cache', `bench-scale-${scale}`)): { name: string; path: string }[] {
  const unknown = names.filter((c) => !CAPTURE_NAMES.includes(c));
  if (unknown.length > 0) throw new Error(`unknown capture ${unknown.join(', ')} (known: ${CAPTURE_NAMES.join(', ')})`);
  const generated = names.filter((c) => c !== 'many-protocols');
  const missing = generated.filter((c) => !existsSync(join(dir, `${c}.pcap`)));
  if (missing.length > 0) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating ${missing.join(', ')} at scale ${scale} into ${dir} ...\n`);
    execFileSync('python3', [join(SHARED, 'bench', 'gen_captures.py'), '-o', dir, '--scale', String(scale), ...missing], { stdio: 'inherit' });
  }
  return names.map((c) => ({ name: c, path: c === 'many-protocols' ? join(SHARED, 'corpus', 'pcap', 'many-protocols.pcap') : join(dir, `${c}.pcap`) }));
}

/** Loads the named captures into memory, generating the missing synthetic ones at `scale`. */
export function benchCaptures(names: string[], scale: number): PacketSet[] {
  return capturePaths(names, scale).map(({ name, path }) => loadPacketSet(path, 3, name));
}
