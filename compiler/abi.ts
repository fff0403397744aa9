// The compiled-module ABI (docs/ABI.md) as numbers, read by both halves:
// the compiler writes modules that keep them and the runtime drives modules
// by them, so each is written here once. A leaf that imports nothing: the
// runtime reads it without loading the compiler or binaryen.

/** The ABI version a module states in its custom section and a runtime checks (docs/ABI.md, title and "Custom section"). */
export const ABI_VERSION = 1;

/** Name of the custom section holding the module's self-description (docs/ABI.md, "Custom section `luapf`"). */
export const SECTION_NAME = 'luapf';

/** Bytes of a Wasm memory page, the unit of `memory.minPages` (docs/ABI.md, "Imports"). */
export const PAGE_BYTES = 65536;

/** The maximum, in pages, that the module's memory import declares (docs/ABI.md, "Imports"). */
export const MAX_PAGES = 65536;

/** Bytes of one packet descriptor: u32 offset, u32 length, i64 timestamp (docs/ABI.md, "Exports", descriptor). */
export const DESCRIPTOR_BYTES = 16;

/** Byte offset of the packet's address within a descriptor (docs/ABI.md, "Exports", descriptor). */
export const DESCRIPTOR_OFFSET = 0;

/** Byte offset of the packet's length within a descriptor (docs/ABI.md, "Exports", descriptor). */
export const DESCRIPTOR_LENGTH = 4;

/** Byte offset of the i64 capture time (ns since the epoch) within a descriptor (docs/ABI.md, "Exports", descriptor). */
export const DESCRIPTOR_TIME = 8;

/** Bytes of one verdict word, u32 little-endian (docs/ABI.md, "Exports", verdict). */
export const VERDICT_BYTES = 4;

/** Verdict word of a rejected packet (docs/ABI.md, "Exports", verdict). */
export const VERDICT_REJECT = 0;

/** Verdict word of an accepted packet (docs/ABI.md, "Exports", verdict). */
export const VERDICT_ACCEPT = 1;

/** First error word: `VERDICT_ERROR + site` is the runtime error `errors[site]` (docs/ABI.md, "Exports", verdict; "Errors"). */
export const VERDICT_ERROR = 2;

/** The verdict word a host writes for the packet whose call trapped (docs/ABI.md, "Traps"). */
export const VERDICT_TRAPPED = 0xffffffff;

/** Hosts round `heap_base` up to this so descriptors and verdict words stay aligned (docs/ABI.md, "Exports", heap_base). */
export const HOST_ALIGN = 16;

/** A nil data view or string in a module: all ones, i64 (docs/ABI.md, "Representation notes"). */
export const NIL_VIEW = -1n;

/** Largest `options.prefetch`, packets ahead (docs/ABI.md, "Custom section"; the compiler and the library's options check it). */
export const MAX_PREFETCH = 65535;

/**
 * Largest `fuel` (steps per call of filter): `fuel_limit` is an i32 global (docs/ABI.md,
 * "Exports"); 2^31 steps are already seconds of one packet. The compiler and the library's
 * options check it.
 */
export const MAX_FUEL = 0x7fffffff;

/**
 * Most calls of the script's own functions in progress at once (docs/SEMANTICS.md, "Call
 * depth"); one more is the runtime error CALL_DEPTH_MESSAGE, on both engines (the compiler
 * counts in the module, runtime/engine/call-depth.ts in the interpreter). Below Lua's C-stack
 * limit of 200 (LUAI_MAXCCALLS), which recursion through pcall meets in the interpreter one
 * level per call (the runtime holds 2 or 3 of them itself).
 */
export const MAX_CALL_DEPTH = 150;

/** The error of a call past MAX_CALL_DEPTH (docs/ABI.md, "Traps"). */
export const CALL_DEPTH_MESSAGE = `stack overflow (more than ${MAX_CALL_DEPTH} nested calls)`;
