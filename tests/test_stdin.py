"""Pipes and growing files: `ftptui -r - --print` (pcap and pcapng on stdin, fed at once or in
pieces with the output checked between pieces), garbage on stdin, `--follow-file`, -c and -w with
a stream, and CaptureFile.tail() on a file grown piece by piece (against scan()).

Waits are on conditions (lines on stdout), bounded by TIMEOUT; no sleeps.
"""
from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ftptui.capture.reader import open_capture

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = DATA / "seed-ftp-active.pcap"
PCAPNGS = sorted((DATA / "formats").glob("*.pcapng"))
TIMEOUT = 20.0


def ftptui_run(*args, data: bytes = b"", **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftptui", *args], input=data, capture_output=True,
                          cwd=ROOT, timeout=60, **kw)


def printed(path: Path) -> subprocess.CompletedProcess:
    return ftptui_run("-r", str(path), "--print", "--tshark-ftp-data")  # streams print in one pass


def pcap_record_ends(data: bytes) -> list[int]:
    """Offsets just past each record of a pcap file."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    pos, ends = 24, []
    while pos + 16 <= len(data):
        (cl,) = struct.unpack_from(endian + "I", data, pos + 8)
        pos += 16 + cl
        ends.append(pos)
    return ends


class Lines:
    """Reads a process's stdout line by line with a deadline."""

    def __init__(self, proc):
        self.proc, self.buf, self.lines = proc, b"", []

    def until(self, n: int) -> list[str]:
        deadline = time.monotonic() + TIMEOUT
        fd = self.proc.stdout.fileno()
        while len(self.lines) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                pytest.fail(f"only {len(self.lines)} of {n} lines came out")
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"ftptui ended after {len(self.lines)} of {n} lines")
            self.buf += chunk
            *done, self.buf = self.buf.split(b"\n")
            self.lines += [d.decode() for d in done]
        return self.lines


def test_pipe_equals_file():
    want = printed(SEED)
    got = ftptui_run("-r", "-", "--print", data=SEED.read_bytes())
    assert got.returncode == 0 and got.stderr == b""
    assert got.stdout == want.stdout and len(want.stdout.splitlines()) == 84


def test_shell_pipe():
    res = subprocess.run(f"cat {SEED} | {sys.executable} -m ftptui -r - --print", shell=True, cwd=ROOT,
                         capture_output=True, timeout=60)
    assert res.returncode == 0 and res.stdout == printed(SEED).stdout


