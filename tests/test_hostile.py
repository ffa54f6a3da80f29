"""Hostile input on the command line: captures, file names and filters an attacker chose give
tshark's output or one line on stderr with exit status 2, never a traceback, a hang, a control
sequence on the terminal or a file left in the temporary directory.

The captures are tests/data/hostile/ (tests/tools/make_hostile_captures.py: bytes we chose);
expected lists are tshark 4.0's (F.tshark.txt beside each).
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
HOSTILE = DATA / "hostile"
SEED = DATA / "seed-ftp-active.pcap"
sys.path.insert(0, str(Path(__file__).parent / "tools"))
from make_hostile_captures import FILE_NAME  # noqa: E402

CONTROL = {chr(c) for c in range(32) if c != 10} | {"\x7f", "\u202e", "\u2066", "\u0085"}


def run(*args, env=None, timeout=120, memory=None):
    """ftptui in a subprocess (a fresh TMPDIR unless env sets one); (stdout, stderr, status)."""
    def limit():
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    p = subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, timeout=timeout,
                       env={**os.environ, **(env or {})}, preexec_fn=limit)
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode


def assert_one_line(err: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("ftptui: "), err
    assert not CONTROL & set(err), repr(err)


@pytest.mark.parametrize("name", ["markup.pcap", "order.pcap", "arp-hlen.pcap", "regex.pcap", "tsresol20.pcapng"])
def test_print_equals_tshark(name):
    """The list is tshark's, except that tshark writes raw control characters from an FTP
    path into the FTP-DATA Info column where ftptui shows dots."""
    out, err, rc = run("-r", str(HOSTILE / name), "--print")
    assert (rc, err) == (0, "")
    expected = (HOSTILE / f"{name}.tshark.txt").read_text()
    expected = "".join("." if ch in CONTROL else ch for ch in expected)
    assert out.splitlines() == expected.splitlines()
    assert not CONTROL & set(out)


def test_ftp_session_opened_after_another_stream_is_found():
    """order.pcap: the port-2121 session opens second and speaks first; it used to be dropped."""
    out, err, rc = run("-r", str(HOSTILE / "order.pcap"), "--ftp", "--json")
    assert (rc, err) == (0, "")
    [session] = json.loads(out)["sessions"]
    assert (session["client"], session["server"], session["user"], session["logged_in"]) == \
        ("10.8.0.2:41001", "10.8.0.21:2121", "anonymous", True)


def test_reserved_link_type_bits_are_one_line():
    out, err, rc = run("-r", str(HOSTILE / "linktype-big.pcap"), "--print")
    assert rc == 2 and out == ""
    assert_one_line(err)
    assert "reserved bits" in err


@pytest.mark.parametrize("flt, words", [
    (" || ".join(f"tcp.port == {i}" for i in range(500)), None),
    ("(" * 300 + "tcp" + ")" * 300, "nests too deeply"),
    ("frame.len == 1" + "+1" * 600, "too deeply nested"),
    ("!" * 600 + "tcp", "nests too deeply"),
    ("len(" * 300 + "tcp" + ")" * 300 + " > 0", "nests too deeply"),
    ("tcp.flags & 99999999999999999999", "causes an integer overflow"),
    ("tcp.flags & 0x10000", "too big for this field, maximum 65535"),
    ('frame matches "a{4294967295}"', "number too big in {} quantifier"),
    ('frame matches "(a)\\\\1"', "Regex compilation error: invalid escape sequence"),  # no backreferences
    ('frame matches "(?<=a)b"', "Regex compilation error: invalid perl operator"),  # no lookbehind
    ('frame matches "' + "(" * 500 + "a" + ")" * 500 + '"', None),
    ('frame contains "\udcff\udcfe"', None),  # invalid UTF-8 on the command line
])
def test_hostile_filters(flt, words):
    out, err, rc = run("-r", str(SEED), "--print", "-Y", flt)
    if words is None:
        assert (rc, err) == (0, ""), err[-500:]
    else:
        assert rc == 2 and out == ""
        assert_one_line(err)
        assert words in err


def test_catastrophic_regex_is_linear():
    """(a+)+$ over 40 runs of 1,399 "a": exponential in a backtracking engine, linear in RE2.
    (The timeout only stops a hang; timing itself is bench/ business.)"""
    out, err, rc = run("-r", str(HOSTILE / "regex.pcap"), "--print", "-Y", 'frame matches "(a+)+$"', timeout=60)
    assert (rc, err, out) == (0, "", "")
    out, err, rc = run("-r", str(HOSTILE / "regex.pcap"), "--print", "-Y", 'frame matches "(a+)+!$"', timeout=60)
    assert rc == 0 and len(out.splitlines()) == 40


def bomb(path: Path, megabytes: int) -> None:
    """A gzip of a pcap of `megabytes` MB of zero-length records (1,000:1 compression)."""
    head = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
    rec = (1_700_000_000).to_bytes(4, "little") + bytes(12)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(c.compress(head))
        chunk = rec * 65536
        for _ in range(megabytes):
            f.write(c.compress(chunk))
        f.write(c.flush())


def test_gzip_bomb_stays_bounded(tmp_path):
    """512 MB of 16-byte records (33 million packets) from a 0.5 MB file: memory stays bounded
    (the address space is capped here) and the packet limit says what was left out."""
    path = tmp_path / "bomb.pcap.gz"
    bomb(path, 512)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out, err, rc = run("-r", str(path), "--conv", "ip", "--max-packets", "2000000",
                       env={"TMPDIR": str(tmp)}, memory=2 << 30, timeout=300)
    assert rc == 2 and "Traceback" not in err
    assert "only the first 2,000,000 packets are read" in err
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("command", [["--print"], ["--ftp"], ["--conv", "tcp"], ["--follow", "tcp,0"],
                                     ["--follow", "tcp,99"], ["--diagram", "tcp,0"], ["--ftp", "--diagram", "1"],
                                     ["--export-objects", "ftp-data,{out}"]])
def test_no_temporary_file_is_left(tmp_path, command):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    gz = tmp_path / "seed.pcap.gz"
    gz.write_bytes(gzip.compress(SEED.read_bytes(), mtime=0))
    args = [a.format(out=tmp_path / "out") for a in command]
    out, err, rc = run("-r", str(gz), *args, env={"TMPDIR": str(tmp)})
    assert "Traceback" not in err
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("command", [["--print"], ["--ftp"], ["--conv", "tcp"], ["--follow", "tcp,0"],
                                     ["--diagram", "tcp,0"], ["--export-objects", "ftp-data,{out}"]])
def test_every_command_warns_about_a_cut_capture(tmp_path, command):
    """A capture cut in the middle of a packet: each command says so on stderr (exit 2), with
    the file's name made harmless (this one holds an escape sequence and a bidi override)."""
    data = SEED.read_bytes()
    path = tmp_path / "cut\x1b]0;pwned\x07\u202e.pcap"
    path.write_bytes(data[:len(data) - 30])
    args = [a.format(out=tmp_path / "out") for a in command]
    out, err, rc = run("-r", str(path), *args)
    assert rc == 2 and "Traceback" not in err
    assert "cut short" in err and "cut.]0;pwned...pcap" in err
    assert not CONTROL & set(err)


