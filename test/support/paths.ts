// Where the repository and the shared corpus are, wherever vitest runs from:
// the one place tests find them.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the repository's root */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared beside the clone: the corpus, the benchmark's filters, DESIGN.md */
export const SHARED = resolve(REPO, '..', 'shared');
/** the real captures */
export const CORPUS = join(SHARED, 'corpus', 'pcap');
/** the classic filters of the benchmark (pflua-bench's) */
export const FILTERS = join(SHARED, 'bench', 'filters');
