"""Output made in forked workers (cli/fanout.py, what --print uses over several cores): the
same text in the same order as made in one process, errors reported, no worker left behind."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.cli.fanout import write_in_order
from ftptui.dissect.packet import dissect
from ftptui.errors import FtptuiError
from ftptui.ftp.analysis import analyse
from ftptui.render.tshark import tshark_line
from ftptui.store.index import PacketIndex
from ftptui.streams.analysis import TcpAnalysis

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
STORM = Path(__file__).parent / "data" / "analysis" / "retransmission-storm.pcap"


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_workers_write_tsharks_list_in_order():
    index = PacketIndex(open_capture(str(STORM)))
    index.build()
    analyse(index)
    every = index.derived(TcpAnalysis).all()
    rows = range(len(index))
    chunks = [rows[k:k + 97] for k in range(0, len(rows), 97)]  # 47 chunks over 3 workers
    out = io.StringIO()
    write_in_order(chunks, lambda c: "".join(tshark_line(dissect(index, i, tree=False, every=every)) + "\n"
                                             for i in c), out, workers=3)
    index.cap.close()
    assert out.getvalue() == Path(str(STORM) + ".tshark.txt").read_text()
    assert no_children_left()


def test_a_worker_error_stops_the_output_with_a_message(capfd):
    def make(k: int) -> str:
        if k == 5:
            raise ValueError("chunk five is bad")
        return f"{k}\n"
    out = io.StringIO()
    with pytest.raises(FtptuiError, match="worker"):
        write_in_order(list(range(10)), make, out, workers=2)
    assert out.getvalue() == "0\n1\n2\n3\n4\n"  # everything before the bad chunk, in order
    assert "chunk five is bad" in capfd.readouterr().err
    assert no_children_left()


class ClosedAfter(io.StringIO):
    """A reader that goes away after its first chunk, as `| head` does."""

    def write(self, s: str) -> int:
        if self.tell():
            raise BrokenPipeError
        return super().write(s)


def test_workers_stop_when_the_reader_does():
    out = ClosedAfter()
    with pytest.raises(BrokenPipeError):
        write_in_order(list(range(10_000)), lambda k: f"{k}\n" * 1000, out, workers=2)
    assert out.getvalue() == "0\n" * 1000
    assert no_children_left()


def test_in_child_returns_the_childs_result_and_reports_its_failure(capfd):
    from ftptui.cli.fanout import in_child
    parent = os.getpid()
    assert in_child(lambda: (os.getpid() != parent, [1, 2, 3]))() == (True, [1, 2, 3])

    def fails() -> None:
        raise OSError("disk gone")
    with pytest.raises(FtptuiError, match="worker"):
        in_child(fails)()
    assert "disk gone" in capfd.readouterr().err
    assert no_children_left()
