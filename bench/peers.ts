// The peers luapf is measured against, run as child processes on a capture
// file: libpcap's bpf_filter interpreter (../shared/bench/peers/bpf_bench.c,
// built here on first use when gcc and libpcap's headers are present) and
// pflua's three pipelines on LuaJIT (../shared/bench/peers/pflua_bench.lua,
// given a pflua checkout and a dynasm one). Nothing of pflua is in this
// repository: without a checkout only libpcap runs, without libpcap neither.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SHARED } from './captures.js';

/** The classic filters of ../shared/bench/filters and the pcap expression each one states. */
export const EXPRESSIONS: Record<string, string> = {
  'ip': 'ip',
  'tcp-port-80': 'tcp port 80',
  'tcp-port-5555': 'tcp port 5555',
  'portrange-0-6000': 'portrange 0-6000',
  'icmp': 'icmp',
  'tcp-syn': 'tcp[tcpflags] & tcp-syn != 0',
};

export const PFLUA_ENGINES = ['pflua', 'pflua-bpf', 'pflua-native'] as const;
/** pflua_bench.lua's names for its pipelines (pflang→Lua, BPF→Lua, dynasm x86-64) */
const PFLUA_ARG: Record<string, string> = { 'pflua': 'pflua', 'pflua-bpf': 'bpf', 'pflua-native': 'native' };

const PEERS_DIR = join(SHARED, 'bench', 'peers');

export interface PeerConfig {
  /** the bpf_bench binary, or undefined when libpcap cannot be measured */
  bpfBench?: string;
  /** pflua's src/ directory (with pf/codegen.lua generated) and the dynasm checkout (libdasm_x86.so built) */
  pflua?: { src: string; dynasm: string };
  /** CPU every peer (and luapf, in side-by-side.ts) is pinned to with taskset, when taskset exists */
  cpu?: number;
}

export interface PeerResult {
  engine: string;
  packets: number;
  accepted: number;
  medianMpps: number;
  minMpps: number;
  maxMpps: number;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * bpf_bench: the path given, else .cache/peers/bpf_bench, built there from
 * ../shared/bench/peers/bpf_bench.c when missing. Returns undefined, saying
 * why on stderr, when it cannot be built (no gcc or no libpcap-dev).
 */
export function findBpfBench(given?: string): string | undefined {
  if (given) {
    if (!existsSync(given)) throw new Error(`--bpf-bench ${given}: no such file`);
    return given;
  }
  const out = join(REPO_ROOT, '.cache', 'peers', 'bpf_bench');
  if (existsSync(out)) return out;
  mkdirSync(join(REPO_ROOT, '.cache', 'peers'), { recursive: true });
  const r = spawnSync('gcc', ['-O2', '-o', out, join(PEERS_DIR, 'bpf_bench.c'), '-lpcap'], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`libpcap not measured: building bpf_bench failed (apt-get install gcc libpcap-dev): ${(r.stderr || String(r.error)).split('\n')[0]}\n`);
    return undefined;
  }
  return out;
}

/** pflua from `--pflua DIR --dynasm DIR` or LUAPF_PFLUA / LUAPF_DYNASM; DIR is the checkout or its src/. */
export function findPflua(pflua?: string, dynasm?: string): PeerConfig['pflua'] {
  pflua ??= process.env.LUAPF_PFLUA;
  dynasm ??= process.env.LUAPF_DYNASM;
  if (!pflua && !dynasm) return undefined;
  if (!pflua || !dynasm) throw new Error('pflua needs both --pflua DIR and --dynasm DIR (or LUAPF_PFLUA and LUAPF_DYNASM)');
  const src = existsSync(join(pflua, 'src', 'pf.lua')) ? join(pflua, 'src') : pflua;
  if (!existsSync(join(src, 'pf.lua'))) throw new Error(`--pflua ${pflua}: no pf.lua there or in src/`);
  if (!existsSync(join(src, 'pf', 'codegen.lua'))) throw new Error(`${src}/pf/codegen.lua missing: generate it with dynasm (../shared/bench/peers/README.md)`);
  if (!existsSync(join(dynasm, 'libdasm_x86.so'))) throw new Error(`--dynasm ${dynasm}: libdasm_x86.so missing (../shared/bench/peers/README.md)`);
  if (!has('luajit')) throw new Error('pflua needs luajit (apt-get install luajit)');
  return { src, dynasm };
}

