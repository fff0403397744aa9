// A disk cache of compiled modules, so that compiling the same script with
// the same options twice compiles once (and the second time never loads
// binaryen, ~0.7 s). The key hashes the source, the options and a
// fingerprint of the compiler's own files (names, sizes, mtimes), so a
// changed compiler never serves stale modules. Only successful compiles are
// cached. Opt out with LUAPF_CACHE=off (or 0), or `cache: false`.
//
// Location: $LUAPF_CACHE_DIR, else $XDG_CACHE_HOME/luapf, else
// ~/.cache/luapf. Any cache fault (unwritable directory, corrupt entry) falls
// back to compiling: the cache can make things faster, never wrong.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompileResult } from '../../compiler/index.js';
import { isWasmModule } from './wasm.js';

/** Bumped when the cache's layout or key changes. */
const CACHE_FORMAT = 1;

export interface CompileRequest {
  /** chunk name used in messages */
  file: string;
  fuel?: number;
}

/** The cache directory, or undefined when caching is switched off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const flag = (env.LUAPF_CACHE ?? '').toLowerCase();
  if (flag === 'off' || flag === '0' || flag === 'false' || flag === 'no') return undefined;
  if (env.LUAPF_CACHE_DIR) return env.LUAPF_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'luapf');
}

let fingerprint: string | undefined;

/** Names, sizes and mtimes of the compiler's files: changes whenever the compiler does. */
export function compilerFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const root = fileURLToPath(new URL('../../compiler/', import.meta.url));
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (/\.(js|ts|mjs)$/.test(name) && !name.endsWith('.d.ts')) hash.update(`${path}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  walk(root);
  fingerprint = hash.digest('hex');
  return fingerprint;
}

export function cacheKey(source: string, request: CompileRequest): string {
  return createHash('sha256')
    .update(JSON.stringify({
      format: CACHE_FORMAT, compiler: compilerFingerprint(), file: request.file, fuel: request.fuel ?? null,
    }))
    .update('\0')
    .update(source, 'latin1')
    .digest('hex');
}

function readEntry(dir: string, key: string): Uint8Array | undefined {
  try {
    const bytes = readFileSync(join(dir, `${key}.wasm`));
    return isWasmModule(bytes) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function writeEntry(dir: string, key: string, wasm: Uint8Array): void {
  const tmp = join(dir, `${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside and renamed: a concurrent reader sees the whole entry or none.
    writeFileSync(tmp, wasm);
    renameSync(tmp, join(dir, `${key}.wasm`));
  } catch {
    try { unlinkSync(tmp); } catch { /* nothing was written */ }
  }
}

export interface CacheStats { hits: number; misses: number }
/** Counters for this process (tests and `--verbose` displays). */
export const cacheStats: CacheStats = { hits: 0, misses: 0 };

/**
 * Compiles `source`, or returns the module cached for the same source,
 * options and compiler. The compiler is imported only on a miss.
 */
export async function compileCached(
  source: string, request: CompileRequest, options: { cache?: boolean } = {},
): Promise<CompileResult> {
  const dir = options.cache === false ? undefined : cacheDir();
  const key = dir !== undefined ? cacheKey(source, request) : '';
  if (dir !== undefined) {
    const wasm = readEntry(dir, key);
    if (wasm) {
      cacheStats.hits++;
      return { ok: true, wasm, reasons: [], stage: 'wasm' };
    }
  }
  cacheStats.misses++;
  const { compile } = await import('../../compiler/index.js');
  const result = await compile(source, { file: request.file, fuel: request.fuel });
  if (result.ok && dir !== undefined && result.wasm.length > 0) writeEntry(dir, key, result.wasm);
  return result;
}
