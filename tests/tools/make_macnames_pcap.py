#!/usr/bin/env python3
"""Build the MAC-name fixture pcap and record what tshark says about it.

Usage: python tests/tools/make_macnames_pcap.py [--random N] [--seed S] [OUTDIR]

Writes OUTDIR/macs.pcap (default tests/data/macnames/) with Ethernet frames
whose source/destination addresses cover broadcast, well-known multicast
(STP, CDP, LLDP, IPv4/IPv6 multicast, ...), every kind of wka entry, real
24-bit OUIs, MA-M (/28) and MA-S (/36) blocks, group-bit variants of
OUIs, locally administered and unknown addresses, and then runs

    tshark -r macs.pcap -T fields -e eth.src -e eth.src_resolved \
           -e eth.dst -e eth.dst_resolved

saving the output as OUTDIR/macs.tshark.tsv.  tshark is needed only here,
not by the tests.  --random N adds N extra random addresses (for wider
ad-hoc checks outside the committed fixture).
"""
import argparse
import os
import random
import re
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANUF = '/usr/share/wireshark/manuf'
WKA = '/usr/share/wireshark/wka'


def mac(s):
    return bytes(int(x, 16) for x in re.split('[:.-]', s))


def entries(path):
    """(address bytes (padded), mask or None, name) from a manuf/wka file."""
    out = []
    for line in open(path, encoding='utf-8', errors='replace'):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        toks = line.split()
        if len(toks) < 2:
            continue
        a, _, m = toks[0].partition('/')
        b = mac(a)
        out.append((b + bytes(6 - len(b)), int(m) if m else None, len(b), toks[1]))
    return out


