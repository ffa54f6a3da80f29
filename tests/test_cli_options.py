"""Command-line options that only work with another are refused with one line, the browser
is not started without a terminal (a script would hang on it), and --version says what runs.
Each check is a real `python -m ftptui` process."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "ftptui" / "data" / "sample-ftp-active.pcap"


def run(*args: str) -> subprocess.CompletedProcess:
    # no terminal anywhere (stdin /dev/null, output captured): a browser started here would hang
    return subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_version_names_ftptui_and_its_libraries():
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    p = run("--version")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith(f"ftptui {version} (Python {sys.version.split()[0]}, textual ")
    assert "scapy " in p.stdout and "numpy " in p.stdout and p.stdout.count("\n") == 1


@pytest.mark.parametrize("args, words", [
    (["--json"], "--json works with --ftp"),
    (["--fold"], "--fold works with --diagram"),
    (["--format", "hex"], "--format works with --follow"),
    (["--diagram", "1"], "--diagram N draws FTP session N: add --ftp"),
    (["--tshark-ftp-data"], "--tshark-ftp-data works with --print"),
    (["--conv", "tcp", "--json"], "--json works with --ftp"),
])
def test_an_option_without_its_partner_is_one_line_and_status_2(args, words):
    p = run("-r", str(SAMPLE), *args)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("ftptui: ") and words in p.stderr and p.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["--ftp", "--json"], ["--ftp", "--diagram", "1", "--fold"],
                                  ["--follow", "tcp,0", "--format", "hex"], ["--diagram", "tcp,0"],
                                  ["--print", "--tshark-ftp-data"]])
def test_the_same_options_with_their_partner_work(args):
    p = run("-r", str(SAMPLE), *args)
    assert p.returncode == 0 and p.stderr == "" and p.stdout


@pytest.mark.parametrize("args", [[], ["-Y", "ftp"], ["--demo"]])
def test_no_browser_without_a_terminal(args):
    p = run(*(["-r", str(SAMPLE)] if "--demo" not in args else []), *args)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == ("ftptui: standard input is not a terminal: the browser needs one; to print instead "
                        "use --print, --ftp, --conv, --follow or --export-objects\n")


def test_a_bad_filter_for_the_browser_is_its_one_line_before_anything_else():
    p = run("-r", str(SAMPLE), "-Y", "tcp.port ==")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("ftptui: invalid display filter:") and "column 12" in p.stderr


def test_what_is_wrong_with_the_file_comes_before_the_missing_terminal(tmp_path):
    bad = tmp_path / "notes.pcap"
    bad.write_text("not a capture\n")
    p = run("-r", str(bad))
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert str(bad) in p.stderr and "terminal" not in p.stderr
