"""Capture readers against tshark 4.0, table-driven over tests/data/formats/MANIFEST.tsv.

Every variant tshark reads must list the same packets with the same `--print` text; truncated or
garbage-ended files keep every complete packet and warn on stderr (exit status 2, like tshark);
files that are no capture at all give one `ftptui: ...` line and exit status 2.

The packet list is produced in-process (cli.main with captured output) to keep the suite fast;
the failure cases also run `python -m ftptui` in a subprocess to check the real exit status and
that no traceback escapes.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ftptui import cli
from ftptui.capture.reader import open_capture

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"

with open(FORMATS / "MANIFEST.tsv", newline="") as _f:
    MANIFEST = list(csv.DictReader(_f, delimiter="\t"))

# Differences between ftptui and tshark that are known, with their cause.
KNOWN_PRINT_DIFFS = {
}
for _name in list(KNOWN_PRINT_DIFFS):
    KNOWN_PRINT_DIFFS[_name + ".gz"] = KNOWN_PRINT_DIFFS[_name]

BROKEN = ("truncated-warning", "corrupt-warning")


def run_print(path) -> tuple[str, str, int]:
    """`ftptui -r PATH --print` in-process: (stdout, stderr, exit status)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["-r", str(path), "--print", "--tshark-ftp-data"])  # the reader's test: tshark's labels
    return out.getvalue(), err.getvalue(), rc


def run_subprocess(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftptui", "-r", str(path), "--print"],
                          capture_output=True, text=True, timeout=60)


def _param(row, marks_for):
    reason = marks_for.get(row["file"])
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(row, id=row["file"], marks=marks)


READABLE = [r for r in MANIFEST if r["outcome"] == "ok" and r["tshark_packets"] not in ("", "-")
            and r["format"] != "none"]
BROKEN_ROWS = [r for r in MANIFEST if r["outcome"] in BROKEN]


@pytest.mark.parametrize("row", [_param(r, KNOWN_PRINT_DIFFS) for r in READABLE])
def test_print_matches_tshark(row):
    path = FORMATS / row["file"]
    out, err, rc = run_print(path)
    expected = (FORMATS / (row["file"] + ".tshark.txt")).read_text().splitlines()
    got = out.splitlines()
    assert err == "" and rc == 0
    assert len(got) == int(row["tshark_packets"])
    assert got == expected


@pytest.mark.parametrize("row", [pytest.param(r, id=r["file"]) for r in READABLE])
def test_packet_count_matches_capinfos(row):
    """The reader finds exactly the packets capinfos counts, plus one record per pcapng Custom
    Block (a row of its own in tshark's list, not a packet for capinfos)."""
    cap = open_capture(str(FORMATS / row["file"]))
    try:
        n = sum(len(b) for b in cap.scan())
        assert cap.warnings == []
    finally:
        cap.close()
    assert n - len(cap.custom_blocks) == int(row["capinfos_packets"])


def tshark_time(rel_ns: int, digits: int) -> str:
    """tshark 4.0's relative-time text: |rel| truncated (not rounded) to `digits` decimals."""
    sign = "-" if rel_ns < 0 else ""
    a = abs(rel_ns)
    secs, frac = divmod(a, 1_000_000_000)
    if digits <= 0:
        return f"{sign}{secs}"
    return f"{sign}{secs}.{frac // 10 ** (9 - digits):0{digits}d}"


def _time_column(line: str) -> str:
    """The Time column of a tshark line ('' when blank); 9-decimal times overflow width 10."""
    rest = line[6:]
    return "" if not rest[:10].strip() else rest.split()[0]


@pytest.mark.parametrize("row", [pytest.param(r, id=r["file"]) for r in READABLE])
def test_reader_exposes_tshark_times(row):
    """Batch.ts_ns plus the per-packet precision (Batch.ts_prec, else cap.ts_digits; -1 = no
    timestamp) are enough to rebuild tshark's Time column exactly, for every variant: this is the
    data the index/format_time need for the xfailed --print cases above."""
    cap = open_capture(str(FORMATS / row["file"]))
    try:
        ts, prec = [], []
        for b in cap.scan():
            ts.append(b.ts_ns)
            prec.append(b.ts_prec if b.ts_prec is not None else np.full(len(b), cap.ts_digits, np.int8))
        ts_all = np.concatenate(ts) if ts else np.zeros(0, np.int64)
        prec_all = np.concatenate(prec) if prec else np.zeros(0, np.int8)
    finally:
        cap.close()
    stamped = np.nonzero(prec_all >= 0)[0]
    first = int(ts_all[stamped[0]]) if len(stamped) else 0
    mine = ["" if p < 0 else tshark_time(int(t) - first, int(p)) for t, p in zip(ts_all, prec_all)]
    lines = (FORMATS / (row["file"] + ".tshark.txt")).read_text().splitlines()
    theirs = [_time_column(ln) for ln in lines]
    assert mine == theirs


