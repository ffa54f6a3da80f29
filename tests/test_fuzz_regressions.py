"""Every input that ever made a fuzz target fail (tests/data/fuzz/TARGET/NAME) passes now.

The targets are fuzz/targets.py, run as they are under atheris (fuzz/run.py), without atheris.
An input's name says what it found; tests/data/fuzz/README.md lists them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))
import targets  # noqa: E402

CASES = sorted((ROOT / "tests" / "data" / "fuzz").glob("*/*"))
CASES = [c for c in CASES if c.parent.name in targets.TARGETS]


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fuzz_finding_stays_fixed(case):
    targets.TARGETS[case.parent.name](case.read_bytes())


def test_a_discarded_index_is_freed_at_once():
    """packets/oom: memory grew by a few kB per input until the fuzzer's 1 GB limit, because a
    PacketIndex and its TCP analysis referred to each other, so a discarded index (a cleared
    live capture's, in the app) waited for Python's rare full collection with all its arrays."""
    import gc
    import weakref

    from ftptui.capture import open_capture
    from ftptui.ftp.tshark_link import tshark_links
    from ftptui.store.index import PacketIndex
    from ftptui.streams.analysis import TcpAnalysis, tcp_analysis

    gc.disable()
    try:
        index = PacketIndex(open_capture(str(ROOT / "tests" / "data" / "seed-ftp-active.pcap")))
        index.build()
        tcp_analysis(index, 5)
        index.derived(TcpAnalysis).all()
        tshark_links(index)
        index.cap.close()
        alive = weakref.ref(index)
        del index
        assert alive() is None
    finally:
        gc.enable()
