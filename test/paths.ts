// Where the repository and the shared corpus are, wherever vitest runs from.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = resolve(REPO, '..', 'shared');
export const CORPUS = join(SHARED, 'corpus', 'pcap');
