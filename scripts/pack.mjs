// npm pack / npm publish lifecycle (package.json prepack and postpack).
//
// In a clone, `prepare` builds dist/ on `npm ci`. An installed tarball has
// no sources to build, and npm 11 warns about every dependency that has a
// prepare script ("install scripts not yet covered by allowScripts") even
// when the script would do nothing; so the packed package.json leaves it out.
//   prepack:  build dist/ afresh when the sources are here, then save package.json
//             aside (package.json.prepack, not packed) and remove
//             scripts.prepare from it;
//   postpack: put the saved package.json back.
// A prepack after an interrupted pack restores the saved copy first, so the
// original is never lost.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const MANIFEST = 'package.json';
const SAVED = 'package.json.prepack';

function restore() {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST);
}

const step = process.argv[2];
if (step === 'prepack') {
  restore();
  if (existsSync('runtime/index.ts')) {
    // a fresh dist/: files of renamed or deleted sources must not ship
    rmSync('dist', { recursive: true, force: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
  }
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text);
  if (manifest.scripts?.prepare !== undefined) {
    writeFileSync(SAVED, text);
    delete manifest.scripts.prepare;
    writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  }
} else if (step === 'postpack') {
  restore();
} else {
  process.stderr.write('usage: node scripts/pack.mjs prepack|postpack\n');
  process.exitCode = 2;
}
