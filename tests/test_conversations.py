"""Conversations (Ethernet, IPv4, IPv6, TCP, UDP) equal tshark's `-z conv,<kind>` tables for the
seed and public captures (tests/data/conv/, from tests/tools/make_conv_fixtures.sh): the same
endpoint pairs (A = the first packet's source), packets and bytes each way, start and duration,
in the same order."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.render.conversations import size_text
from ftptui.store.index import PacketIndex
from ftptui.streams.conversations import conversations

DATA = Path(__file__).parent / "data"
FIXTURES = sorted((DATA / "conv").glob("*.txt"))
ROW = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+([\d.]+)\s+([\d.]+)\s*$")


@lru_cache(maxsize=None)
def index_of(name: str) -> PacketIndex:
    path = DATA / name if (DATA / name).exists() else DATA / "public" / name
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


def tshark_rows(fixture: Path):
    rows = []
    for line in fixture.read_text().splitlines():
        m = ROW.match(line)
        if m:
            a, b, fba, bba, fab, bab, ft, bt, start, dur = m.groups()
            rows.append((a, b, int(fab), bab, int(fba), bba, start, dur))
    return rows


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_conversations_match_tshark(fixture):
    name, kind, _ = fixture.name.rsplit(".", 2)
    mine = [(c.a, c.b, c.frames_ab, size_text(c.bytes_ab), c.frames_ba, size_text(c.bytes_ba),
             f"{c.start / 1e9:.9f}", f"{c.duration_seconds:.4f}") for c in conversations(index_of(name), kind)]
    assert mine == tshark_rows(fixture)
