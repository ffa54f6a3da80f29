#!/usr/bin/env python3
"""Collect MAC names shown by tshark for the shared public captures.

Usage: python tests/tools/make_macnames_public.py [CAPDIR [OUT]]

CAPDIR defaults to /work/shared/captures/public, OUT to
tests/data/macnames/public.tsv.  For every capture F with a F.tshark.txt
beside it (the default `tshark -r F` packet list), tshark is run once to get
eth.src/eth.dst per frame.  Two kinds of rows are written:

  col   <capture> <frame> <address> <text>  -- the Source/Destination column
        of F.tshark.txt shows a MAC name (column text == eth.*_resolved);
        <text> is taken from F.tshark.txt, i.e. tshark's default output.
  addr  <capture> -  <address> <name>       -- every distinct Ethernet
        address of the capture with its eth.src_resolved/eth.dst_resolved.

tshark is needed only to regenerate this file, not by the tests.
"""
import ipaddress
import os
import subprocess
import sys


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv):
    capdir = argv[1] if len(argv) > 1 else '/work/shared/captures/public'
    out = argv[2] if len(argv) > 2 else os.path.join(ROOT, 'tests', 'data', 'macnames', 'public.tsv')
    rows = []
    for dirpath, _, files in sorted(os.walk(capdir)):
        for fn in sorted(files):
            if not fn.endswith('.tshark.txt'):
                continue
            cap = os.path.join(dirpath, fn[:-len('.tshark.txt')])
            if not os.path.exists(cap):
                continue
            rel = os.path.relpath(cap, capdir)
            fields = subprocess.run(
                ['tshark', '-r', cap, '-T', 'fields', '-e', 'frame.number',
                 '-e', 'eth.src', '-e', 'eth.src_resolved', '-e', 'eth.dst', '-e', 'eth.dst_resolved',
                 '-e', 'sll.src.eth'],
                capture_output=True, text=True, check=True).stdout
            frames = {}
            seen = {}
            sll = {}
            for line in fields.splitlines():
                f = line.split('\t')
                if len(f) > 5 and f[5] and not f[1]:
                    sll[f[0]] = f[5].split(',')[0]
                if len(f) < 5 or not f[1]:
                    continue
                # with several Ethernet layers, take the outermost
                f = [x.split(',')[0] for x in f]
                frames[f[0]] = f
                seen.setdefault(f[1], f[2])
                seen.setdefault(f[3], f[4])
            with open(os.path.join(dirpath, fn), encoding='utf-8') as fh:
                for line in fh:
                    t = line.split()
                    if len(t) < 4 or t[3] != '\u2192':
                        continue
                    if t[0] in sll:
                        # Linux cooked capture: only a source address; the
                        # column shows a MAC name when it is not an IP address
                        if not _is_ip(t[2]):
                            rows.append(('col', rel, t[0], sll[t[0]], t[2]))
                        continue
                    if len(t) < 5 or t[0] not in frames:
                        continue
                    f = frames[t[0]]
                    if t[2] == f[2]:
                        rows.append(('col', rel, t[0], f[1], t[2]))
                    if t[4] == f[4]:
                        rows.append(('col', rel, t[0], f[3], t[4]))
            for a in sorted(seen):
                rows.append(('addr', rel, '-', a, seen[a]))
    with open(out, 'w', encoding='utf-8') as fh:
        fh.write('# kind\tcapture (under /work/shared/captures/public)\tframe\taddress\ttshark 4.0.17 text\n')
        for r in rows:
            fh.write('\t'.join(r) + '\n')
    print('%d rows (%d col) -> %s' % (len(rows), sum(r[0] == 'col' for r in rows), out))


if __name__ == '__main__':
    main(sys.argv)
