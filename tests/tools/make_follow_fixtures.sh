#!/bin/sh
# tests/data/follow/<capture>.<tcp|udp>.<N>.txt = tshark -r CAPTURE -q -z follow,<proto>,raw,N
# for every TCP and UDP stream of the seed and public captures (tshark 4.0.17; the stream
# numbers come from tests/data/streams/<capture>.tsv, made by make_stream_fixtures.sh).
set -eu
DATA=$(cd "$(dirname "$0")/../data" && pwd)
export HOME=$(mktemp -d) LC_ALL=C.UTF-8 TZ=UTC
for f in "$DATA"/seed-ftp-*.pcap "$DATA"/public/*.pcap "$DATA"/public/*.pcapng; do
  name=$(basename "$f")
  col=1
  for proto in tcp udp; do
    for n in $(cut -f$col "$DATA/streams/$name.tsv" | grep -v '^$' | sort -un); do
      tshark -r "$f" -q -z "follow,$proto,raw,$n" 2>/dev/null > "$DATA/follow/$name.$proto.$n.txt"
    done
    col=2
  done
done
rm -rf "$HOME"
