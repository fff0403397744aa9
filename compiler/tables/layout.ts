// Where mutable tables live (no binaryen here: lower and codegen import this).
// The module owns a fixed region below heap_base, after the string memory:
//   [base, heapStart)         one 16-byte header per table: slots ptr, capacity, count, 0
//   [heapStart, base + bytes) slot arrays and long string keys, bump-allocated
// A slot is SLOT bytes: key tag i32 | value tag i32 | key payload i64 (a string
// key: length i32, out-of-line copy i32, 0 meaning inline) | value payload i64
// (a string value: the same) | hash i32 | pad | INLINE key bytes | INLINE value bytes.
// The header's last word is the border `#t` found last (a hint for the next one).

export const SLOT = 64;
export const INLINE = 16;
/**
 * default size of the table region (compile option `tableMemory`). A key costs
 * at most 8 slots, 512 bytes: just after growing, a table's slot array has
 * up to 4 slots per key, and the smaller arrays it outgrew (not reused) as
 * many again. So 16 MiB hold at least 32,000 keys in all.
 */
export const TABLE_BYTES = 16 * 1024 * 1024;
export const HEADER = 16;

export interface TableMemory {
  base: number;
  bytes: number;
  /** first byte after the headers */
  heapStart: number;
  /** end of the region: the module's heap_base */
  end: number;
  /** whether the string runtime is there (string values are copied to its arena when read) */
  strings?: boolean;
}

/** The region for `count` tables placed at or after `after`. */
export function tableMemory(after: number, count: number, bytes = TABLE_BYTES): TableMemory {
  const base = Math.ceil(Math.max(after, 16) / 16) * 16;
  const heapStart = base + HEADER * count;
  const size = Math.max(bytes, HEADER * count + 8 * SLOT);
  return { base, bytes: size, heapStart, end: base + size };
}
