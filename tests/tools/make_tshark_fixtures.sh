#!/bin/sh
# Regenerate every tshark-derived expected output under tests/data (needs tshark/capinfos,
# reference version 4.0.17; tests never run tshark themselves).
#
#   F.tshark.txt     = tshark -r F            (default columns, default preferences)
#   F.tshark.stderr  = tshark's stderr for F, only written when non-empty (minus the
#                      'Running as user "root"...' notice); tshark exits 2 in that case
#   fields/<name>.fields.tsv  = tshark -T pdml, flattened by tests/tools/pdml_to_fields.py
#   fields/seed-ftp-active.tcp.tsv = tshark -T fields (tcp.stream/seq/ack/window, ftp-data)
#   formats/MANIFEST.tsv      = via make_format_fixtures.py --manifest (runs capinfos)
#
# Usage: tests/tools/make_tshark_fixtures.sh            (from anywhere)
# To rebuild from scratch: copy_shared_captures.sh; make_format_fixtures.py; this script.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(cd "$HERE/../data" && pwd)
PY=${PYTHON:-/work/venv/bin/python}
[ -x "$PY" ] || PY=python3

# Default preferences regardless of the caller's Wireshark profile; stable locale/time zone.
TMPHOME=$(mktemp -d)
trap 'rm -rf "$TMPHOME"' EXIT
export HOME="$TMPHOME" XDG_CONFIG_HOME="$TMPHOME/.config" LC_ALL=C.UTF-8 TZ=UTC

tshark --version | head -1

# run_tshark DIR FILE : writes FILE.tshark.txt (+ FILE.tshark.stderr); runs inside DIR so that
# messages name the file by its base name only.
run_tshark() {
  ( cd "$1"
    rc=0
    tshark -r "$2" >"$2.tshark.txt" 2>"$2.tshark.stderr.tmp" || rc=$?
    grep -v '^Running as user ' "$2.tshark.stderr.tmp" >"$2.tshark.stderr" || true
    rm -f "$2.tshark.stderr.tmp"
    if [ -s "$2.tshark.stderr" ]; then echo "  $2: rc=$rc (stderr kept)"; else rm -f "$2.tshark.stderr"; fi
  )
}

echo "seed + public captures"
for f in "$DATA"/seed-*.pcap "$DATA"/public/*.pcap "$DATA"/public/*.pcapng; do
  run_tshark "$(dirname "$f")" "$(basename "$f")"
done
for s in seed-ftp-active seed-ftp-passive; do
  cmp -s "$DATA/$s.pcap.tshark.txt" "$DATA/$s.expected.txt" || echo "WARNING: $s.pcap.tshark.txt differs from $s.expected.txt"
done

echo "format variants"
for f in "$DATA"/formats/*; do
  case "$f" in *.tshark.txt|*.tshark.stderr|*/MANIFEST.tsv) continue;; esac
  run_tshark "$DATA/formats" "$(basename "$f")"
done

echo "detail-tree fields"
mkdir -p "$DATA/fields"
pdml() {  # pdml CAPTURE NAME
  tshark -r "$1" -T pdml 2>/dev/null | "$PY" "$HERE/pdml_to_fields.py" >"$DATA/fields/$2.fields.tsv"
  if [ "$(wc -c <"$DATA/fields/$2.fields.tsv")" -gt 1000000 ]; then
    tshark -r "$1" -T pdml 2>/dev/null | "$PY" "$HERE/pdml_to_fields.py" --max-frames 60 >"$DATA/fields/$2.fields.tsv"
    echo "  $2: restricted to frames 1-60"
  fi
}
pdml "$DATA/seed-ftp-active.pcap" seed-ftp-active
pdml "$DATA/public/zeek__ipv6.pcap" zeek__ipv6
pdml "$DATA/public/zeek__wikipedia.pcap" zeek__wikipedia
tshark -r "$DATA/seed-ftp-active.pcap" -T fields -e frame.number -e tcp.stream -e tcp.seq -e tcp.ack \
  -e tcp.window_size -e ftp-data.command -e ftp-data.setup-method -E header=y \
  >"$DATA/fields/seed-ftp-active.tcp.tsv" 2>/dev/null

echo "manifest"
"$PY" "$HERE/make_format_fixtures.py" --manifest
du -sh "$DATA"
