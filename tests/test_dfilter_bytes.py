"""Filters on raw bytes without dissecting (dfilter/spans.py, store/prefix.py) and the string
prefilter of text fields (prefilter.needles): what they assume about the dissector, checked on
every capture of tests/data, and the chunked reading at its edges.  Their agreement with tshark
is in test_filters_vs_tshark.py (group "Payload filters" of tests/data/filters/cases.tsv)."""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from ftptui.capture import open_capture
from ftptui.dfilter import prefilter, spans
from ftptui.dfilter.apply import Cancelled, FilterRun
from ftptui.dfilter.compile import PacketView, compile_filter
from ftptui.dfilter.regex import compile_regex
from ftptui.dissect.packet import dissect
from ftptui.errors import CaptureError
from ftptui.store import prefix
from ftptui.store.index import PacketIndex

DATA = Path(__file__).parent / "data"
EDGES = DATA / "filters" / "bytes-edges.pcap"
CAPTURES = sorted(p for p in DATA.rglob("*") if p.suffix in (".pcap", ".pcapng"))


@lru_cache(maxsize=None)
def index_of(path: Path) -> PacketIndex | None:
    try:
        index = PacketIndex(open_capture(str(path)))
        index.build()
    except CaptureError:
        return None
    return index


@lru_cache(maxsize=None)
def views_of(path: Path) -> list[PacketView]:
    """Every packet of a capture dissected (shared by the tests that compare with dissection)."""
    index = index_of(path)
    return [PacketView(dissect(index, i), index.packet_bytes(i)) for i in range(len(index))]


def indexes():
    for path in CAPTURES:
        index = index_of(path)
        if index is not None and len(index):
            yield path, index


def test_there_are_captures_to_check():
    assert len(list(indexes())) > 50


def test_ranges_are_where_the_dissector_puts_frame_and_tcp_payload():
    """Every row spans.Ranges calls known has exactly the dissector's frame and tcp.payload
    (present or not, same bytes); the rows it does not know are few."""
    checked = unknown = 0
    for path, index in indexes():
        rows = np.arange(len(index), dtype=np.int64)
        placed = spans.Ranges(index, rows, {"frame", "tcp.payload"})
        unknown += int((~placed.known).sum())
        views = views_of(path)
        for name, (starts, stops) in placed.ranges.items():
            for k in np.nonzero(placed.known)[0].tolist():
                found = [(f.start, f.start + f.length) for f in views[k].fields(name)]
                want = [(int(starts[k]), int(stops[k]))] if stops[k] > starts[k] or name == "frame" else []
                assert found == want, f"{path.name} frame {k + 1}: {name} {found} != {want}"
                checked += 1
    assert checked > 5000 and unknown < checked / 20


def test_literal_fields_hold_the_bytes_they_cover():
    """prefilter.LITERAL_FIELDS: each run of ASCII characters in such a field's value is in the
    packet bytes the field covers, so a packet without the bytes of an ASCII string cannot have
    a value that holds it."""
    seen: set[str] = set()
    for path, _ in indexes():
        for view in views_of(path):
            data = view.data
            for f in view.dissection.fields():
                if f.name not in prefilter.LITERAL_FIELDS or not isinstance(f.value, str):
                    continue
                seen.add(f.name)
                covered = data[f.start:f.start + f.length]
                runs = "".join(c if c.isascii() else "\0" for c in f.value).split("\0")
                for run in runs:
                    assert run.encode() in covered, f"{path.name} frame {view.dissection.number}: {f.value!r}"
    assert {"ftp.request.command", "ftp.request.arg", "ftp.response.arg", "http.host",
            "http.request.uri", "http.request.line"} <= seen


@pytest.mark.parametrize("text, expected", [
    ('http.host contains "wiki"', [b"wiki"]),
    ('http.host == "example.com"', [b"example.com"]),
    ('ftp.request.command in {"RETR", STOR}', [b"RETR", b"STOR"]),
    ('ftp.request.command === "USER"', [b"USER"]),
    ('http.host contains "é"', None),                 # not ASCII: the value's decoding decides
    ('http.host contains ""', None),
    ('http.host matches "wiki"', None),
    ('ftp.request.command not in {"RETR"}', None),
    ('ftp.request.command != "RETR"', None),
    ('dns.qry.name contains "example"', None),         # the wire form has length bytes, not dots
    ('http.file_data contains "x"', None),             # decompressed
    ('http.request.full_uri contains "x"', None),      # built from host and URI
    ('lower(http.host) contains "x"', None),
    ('http.host contains http.referer', None),
])
def test_needles(text, expected):
    flt = compile_filter(text)
    assert prefilter.needles(flt.ast) == expected


