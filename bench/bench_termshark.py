#!/usr/bin/env python3
"""termshark side by side with ftptui: the same keys on the same capture in the same 160x48 tmux pane.

    python bench/bench_termshark.py [--capture ftp|big] [--timeout S] [--open-timeout S] [--no-ftptui]

Reuses bench_latency.py's harness (private tmux server, `send-keys`, `capture-pane` polled every
~5 ms, a step timed until its expected screen is drawn; first response and done for work that
shows progress) and runs bench_latency's ftptui script on the same capture in the same process.

termshark (apt install termshark) runs `tshark -T psml` over the whole file to fill its packet
list (a percentage and a <Stop> button in the filter bar meanwhile) and `tshark -T pdml` for a
chunk of packets around the selection (the tree lags the list); a display filter re-runs the PSML
load.  Each run gets a fresh HOME / XDG_CONFIG_HOME / XDG_CACHE_HOME: its first launch there
builds termshark's tshark field cache ("Termshark is initializing"), measured on the 84-packet
sample (the cold open); the capture is then opened with that cache warm.

The equivalent keys: Down, PageDown, G, gg, / + Enter (apply), :clear-filter + Enter (clear), 1000gg
(go to), Tab / Enter (tree, expand), :convs + Enter and q (conversations), :streams + Enter and q
(follow).  ftptui's FTP view has no termshark equivalent.  Closing termshark's follow view applies
the stream's filter (a reload), ftptui's Esc goes back to the whole list.

--capture ftp (default): bench/out/ftp-big.pcap; --capture big: bench/out/big-1000000.pcap, where
termshark's load takes minutes and GBs: --open-timeout (300 s) bounds it ("not loaded within").
Every tmux server and termshark/tshark process started is killed at the end (Ctrl+C included).
Results: stdout and bench/out/termshark-results.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_latency as bl  # noqa: E402
from bench_latency import CHANGED, Expect, Result, Shot, Step, fmt, has  # noqa: E402

TERMSHARK = shutil.which("termshark")
ROW_1 = r"^ 1\s+0\.0"  # the first packet row of termshark's list


# --- termshark's processes ------------------------------------------------------------------------
def children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(stat.parent.name))
    return out


def tree(pid: int) -> list[int]:
    """pid and its descendants (termshark and the tshark/dumpcap processes it runs)."""
    kids, out = children(), [pid]
    for p in out:
        out += kids.get(p, [])
    return out


def proc_field(pid: int, name: str) -> int:
    """A kB field of /proc/PID/status (VmRSS, VmHWM); 0 once gone."""
    try:
        m = re.search(rf"^{name}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return 0
    return int(m.group(1)) if m else 0


class TermsharkPane(bl.Pane):
    """The work is in termshark's tshark children: CPU time (for "idle") and memory count them too."""

    def __init__(self, command: list[str], state: Path):
        super().__init__(command, state)
        self.seen: set[int] = {self.pid}  # every process of the tree seen: killed by id at the end

    def cpu(self) -> float:
        pids = tree(self.pid)
        self.seen.update(pids)
        return sum(cpu_seconds(p) for p in pids)

    def rss_mb(self) -> float:
        pids = tree(self.pid)
        self.seen.update(pids)
        return sum(proc_field(p, "VmRSS") for p in pids) / 1024

    def kill(self) -> None:
        """End the tmux server, then whatever of termshark's tree outlived it (tshark ignores SIGHUP
        while it writes to a pipe nobody reads)."""
        self.seen.update(tree(self.pid))
        bl.kill_server()
        for pid in self.seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + 5  # gone before the next run starts (a zombie counts as gone)
        while time.monotonic() < deadline and any(proc_field(p, "VmRSS") for p in self.seen):
            time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used (all its threads); 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- what termshark's screens show ------------------------------------------------------------------
SETTLE = 1.5  # s: on a big file termshark's <Stop> vanishes for a moment mid-load: a load is over once it stays gone


