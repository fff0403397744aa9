// The package's version, read from package.json so that it is written in one
// place: the command line's --version says it, and the compiler records it in
// every module it writes. package.json is one folder up from this file when it
// runs from source (vitest) and two from dist/runtime/ once built.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    let text: string;
    try {
      text = readFileSync(new URL(up, import.meta.url), 'utf8');
    } catch {
      continue;
    }
    const pkg = JSON.parse(text) as { name?: string; version?: string };
    if (pkg.name === 'luapf' && typeof pkg.version === 'string') return pkg.version;
  }
  throw new Error('luapf: cannot find its own package.json');
}

/** The package version, e.g. "0.1.0". */
export const VERSION = readVersion();
