"""Following streams: the bytes, order and gaps of every TCP and UDP stream of the seed and
public captures equal `tshark -z follow,<proto>,raw,N` (tests/data/follow/, from
tests/tools/make_follow_fixtures.sh); ascii and hex layouts equal tshark's for a few streams;
and the reassembly rules hold on hand-made segment sequences (retransmission, overlap,
out-of-order, a gap, a start mid-connection, sequence numbers wrapping past 2^32)."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.render.follow import tshark_text
from ftptui.store.index import PacketIndex
from ftptui.streams.follow import ACK, FIN, SYN, TcpFollower, follow_tcp, follow_udp

DATA = Path(__file__).parent / "data"
FOLLOW = DATA / "follow"


def capture_path(name: str) -> Path:
    return DATA / name if (DATA / name).exists() else DATA / "public" / name


@lru_cache(maxsize=None)
def index_of(name: str) -> PacketIndex:
    index = PacketIndex(open_capture(str(capture_path(name))))
    index.build()
    return index


def followed(fixture: Path):
    stem = fixture.name.rsplit(".", 1)[0] if fixture.suffix in (".ascii", ".hex") else fixture.stem
    name, proto, n = stem.rsplit(".", 2)
    return (follow_tcp if proto == "tcp" else follow_udp)(index_of(name), int(n))


RAW = sorted(FOLLOW.glob("*.txt"))
LAYOUTS = sorted(FOLLOW.glob("*.ascii")) + sorted(FOLLOW.glob("*.hex"))


@pytest.mark.parametrize("fixture", RAW, ids=[f.stem for f in RAW])
def test_raw_follow_matches_tshark(fixture):
    assert tshark_text(followed(fixture), "raw") == fixture.read_text()


@pytest.mark.parametrize("fixture", LAYOUTS, ids=[f.name for f in LAYOUTS])
def test_layouts_match_tshark(fixture):
    mode = fixture.suffix[1:]
    assert tshark_text(followed(fixture), mode).encode("latin-1") == fixture.read_bytes()


def test_gaps_are_reported_not_papered_over():
    stream = followed(FOLLOW / "zeek__bigtransfer.pcap.tcp.2.txt")
    assert [g.gap for g in stream.gaps][:3] == [380355712, 392464, 1912470800]  # tshark's figures
    assert all(not c.data for c in stream.gaps)


# --- reassembly rules on hand-made segments ---------------------------------------------------
def run(segments):
    """segments: (side, seq, ack or None, flags, data); returns each side's bytes and the gaps."""
    f = TcpFollower()
    for frame, (side, seq, ack, flags, data) in enumerate(segments):
        f.packet(frame, side, seq, ack if ack is not None else 0, flags | (ACK if ack is not None else 0), data)
    sides = [b"".join(c.data for c in f.chunks if c.side == s and not c.gap) for s in (0, 1)]
    return sides, [(c.side, c.gap) for c in f.chunks if c.gap]


def test_retransmission_and_overlap_add_nothing_twice():
    sides, gaps = run([(0, 0, None, SYN, b""), (0, 1, None, 0, b"hello "), (0, 1, None, 0, b"hello "),
                       (0, 4, None, 0, b"lo world"), (0, 7, None, 0, b"world!")])
    assert sides[0] == b"hello world!" and gaps == []


def test_out_of_order_segments_are_put_in_place():
    sides, _ = run([(0, 0, None, SYN, b""), (0, 7, None, 0, b"world"), (0, 1, None, 0, b"hello ")])
    assert sides[0] == b"hello world"


def test_gap_acknowledged_by_the_peer_is_a_gap_of_n_bytes():
    sides, gaps = run([(0, 0, None, SYN, b""), (0, 1, None, 0, b"abc"), (0, 14, None, 0, b"xyz"),
                       (1, 0, 17, 0, b"")])
    assert sides[0] == b"abcxyz" and gaps == [(0, 10)]


def test_stream_caught_mid_connection():
    sides, _ = run([(0, 5000, None, 0, b"middle "), (1, 900, 5007, 0, b"reply"), (0, 5007, 905, 0, b"end")])
    assert sides == [b"middle end", b"reply"]


def test_sequence_numbers_wrap_past_2_32():
    start = 2**32 - 4
    sides, gaps = run([(0, start, None, SYN, b""), (0, start + 1, None, 0, b"abc"),
                       (0, (start + 4) % 2**32, None, 0, b"defg"), (0, (start + 8) % 2**32, None, FIN, b"h")])
    assert sides[0] == b"abcdefgh" and gaps == []


# --- command line -------------------------------------------------------------------------------
def cli(*args):
    p = subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True)
    return p.stdout, p.stderr, p.returncode


def test_follow_json_has_each_sides_bytes():
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--follow", "tcp,3", "--format", "json")
    assert rc == 0 and err == ""
    doc = json.loads(out)
    assert (doc["proto"], doc["stream"], doc["client"], doc["server"]) == ("tcp", 3, "10.10.10.187:20",
                                                                          "10.10.15.211:38545")
    data = b"".join(base64.b64decode(c["data"]) for c in doc["chunks"] if c["from"] == "client")
    assert data == (DATA / "seed-ftp-active.dump.sql").read_bytes()  # the file RETR fetched
    assert [c["frame"] for c in doc["chunks"]] == [67, 69, 71] and doc["gaps"] == []


def test_follow_ascii_matches_tshark_and_bad_stream_is_one_line():
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--follow", "tcp,0", "--format", "ascii")
    assert rc == 0 and out == (FOLLOW / "seed-ftp-active.pcap.tcp.0.ascii").read_text(errors="surrogateescape")
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--follow", "tcp,9")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "no tcp stream 9" in err
