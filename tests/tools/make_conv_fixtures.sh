#!/bin/sh
# tests/data/conv/<capture>.<kind>.txt = tshark -r CAPTURE -q -z conv,<kind> (tshark 4.0.17),
# kinds eth, ip, ipv6, tcp, udp, for the seed and public captures.
set -eu
DATA=$(cd "$(dirname "$0")/../data" && pwd)
export HOME=$(mktemp -d) LC_ALL=C.UTF-8 TZ=UTC
for f in "$DATA"/seed-ftp-*.pcap "$DATA"/public/*.pcap "$DATA"/public/*.pcapng; do
  for kind in eth ip ipv6 tcp udp; do
    tshark -r "$f" -q -z "conv,$kind" 2>/dev/null > "$DATA/conv/$(basename "$f").$kind.txt"
  done
done
rm -rf "$HOME"
