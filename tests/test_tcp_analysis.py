"""TCP sequence analysis (`tcp.analysis.*`, the "[TCP ...]" Info labels) against tshark 4.0.17.

tests/data/analysis/ holds two captures made for this (a scripted FTP session with every kind
of trouble, and a real transfer through a lossy link between network namespaces) with tshark's
list and its per-frame `tcp.analysis.*` table (tests/tools/tcp_analysis_table.py), plus the same
table for every public and seed capture that has TCP.  tshark is never run here.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from ftptui import cli
from ftptui.capture import open_capture
from ftptui.dissect.packet import dissect
from ftptui.store.index import PacketIndex
from ftptui.streams import analysis as A
from ftptui.streams.analysis import TcpAnalysis, tcp_analysis

DATA = Path(__file__).parent / "data"
ANALYSIS = DATA / "analysis"
MADE = sorted(ANALYSIS.glob("*.pcap"))  # captures made for this test, with their tshark list
TABLES = sorted(ANALYSIS.glob("*.analysis.tsv"))

_spec = importlib.util.spec_from_file_location("tcp_analysis_table", Path(__file__).parent / "tools" /
                                               "tcp_analysis_table.py")
table_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table_tool)


def capture_of(table: Path) -> Path:
    name = table.name[: -len(".analysis.tsv")]
    for where in (ANALYSIS, DATA / "public", DATA):
        if (where / name).exists():
            return where / name
    raise FileNotFoundError(name)


@lru_cache(maxsize=None)
def index_of(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


@pytest.mark.parametrize("path", MADE, ids=[p.name for p in MADE])
def test_list_matches_tshark(path):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["-r", str(path), "--print"]) == 0
    expected = Path(str(path) + ".tshark.txt").read_text().splitlines()
    got = out.getvalue().splitlines()
    assert len(got) == len(expected)
    bad = [f"tshark: {e}\nftptui: {g}" for g, e in zip(got, expected) if g != e]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_fields_match_tshark(table):
    """Per frame: tcp.stream, every analysis flag, dup-ACK numbers, ACKed frame, RTT, iRTT,
    bytes in flight, bytes since PSH, RTO and its frame."""
    expected = table.read_text().splitlines()
    got = table_tool.ftptui_table(str(capture_of(table)))
    assert len(got) == len(expected)
    names = table_tool.FIELDS
    bad = []
    for g, e in zip(got, expected):
        if g != e:
            gs, es = g.split("\t"), e.split("\t")
            bad.append(f"frame {es[0]}: " + ", ".join(f"{names[k]} tshark {es[k]!r} ftptui {gs[k]!r}"
                                                       for k in range(len(names)) if gs[k] != es[k]))
    assert not bad, "\n".join(bad[:20])


def test_made_captures_show_every_label():
    labels = set()
    for path in MADE:
        labels.update(re.findall(r"\[TCP ([A-Za-z -]+?)(?: \d+#\d+)?\]", Path(str(path) + ".tshark.txt").read_text()))
    assert labels >= {"Retransmission", "Fast Retransmission", "Spurious Retransmission", "Out-Of-Order",
                      "Previous segment not captured", "ACKed unseen segment", "Dup ACK", "ZeroWindow",
                      "ZeroWindowProbe", "ZeroWindowProbeAck", "Window Full", "Window Update", "Keep-Alive",
                      "Keep-Alive ACK", "Port numbers reused"}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_analyse_all_equals_per_stream(table):
    """The whole-capture pass (for display filters) agrees with the per-stream one."""
    index = index_of(capture_of(table))
    every = index.derived(TcpAnalysis).all()
    for i in range(len(index)):
        a = tcp_analysis(index, i)
        got = (int(every.flags[i]), int(every.dupack_num[i]), int(every.dupack_frame[i]),
               int(every.acks_frame[i]), int(every.ack_rtt[i]), bool(every.present[i]))
        want = (0, 0, 0, 0, 0, False) if a is None else (a.flags, a.dupack_num, a.dupack_frame, a.acks_frame,
                                                           a.ack_rtt, a.present)
        assert got == want, f"frame {i + 1}"
    assert every.matches("tcp.analysis.retransmission") is not None
    assert every.matches("tcp.analysis.ack_rtt") is None


def test_growing_capture():
    """Analysis asked for while the capture is still being indexed, in small batches, extends
    the cached streams and ends as if the whole file had been there at once."""
    path = ANALYSIS / "netns-lossy-ftp.pcap"
    cap = open_capture(str(path))
    index = PacketIndex(cap)
    rng = np.random.default_rng(7)
    for batch in cap.scan(chunk=8192):
        index.add_batch(batch)
        for i in rng.integers(0, len(index), 5):
            tcp_analysis(index, int(i))
    whole = index_of(path)
    assert len(index) == len(whole)
    for i in range(len(whole)):
        assert tcp_analysis(index, i) == tcp_analysis(whole, i), f"frame {i + 1}"


def _tree(index, frame):
    return {f.name: f for layer in dissect(index, frame - 1).layers for f in layer.walk() if f.name}


def _frame_with(path: Path, label: str) -> int:
    for line in Path(str(path) + ".tshark.txt").read_text().splitlines():
        if label in line:
            return int(line[:5])
    raise LookupError(label)


def test_tree_fields():
    path = ANALYSIS / "lossy-ftp.pcap"
    index = index_of(path)
    dup = _frame_with(path, "[TCP Dup ACK")
    tree = _tree(index, dup)
    assert tree["tcp.analysis"].label == "[SEQ/ACK analysis]"
    assert tree["tcp.analysis.duplicate_ack"].value is True
    assert tree["tcp.analysis.duplicate_ack_num"].value == 1
    assert tree["tcp.analysis.duplicate_ack_frame"].label.startswith("[Duplicate to the ACK in frame: ")
    assert tree["_ws.expert"].label == "[Expert Info (Note/Sequence): Duplicate ACK (#1)]"
    assert all(f.length == 0 for name, f in tree.items() if name.startswith(("tcp.analysis", "_ws.expert")))
    retrans = _frame_with(path, "[TCP Retransmission]")
    tree = _tree(index, retrans)
    assert tree["tcp.analysis.retransmission"].value is True and tree["tcp.analysis.flags"]
    assert tree["tcp.analysis.rto"].value > 200_000_000
    assert tree["tcp.segment_data"].label.startswith("Retransmitted TCP segment data (")
    fast = _tree(index, _frame_with(path, "[TCP Fast Retransmission]"))
    assert {"tcp.analysis.fast_retransmission", "tcp.analysis.retransmission"} <= set(fast)
    assert "tcp.analysis.flags" not in _tree(index, 3) and "tcp.analysis.acks_frame" in _tree(index, 3)


def test_row_colours():
    """Wireshark's "Bad TCP" rule: any analysis flag but window update and keep-alives."""
    path = ANALYSIS / "lossy-ftp.pcap"
    index = index_of(path)
    colour = lambda label: dissect(index, _frame_with(path, label) - 1).color  # noqa: E731
    assert colour("[TCP Previous segment not captured]") == "tcp-bad"
    assert colour("[TCP Dup ACK") == "tcp-bad"
    assert colour("[TCP Port numbers reused]") == "tcp-bad"
    assert colour("[TCP Window Update]") == "tcp"
    assert colour("[TCP Keep-Alive]") == "tcp"


