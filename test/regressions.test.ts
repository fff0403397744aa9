// Every saved reproducer in test/regressions/ (written by `npm run fuzz` or by
// hand) runs on both engines: verdicts must agree call by call. Files in
// test/regressions/pending/ are known compiler bugs not fixed yet: they are
// only checked for a well-formed header here; move one up a directory once
// the compiler handles it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeOutcome, differential, parseReproducer } from './gen/differential.js';
import { REPO } from './support/paths.js';

const DIR = join(REPO, 'test', 'regressions');
const list = (dir: string) => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.lua')).sort();
  } catch {
    return [];
  }
};

describe('saved regressions agree on both engines', () => {
  const files = list(DIR);
  it('has regressions to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files)('%s', async (f) => {
    const r = parseReproducer(readFileSync(join(DIR, f), 'latin1'), f);
    const optimize = Number(/^-- optimize: (\d)$/m.exec(r.source)?.[1] ?? 3);
    const o = await differential(r.source, r.packets, r.times, { name: f, optimize });
    expect(o.kind, describeOutcome(o)).toBe('agree');
  });
});

// (an empty pending/ — every known bug fixed — has nothing to check)
describe.skipIf(list(join(DIR, 'pending')).length === 0)('pending reproducers are well-formed', () => {
  it.each(list(join(DIR, 'pending')).map((f) => [f]))('%s', (f) => {
    const r = parseReproducer(readFileSync(join(DIR, 'pending', f), 'latin1'), f);
    expect(r.packets.length).toBeGreaterThan(0);
    expect(r.source).toMatch(/function filter/);
  });
});
