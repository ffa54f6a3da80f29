#!/usr/bin/env python3
"""Opening a capture in a real terminal, in alternating launches: the issue's two bounds on it.

    python bench/bench_open.py [--pairs N]

Each round launches, one after the other: the app on the 84-packet sample (first rows on
screen), the app on the 1,000,000-packet capture (first rows, and everything indexed), and a
process without UI that imports ftptui and indexes the same file in one thread (launch to done,
bench_latency's HEADLESS).  Alternating them lets the machine's drift (a third within minutes
on this VM) touch each kind alike; the median of the rounds' differences is compared (a single
launch varies by 0.2 s here: use 30 rounds or more to tell 50 ms apart):

- first rows of the 1M file within 0.1 s of the small file's;
- the 1M file indexed in the app no later than without the UI.

The app runs in a private tmux server as in bench/bench_latency.py (whose helpers this uses),
but its pane is polled every 20 ms, not 5: each `tmux capture-pane` is a process, and at 5 ms
the harness is a third busy process on this 2-core machine, next to the app and its scanning
child (it put the 1M file's first rows 0.25 s behind the sample's, against 0.05 s at 20 ms).
Without tmux the benchmark says so and exits.  Results: stdout and bench/out/open-results.md.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_latency as lat  # noqa: E402


def launch(path: Path) -> tuple[float, float]:
    """(first rows, all indexed) in ms after launching the app on `path`."""
    with tempfile.TemporaryDirectory(prefix="ftptui-open-") as state:
        try:
            pane, res, _ = lat.open_app(path, Path(state), 120)
            if pane is None or res.first is None or res.done is None:
                raise RuntimeError(f"{path.name}: the app did not open it ({res.status})")
            return res.first, res.done
        finally:
            lat.kill_server()
            time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=8, help="rounds of the three launches")
    args = ap.parse_args()
    if lat.TMUX is None:
        print("SKIPPED: tmux is not installed; the app is launched in a tmux pane.")
        return 0
    lat.POLL = 0.02
    big = lat.big_capture()
    small_first, big_first, big_done, headless = [], [], [], []
    for k in range(args.pairs):
        small_first.append(launch(lat.SAMPLE)[0])
        first, done = launch(big)
        big_first.append(first)
        big_done.append(done)
        headless.append(lat.headless_index(big))
        print(f"round {k + 1}: sample first rows {small_first[-1]:,.0f} ms; 1M first rows {first:,.0f} ms, "
              f"indexed {done:,.0f} ms; headless {headless[-1]:,.0f} ms", flush=True)
    m = statistics.median
    # each round's difference, then their median: the machine drifts within a run
    behind = m([b - s for b, s in zip(big_first, small_first)])
    later = m([d - h for d, h in zip(big_done, headless)])
    faster = sum(d <= h for d, h in zip(big_done, headless))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=lat.REPO).stdout.strip()
    lines = [
        "# Opening a capture in tmux, alternating launches",
        "",
        f"- {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}, Python {platform.python_version()}, "
        f"`python bench/bench_open.py --pairs {args.pairs}` (pane polled every 20 ms); medians (all values, ms, in launch order)",
        "",
        "| what | median | goal | values |",
        "|---|---:|---|---|",
        f"| first rows, 84-packet sample | {m(small_first):,.0f} ms | | {', '.join(f'{x:.0f}' for x in small_first)} |",
        f"| first rows, 1M packets | {m(big_first):,.0f} ms | within 100 ms of the sample: "
        f"{'met' if behind <= 100 else 'missed'} (median of the rounds' differences {behind:+.0f} ms) | "
        f"{', '.join(f'{x:.0f}' for x in big_first)} |",
        f"| 1M packets all indexed, in the app | {m(big_done):,.0f} ms | no later than headless: "
        f"{'met' if later <= 0 else 'missed'} (median difference {later:+.0f} ms; earlier in {faster} of "
        f"{args.pairs} rounds) | "
        f"{', '.join(f'{x:.0f}' for x in big_done)} |",
        f"| 1M packets indexed without UI (launch to done) | {m(headless):,.0f} ms | | "
        f"{', '.join(f'{x:.0f}' for x in headless)} |",
    ]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    lat.OUT.mkdir(parents=True, exist_ok=True)
    (lat.OUT / "open-results.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
