"""`ftptui -r FILE --print -Y FILTER` prints what `tshark -r FILE -Y FILTER` prints (outputs in
tests/data/filters/print/, with the filter next to each), and a bad filter is one line on stderr
with the column it points at, and exit status 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
PRINT = DATA / "filters" / "print"
CASES = sorted(PRINT.glob("*.filter"))


def run(*args):
    p = subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True)
    return p.stdout, p.stderr, p.returncode


def capture_for(filter_file: Path) -> Path:
    name = filter_file.name[:-len(".filter")]
    return DATA / name if (DATA / name).exists() else DATA / "public" / name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_print_with_filter_matches_tshark(case):
    flt = case.read_text().strip()
    out, err, rc = run("-r", str(capture_for(case)), "--print", "-Y", flt)
    assert (rc, err) == (0, "")
    expected = (PRINT / (case.name[:-len(".filter")] + ".tshark.txt")).read_text()
    assert out.splitlines() == expected.splitlines()


@pytest.mark.parametrize("flt, column, words", [
    ("tcp.port == 21 and ip.src == 10.10.15", 30, "not a valid hostname or IPv4 address"),
    ("tcp port 21", 5, "capture filter"),
    ("ftp.request.comand == USER", 1, "neither a field nor a protocol name. Did you mean ftp.request.command?"),
])
def test_bad_filter_is_one_line_with_its_position(flt, column, words):
    out, err, rc = run("-r", str(DATA / "seed-ftp-active.pcap"), "--print", "-Y", flt)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("ftptui: invalid display filter: ")
    assert words in err and f"at column {column} " in err