def test_missing_file_with_escapes_in_its_name(tmp_path):
    out, err, rc = run("-r", str(tmp_path / "\x1b[2Jgone[b].pcap"), "--print")
    assert rc == 2
    assert_one_line(err)
    assert ".[2Jgone[b].pcap" in err


def test_export_names_are_safe(tmp_path):
    out, err, rc = run("-r", str(HOSTILE / "markup.pcap"), "--export-objects", f"ftp-data,{tmp_path}")
    assert (rc, err) == (0, "")
    names = [p.name for p in tmp_path.iterdir()]
    expected = FILE_NAME.rsplit("/", 1)[-1].replace("\x1b", "_").replace("\x07", "_").replace("\u202e", "_")
    assert names == [expected]
    assert not CONTROL & set(out)
    assert (tmp_path / expected).read_bytes().startswith(b"[@click=app.quit]content[/]")


def test_export_into_a_directory_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out, err, rc = run("-r", str(SEED), "--export-objects", f"ftp-data,{blocker}/sub")
    assert rc == 2
    assert_one_line(err)
    assert "cannot create the directory" in err


def test_thousands_of_colliding_names(tmp_path):
    """Every transfer named alike: each file still gets a name of its own, without retrying
    every taken name each time."""
    from ftptui.ftp.extract import Names
    for k in range(50):
        (tmp_path / (f"same-{k}.txt" if k else "same.txt")).write_text("taken")
    names = Names()
    paths = set()
    for _ in range(3000):
        fd, path = names.create(str(tmp_path), "same.txt")
        os.close(fd)
        paths.add(path)
    assert len(paths) == 3000 and str(tmp_path / "same-3049.txt") in paths
