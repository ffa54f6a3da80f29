"""`ftptui --print` against `tshark -r` for every public capture and the two seed captures.

Asserted: every line whose tshark Protocol column is a core protocol (the ones ftptui decodes
fully) and whose tshark Info carries no `[TCP ...]` analysis label (a later feature) must be
identical.  Everything else (TLS, HTTP, SSH, NTP, NBNS, STP, reassembly notes...) is only
counted: the overall match ratio is printed (`pytest -s` shows it).

Known core-line differences are listed in KNOWN_CORE_DIFFS with their precise cause; they are
left out of the per-capture test and each has a strict xfail test of its own, so fixing one
makes that test XPASS (and fail) until its entry is removed here.
"""
from __future__ import annotations

import contextlib
import io
import re
from functools import lru_cache
from pathlib import Path

import pytest

from ftptui import cli

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(p for p in (DATA / "public").iterdir()
                  if p.suffix in (".pcap", ".pcapng") and Path(str(p) + ".tshark.txt").exists())
CAPTURES += [DATA / "seed-ftp-active.pcap", DATA / "seed-ftp-passive.pcap"]

CORE = {"Ethernet", "ARP", "RARP", "IPv4", "IPv6", "ICMP", "ICMPv6", "UDP", "TCP", "DNS", "MDNS", "LLMNR",
        "FTP", "FTP-DATA"}

# (capture file name, frame number) -> why ftptui's line differs from tshark's
KNOWN_CORE_DIFFS: dict[tuple[str, int], str] = {
    # none at the moment.  (Fixed: suricata-verify__ftp-port-memcap.pcap #18, an FTP reply that is
    # one NUL byte: tshark 4.0 format_text() shows it as octal 'Response: \\000', not '\\x00'.)
}

# tshark line: number (width 5), time (width 10, may overflow), source (right, 12) → destination
# (left, 12; may be empty), protocol, length, info
_AFTER_ARROW = re.compile(r"^(\S*)\s+(\S+) (\d+) ?(.*)$")


def split_line(line: str) -> tuple[str, str, str]:
    """(frame number, protocol, info) of a tshark-style list line."""
    number = line[:5].strip()
    right = line.split(" → ", 1)[1]
    m = _AFTER_ARROW.match(right)
    assert m, line
    return number, m.group(2), m.group(4)


@lru_cache(maxsize=None)
def listing(path: Path) -> tuple[list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["-r", str(path), "--print"])
    assert rc == 0 and err.getvalue() == "", err.getvalue()
    expected = Path(str(path) + ".tshark.txt").read_text().splitlines()
    return out.getvalue().splitlines(), expected


def is_core(tshark_line: str) -> bool:
    _, proto, info = split_line(tshark_line)
    return proto in CORE and "[TCP " not in info


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_core_lines_match_tshark(path):
    got, expected = listing(path)
    assert len(got) == len(expected)
    same = sum(a == b for a, b in zip(got, expected))
    core = [(a, b) for a, b in zip(got, expected) if is_core(b)]
    core_same = sum(a == b for a, b in core)
    print(f"\n{path.name}: {same}/{len(expected)} lines identical ({100 * same / max(1, len(expected)):.1f}%), "
          f"core {core_same}/{len(core)}")
    bad = [(b, a) for a, b in core
           if a != b and (path.name, int(split_line(b)[0])) not in KNOWN_CORE_DIFFS]
    assert not bad, "\n".join(f"tshark: {t}\nftptui: {o}" for t, o in bad)


if KNOWN_CORE_DIFFS:
    @pytest.mark.parametrize("key", [pytest.param(k, id=f"{k[0]}#{k[1]}",
                                                  marks=pytest.mark.xfail(reason=v, strict=True))
                                     for k, v in KNOWN_CORE_DIFFS.items()])
    def test_known_core_difference(key):
        name, frame = key
        got, expected = listing(next(p for p in CAPTURES if p.name == name))
        assert got[frame - 1] == expected[frame - 1]


def test_overall_match_ratio():
    """Not a goal yet: report how much of tshark's listing ftptui reproduces overall."""
    total = same = core_total = core_same = 0
    for path in CAPTURES:
        got, expected = listing(path)
        for a, b in zip(got, expected):
            total += 1
            same += a == b
            if is_core(b):
                core_total += 1
                core_same += a == b
    print(f"\noverall: {same}/{total} lines identical ({100 * same / total:.1f}%); "
          f"core-protocol lines: {core_same}/{core_total} ({100 * core_same / core_total:.1f}%)")
    assert total > 0 and core_total > 0
