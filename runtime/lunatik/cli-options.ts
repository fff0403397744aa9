// The flags of Lunatik mode on `luapf run` and `luapf check`, defined here
// so the command definitions (cli/main.ts) grow by one call, and turned into
// loadEngine's `lunatik` option (engine/load.ts). Light: commander only.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { LunatikApi, LunatikOptions, LunatikPath } from './detect.js';

function mark(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('expected an integer from 0 to 0xffffffff');
  return n;
}

function xdpArg(value: string): string {
  if (value === 'payload-offset' || value === 'none' || /^hex:(?:[0-9a-fA-F]{2})*$/.test(value)) return value;
  throw new InvalidArgumentError('expected payload-offset, none or hex:BYTES');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds --lunatik, --lunatik-api, --mark, --path, --xdp-arg, --xt-args, --xt-target, --seed and -I to a command (`run`: --inject and --log too). */
export function addLunatikOptions(cmd: Command, run = false): Command {
  if (run) {
    cmd
      .option('--inject <file>', 'Lunatik: write the packets skb:forward() and XDP_TX send to FILE (pcapng; each stamped ' +
        'with the time of the packet that caused it and a comment naming it)')
      .option('--log <file>', 'Lunatik: write what the hooks print to FILE (default: standard error), each line ' +
        'prefixed with CAPTURE#N: ');
  }
  return cmd
    .option('--lunatik', 'run the script as a Lunatik script (netfilter hooks, XDP) even if not detected')
    .addOption(new Option('--lunatik-api <year>', 'Lunatik hook API: 2024 hook(data) at the network layer, ' +
      '2025 hook(data, ifindex[, vlan]) from the MAC header, 2026 hook(skb) (default: detected)').choices(['2024', '2025', '2026']))
    .option('--mark <n>', 'Lunatik: the mark every packet starts with (default 0)', mark)
    .addOption(new Option('--path <path>', 'Lunatik: the hooks a packet meets: all (every registered hook point), ' +
      'in (PRE_ROUTING, LOCAL_IN), forward, out (LOCAL_OUT, POST_ROUTING); a pcapng packet with a direction flag ' +
      'takes in (inbound; forward under --path forward) or out (outbound)').choices(['all', 'in', 'forward', 'out']))
    .option('--xdp-arg <arg>', 'Lunatik: the XDP callback\'s argument: payload-offset (default: TCP/UDP frames only, ' +
      'the payload offset big-endian, as examples/filter/https.c), none (every frame, empty argument), hex:BYTES', xdpArg)
    .option('--xt-args <text>', 'Lunatik: the userargs of the rules xtable.match/target extensions stand in (default empty)')
    .addOption(new Option('--xt-target <verdict>', 'Lunatik: what the rule of an xtable.match does with a matching packet (default DROP)')
      .choices(['DROP', 'ACCEPT']))
    .option('--seed <n>', 'Lunatik: seed of linux.random (default 1)', (v) => Number.parseInt(v, 10))
    .option('-I, --include <dir>', 'Lunatik: a directory searched first for dotted modules (repeatable)', collect);
}

export interface LunatikFlags {
  lunatik?: boolean;
  /** run only */
  inject?: string;
  /** run only */
  log?: string;
  lunatikApi?: string;
  mark?: number;
  path?: string;
  xdpArg?: string;
  seed?: number;
  include?: string[];
  xtArgs?: string;
  xtTarget?: string;
}

/** loadEngine's `lunatik` option: forced by a Lunatik flag, else left to detection (undefined). */
export function lunatikOption(flags: LunatikFlags): LunatikOptions | undefined {
  const o: LunatikOptions = {
    api: flags.lunatikApi !== undefined ? (Number(flags.lunatikApi) as LunatikApi) : undefined,
    mark: flags.mark, hookPath: flags.path as LunatikPath | undefined, xdpArg: flags.xdpArg, seed: flags.seed, include: flags.include,
    xtArgs: flags.xtArgs, xtTarget: flags.xtTarget as LunatikOptions['xtTarget'],
  };
  const given = Object.values(o).some((v) => v !== undefined);
  if (flags.lunatik) return o;
  return given ? { ...o, detect: true } : undefined;
}
