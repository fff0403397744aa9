// Expected verdict counts of examples/lunatik/ over corpus captures,
// obtained WITHOUT luapf: tshark 4.0.17 display filters matching the
// packets each script rejects, counted with
//   tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
//          -o tcp.desegment_tcp_streams:FALSE -r CAPTURE -Y 'EXPR' 2>/dev/null | wc -l
// accepted = packets - rejected. test/lunatik-examples.test.ts re-runs
// tshark on every row when it is installed.

import type { LunatikOptions } from '../../runtime/lunatik/detect.js';

export interface LunatikRow {
  capture: string;
  packets: number;
  rejected: number;
}

export interface LunatikExpectation {
  /** path under examples/lunatik/ without .lua */
  example: string;
  /** Lunatik options the run needs (luapf run flags: --xt-args for xt-ssh-version) */
  options?: LunatikOptions;
  /** the display filter matching the packets the script rejects */
  rejectExpr: string;
  rows: LunatikRow[];
}

export const LUNATIK_EXPECTED: LunatikExpectation[] = [
  {
    example: 'dns-block',
    // queries (not responses) to port 53 whose name is a blocked domain or under one;
    // `!icmp`: tshark also decodes DNS quoted in ICMP errors, which the hook does not
    rejectExpr: 'udp.dstport == 53 && dns.flags.response == 0 && !icmp && !icmpv6 && ' +
      'dns.qry.name matches "(?i)(^|\\\\.)(google\\\\.com|gstatic\\\\.com|facebook\\\\.net)$"',
    rows: [
      { capture: 'DnsPackets.pcap', packets: 464, rejected: 36 },
      { capture: 'many-protocols.pcap', packets: 4709, rejected: 11 },
      { capture: 'dns_udp.pcap', packets: 2, rejected: 0 },
    ],
  },
  {
    example: 'udp-port-marks',
    // mark 0x1 (destination port < 1024) drops ports 53 and 123, mark 0x2 drops 5353 and 1900; IPv4 only
    rejectExpr: '!ipv6 && !icmp && ((udp.port in {53, 123} && udp.dstport < 1024) || (udp.port in {5353, 1900} && udp.dstport >= 1024))',
    rows: [
      { capture: 'DnsPackets.pcap', packets: 464, rejected: 231 },
      { capture: 'many-protocols.pcap', packets: 4709, rejected: 128 },
      { capture: 'sll.pcap', packets: 518, rejected: 11 },
      { capture: 'v4.pcap', packets: 43, rejected: 1 },
    ],
  },
  {
    example: 'tls-sni-xdp',
    rejectExpr: 'tls.handshake.type == 1 && (tls.handshake.extensions_server_name == "www.google.com" || ' +
      'tls.handshake.extensions_server_name == "ssl.gstatic.com")',
    rows: [
      { capture: 'many-protocols.pcap', packets: 4709, rejected: 2 },
      { capture: 'tls.pcap', packets: 44, rejected: 1 },
      { capture: 'tls1_3.pcap', packets: 4, rejected: 1 },
      { capture: 'SSL-ClientHello1.pcap', packets: 1, rejected: 1 },
      { capture: 'whatsapp.pcap', packets: 233, rejected: 0 },
    ],
  },
  {
    example: 'tcp-reset',
    // connection attempts (SYN without ACK or RST) to the closed ports, IPv4 and IPv6
    rejectExpr: '!icmp && !icmpv6 && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.reset == 0 && tcp.dstport in {22, 443}',
    rows: [
      { capture: 'tls.pcap', packets: 44, rejected: 2 },
      { capture: 'v6.pcap', packets: 161, rejected: 1 },
      { capture: 'many-protocols.pcap', packets: 4709, rejected: 20 },
      { capture: 'ssh.pcap', packets: 54, rejected: 1 },
    ],
  },
  {
    example: 'xt-ssh-version',
    options: { xtArgs: 'OpenSSH_7.4p1' },
    // SSH identification lines naming that software version (the rule drops them)
    rejectExpr: 'ssh.protocol matches "^SSH-[^-]+-OpenSSH_7\\\\.4p1( |$)"',
    rows: [
      { capture: 'ssh.pcap', packets: 54, rejected: 1 },
      { capture: 'ssh.cap', packets: 90, rejected: 0 },
      { capture: 'v6.pcap', packets: 161, rejected: 0 },
    ],
  },
  {
    example: 'dns-rewrite',
    // accepts everything (what it rewrites: test/lunatik-outputs.test.ts)
    rejectExpr: 'frame.number == 0',
    rows: [
      { capture: 'DnsPackets.pcap', packets: 464, rejected: 0 },
      { capture: 'many-protocols.pcap', packets: 4709, rejected: 0 },
    ],
  },
];