def test_slow_pipe_prints_as_it_arrives():
    """Written in pieces cut inside records: each piece's complete packets are printed before
    the next piece is written."""
    data = SEED.read_bytes()
    want = printed(SEED).stdout.decode().splitlines()
    ends = pcap_record_ends(data)
    proc = subprocess.Popen([sys.executable, "-m", "ftptui", "-r", "-", "--print"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = Lines(proc)
    try:
        cuts = [10, 30, 31, ends[0] + 5, ends[9] - 3, ends[9] + 2, ends[40] + 20, ends[70] + 1, len(data)]
        sent = 0
        for cut in cuts:
            proc.stdin.write(data[sent:cut])
            proc.stdin.flush()
            sent = cut
            complete = sum(e <= sent for e in ends)
            if cut < len(data):  # the writer is not finished, the lines are already there
                assert out.until(complete)[:complete] == want[:complete]
        proc.stdin.close()
        assert out.until(len(want)) == want
        assert proc.wait(TIMEOUT) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("path", PCAPNGS, ids=[p.name for p in PCAPNGS])
def test_pcapng_on_stdin(path):
    want = printed(path)
    got = ftptui_run("-r", "-", "--print", data=path.read_bytes())
    assert got.stdout == want.stdout
    assert got.returncode == want.returncode
    assert got.stderr.decode() == want.stderr.decode().replace(str(path), "standard input")


def test_pcapng_slowly():
    path = DATA / "formats" / "seed+ipv4.pcapng-2if.pcapng"
    data = path.read_bytes()
    want = printed(path).stdout.decode().splitlines()
    proc = subprocess.Popen([sys.executable, "-m", "ftptui", "-r", "-", "--print"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = Lines(proc)
    try:
        half = len(data) // 2 + 3  # inside a block
        proc.stdin.write(data[:half])
        proc.stdin.flush()
        assert out.until(5)[:5] == want[:5]  # lines before the writer is finished
        proc.stdin.write(data[half:])
        proc.stdin.close()
        assert out.until(len(want)) == want
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("data", [b"this is not a capture\n", b"\x00" * 100], ids=["text", "zeros"])
def test_garbage_on_stdin(data):
    res = ftptui_run("-r", "-", "--print", data=data)
    assert res.returncode == 2 and res.stdout == b""
    assert res.stderr.decode() == "ftptui: standard input: not a pcap or pcapng capture file (unknown format)\n"


def test_empty_stdin():
    res = ftptui_run("-r", "-", "--print")
    assert res.returncode == 2
    assert res.stderr.decode() == "ftptui: standard input: the file is empty, not a capture file\n"


def test_stream_cut_short_warns_like_a_file(tmp_path):
    data = SEED.read_bytes()[:-7]
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data)
    want = printed(cut)
    got = ftptui_run("-r", "-", "--print", data=data)
    assert got.returncode == want.returncode == 2 and got.stdout == want.stdout
    assert got.stderr.decode() == want.stderr.decode().replace(str(cut), "standard input")


def test_count_and_write_with_stdin(tmp_path):
    saved = tmp_path / "saved.pcap"
    res = ftptui_run("-r", "-", "--print", "-c", "7", data=SEED.read_bytes())
    assert res.returncode == 0
    assert res.stdout.decode().splitlines() == printed(SEED).stdout.decode().splitlines()[:7]
    res = ftptui_run("-r", "-", "--print", "-w", str(saved), data=SEED.read_bytes())
    assert res.returncode == 0 and saved.read_bytes() == SEED.read_bytes()


def test_stream_in_the_browser_needs_a_terminal_for_the_keys():
    """`ftptui -r -` without --print opens the browser, which reads keys from the terminal
    (/dev/tty): without one (no controlling terminal) it says so in one line, status 2.
    (tests/test_tmux.py runs it in a terminal.)"""
    res = ftptui_run("-r", "-", data=SEED.read_bytes(), start_new_session=True)
    assert res.returncode == 2 and b"Traceback" not in res.stderr
    assert res.stderr.decode().strip().splitlines() == [
        "ftptui: reading a capture from standard input needs a terminal for the keys: "
        "/dev/tty: No such device or address"]
    res = ftptui_run("-r", "-", "-c", "3", data=SEED.read_bytes(), start_new_session=True)
    assert res.returncode == 2 and b"-c works with --print" in res.stderr


def test_follow_file(tmp_path):
    """--follow-file: packets appended by another writer (cut inside records) are printed as
    they arrive; Ctrl-C ends it with status 0."""
    data = SEED.read_bytes()
    want = printed(SEED).stdout.decode().splitlines()
    ends = pcap_record_ends(data)
    grow = tmp_path / "grow.pcap"
    grow.write_bytes(data[:ends[4] + 9])
    proc = subprocess.Popen([sys.executable, "-m", "ftptui", "-r", str(grow), "--follow-file", "--print"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = Lines(proc)
    try:
        assert out.until(5) == want[:5]
        with open(grow, "ab") as f:
            for a, b in ((ends[4] + 9, ends[30] - 1), (ends[30] - 1, ends[30]), (ends[30], len(data))):
                f.write(data[a:b])
                f.flush()
                n = sum(e <= b for e in ends)
                assert out.until(n)[:n] == want[:n]
        assert out.lines == want
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- the reader's tail() on a file grown piece by piece -----------------------------------------


FORMATS = [p for p in sorted((DATA / "formats").iterdir())
           if p.suffix in (".pcap", ".pcapng") and p.stat().st_size > 64] + [SEED]


@pytest.mark.parametrize("path", FORMATS, ids=[p.name for p in FORMATS])
def test_tail_equals_scan(tmp_path, path):
    data = path.read_bytes()
    ref = open_capture(str(path))
    want = [b for b in ref.scan()]
    grow = tmp_path / path.name
    header = 24 if path.suffix == ".pcap" else 12
    grow.write_bytes(data[:header])
    cap = open_capture(str(grow))
    got = []
    step = max(1, len(data) // 37)
    with open(grow, "ab") as f:
        for pos in range(header, len(data), step):
            f.write(data[pos:pos + step])
            f.flush()
            got += list(cap.tail())
            # a record cut short at the end is no error while growing (garbage is, at once)
            assert not [w for w in cap.warnings if "cut short" in w]
    got += list(cap.tail(final=True))
    assert cap.warnings == [w.replace(str(path), str(grow)) for w in ref.warnings]
    for field in ("offset", "caplen", "origlen", "ts_ns", "link"):
        a = np.concatenate([getattr(b, field) for b in want]) if want else np.array([])
        b = np.concatenate([getattr(b, field) for b in got]) if got else np.array([])
        assert a.tolist() == b.tolist(), field
    assert cap.ts_digits == ref.ts_digits
    cap.close()
    ref.close()


@pytest.mark.parametrize("args", [["--ftp", "--json"], ["--ftp", "--diagram", "1", "--fold"], ["--conv", "tcp"],
                                  ["--diagram", "tcp,3"]])
def test_batch_commands_read_a_stream_to_its_end(args):
    """`-r -` with a batch command: the stream is read to its end, then the command runs on it,
    as tshark does with `-r - -z ...`: the same output as on the file."""
    piped = ftptui_run("-r", "-", *args, data=SEED.read_bytes())
    on_file = ftptui_run("-r", str(SEED), *args)
    assert (piped.returncode, piped.stderr) == (0, b"") and on_file.returncode == 0
    assert piped.stdout == on_file.stdout and piped.stdout


def test_follow_and_export_objects_from_a_stream(tmp_path):
    piped = ftptui_run("-r", "-", "--follow", "tcp,0", "--format", "raw", data=SEED.read_bytes())
    assert piped.returncode == 0
    assert piped.stdout.decode() == (DATA / "follow" / "seed-ftp-active.pcap.tcp.0.txt").read_text()  # tshark's
    saved = tmp_path / "saved.pcap"
    done = ftptui_run("-r", "-", "--export-objects", f"ftp-data,{tmp_path / 'out'}", "-w", str(saved),
                      data=SEED.read_bytes())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "dump.sql").read_bytes() == (DATA / "seed-ftp-active.dump.sql").read_bytes()
    assert saved.read_bytes() == SEED.read_bytes()  # -w keeps the stream
