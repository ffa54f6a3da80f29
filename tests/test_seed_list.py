"""The seed capture's packet list must equal tshark 4.0's, line for line."""
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def test_seed_print_matches_tshark():
    out = subprocess.run([sys.executable, "-m", "ftptui", "-r", str(DATA / "seed-ftp-active.pcap"), "--print"],
                         capture_output=True, text=True, check=True).stdout
    expected = (DATA / "seed-ftp-active.expected.txt").read_text()
    assert out.splitlines() == expected.splitlines()


def test_passive_seed_print_matches_tshark():
    out = subprocess.run([sys.executable, "-m", "ftptui", "-r", str(DATA / "seed-ftp-passive.pcap"), "--print"],
                         capture_output=True, text=True, check=True).stdout
    expected = (DATA / "seed-ftp-passive.expected.txt").read_text()
    assert out.splitlines() == expected.splitlines()
