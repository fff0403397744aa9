#!/usr/bin/env python3
"""Expected verdicts of the stateful examples, re-derived from tshark's dissection.

It shares no code with luapf nor with harness.lua: tshark decodes the
packets, and this script re-implements each example's rule (budget, token
bucket, knock sequence) over tshark's fields; the signature set becomes one
display filter. It prints, per capture, "name packets accepted" and, with
--list, the 1-based numbers of the accepted packets (as harness.lua --list).

usage: test/independent/stateful-tshark.py [--list] EXAMPLE CAPTURE...
  EXAMPLE: source-budget | rate-limit | port-knock | ids-signatures
The constants below must follow the examples' (they are the specification).
"""
import subprocess
import sys

TSHARK = ['tshark', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
          '-o', 'tcp.desegment_tcp_streams:FALSE']

BUDGET = 20                       # source-budget.lua
RATE, BURST = 10, 5               # rate-limit.lua: tokens/s, bucket size
KNOCKS, SSH_PORT = [7000, 8000, 9000], 22   # port-knock.lua

SIGNATURES = ['/etc/passwd', 'cmd.exe', '/bin/sh -c', '<script>alert(', '() { :; };', '${jndi:',
              'SSH-2.0-Cisco-1.25', 'SSH-1.5-1.2.26', 'OpenSSH_5.3', 'User-Agent: Wget/', 'Konqueror/3.5',
              b'\x07tcpdump\x03org\x00', 'ssl.gstatic.com', 'M-SEARCH * HTTP/1.1']
# the Lua patterns of ids-signatures.lua, rewritten as case-sensitive PCRE
REGEXES = [r'SSH-1\.[0-9]+-', r'User-Agent: [^\r\n]*Gecko/2004[0-9]{4}',
           r'^GET [^ ]*\.exe HTTP/1\.[01]\r\n', r'union[\t\n\v\f\r ]+select[\t\n\v\f\r ]']


def dfilter_string(s):
    """A display-filter string literal for text or bytes ('$' escaped: tshark expands ${macro} even in strings)."""
    b = s if isinstance(s, bytes) else s.encode('latin1')
    out = ''
    for c in b:
        ch = chr(c)
        out += '\\\\' if ch == '\\' else '\\"' if ch == '"' else ch if 32 <= c < 127 and ch != '$' else '\\x%02x' % c
    return '"' + out + '"'


def ids_expression():
    terms = []
    for field in ('tcp.payload', 'udp.payload'):
        terms += [f'{field} contains {dfilter_string(s)}' for s in SIGNATURES]
        terms += [f'{field} matches {dfilter_string("(?-i)" + r)}' for r in REGEXES]
    # the filter reads the outer transport header only (not one quoted in an ICMP error)
    return '!(!icmp && !icmpv6 && (' + ' || '.join(terms) + '))'


FIELDS = ['frame.time_epoch', 'frame.protocols', 'ip.src', 'ipv6.src', 'ip.proto', 'ipv6.nxt',
          'ip.frag_offset', 'tcp.dstport', 'udp.dstport']


def rows(capture):
    args = TSHARK + ['-r', capture, '-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=\t']
    for f in FIELDS:
        args += ['-e', f]
    out = subprocess.run(args, capture_output=True, check=True, encoding='latin1').stdout
    for line in out.split('\n')[:-1]:
        yield dict(zip(FIELDS, line.split('\t')))


def time_ns(epoch):
    sec, _, frac = epoch.partition('.')
    return int(sec) * 10**9 + int((frac + '000000000')[:9])


def source(r):
    return r['ip.src'] or r['ipv6.src'] or None


def source_budget(capture):
    count = {}
    for r in rows(capture):
        s = source(r)
        if s is None:
            yield True
            continue
        count[s] = count.get(s, 0) + 1
        yield count[s] <= BUDGET


def rate_limit(capture):
    token, full = 10**9, BURST * 10**9
    level, last = {}, {}
    for r in rows(capture):
        s, t = source(r), time_ns(r['frame.time_epoch'])
        if s is None:
            yield True
            continue
        lv = full if s not in level else min(full, level[s] + max(0, t - last[s]) * RATE)
        last[s] = max(t, last.get(s, t))
        ok = lv >= token
        level[s] = lv - token if ok else lv
        yield ok


def port_knock(capture):
    progress, opened = {}, set()
    for r in rows(capture):
        protos = r['frame.protocols'].split(':')
        s = source(r)
        proto = r['ip.proto'] if r['ip.src'] else r['ipv6.nxt']
        if s is None or 'icmp' in protos or 'icmpv6' in protos or r['ip.frag_offset'] not in ('', '0') \
                or proto not in ('6', '17'):
            yield True
            continue
        port = r['tcp.dstport'] if proto == '6' else r['udp.dstport']
        if port == '':
            yield True
            continue
        port = int(port)
        if proto == '6' and port == SSH_PORT:
            yield s in opened
            continue
        if port not in KNOCKS:
            yield True
            continue
        step, done = KNOCKS.index(port) + 1, progress.get(s, 0)
        if step == done + 1:
            if step == len(KNOCKS):
                opened.add(s)
                progress.pop(s, None)
            else:
                progress[s] = step
        elif step != done:
            progress.pop(s, None)
        yield False


def ids_signatures(capture):
    # verdicts by frame number: accepted frames are those the negated expression shows
    n = sum(1 for _ in rows(capture))
    out = subprocess.run(TSHARK + ['-r', capture, '-Y', ids_expression(), '-T', 'fields', '-e', 'frame.number'],
                         capture_output=True, check=True, encoding='latin1').stdout
    accepted = {int(x) for x in out.split()}
    return (i + 1 in accepted for i in range(n))


EXAMPLES = {'source-budget': source_budget, 'rate-limit': rate_limit, 'port-knock': port_knock,
            'ids-signatures': ids_signatures}


def main(argv):
    listing = '--list' in argv
    argv = [a for a in argv if a != '--list']
    if len(argv) < 2 or argv[0] not in EXAMPLES:
        sys.stderr.write(__doc__)
        return 2
    for capture in argv[1:]:
        verdicts = list(EXAMPLES[argv[0]](capture))
        print('%s\t%d\t%d' % (capture.rsplit('/', 1)[-1], len(verdicts), sum(verdicts)))
        if listing:
            print('accepted: ' + ' '.join(str(i + 1) for i, v in enumerate(verdicts) if v))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
