"""The pcap / pcapng writer behind the UI's "save as" (ftptui/capture/writer.py).

Files written from the seed and the format fixtures are read back with our reader and compared
with the source packets (bytes, times, lengths); the fixtures in tests/data/writer (made by
tests/tools/make_writer_fixtures.py) record what tshark read from the same files, so these tests
check tshark agrees without running it.
"""
from __future__ import annotations

import struct
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ftptui.capture import open_capture
from ftptui.capture.reader import LINK_PCAPNG_CUSTOM
from ftptui.capture.writer import format_for, write_capture
from ftptui.errors import CaptureError
from ftptui.store.index import PacketIndex

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"
OUT = DATA / "writer"
SEED = DATA / "seed-ftp-active.pcap"

# name -> (source capture, frames to save (0-based; None: all), format)
CASES = {
    "seed-all.pcapng": (SEED, None, "pcapng"),
    "seed-every3rd.pcap": (SEED, list(range(0, 84, 3)), "pcap"),
    "seed-ns.pcap": (FORMATS / "seed.pcap-le-ns.pcap", None, "pcap"),
    "seed-res3.pcapng": (FORMATS / "seed.pcapng-le-res3.pcapng", list(range(10, 30)), "pcapng"),
    "two-interfaces.pcapng": (FORMATS / "seed+ipv4.pcapng-2if-res6-res9.pcapng", None, "pcapng"),
}

# copies of every packet: tshark's list of the copy is its list of the source
SAME_LIST = {"seed-all.pcapng": DATA / "seed-ftp-active.pcap.tshark.txt",
             "seed-ns.pcap": FORMATS / "seed.pcap-le-ns.pcap.tshark.txt",
             "two-interfaces.pcapng": FORMATS / "seed+ipv4.pcapng-2if-res6-res9.pcapng.tshark.txt"}


def indexed(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


def written(name: str, path: Path) -> tuple[PacketIndex, np.ndarray, int]:
    source, frames, fmt = CASES[name]
    index = indexed(source)
    n = write_capture(index, None if frames is None else np.asarray(frames), str(path), fmt)
    chosen = np.arange(len(index)) if frames is None else np.asarray(frames)
    return index, chosen, n


def same_packets(src: PacketIndex, frames: np.ndarray, back: PacketIndex) -> None:
    assert len(back) == len(frames)
    for k, f in enumerate(frames.tolist()):
        assert back.packet_bytes(k) == src.packet_bytes(f), f"packet {k + 1}"
        assert int(back.field("ts", k)) == int(src.field("ts", f)), f"time of packet {k + 1}"
        assert int(back.field("origlen", k)) == int(src.field("origlen", f))
        assert int(back.field("link", k)) == int(src.field("link", f))


@pytest.mark.parametrize("name", list(CASES))
def test_written_file_reads_back_as_the_source_and_as_tshark_read_it(name, tmp_path):
    path = tmp_path / name
    src, frames, n = written(name, path)
    assert n == len(frames)
    back = indexed(path)
    assert back.cap.format == CASES[name][2]
    same_packets(src, frames, back)
    # byte-identical to the fixture tshark read, and our reader agrees with what tshark read
    assert path.read_bytes() == (OUT / name).read_bytes(), "the writer's output changed: remake the fixtures"
    rows = [line.split("\t") for line in (OUT / (name + ".fields.tsv")).read_text().splitlines()]
    assert len(rows) == len(back)
    for k, (number, epoch, length, caplen, iface) in enumerate(rows):
        assert int(number) == k + 1
        assert int(Decimal(epoch) * 10**9) == int(back.field("ts", k))
        assert int(length) == int(back.field("origlen", k)) and int(caplen) == int(back.field("caplen", k))
        assert int(iface or -1) == int(back.field("iface", k))
    tshark_lines = (OUT / (name + ".tshark.txt")).read_text().splitlines()
    assert len(tshark_lines) == len(back)
    if name in SAME_LIST:  # every packet saved: tshark listed the copy exactly as the source
        assert tshark_lines == SAME_LIST[name].read_text().splitlines()


def test_time_precision_is_kept(tmp_path):
    ns = indexed(FORMATS / "seed.pcap-le-ns.pcap")
    write_capture(ns, None, str(tmp_path / "a.pcap"), "pcap")
    assert (tmp_path / "a.pcap").read_bytes()[:4] == struct.pack("<I", 0xA1B23C4D)  # nanosecond magic
    write_capture(indexed(SEED), None, str(tmp_path / "b.pcap"), "pcap")
    assert (tmp_path / "b.pcap").read_bytes()[:4] == struct.pack("<I", 0xA1B2C3D4)
    back = indexed(tmp_path / "a.pcap")
    assert back.cap.ts_digits == 9 and np.array_equal(back.cols["ts"], ns.cols["ts"])


def test_pcap_refuses_several_link_types_and_leaves_no_file(tmp_path):
    index = indexed(FORMATS / "seed+ipv4.pcapng-2if-res6-res9.pcapng")
    with pytest.raises(CaptureError, match="save as pcapng"):
        write_capture(index, None, str(tmp_path / "x.pcap"), "pcap")
    assert list(tmp_path.iterdir()) == []
    # the packets of one interface fit in a pcap
    one = np.nonzero(index.cols["link"] == index.cols["link"][0])[0]
    assert write_capture(index, one, str(tmp_path / "x.pcap"), "pcap") == len(one)
    same_packets(index, one, indexed(tmp_path / "x.pcap"))


def test_custom_blocks_are_left_out(tmp_path):
    index = indexed(FORMATS / "seed6.pcapng-be-custom.pcapng")
    packets = np.nonzero(index.cols["link"] != LINK_PCAPNG_CUSTOM)[0]
    assert len(packets) < len(index)
    assert write_capture(index, None, str(tmp_path / "c.pcapng"), "pcapng") == len(packets)
    same_packets(index, packets, indexed(tmp_path / "c.pcapng"))


def test_empty_selection_is_a_valid_capture(tmp_path):
    index = indexed(SEED)
    for fmt in ("pcap", "pcapng"):
        path = tmp_path / f"empty.{fmt}"
        assert write_capture(index, np.zeros(0, np.int64), str(path), fmt) == 0
        back = open_capture(str(path))
        assert sum(len(b) for b in back.scan()) == 0 and back.warnings == []
    assert open_capture(str(tmp_path / "empty.pcap")).read(20, 4) == struct.pack("<I", 101)


def test_errors_are_one_line(tmp_path):
    index = indexed(SEED)
    with pytest.raises(CaptureError, match="No such file or directory"):
        write_capture(index, None, str(tmp_path / "missing" / "x.pcap"))
    with pytest.raises(CaptureError, match="give a file name"):
        write_capture(index, None, str(tmp_path))
    with pytest.raises(CaptureError, match="formats are pcap and pcapng"):
        write_capture(index, None, str(tmp_path / "x.cap"), "erf")


def test_format_from_the_name():
    assert format_for("a.pcapng") == "pcapng" and format_for("A.PCAP") == "pcap"
    assert format_for("dump") == "pcap" and format_for("dump", "pcapng") == "pcapng"
