#!/usr/bin/env node
// The luapf command line: a thin layer over the library (runtime/, and
// compiler/ only for the commands that compile).
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { MAX_FUEL, MAX_PREFETCH } from '../../compiler/abi.js';
import { DEFAULT_LIMITS } from '../engine/filter.js';
import { OptionsError, parseFuel } from '../api/options.js';
import { VERSION } from '../version.js';
import { addLunatikOptions } from '../lunatik/cli-options.js';

// Each command's module is imported when the command runs, so that
// `luapf run x.wasm` loads neither the benchmark nor the compiler.

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** --fuel: the library's own check (api/options.ts), as a usage error. */
function fuelArg(value: string): number {
  try {
    return parseFuel(value);
  } catch (e) {
    if (e instanceof OptionsError) throw new InvalidArgumentError(`expected ${e.expected}`);
    throw e;
  }
}

function packetsAhead(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_PREFETCH) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_PREFETCH}`);
  return n;
}

/**
 * A usage error is one line and a hint, not the whole help:
 * "luapf run: missing required argument 'filter'" then "see 'luapf help run'".
 */
function shortUsageErrors(cmd: Command, name?: string): Command {
  const prefix = name ? `luapf ${name}` : 'luapf';
  return cmd
    .configureOutput({ outputError: (str, write) => write(`${prefix}: ${str.replace(/^error: /, '')}`) })
    .showHelpAfterError(name ? `see 'luapf help ${name}'` : "see 'luapf --help'");
}

function buildProgram(): Command {
  const program = shortUsageErrors(new Command('luapf'))
    .description('Compile Lua packet filters (NPF Lua / Lunatik style) to WebAssembly and run them over captures')
    .version(VERSION)
    .exitOverride();

  addLunatikOptions(program
    .command('run'), true)
    .description('run a filter over captures and count accepted, rejected and failed packets')
    .usage('[options] <filter> <captures...>\n       luapf run [options] -e SCRIPT <captures...>')
    .argument('[filter]', 'a .lua script or a compiled .wasm module (not with -e: every argument is then a capture)')
    .argument('[captures...]', 'pcap or pcapng files; - reads standard input')
    .option('-e, --script <text>', 'the script itself instead of a file: a Lua expression (`#pkt > 1000`), ' +
      'the body of filter(pkt, time) (`local v = pkt:layout{...} return v.proto == 6`), or a whole script defining filter')
    .option('-w, --write <file>', 'write accepted packets (whole frames) to FILE; - is standard output')
    .addOption(new Option('-F, --format <format>', 'format of -w (default: pcapng for a .pcapng file name, else pcap); ' +
      'a classic pcap holds one link type').choices(['pcap', 'pcapng']))
    .option('-c, --count <n>', 'stop after N packets in all (the summary says so)', positiveInt)
    .option('-v, --print', 'print one line per accepted packet on standard output: CAPTURE#N TIME length LEN VERDICT')
    .option('--json', 'print the summary as one JSON document')
    .option('--verdicts <file>', 'write CAPTURE<TAB>N<TAB>accept|reject|error[<TAB>message] per packet ' +
      '(Lunatik scripts: verdict name, mark and rewritten/injected=N/- before the message)')
    .addOption(new Option('--layer <n>', 'what pkt is: 3 the network-layer packet, 2 the whole frame').choices(['2', '3']).default('3'))
    .addOption(new Option('--on-error <verdict>', 'verdict for a packet whose filter call fails (default: drop; pass for Lunatik scripts, as the kernel accepts)').choices(['drop', 'pass']))
    .option('--fuel <n>', `steps allowed per filter call (1 to ${MAX_FUEL})`, fuelArg, DEFAULT_LIMITS.fuel)
    .addOption(new Option('--engine <engine>', 'auto: compiled when possible, else the Lua interpreter').choices(['auto', 'wasm', 'lua']).default('auto'))
    .option('--verify', 'run the compiled and the interpreted engine on every packet and report where they disagree')
    .option('-q, --quiet', 'no progress display (shown only when stderr is a terminal)')
    .addHelpText('after', `
Every capture and the script are checked before any packet is filtered;
with -w in classic pcap, captures of several link types are refused then
(use -F pcapng). The summary goes to standard output, or to standard error
when standard output carries packets (-w -, --print, --verdicts -).

Counts: every packet is accepted or rejected; "errors" counts the packets
whose filter call failed (they take the --on-error verdict). --json adds
seconds and packetsPerSecond per capture and in all, the first errors
(capture, packet, file, line, column, message) and the reasons the script
is not compiled.

Exit codes: 0 success, 1 bad input (script or capture: one line naming the
file and offset; the other captures' counts are still reported), 2 usage,
3 --verify found packets on which the engines disagree.

Examples:
  luapf run examples/tcp-port.lua a.pcap b.pcapng -w accepted.pcapng
  luapf run -e 'pkt:layout{ proto = {72, 8} }.proto == 17' capture.pcap -c 1000 -v
  tcpdump -w - -i eth0 | luapf run filter.lua - -w - | tshark -r -`)
    .action(async (filter: string | undefined, captures: string[], opts, cmd: Command) => {
      // With -e every argument is a capture.
      const inputs = opts.script !== undefined ? [...(filter !== undefined ? [filter] : []), ...captures] : captures;
      if (opts.script === undefined && filter === undefined) cmd.error("missing required argument 'filter'", { exitCode: EXIT_USAGE });
      if (inputs.length === 0) cmd.error("missing required argument 'captures'", { exitCode: EXIT_USAGE });
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(opts.script !== undefined ? undefined : filter, inputs, opts);
    });

  program
    .command('compile')
    .description('compile a filter script ahead of time into a .wasm module (docs/ABI.md)')
    .argument('<filter>', 'a .lua script in the compiled subset')
    .option('-o, --output <file>', 'the module to write (default: FILTER with .wasm)')
    .option('--wat', 'also write the module as WebAssembly text (.wat)')
    .option('--fuel <n>', `default steps per filter call written into the module (1 to ${MAX_FUEL})`, fuelArg, DEFAULT_LIMITS.fuel)
    .addOption(new Option('-O, --optimize <level>', 'binaryen optimization level').choices(['0', '1', '2', '3']).default('3'))
    .option('--prefetch <n>', 'packets ahead the batch loop touches (0: none; default: 16 for scripts reading at packet-computed offsets, else 0; docs/ABI.md)', packetsAhead)
    .addOption(new Option('--dump <stage>', 'print what a compiler pass made instead of writing a module').choices(['parse', 'unroll', 'check', 'ir', 'wat']))
    .addHelpText('after', `
Exit codes: 0 compiled, 1 the script has a syntax error or is outside the compiled subset (every reason is listed), 2 usage.`)
    .action(async (filter: string, opts) => {
      const { compileCommand } = await import('./compile.js');
      process.exitCode = await compileCommand(filter, { ...opts, optimize: Number(opts.optimize) });
    });

  addLunatikOptions(program
    .command('check'))
    .description('load each filter as run would: the engine it gets and why, the module, or the error run would stop with')
    .argument('<filters...>', '.lua scripts or compiled .wasm modules')
    .option('--json', 'print the answer as JSON (an array when several filters are given)')
    .addHelpText('after', `
A script is compiled, or its main chunk runs on the Lua engine, exactly as
in \`luapf run\`; a .wasm module is described (ABI version, compiler,
source, compile options).
Exit codes: 0 every filter would run (on either engine), 1 run would refuse
one (syntax error, error in the main chunk, no filter function, not a luapf
module; the message names FILE:LINE:COL or the file), 2 usage.`)
    .action(async (filters: string[], opts) => {
      const { checkCommand } = await import('./compile.js');
      process.exitCode = await checkCommand(filters, opts);
    });

  program
    .command('bench')
    .description('measure filters on every engine over captures held in memory')
    .argument('<inputs...>', 'filters (.lua, .wasm) then captures; with no capture, built-in synthetic traffic')
    .addOption(new Option('--engine <engine>', 'engines to measure').choices(['all', 'wasm', 'lua']).default('all'))
    .option('--samples <n>', 'timed samples per measurement (the median is reported)', positiveInt, 5)
    .option('--seconds <s>', 'minimum seconds per sample', positiveNumber, 1)
    .option('--warmup <s>', 'seconds of warm-up at least, then on until the rate settles (two 50 ms slices within 10%)', positiveNumber, 0.5)
    .option('--workers <n>', 'also measure N worker threads against one (same pool, samples alternating, each worker filtering the whole capture) and report the scaling', positiveInt)
    .addOption(new Option('--layer <n>', 'what pkt is: 3 the network-layer packet, 2 the whole frame').choices(['2', '3']).default('3'))
    .option('--json', 'print the results as one JSON document')
    .option('-q, --quiet', 'no progress display')
    .addHelpText('after', `
Mpps is the median of the samples, ±% half their range. "Gbit/s offered" is
the packet data handed to the filter per second (whole packets at --layer),
the line rate the filter keeps up with, not the bytes it reads.
Exit codes: 0 success, 1 bad input, 2 usage, 3 engines disagree on an accept count.`)
    .action(async (inputs: string[], opts, cmd: Command) => {
      if (!inputs.some((p) => /\.(lua|wasm)$/i.test(p))) {
        cmd.error('error: give at least one filter (.lua or .wasm)', { exitCode: EXIT_USAGE });
      }
      const { benchCommand } = await import('./bench.js');
      process.exitCode = await benchCommand(inputs, opts);
    });

  for (const cmd of program.commands) shortUsageErrors(cmd, cmd.name());
  return program;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    const code = (e as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return EXIT_OK;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT_USAGE;
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => {
    process.stderr.write(`luapf: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  },
);
