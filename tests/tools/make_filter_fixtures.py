#!/usr/bin/env python3
"""Build tests/data/filters/expected.tsv: what tshark 4.0 says about each display filter.

Input:  tests/data/filters/cases.tsv   (hand-written; ``capture<TAB>filter`` per line,
        ``#`` lines are comments, blank lines are ignored; ``capture`` is relative to tests/data)
Output: tests/data/filters/expected.tsv (one line per case, same order as cases.tsv):

    capture <TAB> filter <TAB> status <TAB> frames <TAB> message

* ``status`` ``ok``: tshark accepted the filter; ``frames`` lists the matching frame numbers
  compressed as ranges (``1-5,7,9-12``; every run of two or more consecutive numbers is written
  ``a-b``), empty when nothing matched; ``message`` is empty, or holds the first line tshark
  wrote on stderr (a warning) if it wrote anything while still succeeding.
* ``status`` ``error``: tshark rejected the filter (non-zero exit, no output); ``frames`` is
  empty and ``message`` is the first line of tshark's stderr without the ``tshark: `` prefix
  (and without the ``Running as user "root"...`` notice), e.g.
  ``"foo" is neither a field nor a protocol name.``

Each case runs, from inside tests/data, exactly what a user would type:

    tshark -r CAPTURE -Y FILTER -T fields -e frame.number

(single pass, default preferences: an empty temporary HOME, ``LC_ALL=C.UTF-8``, ``TZ=UTC``).
Cases run in parallel; the output does not depend on the order they finish in.

Usage:
    make_filter_fixtures.py                    # cases.tsv -> expected.tsv, prints a summary
    make_filter_fixtures.py --cases F --out -  # any cases file, result on stdout (for exploring)
    make_filter_fixtures.py --check            # exit 1 if expected.tsv is not what tshark says now

Tests never run this script or tshark; they read expected.tsv.  Reference: tshark 4.0.17.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
FILTERS = DATA / "filters"
CASES = FILTERS / "cases.tsv"
EXPECTED = FILTERS / "expected.tsv"

COMMAND = "tshark -r CAPTURE -Y FILTER -T fields -e frame.number"
ROOT_NOTICE = "Running as user "


@dataclass
class Case:
    lineno: int
    section: str        # text of the last '# ==' line before it (for the -v summary)
    capture: str
    filt: str


@dataclass
class Result:
    status: str         # ok / error
    frames: list[int]
    message: str


def read_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    seen: dict[tuple[str, str], int] = {}
    section = ""
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        if raw.startswith("#"):
            if raw.startswith("# =="):
                section = raw[4:].strip()
            continue
        parts = raw.split("\t")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            sys.exit(f"{path}:{lineno}: expected 'capture<TAB>filter', got {raw!r}")
        capture, filt = parts
        if not (DATA / capture).is_file():
            sys.exit(f"{path}:{lineno}: no such capture tests/data/{capture}")
        key = (capture, filt)
        if key in seen:
            sys.exit(f"{path}:{lineno}: duplicate of line {seen[key]}: {raw!r}")
        seen[key] = lineno
        cases.append(Case(lineno, section, capture, filt))
    return cases


def tshark_env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), LC_ALL="C.UTF-8", TZ="UTC")
    env.pop("WIRESHARK_CONFIG_DIR", None)
    return env


def stderr_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(ROOT_NOTICE)]


def run_tshark(capture: str, filt: str | None, env: dict[str, str]) -> tuple[int, str, list[str]]:
    cmd = ["tshark", "-r", capture]
    if filt is not None:
        cmd += ["-Y", filt]
    cmd += ["-T", "fields", "-e", "frame.number"]
    p = subprocess.run(cmd, cwd=DATA, env=env, capture_output=True, text=True, encoding="utf-8",
                       errors="backslashreplace", timeout=120)
    return p.returncode, p.stdout, stderr_lines(p.stderr)


def parse_frames(out: str, what: str) -> list[int]:
    frames = [int(ln) for ln in out.split()]
    if frames != sorted(set(frames)):
        raise RuntimeError(f"{what}: frame numbers not strictly increasing")
    return frames


def evaluate(case: Case, env: dict[str, str]) -> Result:
    what = f"case on line {case.lineno} [{case.capture}] {case.filt!r}"
    rc, out, err = run_tshark(case.capture, case.filt, env)
    if rc == 0:
        msg = err[0].removeprefix("tshark: ").strip() if err else ""
        return Result("ok", parse_frames(out, what), msg)
    if out.strip() or not err:
        raise RuntimeError(f"{what}: tshark exit {rc} with stdout={out[:200]!r} stderr={err[:3]!r}")
    msg = err[0].removeprefix("tshark: ").strip()
    if msg.startswith("The file "):    # a capture problem, not a filter error
        raise RuntimeError(f"{what}: {msg}")
    return Result("error", [], msg)


def frame_count(capture: str, env: dict[str, str]) -> int:
    """Frames in a capture (for the summary's "matches every frame" count).

    Taken from the committed ``CAPTURE.tshark.txt`` listing (one line per frame) when there is one
    and tshark had nothing to say about the file; otherwise tshark is run without a filter.
    """
    listing = DATA / (capture + ".tshark.txt")
    if listing.is_file() and not (DATA / (capture + ".tshark.stderr")).exists():
        return len(listing.read_text(encoding="utf-8").splitlines())
    rc, out, err = run_tshark(capture, None, env)
    if rc != 0 or err:
        sys.exit(f"capture {capture} does not read cleanly: rc={rc} {err[:2]}")
    return len(parse_frames(out, capture))


def ranges(frames: list[int]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[j] + 1:
            j += 1
        parts.append(str(frames[i]) if i == j else f"{frames[i]}-{frames[j]}")
        i = j + 1
    return ",".join(parts)


def clean(field: str) -> str:
    return field.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=CASES, help="input cases file (default: %(default)s)")
    ap.add_argument("--out", default=str(EXPECTED), help="output file, or - for stdout (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file differs from a fresh run")
    ap.add_argument("-v", "--verbose", action="store_true", help="also summarise each '# ==' group")
    ap.add_argument("-j", "--jobs", type=int, default=(os.cpu_count() or 1) + 1,
                    help="parallel tshark processes (default: %(default)s)")
    args = ap.parse_args()

    if shutil.which("tshark") is None:
        sys.exit("tshark not found")
    t0 = time.monotonic()
    cases = read_cases(args.cases)
    home = tempfile.mkdtemp(prefix="filterfix-home-")
    try:
        env = tshark_env(home)
        version = subprocess.run(["tshark", "--version"], env=env, capture_output=True, text=True,
                                 check=True).stdout.splitlines()[0].strip()
        if " 4.0." not in version:
            print(f"WARNING: reference version is tshark 4.0.17, this is: {version}", file=sys.stderr)

        captures = sorted({c.capture for c in cases})
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            totals = dict(zip(captures, pool.map(lambda cap: frame_count(cap, env), captures)))
            results = list(pool.map(lambda c: evaluate(c, env), cases))
    finally:
        shutil.rmtree(home, ignore_errors=True)

    lines = [
        "# expected.tsv: made by tests/tools/make_filter_fixtures.py from cases.tsv (do not edit by hand)",
        f"# tshark: {version}",
        f"# command: cd tests/data && {COMMAND}   (empty HOME, LC_ALL=C.UTF-8, TZ=UTC; single pass)",
        "# status ok: frames = matching frame numbers as ranges 'a-b,c' (empty = none matched); "
        "message = empty, or tshark's stderr warning",
        "# status error: tshark rejected the filter; frames empty; message = first stderr line without 'tshark: '",
        "# capture\tfilter\tstatus\tframes\tmessage",
    ]
    for c, r in zip(cases, results):
        lines.append("\t".join([c.capture, c.filt, r.status, ranges(r.frames), clean(r.message)]))
    text = "\n".join(lines) + "\n"
    if args.check:
        target = Path(args.out)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            print(f"{target} is up to date", file=sys.stderr)
            return 0
        print(f"{target} differs from what tshark says now", file=sys.stderr)
        return 1
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")

    # ------------------------------------------------------------------ summary
    n_ok = sum(r.status == "ok" for r in results)
    ok = [(c, r) for c, r in zip(cases, results) if r.status == "ok"]
    none = sum(not r.frames for _, r in ok)
    every = sum(len(r.frames) == totals[c.capture] for c, r in ok)
    warned = sum(bool(r.message) for _, r in ok)
    print(f"{version}", file=sys.stderr)
    print(f"{len(cases)} cases on {len(captures)} captures: {n_ok} ok, {len(cases) - n_ok} error; "
          f"of the ok ones {none} match no frame, {every} match every frame, "
          f"{n_ok - none - every} match some; {warned} ok with a warning "
          f"({time.monotonic() - t0:.1f}s)", file=sys.stderr)
    if args.verbose:
        groups: dict[str, list[tuple[Case, Result]]] = {}
        for c, r in zip(cases, results):
            groups.setdefault(c.section, []).append((c, r))
        for name, items in groups.items():
            oks = [(c, r) for c, r in items if r.status == "ok"]
            print(f"  {len(items):3d} cases ({len(items) - len(oks):2d} error, "
                  f"{sum(not r.frames for _, r in oks):2d} none, "
                  f"{sum(len(r.frames) == totals[c.capture] for c, r in oks):2d} all)  {name}",
                  file=sys.stderr)
    if args.out != "-":
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