class Load:
    """A (re)load of the packet list is over: its <Stop> button was shown, then gone for SETTLE s, and
    rows (`then`) and a tree are drawn.  Stateful (one per step): before the load starts the screen
    lacks <Stop> too.  `settled_ms`: the settle wait, subtracted from the step's done time."""

    def __init__(self, then: str = r"^ \d+\s+\d+\.\d", started: bool = False):
        self.then, self.started = then, started
        self.gone_at: float | None = None
        self.settled_ms = 0.0

    def __call__(self, now: str, before: str = "") -> bool:
        if "<Stop>" in now:
            self.started, self.gone_at = True, None
            return False
        if not (self.started and re.search(self.then, now, re.M) and "Frame " in now):
            return False
        t = time.perf_counter()
        self.gone_at = self.gone_at or t
        self.settled_ms = (t - self.gone_at) * 1000
        return t - self.gone_at >= SETTLE


def unsettle(results: list[Result], script: list[Step]) -> None:
    """Take the settle wait off the done time of the steps that wait for a load."""
    loads = {s.name: s.expect.test for s in script if isinstance(s.expect.test, Load)}
    for r in results:
        if r.name in loads and r.done is not None:
            r.done -= loads[r.name].settled_ms
            r.first = min(r.first, r.done) if r.first is not None else r.done


def loading(now: str, before: str) -> bool:
    return "<Stop>" in now


def expanded_more(now: str, before: str) -> bool:
    return now.count("[-]") > before.count("[-]")


def steps(cap: bl.Capture, packets: int) -> list[Step]:
    """The termshark script; names as in bench_latency where ftptui has the same step."""
    flt, frame = cap.filter, f"Frame {cap.goto}:"
    out = [Step(f"scroll down {k + 2}", ("Down",), has(f"Frame {k + 2}:")) for k in range(5)]
    out += [Step(f"page down {k + 1}", ("PageDown",), Expect(test=bl.frame_moved)) for k in range(3)]
    out += [
        # the list jumps at once; the tree waits for tshark's PDML of the last chunk
        Step("G (last packet)", ("G",), has(f"Frame {packets}:"), progress=CHANGED),  # a 7-digit No. wraps in its column
        Step("g (first packet)", ("g", "g"), has("Frame 1:")),
        Step("/ (filter bar)", ("/",), CHANGED),
        Step("type the filter", (flt,), Expect(regex=r"Filter: " + re.escape(flt)), literal=True, measured=False),
        Step(f"apply {flt!r}", ("Enter",), Expect(test=Load()), progress=Expect(test=loading)),
        # the focus stays in the filter bar; there Enter on an emptied filter does nothing: the command line clears it
        Step("Tab (to the list)", ("Tab",), CHANGED, measured=False),
        Step("type :clear-filter", (":clear-filter",), has(":clear-filter"), literal=True, measured=False),
        Step("clear the filter", ("Enter",), Expect(test=Load(ROW_1)), progress=Expect(test=loading)),
        Step(f"select packet {cap.goto}", (f"{cap.goto}gg",), has(frame), progress=CHANGED, literal=True),  # the list, then the tree
        Step("Tab (tree)", ("Tab",), CHANGED),
        Step("expand a node", ("Enter",), Expect(test=expanded_more)),
        Step("Tab (hex)", ("Tab",), CHANGED),
        Step("Tab (back to list)", ("Tab",), CHANGED),
        Step("type :convs", (":convs",), has(":convs"), literal=True, measured=False),
        Step("C (conversations)", ("Enter",), Expect(regex=r"TCP \(\d+\)", lacks=("Please wait",)), progress=has("Conversations (")),
        Step("Esc (close conv.)", ("q",), has(frame, lacks=("Conversations (",))),
        Step("type :streams", (":streams",), has(":streams"), literal=True, measured=False),
        Step("F (follow)", ("Enter",), Expect(regex=r"[1-9]\d* (client|server) pkts"), progress=has("Follow TCP Stream (tcp.stream eq")),
        # termshark's q applies the stream's filter: done is that reload over
        Step("Esc (close follow)", ("q",), Expect(test=Load()), progress=has("Filter: tcp.stream eq")),
    ]
    return out


