// `luapf compile` and `luapf check`: the only commands that load the
// compiler (and, for compile, binaryen).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';

export type DumpStage = 'parse' | 'check' | 'ir' | 'wat';

export interface CompileCommandOptions {
  output?: string;
  wat?: boolean;
  fuel: number;
  optimize: number;
  prefetch?: number;
  dump?: DumpStage;
}

export interface CheckCommandOptions {
  json?: boolean;
}

function readScript(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
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
    file: basename(path), fuel: opts.fuel, optimize: opts.optimize, prefetch: opts.prefetch, stopAfter, wat: opts.wat || opts.dump === 'wat',
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

export async function checkCommand(path: string, opts: CheckCommandOptions): Promise<number> {
  const source = readScript(path);
  if (source === undefined) return EXIT_BAD_INPUT;
  const { checkScript, compile } = await import('../../compiler/index.js');
  const verdict = checkScript(source, { file: basename(path) });
  let moduleBytes: number | undefined;
  if (verdict.engine === 'wasm') {
    const compiled = await compile(source, { file: basename(path) });
    if (compiled.ok) moduleBytes = compiled.wasm.length;
  }
  const syntaxError = verdict.errors.length > 0;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      filter: path, engine: syntaxError ? null : verdict.engine, reasons: verdict.reasons, moduleBytes,
    }, null, 2)}\n`);
  } else if (syntaxError) {
    process.stdout.write(`${path}: syntax error\n${located(path, verdict.details)}\n`);
  } else if (verdict.engine === 'wasm') {
    process.stdout.write(`${path}: engine wasm (compiled, module ${moduleBytes} bytes)\n`);
  } else {
    process.stdout.write(`${path}: engine lua (interpreted) because:\n${located(path, verdict.details)}\n`);
  }
  return syntaxError ? EXIT_BAD_INPUT : EXIT_OK;
}
