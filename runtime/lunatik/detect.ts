// What luapf knows of a Lunatik script before running it: whether it is one
// (no `filter`, a require of netfilter or xdp), which API generation its
// text shows, and the source of every dotted module it requires, found on
// disk the way Lunatik's loader would (-I dirs, then the script's directory
// and its ancestors, so `examples.dnsblock.common` resolves from the root
// the script's own dotted name is relative to). Light on purpose: load.ts
// imports it before deciding on an engine, so it never pulls in Wasmoon.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The generations of Lunatik's hook API (issue 16, README "Lunatik scripts"). */
export type LunatikApi = 2024 | 2025 | 2026;
export type LunatikPath = 'all' | 'in' | 'forward' | 'out';

export interface LunatikOptions {
  /** force a generation (default: detected from the script) */
  api?: LunatikApi;
  /** the packet mark every packet starts with (default 0) */
  mark?: number;
  /** the hooks a packet meets (default 'all': every registered hook point, in kernel order) */
  hookPath?: LunatikPath;
  /** options given for a script that may not be a Lunatik one: still detect */
  detect?: boolean;
  /** XDP callbacks' argument: 'payload-offset' (default), 'none', or 'hex:BYTES' */
  xdpArg?: string;
  /** directories searched first for dotted modules (-I) */
  include?: string[];
  /** seed of linux.random (default 1) */
  seed?: number;
  /** the userargs of the rules xtable extensions stand in (default empty) */
  xtArgs?: string;
  /** what a rule with an xtable match does with a matching packet (default DROP) */
  xtTarget?: 'DROP' | 'ACCEPT';
}

const HOOK_MODULES = /\brequire\s*\(?\s*["'](?:netfilter|xdp|xtable)["']/;
// a global `filter` defined at the start of a line: the NPF contract wins
const DEFINES_FILTER = /^\s*(?:function\s+filter\s*\(|filter\s*=)/m;

/** True for a script that registers hooks rather than defining filter(pkt). */
export function looksLunatik(source: string): boolean {
  return HOOK_MODULES.test(source) && !DEFINES_FILTER.test(source);
}

/** Modules the Lunatik library itself provides (runtime/lunatik/lib-lua.ts). */
const BUILTIN = new Set(['data', 'netfilter', 'xdp', 'xtable', 'coroutine', 'byteorder', 'linux', 'linux.nf', 'linux.xdp', 'string', 'table', 'math', 'utf8']);
const REQUIRE = /\brequire\s*\(?\s*["']([A-Za-z_][\w.]*)["']/g;

export interface ModuleSource {
  name: string;
  path: string;
  source: Uint8Array;
}

export interface StaticFacts {
  /** 2026 when the text shows skb:data() or linux.nf, else 0 (decided after the hooks are registered) */
  api: 0 | 2026;
  why: string;
  usesByteorder: boolean;
  modules: ModuleSource[];
}

function requires(text: string): string[] {
  return [...text.matchAll(REQUIRE)].map((m) => m[1]);
}

/** Where `name` (dotted) lives: -I dirs, then the script's directory and its ancestors. */
function findModule(name: string, dirs: string[]): string | undefined {
  const rel = `${name.replace(/\./g, '/')}.lua`;
  for (const d of dirs) {
    const p = join(d, rel);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Reads what the script's text shows, and its modules (a missing one is left to fail at require). */
export function staticFacts(source: string, scriptPath: string | undefined, include: string[] = []): StaticFacts {
  const dirs = [...include];
  if (scriptPath !== undefined) {
    for (let d = resolve(dirname(scriptPath)), i = 0; i < 16; i++) {
      dirs.push(d);
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  const modules: ModuleSource[] = [];
  const seen = new Set<string>();
  const texts = [source];
  const queue = requires(source);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (BUILTIN.has(name) || seen.has(name)) continue;
    seen.add(name);
    const path = findModule(name, dirs);
    if (path === undefined) continue;
    const bytes = readFileSync(path);
    modules.push({ name, path, source: bytes });
    const text = bytes.toString('latin1');
    texts.push(text);
    queue.push(...requires(text));
  }
  const all = texts.join('\n');
  let api: 0 | 2026 = 0;
  let why = '';
  if (/:\s*data\s*\(/.test(all)) [api, why] = [2026, 'the script calls skb:data()'];
  else if (/\brequire\s*\(?\s*["']linux\.nf["']/.test(all)) [api, why] = [2026, "the script requires 'linux.nf'"];
  return { api, why, usesByteorder: /\brequire\s*\(?\s*["']byteorder["']/.test(all), modules };
}
