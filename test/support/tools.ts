// The independent oracles some tests run (Debian's lua5.4, tshark,
// capinfos, python3), checked once: a test that needs a missing one is
// skipped, saying so.
import { spawnSync } from 'node:child_process';

const runs = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

export const hasLua54 = runs('lua5.4', ['-v']);
export const hasTshark = runs('tshark', ['--version']);
export const hasCapinfos = runs('capinfos', ['-h']);
export const hasPython3 = runs('python3', ['--version']);
/** Re-deriving expected counts with tshark takes tens of seconds: opt in with LUAPF_TSHARK_CHECK=1. */
export const tsharkCheck = process.env.LUAPF_TSHARK_CHECK === '1' && hasTshark;
