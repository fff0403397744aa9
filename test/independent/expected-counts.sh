#!/bin/sh
# Reproduces test/support/examples-expected.ts: for one example and some captures,
# prints the independent Lua 5.4 harness counts next to tshark's count for
# the example's display filter (see EXPRESSIONS below).
#
# usage: test/independent/expected-counts.sh EXAMPLE CAPTURE...
#   (run from the repository root; captures are names in ../shared/corpus/pcap)
# output: EXAMPLE CAPTURE packets accepted errors tshark=N
#   where N counts the packets the example should ACCEPT, except for
#   ssh-version and dns-blocklist, whose expressions are already negated.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus="$root/../shared/corpus/pcap"
example=$1; shift

# Wireshark re-assembles fragments and TCP streams by default, which moves
# fields to the last fragment/segment; luapf sees single packets.
T="tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o tcp.desegment_tcp_streams:FALSE -o rtp.heuristic_rtp:TRUE"
BLOCKED='(?i)(^|\\.)(example\\.com|tcpdump\\.org|google-analytics\\.com|googlesyndication\\.com|ynet\\.co\\.il|cybercity\\.dk|whatsapp\\.net)$'
case $example in
  tcp-port) expr='tcp.port in {22, 80} && !icmp && !icmpv6' ;;
  icmp-echo) expr='(ip.proto == 1 && ip.frag_offset == 0 && icmp.type in {0, 8} && !icmp.type in {3, 4, 5, 11, 12}) || (ipv6.nxt == 58 && icmpv6.type in {128, 129} && !icmpv6.type in {1, 2, 3, 4})' ;;
  ssh-banner) expr='ssh.protocol && !icmp && !icmpv6' ;;
  ssh-version) expr='!(frame matches "SSH-[!-,.-~]+-OpenSSH_6\\.4 ")' ;;
  rtp-payload-type) expr='rtp.version == 2 && rtp.marker == 1 && rtp.p_type >= 96 && !icmp && !icmpv6' ;;
  dns-blocklist) expr="!(udp.dstport == 53 && dns.flags.response == 0 && dns.qry.name matches \"$BLOCKED\" && !icmp && !icmpv6)" ;;
  http-request) expr='tcp && http.request.method in {"GET","HEAD","POST","PUT","DELETE","OPTIONS","PATCH","CONNECT","TRACE"} && http.host matches "(?i)(^|\\.)(bbc\\.co\\.uk|bbci\\.co\\.uk|ynet\\.co\\.il|microsoft\\.com|googlesyndication\\.com)(:[0-9]+)?$" && !icmp && !icmpv6' ;;
  tls-sni-blocklist) expr='!(tcp && tls.handshake.type == 1 && tls.handshake.extensions_server_name matches "(?i)(^|\\.)(google\\.com|gstatic\\.com|facebook\\.com|apple\\.com)$" && !icmp && !icmpv6)' ;;
  *) echo "unknown example $example" >&2; exit 2 ;;
esac

for f in "$@"; do
  h=$(lua5.4 "$here/harness.lua" "$root/examples/$example.lua" "$corpus/$f" | cut -f2,3,5 | tr '\t' ' ')
  t=$($T -r "$corpus/$f" -Y "$expr" 2>/dev/null | wc -l)
  echo "$example $f $h tshark=$t"
done
