// `luapf compile` and `luapf check`: the only commands that load the
// compiler (and, for compile, binaryen). `check` loads each filter exactly
// as `luapf run` would and reports the outcome, so the two never disagree.
import { lunatikOption, type LunatikFlags } from '../lunatik/cli-options.js';
import { describeLunatik, type LunatikInfo } from '../lunatik/describe.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { scriptText } from '../engine/script-bytes.js';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';
import { ScriptError } from '../errors.js';

export type DumpStage = 'parse' | 'unroll' | 'check' | 'ir' | 'wat';

export interface CompileCommandOptions {
  output?: string;
  wat?: boolean;
  fuel: number;
  optimize: number;
  prefetch?: number;
  dump?: DumpStage;
}

export interface CheckCommandOptions extends LunatikFlags {
  json?: boolean;
}

function readScript(path: string): string | undefined {
  try {
    return scriptText(readFileSync(path));
  } catch (e) {
    process.stderr.write(`luapf: ${(e as Error).message}\n`);
    return undefined;
  }
}

/** One "  PATH:LINE:COL: message" line per reason, as compilers print them. */
function located(path: string, details: { line: number; column: number; message: string }[]): string {
  return details.map((d) => `  ${path}:${d.line}:${d.column}: ${d.message}`).join('\n');
}

export async function compileCommand(path: string, opts: CompileCommandOptions): Promise<number> {
  const source = readScript(path);
  if (source === undefined) return EXIT_BAD_INPUT;
  const { compile } = await import('../../compiler/index.js');
  const stopAfter = opts.dump === 'wat' ? 'wasm' : opts.dump;
  const result = await compile(source, {
    file: path, fuel: opts.fuel, optimize: opts.optimize, prefetch: opts.prefetch, stopAfter, wat: opts.wat || opts.dump === 'wat',
  });
  if (!result.ok) {
    const what = result.stage === 'parse' ? 'syntax error' : 'not in the compiled subset';
    process.stderr.write(`luapf: ${path}: ${what}:\n${located(path, result.details)}\n`);
    return EXIT_BAD_INPUT;
  }
  if (opts.dump) {
    process.stdout.write(`${opts.dump === 'wat' ? result.wat : result.dump}\n`);
    return EXIT_OK;
  }
  const output = opts.output ?? path.replace(/\.lua$/i, '') + '.wasm';
  writeFileSync(output, result.wasm);
  if (opts.wat) writeFileSync(output.replace(/\.wasm$/i, '') + '.wat', result.wat ?? '');
  process.stderr.write(`luapf: wrote ${output} (${result.wasm.length} bytes)\n`);
  return EXIT_OK;
}

type ErrorKind = 'file' | 'syntax' | 'load' | 'module' | 'engine';

const ERROR_TITLES: Record<ErrorKind, string> = {
  file: 'cannot be read',
  syntax: 'syntax error',
  load: 'the script fails to load (run would stop here)',
  module: 'not a usable luapf module',
  engine: 'no engine can run it',
};

interface CheckReport {
  filter: string;
  /** the engine `luapf run` would use; null when it could not load the filter */
  engine: 'wasm' | 'lua' | null;
  /** why a script is not compiled, as "LINE:COL: message" */
  reasons: string[];
  /** bytes of the compiled module */
  moduleBytes?: number;
  /** a .wasm: its self-description (docs/ABI.md) */
  module?: { abi: number; compiler: string; source: string; sourceHash: string; options: Record<string, unknown> };
  /** a Lunatik script: its API generation and what it registered */
  lunatik?: LunatikInfo;
  /** why run would fail: the message names FILE:LINE:COL, or the file */
  error?: { kind: ErrorKind; message: string; line?: number; column?: number };
}

/**
 * What `luapf run` would do with one filter file: load it exactly as run
 * does (content decides script or module; a script is compiled, or its main
 * chunk runs on the Lua engine), then report the engine, the reasons and
 * the module, or the error run would stop with.
 */
async function checkOne(path: string, opts: CheckCommandOptions): Promise<{ report: CheckReport; details: { line: number; column: number; message: string }[] }> {
  const report: CheckReport = { filter: path, engine: null, reasons: [] };
  let details: { line: number; column: number; message: string }[] = [];
  const { loadEngine } = await import('../engine/load.js');
  const { isWasmModule } = await import('../engine/wasm.js');
  const { WasmFilter } = await import('../engine/wasm.js');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    report.error = { kind: 'file', message: (e as Error).message };
    return { report, details };
  }
  try {
    const filter = await loadEngine({ source: bytes, name: path, path, lunatik: lunatikOption(opts) });
    filter.close();
    if ('lunatik' in filter) report.lunatik = filter.lunatik as LunatikInfo;
    report.engine = filter.engine as 'wasm' | 'lua';
    report.reasons = [...filter.reasons];
    if (filter instanceof WasmFilter) {
      report.moduleBytes = filter.size;
      const { abi, compiler, source, sourceHash, options } = filter.info;
      // a script compiled just now is described by its engine alone
      if (isWasmModule(bytes)) report.module = { abi, compiler, source, sourceHash, options };
    } else if (filter.reasons.length > 0) {
      // the checker's reasons as data, for the FILE:LINE:COL lines
      const { checkScript } = await import('../../compiler/index.js');
      details = checkScript(scriptText(bytes), { file: path }).details;
    }
  } catch (e) {
    if (e instanceof ScriptError) report.error = { kind: e.kind, message: e.message, line: e.line, column: e.column };
    else if (e instanceof Error && KIND_OF_ERROR[e.name]) report.error = { kind: KIND_OF_ERROR[e.name], message: e.message };
    else if (e instanceof Error && (e as NodeJS.ErrnoException).code !== undefined) report.error = { kind: 'file', message: e.message };
    else throw e;
  }
  return { report, details };
}

const KIND_OF_ERROR: Record<string, ErrorKind> = {
  ModuleFormatError: 'module', ModuleInitError: 'load', EngineUnavailableError: 'engine',
};

export async function checkCommand(paths: string[], opts: CheckCommandOptions): Promise<number> {
  const reports: CheckReport[] = [];
  for (const path of paths) {
    const { report, details } = await checkOne(path, opts);
    reports.push(report);
    if (opts.json) continue;
    if (report.error) {
      process.stdout.write(`${path}: ${ERROR_TITLES[report.error.kind]}:\n  ${report.error.message.replace(/\n/g, '\n  ')}\n`);
    } else if (report.lunatik) {
      process.stdout.write(describeLunatik(path, report.lunatik));
    } else if (report.module) {
      const m = report.module;
      process.stdout.write(`${path}: engine wasm (compiled module, ${report.moduleBytes} bytes): ABI ${m.abi}, ${m.compiler}, from ${m.source}\n` +
        `  options: ${Object.entries(m.options).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')}\n`);
    } else if (report.engine === 'wasm') {
      process.stdout.write(`${path}: engine wasm (compiled, module ${report.moduleBytes} bytes)\n`);
    } else {
      const lines = details.length > 0 ? located(path, details) : report.reasons.map((r) => `  ${path}:${r}`).join('\n');
      process.stdout.write(`${path}: engine lua (interpreted) because:\n${lines}\n`);
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(paths.length === 1 ? reports[0] : reports, null, 2)}\n`);
  return reports.some((r) => r.error) ? EXIT_BAD_INPUT : EXIT_OK;
}
