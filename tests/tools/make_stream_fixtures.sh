#!/bin/sh
# tests/data/streams/<capture>.tsv = tshark -r CAPTURE -T fields -e tcp.stream -e udp.stream
# (tshark 4.0.17; one line per frame, empty where the packet has no such stream).
set -eu
DATA=$(cd "$(dirname "$0")/../data" && pwd)
export HOME=$(mktemp -d) LC_ALL=C.UTF-8 TZ=UTC
for f in "$DATA"/seed-ftp-*.pcap "$DATA"/public/*.pcap "$DATA"/public/*.pcapng; do
  tshark -r "$f" -T fields -e tcp.stream -e udp.stream 2>/dev/null > "$DATA/streams/$(basename "$f").tsv"
done
rm -rf "$HOME"
