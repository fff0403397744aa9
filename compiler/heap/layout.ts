// Where run-time tables live (no binaryen here: lower and codegen import this).
// The module owns a heap below heap_base, after its string memory and any
// mutable-table region: two semispaces of `semi` bytes each. Tables, their
// slot arrays and the strings stored in them are objects bump-allocated in
// the current semispace; between packets a copying (Cheney) collector moves
// what module state still reaches into the other one (heap/gc.ts). Nothing
// moves during a packet, so a packet's locals may point anywhere in the heap.
//
// An object is an 8-byte header (payload bytes i32, kind i32) and its payload,
// 8-aligned. Values point at the payload: a table is TAG.table with the
// payload address as its i64 payload; a heap string is TAG.str with the usual
// `ptr << 32 | len`.
//   table payload (16 bytes): slots i32 (payload of the slot array, 0 if none),
//     capacity i32 (a power of two), used i32 (slots taken, removed keys
//     included), border hint i32 (the last `#t` found)
//   slot (32 bytes): key tag i32, value tag i32, key payload i64, value
//     payload i64, hash i32, pad. A key whose value was set to nil keeps its
//     slot with value tag 0 (so `next` can go on past it during a traversal)
//     until the table grows.

export const OBJ_HEADER = 8;
export const KIND = { table: 1, slots: 2, str: 3, forwarded: 4 } as const;
export const TABLE_BYTES = 16;
export const SLOT_BYTES = 32;
/**
 * default size of one semispace (compile option `heapMemory`): the most
 * module state may keep and a packet allocate. A table needs 32 bytes a
 * slot and 2 to 4 slots per key, and both its old and new slot arrays while
 * it grows: this holds about 50,000 keys in all. The module reserves twice
 * this below heap_base: 16 MiB, what the tables it replaces reserved, so the
 * host's default 64 MiB memory cap leaves packets as much room as before.
 */
export const SEMI_BYTES = 8 * 1024 * 1024;
/** the heap is collected between packets once it holds this much (or twice what the last collection kept) */
export const MIN_COLLECT_BYTES = 1024 * 1024;

/** h_status after a table operation that found no room in the heap */
export const HEAP_OOM = 1;
/** h_status after table.insert / table.remove at a position out of bounds */
export const HEAP_POS = 2;

export interface HeapMemory {
  base: number;
  semi: number;
  /** strings at or past this address are not constants: storing one copies it into the heap */
  constEnd: number;
  /** end of the heap: the module's heap_base */
  end: number;
}

export function heapMemory(after: number, constEnd: number, semi = SEMI_BYTES): HeapMemory {
  const base = Math.ceil(Math.max(after, 16) / 16) * 16;
  const size = Math.max(8 * 1024, Math.ceil(semi / 16) * 16);
  return { base, semi: size, constEnd, end: base + 2 * size };
}
