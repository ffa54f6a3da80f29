"""ftptui.macnames must name MAC addresses exactly like tshark 4.0.

Expected values were recorded once with tshark 4.0.17 (see
tests/tools/make_macnames_pcap.py and tests/tools/make_macnames_public.py);
tshark is not needed to run these tests.
"""
import gzip
import os
import struct
import subprocess
import sys

import pytest

from ftptui import macnames
from ftptui.macnames import format_mac, resolve_mac

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'data', 'macnames')
ROOT = os.path.dirname(HERE)
PUBLIC = '/work/shared/captures/public'


def _mac(text):
    return bytes.fromhex(text.replace(':', ''))


def _fixture_pairs():
    pairs = {}
    with open(os.path.join(DATA, 'macs.tshark.tsv'), encoding='utf-8') as f:
        for line in f:
            src, src_name, dst, dst_name = line.rstrip('\n').split('\t')
            pairs.setdefault(src, src_name)
            pairs.setdefault(dst, dst_name)
    return pairs


def _public_rows():
    with open(os.path.join(DATA, 'public.tsv'), encoding='utf-8') as f:
        return [line.rstrip('\n').split('\t') for line in f if not line.startswith('#')]


def _read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('<I', data[:4])
    assert magic == 0xa1b2c3d4
    pos, frames = 24, []
    while pos < len(data):
        _, _, caplen, _ = struct.unpack('<IIII', data[pos:pos + 16])
        frames.append(data[pos + 16:pos + 16 + caplen])
        pos += 16 + caplen
    return frames


def test_fixture_covers_enough_addresses():
    pairs = _fixture_pairs()
    assert len(pairs) >= 200
    names = set(pairs.values())
    for expected in ('Broadcast', 'Spanning-tree-(for-bridges)_00', 'CDP/VTP/DTP/PAgP/UDLD',
                     'LLDP_Multicast', 'IPv4mcast_fb', 'IPv6mcast_01'):
        assert expected in names


def test_fixture_matches_pcap():
    frames = _read_pcap(os.path.join(DATA, 'macs.pcap'))
    with open(os.path.join(DATA, 'macs.tshark.tsv'), encoding='utf-8') as f:
        lines = f.read().splitlines()
    assert len(lines) == len(frames)
    for frame, line in zip(frames, lines):
        src, _, dst, _ = line.split('\t')
        assert format_mac(frame[6:12]) == src
        assert format_mac(frame[0:6]) == dst


def test_every_fixture_address_matches_tshark():
    mismatches = [(a, want, resolve_mac(_mac(a))) for a, want in _fixture_pairs().items()
                  if resolve_mac(_mac(a)) != want]
    assert mismatches == []


def test_public_captures_match_tshark():
    rows = _public_rows()
    assert sum(r[0] == 'col' for r in rows) > 0
    mismatches = [r for r in rows if resolve_mac(_mac(r[3])) != r[4]]
    assert mismatches == []


@pytest.mark.skipif(not os.path.isdir(PUBLIC), reason='shared captures not available')
def test_public_fixture_still_matches_packet_lists():
    """The 'col' rows' text really is in the committed .tshark.txt lines."""
    cache = {}
    for kind, cap, frame, _, text in _public_rows():
        if kind != 'col':
            continue
        path = os.path.join(PUBLIC, cap + '.tshark.txt')
        if path not in cache:
            with open(path, encoding='utf-8') as f:
                cache[path] = {ln.split()[0]: ln.split() for ln in f if ln.strip()}
        toks = cache[path][frame]
        assert text in (toks[2], toks[4] if len(toks) > 4 else None)


