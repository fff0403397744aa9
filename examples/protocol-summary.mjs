#!/usr/bin/env node
// protocol-summary.mjs: the library in use. Filters a capture with a Lua
// filter and prints, for the accepted packets, how many there were per
// network protocol (IPv4/IPv6 and the transport protocol number).
//
//   node examples/protocol-summary.mjs [FILTER.lua|.wasm] [CAPTURE]
//   (defaults: examples/tcp-port.lua ../shared/corpus/pcap/v4.pcap)
//
// It uses the package's public API only (`import ... from 'luapf'`), as an
// application that installed luapf would; run `npm run build` first.
import { loadFilterFile, networkPacket, readCapture } from 'luapf';

const NAMES = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 58: 'ICMPv6', 132: 'SCTP' };

/** "IPv4/TCP" for a network-layer packet, from its version and protocol fields. */
function protocolOf(pkt) {
  const version = pkt.length > 0 ? pkt[0] >> 4 : 0;
  if (version === 4 && pkt.length >= 20) return `IPv4/${NAMES[pkt[9]] ?? `proto ${pkt[9]}`}`;
  if (version === 6 && pkt.length >= 40) return `IPv6/${NAMES[pkt[6]] ?? `next header ${pkt[6]}`}`;
  return 'other';
}

const [filterPath = 'examples/tcp-port.lua', capturePath = '../shared/corpus/pcap/v4.pcap'] = process.argv.slice(2);
const filter = await loadFilterFile(filterPath);
const summary = new Map();
try {
  for await (const batch of readCapture(capturePath).batches()) {
    const verdicts = filter.matchBatch(batch);
    batch.forEach((record, i) => {
      if (!verdicts[i]) return;
      const key = protocolOf(networkPacket(record)); // what the filter saw as pkt
      summary.set(key, (summary.get(key) ?? 0) + 1);
    });
  }
} finally {
  filter.close();
}

const { packets, accepted, rejected, errors } = filter.counters;
console.log(`${filterPath} on ${capturePath} (engine ${filter.engine}): ${packets} packets, ${accepted} accepted, ${rejected} rejected, ${errors} errors`);
for (const [protocol, count] of [...summary].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
  console.log(`  ${protocol.padEnd(16)} ${String(count).padStart(6)}`);
}
