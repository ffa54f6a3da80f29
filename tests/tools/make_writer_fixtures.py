#!/usr/bin/env python3
"""tests/data/writer/: files written by ftptui.capture.writer (the UI's "save as") and what
tshark 4.0.17 reads from them, so tests/test_writer.py can check the writer without tshark.

For each case (a source capture, the frames saved, the format) it writes W with write_capture and
stores W, W.tshark.txt (`tshark -r W`) and W.fields.tsv (`tshark -r W -T fields -e frame.number
-e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_id`), with tshark's default
preferences (empty HOME, LC_ALL=C.UTF-8, TZ=UTC).  The test writes the same cases again, checks
they are byte-identical to W (so what tshark read is what the writer writes) and that our reader
reads W back as tshark did and as the source's packets.

    python tests/tools/make_writer_fixtures.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_writer import CASES, OUT, written  # noqa: E402  (the cases live with the test)

FIELDS = ["frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id"]


def main() -> int:
    if not shutil.which("tshark"):
        print("tshark is needed to make these fixtures", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp()
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home + "/.config", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    try:
        for name in CASES:
            path = OUT / name
            written(name, path)
            run = lambda *a, name=name: subprocess.run(["tshark", "-r", name, *a], cwd=OUT, env=env,  # noqa: E731
                                            capture_output=True, text=True, check=True).stdout
            (OUT / (name + ".tshark.txt")).write_text(run())
            fields = [x for f in FIELDS for x in ("-e", f)]
            (OUT / (name + ".fields.tsv")).write_text(run("-T", "fields", *fields))
            print(name)
    finally:
        shutil.rmtree(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