@pytest.mark.parametrize("row", [pytest.param(r, id=r["file"]) for r in BROKEN_ROWS])
def test_broken_file_keeps_complete_packets_and_warns(row):
    path = FORMATS / row["file"]
    out, err, rc = run_print(path)
    expected = (FORMATS / (row["file"] + ".tshark.txt")).read_text().splitlines()
    assert out.splitlines() == expected          # every complete packet, same text as tshark
    assert len(expected) == int(row["tshark_packets"])
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ftptui: ")
    assert "Traceback" not in err
    assert rc == 2


@pytest.mark.parametrize("name", ["seed.trunc-data.pcap", "seed.garbage.pcap", "seed.pcapng-trunc.pcapng",
                                  "seed.trunc-data.pcap.gz"])
def test_broken_file_subprocess(name):
    p = run_subprocess(FORMATS / name)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ftptui: ")
    assert len(p.stdout.splitlines()) == len((FORMATS / (name + ".tshark.txt")).read_text().splitlines())


def _one_line_error(path):
    p = run_subprocess(path)
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("ftptui: ")
    assert p.returncode == 2
    return lines[0]


def test_not_a_capture():
    line = _one_line_error(FORMATS / "not-a-capture.txt")
    assert "not-a-capture.txt" in line


def test_empty_file():
    # tshark 4.0 reads a 0-byte file as an empty capture (no output, exit 0).  ftptui deliberately
    # rejects it: an empty file is almost always a mistake (wrong path, capture not written yet),
    # and one clear line says so.
    line = _one_line_error(FORMATS / "empty.pcap")
    assert "empty" in line


def test_nonexistent_path(tmp_path):
    line = _one_line_error(tmp_path / "no-such-file.pcap")
    assert "no-such-file.pcap" in line


def test_directory(tmp_path):
    line = _one_line_error(tmp_path)
    assert "directory" in line


@pytest.mark.parametrize("name", ["header-only.pcap", "header-only.pcapng"])
def test_header_only_is_an_empty_capture(name):
    out, err, rc = run_print(FORMATS / name)
    assert (out, err, rc) == ("", "", 0)


def test_truncated_gzip_stream(tmp_path):
    """A gzip stream cut short: the packets decompressed so far are shown, with a warning."""
    src = (FORMATS / "seed.pcap-le-us.pcap.gz").read_bytes()
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(src[: len(src) * 2 // 3])
    out, err, rc = run_print(cut)
    full = (FORMATS / "seed.pcap-le-us.pcap.tshark.txt").read_text().splitlines()
    got = out.splitlines()
    assert 0 < len(got) < len(full) and got == full[: len(got)]
    assert err.startswith("ftptui: ") and "Traceback" not in err
    assert rc == 2


def test_pcapng_ts_prec_per_interface():
    """Mixed-resolution pcapng: the Batch carries each packet's precision (6 for if0, 9 for if1)."""
    cap = open_capture(str(FORMATS / "seed+ipv4.pcapng-2if-res6-res9.pcapng"))
    try:
        batches = list(cap.scan())
    finally:
        cap.close()
    prec = np.concatenate([b.ts_prec for b in batches])
    links = np.concatenate([b.link for b in batches])
    assert set(prec[links == 101].tolist()) == {6}
    assert set(prec[links == 1].tolist()) == {9}
    assert cap.ts_digits == 9


@pytest.mark.parametrize("name,digits", [("seed.pcapng-le-res3.pcapng", 3), ("seed.pcapng-le-res2p20.pcapng", 6),
                                         ("seed.pcapng-le-res9.pcapng", 9), ("seed.pcapng-le-res6.pcapng", 6),
                                         ("seed.pcap-le-ns.pcap", 9), ("seed.pcap-le-us.pcap", 6)])
def test_file_ts_digits(name, digits):
    cap = open_capture(str(FORMATS / name))
    try:
        for _ in cap.scan():
            pass
        assert cap.ts_digits == digits
    finally:
        cap.close()