@pytest.mark.parametrize('mac, name', [
    ('ff:ff:ff:ff:ff:ff', 'Broadcast'),
    ('00:00:0c:4f:8e:f2', 'Cisco_4f:8e:f2'),
    ('00:20:d2:5a:fb:3f', 'RadDataC_5a:fb:3f'),
    ('01:80:c2:00:00:00', 'Spanning-tree-(for-bridges)_00'),
    ('01:80:c2:00:00:0e', 'LLDP_Multicast'),
    ('01:00:0c:cc:cc:cc', 'CDP/VTP/DTP/PAgP/UDLD'),
    ('01:00:5e:00:00:fb', 'IPv4mcast_fb'),          # key-only range table quirk
    ('01:00:5e:7f:ff:fa', 'IPv4mcast_7f:ff:fa'),
    ('33:33:00:00:00:01', 'IPv6mcast_01'),
    ('33:33:ff:12:34:56', 'IPv6mcast_ff:12:34:56'),
    ('01:00:0c:12:34:56', 'ISL-Frame_12:34:56'),     # /40 range key hit at /24
    ('01:1b:21:0a:0b:0c', 'IntelCor_0a:0b:0c'),      # group bit cleared for OUI
    ('00:00:00:00:00:00', '00:00:00_00:00:00'),
    ('8e:36:06:44:ac:af', '8e:36:06:44:ac:af'),
])
def test_known_examples(mac, name):
    assert resolve_mac(_mac(mac)) == name


def test_ma_m_and_ma_s_blocks():
    pairs = _fixture_pairs()
    ranges = {}
    with gzip.open(os.path.join(ROOT, 'ftptui', 'data', 'macnames.tsv.gz'), 'rt', encoding='utf-8') as f:
        for line in f:
            if not line.startswith('#'):
                addr, mask, name = line.rstrip('\n').split('\t')
                if mask in ('28', '36'):
                    ranges[(int(addr, 16), int(mask))] = name
    hits = {28: 0, 36: 0}
    for a in pairs:
        v = int(a.replace(':', ''), 16)
        for bits in (36, 28):
            if (v & ~((1 << (48 - bits)) - 1), bits) in ranges:
                hits[bits] += 1
                break
    assert hits[28] >= 5 and hits[36] >= 5


def test_format_mac_and_input_types():
    raw = bytes.fromhex('8e360644acaf')
    assert format_mac(raw) == '8e:36:06:44:ac:af'
    assert format_mac(bytearray(raw)) == '8e:36:06:44:ac:af'
    assert resolve_mac(memoryview(b'\xff' * 6)) == 'Broadcast'
    assert resolve_mac(bytearray(b'\xff' * 6)) == 'Broadcast'
    # ARP may announce other hardware address lengths: no name, plain hex (tshark's arp.src.hw)
    assert resolve_mac(b'\x00' * 5) == '00:00:00:00:00'
    assert resolve_mac(bytes(range(1, 9))) == '01:02:03:04:05:06:07:08'
    assert resolve_mac(b'') == ''


def test_import_is_lazy():
    code = ('import time; t = time.perf_counter(); '
            'import ftptui.macnames as m; '
            'assert m._tables is None; '
            'assert m.resolve_mac(b"\\xff" * 6) == "Broadcast"; '
            'assert m._tables is not None')
    subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True)


def test_data_file_is_compact_and_has_provenance():
    path = os.path.join(ROOT, 'ftptui', 'data', 'macnames.tsv.gz')
    assert os.path.getsize(path) < 1024 * 1024
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        head = ''.join(next(f) for _ in range(5))
    assert 'manuf' in head and 'wka' in head and 'GPL-2.0-or-later' in head
    assert '4.0' in head


def test_repeated_lookups_are_answered_from_the_cache():
    """A list repaints the same addresses over and over: each is looked up once (its speed is
    the benchmarks' business, not a test's)."""
    macnames._resolve.cache_clear()
    addrs = [bytes([i & 0xff, (i >> 8) & 0xff, i % 7, 1, 2, 3]) for i in range(5000)]
    first = [resolve_mac(a) for a in addrs]
    misses = macnames._resolve.cache_info().misses
    assert [resolve_mac(a) for a in addrs] == first
    assert macnames._resolve.cache_info().misses == misses
