// The public entry point of the luapf package (`import ... from 'luapf'`).
// Everything a program needs to compile, load and run filters and to read
// and write captures. The compiler (and binaryen) is loaded only by the
// calls that compile: compileFilter, checkFilter, and loadFilter of a
// script with engine 'auto' or 'wasm'. Each name below carries a one-line
// summary; its declaration documents it fully.

export {
  /** Loads a filter from script text or bytes, or from the bytes of a compiled `.wasm`. */
  loadFilter,
  /** Loads a filter from a `.lua` or `.wasm` file. */
  loadFilterFile,
  /** A loaded filter: match, matchBatch, counters, close. */
  PacketFilter,
  /** A filter call that failed for one packet, with the script's file:line:col. */
  FilterRuntimeError,
  /** What match and matchBatch take: bare bytes or a record. */
  type PacketInput,
  /** A packet with its capture context (link type, timestamp). */
  type PacketRecord,
  /** A capture time: seconds (number) or nanoseconds (bigint) since the epoch. */
  type Timestamp,
  /** Counts of packets, accepted, rejected and errors. */
  type FilterCounters,
} from './api/packet-filter.js';

export {
  /** Compiles a script to a WebAssembly module, or says why it needs the Lua engine. */
  compileFilter,
  /** Decides a script's engine without compiling it. */
  checkFilter,
  /** The result of compileFilter. */
  type CompiledFilter,
  /** A line:column and message saying why a script is not compiled. */
  type CompileReason,
  /** The result of checkFilter. */
  type FilterCheck,
} from './api/compile.js';

export {
  /** Opens a pcap/pcapng capture as an async iterable of records. */
  readCapture,
  /** Writes records to a pcap/pcapng capture. */
  writeCapture,
  /** What readCapture reads: path, URL, bytes or stream. */
  type CaptureSource,
  /** Options of writeCapture (the same as createCaptureWriter's). */
  type WriteCaptureOptions,
} from './capture/api.js';

export {
  /** A capture being read (what readCapture returns): iterate it, or call header() or batches(). */
  CaptureReader,
  /** A malformed or unreadable capture, with the file and byte offset. */
  CaptureError,
  /** A capture's header: format, byte order, link type(s), snaplen, version. */
  type CaptureInfo,
  /** One packet of a capture: link type, timestamp, original length, bytes, file offset. */
  type CaptureRecord,
} from './capture/read.js';

export {
  /** A streaming capture writer, for records produced over time. */
  createCaptureWriter,
  /** A streaming capture writer: write(), ready(), close(). */
  type CaptureWriter,
  /** Options of createCaptureWriter and writeCapture: linkType, format, snaplen, timestamp resolution, name. */
  type CaptureWriterOptions,
  /** Where a capture is written: path, '-', file: URL or writable stream. */
  type CaptureDestination,
  /** 'pcap' or 'pcapng'. */
  type CaptureFormat,
  /** The fields of a record that a writer uses. */
  type WritableRecord,
} from './capture/write.js';

export {
  /** A bad option value (a RangeError) naming the option. */
  OptionsError,
  /** Options of loadFilter and loadFilterFile: engine, fuel, memoryBytes, onError, layer, linkType, name. */
  type FilterOptions,
  /** Options of compileFilter: name, engine, fuel, optimize, wat. */
  type CompileFilterOptions,
} from './api/options.js';

export {
  /** A script that cannot start: syntax error or failing main chunk, with file:line:col. */
  ScriptError,
  /** 'syntax' or 'load'. */
  type ScriptErrorKind,
} from './errors.js';

export {
  /** The requested engine cannot run the script (e.g. engine 'wasm' outside the subset). */
  EngineUnavailableError,
  /** 'auto', 'wasm' or 'lua'. */
  type EngineChoice,
} from './engine/load.js';

export {
  /** Not WebAssembly, not a luapf filter module, or one of another ABI version; names the file. */
  ModuleFormatError,
  /** The compiled script's main chunk failed while the module was instantiated. */
  ModuleInitError,
  /** A compiled module's self-description (its `luapf` custom section). */
  type ModuleInfo,
} from './engine/wasm.js';

export {
  /** The ABI version this runtime speaks (docs/ABI.md). */
  ABI_VERSION,
} from '../compiler/abi.js';

export {
  /** A link type that layer 3 cannot strip. */
  LinkTypeError,
  /** LINKTYPE_* numbers of the link types luapf knows. */
  LINKTYPE,
  /** The name of a LINKTYPE_* number. */
  linkTypeName,
  /** The bytes a filter sees as `pkt` for a capture record. */
  networkPacket,
  /** 3: pkt is the network-layer packet; 2: the whole frame. */
  type Layer,
} from './capture/link.js';

export type {
  /** 'wasm' (compiled) or 'lua' (interpreted). */
  EngineName,
} from './engine/filter.js';

export type {
  /** The verdict of a failed filter call: 'drop' or 'pass'. */
  OnError,
} from './run/verdicts.js';