def addresses(rng, extra_random):
    seen = []
    add = lambda b: seen.append(bytes(b))
    rb = lambda n: bytes(rng.randrange(256) for _ in range(n))

    fixed = [
        'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:fe',
        '01:80:c2:00:00:00', '01:80:c2:00:00:01', '01:80:c2:00:00:02',
        '01:80:c2:00:00:03', '01:80:c2:00:00:0e', '01:80:c2:00:00:0f',
        '01:80:c2:00:00:10', '01:80:c2:00:00:21', '01:80:c2:00:00:30',
        '01:80:c2:00:00:35', '01:80:c2:00:00:38', '01:80:c2:00:00:3f',
        '01:80:c2:00:00:40', '01:80:c2:00:01:00', '01:80:c2:12:34:56',
        '01:00:0c:cc:cc:cc', '01:00:0c:cc:cc:cd', '01:00:0c:cd:cd:cd',
        '01:00:0c:00:00:00', '01:00:0c:00:00:42', '01:00:0c:12:34:56',
        '01:00:5e:00:00:01', '01:00:5e:00:00:02', '01:00:5e:00:00:05',
        '01:00:5e:00:00:16', '01:00:5e:00:00:fb', '01:00:5e:00:00:fc',
        '01:00:5e:00:01:00', '01:00:5e:00:01:01', '01:00:5e:7f:ff:fa',
        '01:00:5e:01:02:03', '01:00:5e:80:00:01', '01:00:5e:ff:ff:ff',
        '33:33:00:00:00:01', '33:33:00:00:00:02', '33:33:00:00:00:16',
        '33:33:00:00:00:fb', '33:33:00:01:00:02', '33:33:00:01:00:03',
        '33:33:ff:12:34:56', '33:33:ff:00:00:01', '33:33:80:00:00:00',
        '00:00:0c:07:ac:01', '00:00:0c:07:ac:ff', '00:00:0c:07:ad:01',
        '00:00:5e:00:01:01', '00:00:5e:00:01:0a', '00:00:5e:00:02:01',
        '00:00:5e:00:53:01', '00:50:56:c0:00:08', '00:0c:29:ab:cd:ef',
        '00:1b:21:0a:0b:0c', '01:1b:21:0a:0b:0c', '03:00:00:00:00:01',
        '09:00:2b:00:00:0f', '09:00:07:ff:ff:ff', 'ab:00:00:01:00:00',
        '02:00:00:00:00:01', '02:00:4c:4f:4f:50', '02:42:ac:11:00:02',
        '8e:36:06:44:ac:af', 'fe:ff:ff:ff:ff:ff', 'de:ad:be:ef:00:01',
        '00:00:00:00:fe:21', '00:00:00:00:00:01', '00:00:01:00:00:00',
        '00:bf:01:02:03:04', '02:bf:01:02:03:04', '02:01:0a:00:00:01',
        '02:04:96:11:22:33', '01:10:18:01:02:03', '01:20:25:00:00:01',
        '01:20:25:7f:00:01', '01:20:25:80:00:01', '01:00:81:00:01:00',
        'cf:00:00:00:00:00', '01:e0:52:cc:cc:cc', '01:00:3c:01:02:03',
        '00:e0:2b:00:00:00', '00:e0:2b:00:00:03', '01:0f:ff:c1:01:c0',
    ]
    for s in fixed:
        add(mac(s))

    # Every wka entry: the entry itself, the top of its range and a random
    # address inside it (and, for exact entries, a neighbour).
    for base, mask, nbytes, _ in entries(WKA):
        add(base)
        if mask is None and nbytes == 3:
            mask = 24
        if mask is None:
            n = bytearray(base)
            n[5] ^= 1
            add(n)
            continue
        val = int.from_bytes(base, 'big')
        span = (1 << (48 - mask)) - 1
        add((val | span).to_bytes(6, 'big'))
        add((val | rng.randrange(span + 1)).to_bytes(6, 'big'))
        add((val | 1).to_bytes(6, 'big'))

    manuf = entries(MANUF)
    ouis = [e for e in manuf if e[2] == 3]
    mam = [e for e in manuf if e[1] == 28]
    mas = [e for e in manuf if e[1] == 36]
    # Well-known vendors by short name.
    wanted = ('Cisco', 'Dell', 'Intel', 'Apple', 'VMware', 'HewlettP',
              'Hewlett', 'Juniper', 'Samsung', 'Huawei', 'RadDataC',
              'Microsof', 'Broadcom', 'Realtek', 'Netgear', 'TP-Link',
              'Super', 'Ubiquiti', 'Raspberr', 'Xerox', 'IEEERegi', 'Prüftech')
    for w in wanted:
        for base, _, _, _name in [e for e in ouis if e[3].startswith(w)][:3]:
            add(base[:3] + rb(3))
    for base, _, _, _ in rng.sample(ouis, 120):
        add(base[:3] + rb(3))
        if rng.random() < 0.2:
            add(bytes([base[0] | 1]) + base[1:3] + rb(3))  # group bit set
    # MA-M and MA-S blocks, including block bases and the last address.
    for base, _, _, _ in rng.sample(mam, 30):
        val = int.from_bytes(base, 'big')
        add((val | rng.randrange(1 << 20)).to_bytes(6, 'big'))
    for base, _, _, _ in mam[:3] + mas[:3]:
        add(base)
    for base, _, _, _ in rng.sample(mas, 30):
        val = int.from_bytes(base, 'big')
        add((val | rng.randrange(1 << 12)).to_bytes(6, 'big'))
        add((val | 0xfff).to_bytes(6, 'big'))
    # Inside an MA-M/MA-S OUI but outside every registered block, if any.
    blocks28 = {int.from_bytes(b, 'big') >> 20 for b, _, _, _ in mam}
    blocks36 = {int.from_bytes(b, 'big') >> 12 for b, _, _, _ in mas}
    for oui in sorted({b[:3] for b, _, _, _ in mas})[:5]:
        for hi in range(1 << 12):
            v = (int.from_bytes(oui, 'big') << 24) | (hi << 12) | 0x123
            if v >> 12 not in blocks36 and v >> 20 not in blocks28:
                add(v.to_bytes(6, 'big'))
                break
    # Locally administered and random addresses.
    for _ in range(25):
        b = bytearray(rb(6))
        b[0] = (b[0] | 2) & 0xFE
        add(b)
    for _ in range(extra_random):
        add(rb(6))

    uniq = []
    s = set()
    for b in seen:
        if b not in s:
            s.add(b)
            uniq.append(b)
    return uniq


def write_pcap(path, macs):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        if len(macs) % 2:
            macs = macs + [macs[0]]
        for i in range(0, len(macs), 2):
            # dst, src, local experimental ethertype, padding to 60 bytes
            frame = macs[i] + macs[i + 1] + b'\x88\xb5' + bytes(46)
            f.write(struct.pack('<IIII', 1700000000 + i, 0, len(frame), len(frame)))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir', nargs='?', default=os.path.join(ROOT, 'tests', 'data', 'macnames'))
    ap.add_argument('--random', type=int, default=0)
    ap.add_argument('--seed', type=int, default=20240601)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    macs = addresses(random.Random(args.seed), args.random)
    pcap = os.path.join(args.outdir, 'macs.pcap')
    write_pcap(pcap, macs)
    out = subprocess.run(['tshark', '-r', pcap, '-T', 'fields', '-e', 'eth.src',
                          '-e', 'eth.src_resolved', '-e', 'eth.dst', '-e', 'eth.dst_resolved'],
                         check=True, capture_output=True, text=True).stdout
    with open(os.path.join(args.outdir, 'macs.tshark.tsv'), 'w') as f:
        f.write(out)
    print('%d addresses, %d frames -> %s' % (len(macs), len(out.splitlines()), args.outdir))


if __name__ == '__main__':
    main()
