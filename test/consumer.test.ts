// CONSUMER TEST (slow, ~30 s): the package as another project sees it.
// `npm pack` the project, check what the tarball holds, install it into a
// fresh project (offline from the npm cache, quietly), and run a plain JavaScript and a strict TypeScript
// program that import the public API by package name, plus the README's
// Library examples as written, over real captures.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO, SHARED } from './support/paths.js';

let proj: string;

function node(file: string, cwd: string) {
  const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const JS_CONSUMER = `import { loadFilterFile, readCapture, OptionsError, loadFilter } from 'luapf';
const filter = await loadFilterFile(process.argv[2] ?? 'node_modules/luapf/examples/tcp-port.lua');
for (const capture of ['ssh.pcap', 'v4.pcap', 'sll.pcap']) {
  for await (const batch of readCapture(${JSON.stringify(CORPUS)} + '/' + capture).batches()) filter.matchBatch(batch);
}
let bad = 'none';
try { await loadFilter('function filter(p) return true end', { fuel: -1 }); } catch (e) { bad = e instanceof OptionsError ? e.option : String(e); }
console.log(JSON.stringify({ engine: filter.engine, ...filter.counters, bad }));
filter.close();
`;

const TS_CONSUMER = `import { compileFilter, loadFilter, readCapture, ScriptError, type CaptureRecord, type FilterCounters, type PacketFilter } from 'luapf';
import { readFileSync } from 'node:fs';

async function main(): Promise<void> {
  const compiled = await compileFilter(readFileSync('node_modules/luapf/examples/icmp-echo.lua'), { name: 'icmp-echo.lua' });
  if (compiled.engine !== 'wasm') throw new Error(compiled.reasons.join('; '));
  const wasm: Uint8Array = compiled.wasm;
  const filter: PacketFilter = await loadFilter(wasm);
  const records: CaptureRecord[] = [];
  for await (const r of readCapture(${JSON.stringify(join(CORPUS, 'many-protocols.pcap'))})) records.push(r);
  const verdicts: Uint8Array = filter.matchBatch(records);
  const counts: FilterCounters = filter.counters;
  let syntax = '';
  try { await loadFilter('function filter(', { name: 'x.lua' }); } catch (e) { if (e instanceof ScriptError) syntax = e.file + ':' + e.line; }
  console.log(JSON.stringify({ engine: filter.engine, accepted: counts.accepted, sum: verdicts.reduce((s, v) => s + v, 0), syntax }));
  filter.close();
}
main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
`;

let tarballFiles: string[];
let installLog: string;

// npm 11 warns about any dependency with install-time scripts (prepare
// included) until the user approves them: the tarball must not have one.
const QUIET = /\bwarn|ERR!|tsc|error/i;

describe('consumer test (slow, ~40 s): npm pack → install → use by package name', () => {
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist', 'runtime', 'index.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO });
    const tmp = mkdtempSync(join(tmpdir(), 'luapf-consumer-'));
    // Pack a copy of what `files` selects, with the real prepack/postpack
    // scripts (scripts/pack.mjs): they edit package.json while packing, which
    // must not happen under the other tests; without sources the copy is not rebuilt.
    const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' }));
    const stage = join(tmp, 'stage');
    // dist/ built afresh into the copy, as prepack does in the repository: the
    // repository's dist/ may hold files of sources renamed since it was built
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', join(stage, 'dist')], { cwd: REPO });
    const files = listing[0].files.map((f: { path: string }) => f.path).filter((f: string) => !f.startsWith('dist/'));
    for (const file of [...files, 'scripts/pack.mjs']) {
      mkdirSync(dirname(join(stage, file)), { recursive: true });
      copyFileSync(join(REPO, file), join(stage, file));
    }
    execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: stage, stdio: 'pipe' });
    // postpack put the manifest back as it was
    expect(readFileSync(join(stage, 'package.json'), 'utf8')).toBe(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(existsSync(join(stage, 'package.json.prepack'))).toBe(false);
    const tarball = join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
    tarballFiles = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    proj = join(tmp, 'app');
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // scripts allowed: an install must be quiet as it is
    const install = spawnSync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: proj, encoding: 'utf8' });
    expect(install.status).toBe(0);
    installLog = install.stdout + install.stderr;
  }, 120_000);

  it('the tarball holds the built runtime and compiler, docs, examples, LICENSE and SECURITY.md, and nothing else', () => {
    for (const f of ['LICENSE', 'README.md', 'SECURITY.md', 'package.json', 'docs/ABI.md', 'docs/SEMANTICS.md', 'examples/README.md',
      'examples/tcp-port.lua', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/cli/main.js', 'dist/compiler/index.js']) {
      expect(tarballFiles).toContain(f);
    }
    const unexpected = tarballFiles.filter((f) => !/^(dist\/(runtime|compiler)\/|docs\/|examples\/|LICENSE$|README\.md$|SECURITY\.md$|package\.json$)/.test(f));
    expect(unexpected).toEqual([]);
    expect(tarballFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const installed = join(proj, 'node_modules', 'luapf');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) the luapf authors\n/);
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).scripts?.prepare).toBeUndefined();
  });

  it('installs quietly: no install script, no warning', () => {
    expect(installLog).not.toMatch(QUIET);
  });

  it('source maps carry their sources; the shipped documents link only to shipped files', () => {
    const installed = join(proj, 'node_modules', 'luapf');
    const maps = tarballFiles.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(20);
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(installed, f), 'utf8'));
      expect(map.sourcesContent?.length, f).toBe(map.sources.length);
      expect(map.sourcesContent.every((c: unknown) => typeof c === 'string' && c.length > 0), f).toBe(true);
    }
    for (const doc of tarballFiles.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(installed, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        expect(existsSync(join(installed, dirname(doc), target)), `${doc} links ${target}`).toBe(true);
      }
    }
  });

  it('runs a plain JavaScript program against the installed package', () => {
    writeFileSync(join(proj, 'consumer.mjs'), JS_CONSUMER);
    const r = node('consumer.mjs', proj);
    expect(r.stderr).toBe('');
    // tcp-port over ssh.pcap, v4.pcap and sll.pcap: 54 + 41 + 483 of 54 + 43 + 518 (tshark-checked, test/support/examples-expected.ts)
    expect(JSON.parse(r.stdout)).toEqual({ engine: 'wasm', packets: 615, accepted: 578, rejected: 37, errors: 0, bad: 'fuel' });
  }, 60_000);

  it('type-checks (strict, NodeNext) and runs a TypeScript program against the installed package', () => {
    writeFileSync(join(proj, 'consumer.ts'), TS_CONSUMER);
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', outDir: 'out',
        typeRoots: [join(REPO, 'node_modules', '@types')], types: ['node'],
      },
      files: ['consumer.ts'],
    }));
    const tsc = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: proj, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    const r = node('out/consumer.js', proj);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ engine: 'wasm', accepted: 109, sum: 109, syntax: 'x.lua:1' });
  }, 90_000);

  it('runs the README Library examples as written', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'latin1');
    const library = readme.slice(readme.indexOf('\n## Library'));
    const blocks = [...library.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toHaveLength(3);
    // a clone's layout: examples/ in the working directory, ../shared beside it
    const work = mkdtempSync(join(tmpdir(), 'luapf-readme-'));
    const clone = join(work, 'clone');
    mkdirSync(clone);
    symlinkSync(join(REPO, 'examples'), join(clone, 'examples'));
    symlinkSync(SHARED, join(work, 'shared'));
    const outputs = blocks.map((code, i) => {
      writeFileSync(join(proj, `readme-${i}.mjs`), code);
      const r = node(join(proj, `readme-${i}.mjs`), clone);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout;
    });
    expect(outputs[0]).toBe('wasm { packets: 43, accepted: 41, rejected: 2, errors: 0 }\n');
    expect(existsSync(join(clone, 'accepted.pcap'))).toBe(true);
    expect(outputs[1]).toBe('109 echo packets\n');
    expect(outputs[2]).toBe('packet 4: udp.lua:5:23: short packet\ntrue false [ 0, 0, 0 ]\n{ packets: 5, accepted: 1, rejected: 4, errors: 1 }\n');
  }, 60_000);
});