def brute_containing(index, rows, starts, stops, needle):
    out = []
    for k, i in enumerate(rows.tolist()):
        data = index.packet_bytes(i)
        out.append(needle in data[int(starts[k]):int(stops[k])])
    return np.array(out, dtype=bool)


@pytest.mark.parametrize("chunk, gap", [(16 << 20, 64 << 10), (300, 64 << 10), (5000, 0), (1, 1)])
def test_containing_agrees_with_a_packet_by_packet_search(monkeypatch, chunk, gap):
    """Whole-chunk search, with chunks and holes small enough that reads split everywhere:
    needles across two packets, across a record header, at either end of a range."""
    monkeypatch.setattr(prefix, "CHUNK", chunk)
    monkeypatch.setattr(prefix, "GAP", gap)
    index = index_of(EDGES)
    raw = EDGES.read_bytes()
    offsets = index.cols.raw("offset")[:len(index)]
    caplen = index.cols.raw("caplen")[:len(index)].astype(np.int64)
    needles = [b"admin", b"USER", b"XY", b"\x00", b"ZW\r\n", b"\r\n", b"PAD!", b"\x02\x00\x00\x00\x00\x02"]
    needles += [raw[int(o) - 3:int(o) + 3] for o in offsets[1:]]  # around each record header
    rng = np.random.default_rng(7)
    for rows in (np.arange(len(index)), np.array([0, 5, 6, 19]), np.arange(1, len(index), 3)):
        for starts, stops in ((np.zeros(len(rows), np.int64), caplen[rows]),
                              (np.minimum(rng.integers(0, 60, len(rows)), caplen[rows]), caplen[rows]),
                              (np.minimum(14, caplen[rows]), np.minimum(40, caplen[rows]))):
            for needle in needles:
                got = prefix.containing(index, rows, starts, stops, needle)
                assert list(got) == list(brute_containing(index, rows, starts, stops, needle)), needle


def test_packets_reads_each_rows_bytes(monkeypatch):
    monkeypatch.setattr(prefix, "CHUNK", 200)
    for path, index in list(indexes())[:20]:
        rows = np.arange(0, len(index), 2, dtype=np.int64)
        assert list(prefix.packets(index, rows)) == [index.packet_bytes(i) for i in rows.tolist()], path.name


@pytest.mark.parametrize("text", ['frame contains "no such bytes"', 'frame matches "no such bytes"',
                                  'tcp.payload contains "no such"', 'http.host contains "no such host"'])
def test_stop_and_progress(text):
    """The byte paths stop when asked and report progress as the dissecting path does."""
    index = index_of(DATA / "public" / "zeek__wikipedia.pcap")
    flt = compile_filter(text)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        FilterRun(index, flt, stop=stop).rows()
    seen: list[tuple[int, int]] = []
    assert len(FilterRun(index, flt, on_progress=lambda a, b: seen.append((a, b))).rows()) == 0
    if not text.startswith("http"):  # the prefilter's scan stops but does not report
        assert seen and all(0 <= a <= b == len(index) for a, b in seen)
        assert [a for a, _ in seen] == sorted(a for a, _ in seen)


def test_fast_and_dissecting_paths_agree_on_every_capture():
    """Byte-path filters give the rows the whole filter gives on each dissected packet (what
    use_columns=False does, with each capture dissected once for all the filters)."""
    texts = ['frame contains "USER"', 'frame matches "^.{12}\\x08\\x00"', 'tcp.payload contains "\\r\\n"',
             'tcp.payload matches "^(USER|PASS|GET|HTTP)"', "frame[0:1] == 45", "len(tcp.payload) > 100",
             'not tcp.payload contains "a"', 'tcp.port == 21 and frame contains "USER"',
             'http.host contains "."', 'ftp.request.command in {"USER", "PASS"}', 'ftp.response.arg contains "ok"']
    for text in texts:
        flt = compile_filter(text)
        for path, index in indexes():
            if path == EDGES and text.startswith("ftp."):
                continue  # its frame 10 (TSO) is a known difference: see test_filters_vs_tshark.py
            fast = FilterRun(index, flt).rows().tolist()
            slow = [k for k, view in enumerate(views_of(path)) if flt.match(view)]
            assert fast == slow, f"{path.name}: {text}"


def test_regex_search_without_re2_internals():
    """compile_regex's Searcher calls RE2 directly; the public re2 call is its fallback."""
    rx = compile_regex(b"(?i)^user", binary=True)
    fallback = compile_regex(b"(?i)^user", binary=True)
    fallback._match = None
    for text in (b"USER x", b"user", b"xuser", b"", b"\nuser"):
        assert rx.search(text) == fallback.search(text)
