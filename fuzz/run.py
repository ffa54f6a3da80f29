#!/usr/bin/env python3
"""Run the fuzz targets (fuzz/targets.py) with atheris, coverage-guided, for a given time each.

    pip install atheris
    python fuzz/run.py --minutes 20                # every target, two at a time
    python fuzz/run.py --minutes 5 dfilter tcp     # some of them
    python fuzz/run.py --replay fuzz/findings/ftp  # run saved inputs through their target once

Corpora grow in fuzz/corpus/TARGET (seeded from tests/data), failing inputs land in
fuzz/findings/TARGET/ (libFuzzer's crash-*, timeout-*, oom-* files).  Each unit may use at most
1 GB of memory (-rss_limit_mb) and 30 s (-timeout; the app's target 120 s): a capture or filter
that needs more is a finding too, and so is one that takes over 10 s (60 s in the app).  At the
end a table gives executions, coverage (Python edges atheris saw) and findings per target; keep
it in the README.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "tests" / "data"
MAX_LEN = {"capture": 65536, "packets": 4096, "dfilter": 512, "ftp": 4096, "tcp": 4096, "ui": 4096}
# seconds one input may take before it is a finding (a slow unit / a timeout); the app's target
# drives a dozen views through Textual per input, which takes seconds by itself
SLOW = {"ui": 60}
TIMEOUT = {"ui": 120}
ORDER = ["capture", "packets", "dfilter", "ftp", "tcp", "ui"]


def seeds(target: str) -> list[tuple[str, bytes]]:
    """Starting inputs: real captures and filters from the tests."""
    captures = sorted(p for p in [*DATA.glob("*.pcap"), *DATA.glob("*/*.pcap"), *DATA.glob("*/*.pcapng"),
                                  *DATA.glob("formats/*.gz")]
                      if p.stat().st_size <= MAX_LEN["capture"])
    if target in ("capture", "ui"):
        limit = MAX_LEN[target]
        return [(p.name, p.read_bytes()) for p in captures if p.stat().st_size <= limit]
    if target == "packets":
        out = []
        for p in captures:
            raw = p.read_bytes()
            if raw[:4] == b"\xd4\xc3\xb2\xa1" and len(raw) > 40:
                link = int.from_bytes(raw[20:24], "little")
                first = int.from_bytes(raw[32:36], "little")
                code = bytes([next((k for k, lk in enumerate(LINKS) if lk == link), 0)])
                out.append((p.name, code + raw[40:40 + first]))
        return out
    if target == "dfilter":
        texts = [line.strip() for f in DATA.glob("filters/**/*.filter") for line in f.read_text().splitlines()]
        texts += [line.split("\t")[0] for f in DATA.glob("filters/*.tsv") for line in f.read_text().splitlines()]
        return [(f"f{k}", t.encode()) for k, t in enumerate(sorted(set(filter(None, texts))))]
    return [("empty", b"")]


LINKS = (1, 101, 0, 108, 113, 276, 228, 229, 12, 14, 105, 127, 147, 0xFFFF)


def worker(target: str, libfuzzer_args: list[str]) -> None:
    """In a process of its own: instrument ftptui, then let atheris drive the target."""
    import importlib
    import pkgutil

    import atheris
    sys.path.insert(0, str(HERE))
    with atheris.instrument_imports(include=["ftptui", "targets"]):
        import ftptui
        for mod in pkgutil.walk_packages(ftptui.__path__, "ftptui."):
            if not mod.name.endswith(("_pump", "__main__")):  # entry points of processes
                importlib.import_module(mod.name)
        import targets
    fn = targets.TARGETS[target]
    atheris.Setup([sys.argv[0], *libfuzzer_args], fn)
    atheris.Fuzz()


def run_target(target: str, minutes: float) -> dict:
    corpus = HERE / "corpus" / target
    findings = HERE / "findings" / target
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    for name, data in seeds(target):
        path = corpus / f"seed-{re.sub(r'[^A-Za-z0-9._-]', '_', name)}"
        if not path.exists():
            path.write_bytes(data)
    log = HERE / "findings" / f"{target}.log"
    log.write_text("")
    start = time.time()
    execs = runs = 0
    cov = rss = None
    status = 0
    # libFuzzer stops at a finding: start it again (same corpus) until the time is used up
    while (left := minutes * 60 - (time.time() - start)) > 5 and runs < 100:
        runs += 1
        args = [f"-max_total_time={int(left)}", "-rss_limit_mb=1024", f"-timeout={TIMEOUT.get(target, 30)}",
                f"-report_slow_units={SLOW.get(target, 10)}", f"-max_len={MAX_LEN[target]}",
                "-print_final_stats=1", f"-artifact_prefix={findings}/", str(corpus)]
        with open(log, "a") as out:
            proc = subprocess.run([sys.executable, __file__, "--worker", target, "--", *args],
                                  stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        status = status or proc.returncode
        text = log.read_text(errors="replace").split("INFO: Using built-in libfuzzer")[-1]
        found = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
        execs += int(found[-1]) if found else 0
        cov = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+)", text)[-1:] or cov
        rss = max(rss or 0, *[int(x) for x in re.findall(r"stat::peak_rss_mb:\s*(\d+)", text)] or [0])
        if proc.returncode == 0:
            break
    return {"target": target, "seconds": round(time.time() - start), "status": status, "runs": runs,
            "execs": execs, "cov": int(cov[0][0]) if cov else None, "ft": int(cov[0][1]) if cov else None,
            "rss_mb": rss, "findings": sorted(p.name for p in findings.iterdir()),
            "corpus": len(list(corpus.iterdir()))}


def replay(paths: list[Path]) -> int:
    sys.path.insert(0, str(HERE))
    import targets
    failed = 0
    for path in paths:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        target = path.name if path.is_dir() else path.parent.name
        for f in files:
            try:
                targets.TARGETS[target](f.read_bytes())
            except Exception as e:  # report every failure, go on with the next input
                failed += 1
                print(f"{f}: {type(e).__name__}: {e}")
            else:
                print(f"{f}: ok")
    return 1 if failed else 0


def main() -> int:
    if "--worker" in sys.argv:
        k = sys.argv.index("--worker")
        worker(sys.argv[k + 1], sys.argv[sys.argv.index("--") + 1:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="*", default=ORDER, help=f"targets to run (default: all of {', '.join(ORDER)})")
    p.add_argument("--minutes", type=float, default=20, help="time per target (default 20)")
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="targets run at once")
    p.add_argument("--replay", nargs="+", type=Path, help="run these inputs (files or fuzz/findings/TARGET dirs)")
    args = p.parse_args()
    if args.replay:
        return replay(args.replay)
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("fuzz/run.py needs atheris: pip install atheris", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda t: run_target(t, args.minutes), args.targets))
    print("| target | time | executions | coverage (edges / features) | peak RSS | corpus | findings |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['target']} | {r['seconds'] // 60} min | {r['execs'] or 0:,} | {r['cov']} / {r['ft']} | "
              f"{r['rss_mb']} MB | {r['corpus']} | {len(r['findings'])} {' '.join(r['findings'][:3])} |")
    return 0 if not any(r["findings"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
