"""Every input that ever made a fuzz target fail (tests/data/fuzz/TARGET/NAME) passes now.

The targets are fuzz/targets.py, run as they are under atheris (fuzz/run.py), without atheris.
An input's name says what it found; tests/data/fuzz/README.md lists them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))
import targets  # noqa: E402

CASES = sorted((ROOT / "tests" / "data" / "fuzz").glob("*/*"))
CASES = [c for c in CASES if c.parent.name in targets.TARGETS]


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fuzz_finding_stays_fixed(case):
    targets.TARGETS[case.parent.name](case.read_bytes())