# --- a termshark run ------------------------------------------------------------------------------------
def launch(path: Path, home: Path, timeout: float) -> tuple[TermsharkPane, Result]:
    """Start termshark in `home` (its config and cache) and wait until the capture is loaded."""
    bl.APP_ENV.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    t0 = time.perf_counter()
    pane = TermsharkPane([TERMSHARK, "-r", str(path)], home)
    try:
        return pane, wait_loaded(pane, t0, timeout)
    except BaseException:  # Ctrl+C: no tshark left behind
        pane.kill()
        raise


def wait_loaded(pane: TermsharkPane, t0: float, timeout: float) -> Result:
    """first response: packet 1's row; done: the PSML load over (no <Stop>, for good) and the tree drawn."""
    res = Result("open", "(launch)", progress=True)
    loaded = Load(r"Frame 1:", started=True)  # a small file may load between two polls
    shot = Shot("", "")
    while time.perf_counter() - t0 < timeout:
        try:
            shot = pane.shot()
        except bl.AppEnded:
            res.status, res.screen = "ENDED", shot.plain
            return res
        ms = (time.perf_counter() - t0) * 1000
        if res.first is None and re.search(ROW_1, shot.plain, re.M):
            res.first = ms
        if res.first is not None and loaded(shot.plain):
            res.done = ms - loaded.settled_ms
            res.busy_after = pane.wait_idle()
            return res
        time.sleep(bl.POLL)
    res.status, res.screen = f"not loaded within {timeout:.0f} s", shot.plain
    return res


def open_once(path: Path, home: Path, timeout: float) -> tuple[Result, float]:
    """Open and close (the cold open on the sample); returns the result and the tree's RSS in MB."""
    pane, res = launch(path, home, timeout)
    try:
        return res, pane.rss_mb()
    finally:
        pane.kill()


def run_termshark(cap: bl.Capture, packets: int, timeout: float, open_timeout: float) -> tuple[list[Result], Result, float]:
    """The cold open (sample) and the script on the capture, in one fresh home; the results, the
    cold open and the RSS (MB) of termshark + its tshark processes once the capture is loaded."""
    with tempfile.TemporaryDirectory(prefix="termshark-bench-") as tmp:
        home = Path(tmp)
        saved = dict(bl.APP_ENV)
        cold, _ = open_once(bl.SAMPLE, home, 120)
        pane, opened = launch(cap.path, home, open_timeout)
        try:
            rss = pane.rss_mb()
            results = [opened]
            if opened.status == "ok":
                script = steps(cap, packets)
                bl.Script(pane, timeout, None, results).run(script)
                unsettle(results, script)
            else:
                print(f"  open: {opened.status}; the screen:\n{opened.screen}", flush=True)
            return results, cold, rss
        finally:
            pane.kill()
            bl.APP_ENV.clear()
            bl.APP_ENV.update(saved)  # ftptui runs next: not in this home


# --- the report -------------------------------------------------------------------------------------------
def packet_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Number of packets:\s+(\d+)", out).group(1))


