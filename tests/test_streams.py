"""tcp.stream and udp.stream numbers equal tshark's for every frame of the seed and public
captures (tests/data/streams/*.tsv, from tests/tools/make_stream_fixtures.sh)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.store.index import PacketIndex

DATA = Path(__file__).parent / "data"
FIXTURES = sorted((DATA / "streams").glob("*.tsv"))


def capture_of(fixture: Path) -> Path:
    name = fixture.name[:-len(".tsv")]
    return DATA / name if (DATA / name).exists() else DATA / "public" / name


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_stream_numbers_match_tshark(fixture):
    index = PacketIndex(open_capture(str(capture_of(fixture))))
    index.build()
    expected = [line.split("\t") for line in fixture.read_text().splitlines()]
    mine = [["" if t < 0 else str(t), "" if u < 0 else str(u)]
            for t, u in zip(index.cols["stream"].tolist(), index.cols["ustream"].tolist())]
    assert len(mine) == len(expected)
    bad = [(i + 1, m, e) for i, (m, e) in enumerate(zip(mine, expected)) if m != e]
    assert not bad, f"{len(bad)} frames differ, first: {bad[:3]}"
