"""The scanning child process (store/scan_process.py): an index built from what it sends is the
index built in one process, on every capture the tests have (pcap, pcapng with several
interfaces, custom blocks, gzip, truncated and garbage-ended files), and the child goes away
when it is stopped or dies, without taking the parent with it."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ftptui.dissect.packet  # noqa: F401  (the batch stages the app runs while indexing)
from ftptui.capture.reader import CaptureFile, open_capture
from ftptui.errors import CaptureError
from ftptui.store import scan_process
from ftptui.store.index import INDEX_DTYPES, PacketIndex, scan
from ftptui.store.scan_process import ScanProcess

DATA = Path(__file__).parent / "data"


def opens(path: Path) -> bool:
    try:
        open_capture(str(path)).close()
    except CaptureError:  # no capture ftptui opens (test_readers checks the message)
        return False
    return True


CAPTURES = sorted(p for p in DATA.rglob("*") if p.suffix in (".pcap", ".pcapng", ".gz") and opens(p))


def in_process(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


def from_child(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build(scanned=ScanProcess(index.cap).batches())
    return index


def assert_same(mine: PacketIndex, theirs: PacketIndex) -> None:
    assert len(mine) == len(theirs) and mine.done and theirs.done
    for name in INDEX_DTYPES:
        assert np.array_equal(mine.cols[name], theirs.cols[name]), name
    for name in ("src", "dst"):
        assert np.array_equal(mine.v6[name], theirs.v6[name])
    assert (mine.tcp.count, mine.tcp.reused, mine.udp.count) == (theirs.tcp.count, theirs.tcp.reused, theirs.udp.count)
    for name in ("base", "syn", "first"):
        assert np.array_equal(mine.tcp.slots[name], theirs.tcp.slots[name])
    assert mine.icmp_request_of == theirs.icmp_request_of and mine.quoting == theirs.quoting
    assert mine.first_ts == theirs.first_ts and mine.bytes_done == theirs.bytes_done
    a, b = mine.cap, theirs.cap
    assert (a.warnings, a.custom_blocks, a.if_names, a.ts_digits) == (b.warnings, b.custom_blocks, b.if_names, b.ts_digits)


def test_there_are_captures_of_every_kind():
    names = {p.name for p in CAPTURES}
    assert len(CAPTURES) > 50
    assert {"seed.pcapng-extra-blocks.pcapng", "seed6.pcapng-be-custom.pcapng.gz", "seed.garbage.pcap",
            "icmp-errors.pcap", "seed+ipv4.pcapng-2if-res6-res9.pcapng"} <= names


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_child_scan_gives_the_same_index(path):
    assert_same(from_child(path), in_process(path))


def test_many_batches_and_a_full_index(monkeypatch):
    """Small chunks (many messages through the pipe) and --max-packets cutting one short."""
    path = DATA / "public" / "chrissanders__ppa1e__ftp.pcap"
    theirs = in_process(path)
    whole = CaptureFile.scan
    monkeypatch.setattr(CaptureFile, "scan", lambda self, chunk=4096: whole(self, chunk))
    assert_same(from_child(path), theirs)
    monkeypatch.setattr(PacketIndex, "max_packets", len(theirs) // 3)
    cut = from_child(path)
    assert len(cut) == len(theirs) // 3 and cut.full
    assert np.array_equal(cut.cols["offset"], theirs.cols["offset"][:len(cut)])
    assert cut.cap.warnings and "only the first" in cut.cap.warnings[-1]


def test_stop_ends_the_batches_quietly_and_reaps_the_child():
    scanner = ScanProcess(open_capture(str(DATA / "seed-ftp-active.pcap")))
    scanner.stop()
    assert sum(len(s) for s in scanner.batches()) <= 84  # what came before the kill, then the end
    with pytest.raises(ChildProcessError):
        os.waitpid(scanner.pid, os.WNOHANG)  # reaped: no zombie left


def test_a_child_that_dies_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(scan_process, "_child", lambda cap, fd: (time.sleep(60), os._exit(0)))
    scanner = ScanProcess(open_capture(str(DATA / "seed-ftp-active.pcap")))
    os.kill(scanner.pid, signal.SIGKILL)  # as the OOM killer or a user would
    with pytest.raises(CaptureError, match="seed-ftp-active.pcap: the scanning process ended unexpectedly"):
        list(scanner.batches())


def test_a_failing_scan_is_reported_by_the_parent(monkeypatch):
    def broken(batch):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(scan_process, "scan", broken)
    with pytest.raises(CaptureError, match="Input/output error"):
        list(ScanProcess(open_capture(str(DATA / "seed-ftp-active.pcap"))).batches())


def test_not_started_while_other_threads_run():
    """Forking while another thread may hold a lock could leave the child stuck on it."""
    cap = open_capture(str(DATA / "seed-ftp-active.pcap"))
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert ScanProcess.start(cap) is None
    finally:
        release.set()
        other.join()


def test_the_child_writes_nothing_to_the_terminal(monkeypatch, capfd):
    def noisy(batch):
        print("from the child")
        os.write(2, b"raw from the child\n")
        return scan(batch)
    monkeypatch.setattr(scan_process, "scan", noisy)
    assert sum(len(s) for s in ScanProcess(open_capture(str(DATA / "seed-ftp-active.pcap"))).batches()) == 84
    out, err = capfd.readouterr()
    assert "child" not in out + err


def test_key_hash_collisions_fall_back_to_the_exact_grouping(monkeypatch):
    """Conversations are grouped by a hash of their keys, checked: with every key hashing alike,
    the exact grouping must give the same streams."""
    from ftptui.store import tcp_streams
    path = DATA / "public" / "chrissanders__ppa1e__ftp.pcap"
    theirs = in_process(path)
    monkeypatch.setattr(tcp_streams, "_MIX", (0,) * 6)  # every hash 0: all "the same" key
    mine = in_process(path)
    assert theirs.tcp.count > 1
    assert_same(mine, theirs)