def test_sack_blocks_reduce_bytes_in_flight():
    """tshark subtracts the other side's latest SACK blocks (three at most) from bytes in flight."""
    assert A.read_options(bytes.fromhex("0101050a000003e8000007d0"), 0, 12) == (None, 1000)
    four = bytes([5, 34]) + b"".join((k * 100).to_bytes(4, "big") + (k * 100 + 10).to_bytes(4, "big")
                                     for k in range(1, 5))
    assert A.read_options(four, 0, len(four)) == (None, 30)
    assert A.read_options(bytes.fromhex("010303070000"), 0, 6) == (7, 0)
    assert A.read_options(bytes.fromhex("01030310"), 0, 4) == (14, 0)  # shift capped as tshark does


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_parts_of_the_analysis_add_up_to_the_whole(table):
    """--print makes the whole capture's analysis in parts (streams k modulo n, in several
    processes) and adds them up: the sum must be all() exactly, whatever the split."""
    whole = index_of(capture_of(table)).derived(TcpAnalysis)
    want = whole.all()
    for parts in (2, 3):
        got = whole.part(0, parts)
        for k in range(1, parts):
            got = got + whole.part(k, parts)
        for name in ("flags", "dupack_num", "dupack_frame", "acks_frame", "ack_rtt", "present"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), f"{name}, {parts} parts"