/** `taskset -c CPU` before a command, when pinning was asked for and taskset exists. */
export function pinned(cpu: number | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpu !== undefined && has('taskset') ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24, ...options });
}

/** A result line of bpf_bench or pflua_bench.lua: ... packets matches median min max ns passes. */
function parseLine(engine: string, line: string, packetsColumn: number): PeerResult {
  const f = line.trim().split('\t');
  const num = (i: number) => {
    const v = Number(f[packetsColumn + i]);
    if (!Number.isFinite(v)) throw new Error(`${engine}: unexpected output: ${line}`);
    return v;
  };
  return { engine, packets: num(0), accepted: num(1), medianMpps: num(2), minMpps: num(3), maxMpps: num(4) };
}

/** One (filter, capture) cell of the side-by-side run (bench/side-by-side.ts). */
export interface PeerCell {
  filter: string;
  expression: string;
  capture: string;
  packets: number;
  /** per engine: Mpps of each round (each the median of its samples), their median, the accept count */
  engines: Record<string, { rounds: number[]; medianMpps: number; accepted: number }>;
  bestPflua?: string;
  /** luapf / best pflua pipeline, luapf / libpcap (medians over rounds) */
  ratios: { pflua?: number; libpcap?: number };
  /** accept counts that differ from libpcap's, and libpcap's own count of luapf's meaning where it explains them */
  countNotes: string[];
}

export interface Timing { samples: number; seconds: number }

/** libpcap's bpf_filter over `capture` for each expression, in one process (one line each). */
export function measureLibpcap(config: PeerConfig, capture: string, expressions: string[], t: Timing): PeerResult[] {
  const [cmd, args] = pinned(config.cpu, config.bpfBench!, ['-t', String(t.seconds), '-s', String(t.samples), '-w', '1', capture, ...expressions]);
  const lines = run(cmd, args).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== expressions.length) throw new Error(`bpf_bench: expected ${expressions.length} lines, got:\n${lines.join('\n')}`);
  return lines.map((l) => parseLine('libpcap', l, 2));
}

/** How many packets libpcap accepts for `expression` (one short pass, no timing worth keeping). */
export function libpcapCount(config: PeerConfig, capture: string, expression: string): number {
  return measureLibpcap({ ...config, cpu: undefined }, capture, [expression], { samples: 1, seconds: 0.001 })[0]!.accepted;
}

/** One pflua pipeline over `capture`. */
export function measurePflua(config: PeerConfig, engine: string, capture: string, expression: string, t: Timing): PeerResult {
  const { src, dynasm } = config.pflua!;
  const [cmd, args] = pinned(config.cpu, 'luajit', [join(PEERS_DIR, 'pflua_bench.lua'), PFLUA_ARG[engine]!, capture, expression, String(t.samples), String(t.seconds)]);
  const out = run(cmd, args, { cwd: src, env: { ...process.env, LD_LIBRARY_PATH: dynasm, LUA_PATH: `${dynasm}/?.lua;./?.lua;;` } });
  return parseLine(engine, out.split('\n').find((l) => l.includes('\t'))!, 3);
}

/**
 * luapf strips up to two VLAN tags (802.1Q, 802.1ad, 0x9100) before the
 * filter (docs/SEMANTICS.md); libpcap's `ip` does not look past them. This
 * expression is luapf's meaning written in libpcap's language, so that a
 * count differing from plain `expression` is explained by libpcap itself.
 */
export function withVlanStripped(expression: string): string {
  return `(${expression}) or (vlan and ((${expression}) or (vlan and (${expression}))))`;
}
