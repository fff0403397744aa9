#!/usr/bin/env node
// The luapf command line: a thin layer over the library (runtime/, and
// compiler/ only for the commands that compile).
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { MAX_PREFETCH } from '../../compiler/abi.js';
import { VERSION } from '../version.js';

// Each command's module is imported when the command runs, so that
// `luapf run x.wasm` loads neither the benchmark nor the compiler.

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function packetsAhead(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_PREFETCH) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_PREFETCH}`);
  return n;
}

function buildProgram(): Command {
  const program = new Command('luapf')
    .description('Compile Lua packet filters (NPF Lua / Lunatik style) to WebAssembly and run them over captures')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run a filter over captures and count accepted, rejected and failed packets')
    .argument('<filter>', 'a .lua script or a compiled .wasm module')
    .argument('<captures...>', 'pcap or pcapng files; - reads standard input')
    .option('-w, --write <file>', 'write accepted packets (whole frames) to a pcap file; - is standard output')
    .option('--json', 'print the summary as one JSON document')
    .option('--verdicts <file>', 'write CAPTURE<TAB>N<TAB>accept|reject|error[<TAB>message] per packet')
    .addOption(new Option('--layer <n>', 'what pkt is: 3 the network-layer packet, 2 the whole frame').choices(['2', '3']).default('3'))
    .addOption(new Option('--on-error <verdict>', 'verdict for a packet whose filter call fails').choices(['drop', 'pass']).default('drop'))
    .option('--fuel <n>', 'steps allowed per filter call', positiveInt, 1_000_000)
    .addOption(new Option('--engine <engine>', 'auto: compiled when possible, else the Lua interpreter').choices(['auto', 'wasm', 'lua']).default('auto'))
    .option('--verify', 'run the compiled and the interpreted engine on every packet and report where they disagree')
    .option('-q, --quiet', 'no progress display')
    .addHelpText('after', `
Counts: every packet is accepted or rejected; "errors" counts the packets
whose filter call failed (they take the --on-error verdict).
Exit codes: 0 success, 1 bad input (script or capture), 2 usage,
3 --verify found packets on which the engines disagree.`)
    .action(async (filter: string, captures: string[], opts) => {
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(filter, captures, opts);
    });

  program
    .command('compile')
    .description('compile a filter script ahead of time into a .wasm module (docs/ABI.md)')
    .argument('<filter>', 'a .lua script in the compiled subset')
    .option('-o, --output <file>', 'the module to write (default: FILTER with .wasm)')
    .option('--wat', 'also write the module as WebAssembly text (.wat)')
    .option('--fuel <n>', 'default steps per filter call written into the module', positiveInt, 1_000_000)
    .addOption(new Option('-O, --optimize <level>', 'binaryen optimization level').choices(['0', '1', '2', '3']).default('3'))
    .option('--prefetch <n>', 'packets ahead the batch loop touches (0: none; default: 16 for scripts reading at packet-computed offsets, else 0; docs/ABI.md)', packetsAhead)
    .addOption(new Option('--dump <stage>', 'print what a compiler pass made instead of writing a module').choices(['parse', 'check', 'ir', 'wat']))
    .addHelpText('after', `
Exit codes: 0 compiled, 1 the script has a syntax error or is outside the compiled subset (every reason is listed), 2 usage.`)
    .action(async (filter: string, opts) => {
      const { compileCommand } = await import('./compile.js');
      process.exitCode = await compileCommand(filter, { ...opts, optimize: Number(opts.optimize) });
    });

  program
    .command('check')
    .description('say which engine a script would run on, every reason, and the module size')
    .argument('<filter>', 'a .lua script')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', `
Exit codes: 0 checked (either engine), 1 syntax error, 2 usage.`)
    .action(async (filter: string, opts) => {
      const { checkCommand } = await import('./compile.js');
      process.exitCode = await checkCommand(filter, opts);
    });

  program
    .command('bench')
    .description('measure filters on every engine over captures held in memory')
    .argument('<inputs...>', 'filters (.lua, .wasm) then captures; with no capture, built-in synthetic traffic')
    .addOption(new Option('--engine <engine>', 'engines to measure').choices(['all', 'wasm', 'lua']).default('all'))
    .option('--samples <n>', 'timed samples per measurement (the median is reported)', positiveInt, 5)
    .option('--seconds <s>', 'minimum seconds per sample', positiveNumber, 1)
    .option('--warmup <s>', 'seconds of warm-up before the samples', positiveNumber, 0.5)
    .option('--workers <n>', 'also measure with N worker threads (and one), and report the scaling', positiveInt)
    .addOption(new Option('--layer <n>', 'what pkt is: 3 the network-layer packet, 2 the whole frame').choices(['2', '3']).default('3'))
    .option('--json', 'print the results as one JSON document')
    .option('-q, --quiet', 'no progress display')
    .addHelpText('after', `
Exit codes: 0 success, 1 bad input, 2 usage, 3 engines disagree on an accept count.`)
    .action(async (inputs: string[], opts, cmd: Command) => {
      if (!inputs.some((p) => /\.(lua|wasm)$/i.test(p))) {
        cmd.error('error: give at least one filter (.lua or .wasm)', { exitCode: EXIT_USAGE });
      }
      const { benchCommand } = await import('./bench.js');
      process.exitCode = await benchCommand(inputs, opts);
    });

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