def version(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return next((line for line in out.splitlines() if line.strip()), "?").strip()


def cell(r: Result | None, which: str, timeout: float = 0) -> str:
    """A time, or why there is none; a TIMEOUT keeps the first response it had."""
    if r is None:
        return "n/a"
    if which == "first" and r.first is not None:
        return fmt(r.first)
    if r.status == "TIMEOUT" and timeout:
        return f"TIMEOUT (> {timeout:.0f} s)"
    return r.status if r.status != "ok" else fmt(r.done)


def comparison(ts: list[Result], ft: list[Result] | None, timeout: float) -> list[str]:
    """One row per termshark step, ftptui's figures for the step of the same name beside it."""
    by_name = {r.name: r for r in ft or []}
    lines = ["| step | termshark key | termshark first ms | termshark done ms | ftptui key | ftptui first ms | ftptui done ms |",
             "|---|---|---:|---:|---|---:|---:|"]
    for r in ts:
        f = by_name.get(r.name)
        fkey = f"`{f.key}`" if f else ""
        lines.append(f"| {r.name} | `{r.key}` | {cell(r, 'first', timeout)} | {cell(r, 'done', timeout)} | {fkey} | "
                     f"{cell(f, 'first', timeout) if ft else 'not run'} | {cell(f, 'done', timeout) if ft else 'not run'} |")
    return lines


def report(args, cap: bl.Capture, packets: int, ts: list[Result], cold: Result, rss: float,
           ft: list[Result] | None, ft_sample: Result | None, floor: tuple[float, float]) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=bl.REPO).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    opened = ts[0]
    lines = ["# termshark vs ftptui: key latency in tmux", "",
             f"- {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
             f"load {load} (at the end), pane {bl.WIDTH}x{bl.HEIGHT}",
             f"- termshark {termshark_version()}, {version(['tshark', '-v'])}",
             f"- `python bench/bench_termshark.py --capture {args.capture} --timeout {args.timeout:g} --open-timeout {args.open_timeout:g}`: "
             f"one run each; {cap.path.name} "
             f"({cap.path.stat().st_size / 1e6:,.1f} MB, {packets:,} packets)",
             f"- harness: a key echoed by `cat` in a pane takes {floor[0]:.0f} ms (median; max {floor[1]:.0f}); "
             "first: the key's result, or for work that shows progress the progress; done: the result", ""]
    lines += ["## Open (launch to screen)", "",
              f"- termshark: first rows after {cell(opened, 'first')} ms, list fully loaded (<Stop> gone for good) after {cell(opened, 'done')} ms, "
              f"then busy {opened.busy_after:.1f} s; termshark + tshark RSS {rss:,.0f} MB once loaded",
              f"- termshark cold (fresh config and cache: its tshark field cache is built), the 84-packet sample: "
              f"first rows after {cell(cold, 'first')} ms, loaded after {cell(cold, 'done')} ms"]
    if ft:
        lines += [f"- ftptui: first rows after {cell(ft[0], 'first')} ms, everything indexed after {cell(ft[0], 'done')} ms, "
                  f"then busy {ft[0].busy_after:.1f} s; the 84-packet sample: first rows after {cell(ft_sample, 'first')} ms"]
    lines += ["", "## Keys", ""] + comparison(ts[1:], ft[1:] if ft else None, args.timeout)
    lines += ["", f"Notes: termshark's `{cap.goto}gg` is typed in one go (ftptui: Ctrl+G, the number, Enter: only Enter is timed); "
              "`:convs` / `:streams` are typed untimed, Enter timed. termshark's q after follow applies `tcp.stream eq N` "
              "(a reload of the list); ftptui's Esc returns to the whole list. ftptui's FTP view (T) has no termshark counterpart."]
    return "\n".join(lines) + "\n"


def termshark_version() -> str:
    r = subprocess.run([TERMSHARK, "-h"], capture_output=True, text=True)  # -v with stdout not a tty is tshark -v
    out = r.stdout + r.stderr
    m = re.search(r"termshark v?(\S+)", out)
    return m.group(1) if m else "?"


def on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # `timeout` and kill: the finally blocks still end termshark and tshark


def main() -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capture", choices=("ftp", "big"), default="ftp")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a step may take before it is a TIMEOUT")
    ap.add_argument("--open-timeout", type=float, default=300.0, help="seconds termshark may take to load the capture")
    ap.add_argument("--no-ftptui", action="store_true", help="only termshark")
    args = ap.parse_args()
    if bl.TMUX is None or TERMSHARK is None:
        print("SKIPPED: needs tmux and termshark (apt-get install -y tmux termshark)")
        return 0
    try:
        floor = bl.harness_floor()
        cap = bl.captures(args.capture)[0]
        packets = packet_count(cap.path)
        print(f"termshark on {cap.path} ({packets:,} packets)", flush=True)
        ts, cold, rss = run_termshark(cap, packets, args.timeout, args.open_timeout)
        ft = ft_sample = None
        if not args.no_ftptui:
            print(f"ftptui on {cap.path}", flush=True)
            ft = bl.run_script(cap, args.timeout, None)
            ft_sample = bl.open_sample(args.timeout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bl.kill_server()
    text = report(args, cap, packets, ts, cold, rss, ft, ft_sample, floor)
    print("\n" + text)
    bl.OUT.mkdir(parents=True, exist_ok=True)
    (bl.OUT / "termshark-results.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
