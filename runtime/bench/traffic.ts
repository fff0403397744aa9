// Deterministic synthetic traffic: the bench's built-in default capture, so
// that `luapf bench FILTER` works on a fresh clone with no capture at hand.
// A mix of IPv4/IPv6 TCP, UDP and ICMP whose payloads exercise the example
// filters: SSH banners (some OpenSSH_6.4), HTTP requests, DNS queries, RTP.
import type { CaptureRecord } from '../capture/read.js';
import { LINKTYPE } from '../capture/link.js';

/** xorshift32: the same bytes on every run and platform. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const SSH_BANNERS = [
  'SSH-2.0-OpenSSH_6.4 \r\n', 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3\r\n', 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n',
  'SSH-2.0-dropbear_2022.83\r\n', 'SSH-1.99-Cisco-1.25\r\n',
];
const HOSTS = ['example.com', 'www.tcpdump.org', 'ads.example.net', 'wireshark.org', 'netbsd.org'];

function dnsQuery(name: string, id: number): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...ascii(l)]);
  return Uint8Array.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

function rtp(seq: number, marker: boolean, payloadType: number, size: number): Uint8Array {
  const p = new Uint8Array(12 + size);
  p[0] = 0x80;
  p[1] = (marker ? 0x80 : 0) | payloadType;
  p[2] = seq >> 8; p[3] = seq & 0xff;
  return p;
}

function transport(proto: 'tcp' | 'udp', sport: number, dport: number, payload: Uint8Array, flags = 0x18): Uint8Array {
  const header = proto === 'tcp' ? 20 : 8;
  const seg = new Uint8Array(header + payload.length);
  seg[0] = sport >> 8; seg[1] = sport & 0xff; seg[2] = dport >> 8; seg[3] = dport & 0xff;
  if (proto === 'tcp') {
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg[14] = 0xff; seg[15] = 0xff;
  } else {
    seg[4] = seg.length >> 8; seg[5] = seg.length & 0xff;
  }
  seg.set(payload, header);
  return seg;
}

function ipv4(protocol: number, src: number, dst: number, body: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + body.length);
  p[0] = 0x45; p[2] = p.length >> 8; p[3] = p.length & 0xff; p[8] = 64; p[9] = protocol;
  new DataView(p.buffer).setUint32(12, src);
  new DataView(p.buffer).setUint32(16, dst);
  p.set(body, 20);
  return p;
}

function ipv6(nextHeader: number, src: number, dst: number, body: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + body.length);
  p[0] = 0x60; p[4] = body.length >> 8; p[5] = body.length & 0xff; p[6] = nextHeader; p[7] = 64;
  p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8;
  new DataView(p.buffer).setUint32(20, src);
  p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8;
  new DataView(p.buffer).setUint32(36, dst);
  p.set(body, 40);
  return p;
}

/** `count` packets of mixed traffic as raw-IP capture records, 1 ms apart. */
export function syntheticTraffic(count = 20_000, seed = 0x5eed): CaptureRecord[] {
  const rand = prng(seed);
  const records: CaptureRecord[] = [];
  const startSec = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    const r = rand();
    const kind = r % 100;
    const src = 0x0a000000 | (rand() & 0xffff);
    const dst = 0xc0a80000 | (rand() & 0xff);
    const sport = 1024 + (rand() % 60000);
    let body: Uint8Array;
    let proto: number;
    if (kind < 10) {
      proto = 6; body = transport('tcp', sport, 22, ascii(SSH_BANNERS[rand() % SSH_BANNERS.length]));
    } else if (kind < 35) {
      const host = HOSTS[rand() % HOSTS.length];
      proto = 6; body = transport('tcp', sport, 80, ascii(`GET /index.html HTTP/1.1\r\nHost: ${host}\r\nAccept: */*\r\n\r\n`));
    } else if (kind < 55) {
      proto = 6; body = transport('tcp', 443, sport, Uint8Array.from({ length: 200 + (rand() % 1200) }, () => rand() & 0xff));
    } else if (kind < 65) {
      proto = 17; body = transport('udp', sport, 53, dnsQuery(HOSTS[rand() % HOSTS.length], rand() & 0xffff));
    } else if (kind < 85) {
      proto = 17; body = transport('udp', sport, 5002, rtp(i & 0xffff, rand() % 8 === 0, rand() % 4 === 0 ? 0 : 96, 160));
    } else if (kind < 95) {
      proto = 6; body = transport('tcp', sport, 5555, new Uint8Array(0), rand() % 3 === 0 ? 0x02 : 0x10);
    } else {
      proto = 1; body = Uint8Array.from([rand() % 2 ? 8 : 0, 0, 0, 0, 0, 1, 0, i & 0xff, ...new Uint8Array(56)]);
    }
    const v6 = proto !== 1 && rand() % 5 === 0;
    const data = v6 ? ipv6(proto, src, dst, body) : ipv4(proto, src, dst, body);
    records.push({
      linkType: LINKTYPE.RAW, tsSec: startSec + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000,
      origLen: data.length, data, offset: 0,
    });
  }
  return records;
}
