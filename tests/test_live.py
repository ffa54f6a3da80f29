"""Live capture on loopback: `ftptui -i lo -f BPF --print -c N -w OUT` while the test makes real
TCP traffic (and a whole FTP session: pyftpdlib + ftplib, tests/ftp_traffic.py), the errors (an
invalid capture filter, an unknown interface, no privileges), `-D`, and the LiveCapture API.

Every wait is on a condition (a line on stderr, the process ending, the index growing), bounded
by TIMEOUT; nothing here sleeps to synchronise.  Capturing needs root or CAP_NET_RAW on Linux;
capture filters need libpcap or tcpdump: tests that need what is missing are skipped with the
reason.
"""
from __future__ import annotations

import ctypes
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from loopback import Server, capture_unavailable

from ftptui.capture import bpf, open_capture
from ftptui.capture.live import LiveCapture, capture_interfaces, interface_lines
from ftptui.capture.spool import follow
from ftptui.errors import CaptureError
from ftptui.store.index import PacketIndex

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0


NO_CAPTURE = capture_unavailable()
needs_capture = pytest.mark.skipif(NO_CAPTURE is not None, reason=NO_CAPTURE or "")
needs_bpf = pytest.mark.skipif(bpf.available() is None, reason=bpf.NO_COMPILER)


def ftptui(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ftptui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, **kw)


def run_ftptui(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, **kw)


def wait_for_stderr(proc: subprocess.Popen, text: bytes) -> bytes:
    """Read the process's stderr until `text` appears (or fail with what it said)."""
    err = b""
    deadline = time.monotonic() + TIMEOUT
    while text not in err:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stderr], [], [], left)[0]:
            proc.kill()
            pytest.fail(f"no {text!r} on stderr: {err.decode(errors='replace')}")
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            proc.wait(TIMEOUT)
            pytest.fail(f"ftptui ended before {text!r}: {err.decode(errors='replace')}")
        err += chunk
    return err


def pcap_records(path: Path) -> list[tuple[int, int]]:
    """(caplen, origlen) of each record of a little-endian microsecond pcap, strictly."""
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "not a pcap file"
    pos, out = 24, []
    while pos < len(data):
        assert pos + 16 <= len(data), "a record header is cut short"
        _s, _u, cl, ol = struct.unpack_from("<IIII", data, pos)
        assert pos + 16 + cl <= len(data), "a record is cut short"
        out.append((cl, ol))
        pos += 16 + cl
    return out


# --- printing a live capture -----------------------------------------------------------------------


@needs_capture
@needs_bpf
def test_print_count_write(tmp_path):
    """-c N: exactly N lines, the -w file a valid pcap of the same N packets, printed alike."""
    server, out, n = Server(TIMEOUT), tmp_path / "live.pcap", 12
    try:
        proc = ftptui("-i", "lo", "-f", f"tcp port {server.port}", "--print", "-c", str(n), "-w", str(out))
        err = wait_for_stderr(proc, b"Capturing on 'lo'")
        sent = 0
        while proc.poll() is None and sent < 50:  # each exchange is about 10 packets
            server.exchange(b"x" * (100 + sent))
            sent += 1
        stdout, rest = proc.communicate(timeout=TIMEOUT)
    finally:
        server.close()
    err += rest
    assert proc.returncode == 0, err
    lines = stdout.decode().splitlines()
    assert len(lines) == n
    assert f"{n} packets captured".encode() in err
    assert all(f"{server.port}" in line for line in lines)
    assert [int(line.split()[0]) for line in lines] == list(range(1, n + 1))
    assert len(pcap_records(out)) == n
    again = run_ftptui("-r", str(out), "--print")
    assert again.returncode == 0 and again.stdout.splitlines() == lines
    if shutil.which("tshark"):
        ts = subprocess.run(["tshark", "-r", str(out)], capture_output=True, text=True, timeout=60)
        assert len(ts.stdout.splitlines()) == n


@needs_capture
@needs_bpf
def test_display_filter_on_live_rows(tmp_path):
    """-Y filters the printed rows; -w still saves every captured packet."""
    server, out, n = Server(TIMEOUT), tmp_path / "live.pcap", 10
    try:
        proc = ftptui("-i", "lo", "-f", f"tcp port {server.port}", "-Y", "tcp.flags.syn == 1",
                      "--print", "-c", str(n), "-w", str(out))
        wait_for_stderr(proc, b"Capturing on")
        while proc.poll() is None:
            server.exchange(b"y")
        stdout, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        server.close()
    lines = stdout.decode().splitlines()
    assert proc.returncode == 0 and lines
    assert all("[SYN" in line for line in lines)
    assert len(pcap_records(out)) == n
    full = run_ftptui("-r", str(out), "--print", "-Y", "tcp.flags.syn == 1")
    assert full.stdout.splitlines() == lines


@needs_capture
def test_ctrl_c_writes_a_complete_file(tmp_path):
    """SIGINT ends the capture: the packets captured so far are printed and saved."""
    out = tmp_path / "int.pcap"
    dst = Server(TIMEOUT)  # a port nobody else uses, for a filter-free capture to recognise
    proc = ftptui("-i", "lo", "--print", "-w", str(out))
    try:
        wait_for_stderr(proc, b"Capturing on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for k in range(5):
                s.sendto(b"ping %d" % k, ("127.0.0.1", dst.port))
        # the capture is running: wait until the packets are in the spool, then interrupt
        deadline = time.monotonic() + TIMEOUT
        while len(pcap_records(out)) < 5 and time.monotonic() < deadline:
            select.select([], [], [], 0.05)
        proc.send_signal(signal.SIGINT)
        stdout, err = proc.communicate(timeout=TIMEOUT)
    finally:
        dst.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = stdout.decode().splitlines()
    assert sum(f"→ {dst.port}" in line for line in lines) >= 5
    assert len(pcap_records(out)) == len(lines)
    assert run_ftptui("-r", str(out), "--print").stdout.splitlines() == lines
    assert re.search(rb"\d+ packets captured", err)


# --- errors ---------------------------------------------------------------------------------------


def _one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, res
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ftptui: "), res.stderr
    assert res.stdout == ""
    return lines[0]


@needs_bpf
def test_invalid_capture_filter():
    line = _one_line_error(run_ftptui("-i", "lo", "-f", "tcp prt 80", "--print"))
    assert line == 'ftptui: invalid capture filter "tcp prt 80": can\'t parse filter expression: syntax error'


@needs_bpf
def test_seed_capture_filters_compile():
    assert bpf.compile_filter("tcp port 80")
    assert bpf.compile_filter("src net 192.168.0.0/24")
    expr = "host www.example.com and not (port 80 or port 25)"
    try:  # libpcap resolves the name when it compiles the filter
        assert bpf.compile_filter(expr)
    except CaptureError as e:  # no name service here: libpcap's own message, as tshark shows it
        assert str(e) == f"invalid capture filter \"{expr}\": unknown host 'www.example.com'"
        line = _one_line_error(run_ftptui("-i", "lo", "-f", expr, "--print"))
        assert line == f"ftptui: invalid capture filter \"{expr}\": unknown host 'www.example.com'"


def test_unknown_interface_lists_interfaces():
    line = _one_line_error(run_ftptui("-i", "nosuchif0", "--print"))
    assert "there is no interface 'nosuchif0'" in line
    for iface in capture_interfaces():
        assert iface.name in line


def test_without_libpcap_filters_are_refused_but_capture_works():
    env = {**os.environ, "FTPTUI_NO_LIBPCAP": "1"}
    line = _one_line_error(run_ftptui("-i", "lo", "-f", "tcp port 80", "--print", env=env))
    assert line == "ftptui: cannot check capture filters: install libpcap (apt-get install libpcap0.8) or tcpdump"
    # reading files never needs it
    res = run_ftptui("-r", "tests/data/seed-ftp-active.pcap", "--print", env=env)
    assert res.returncode == 0 and res.stdout


def _drop_capabilities():
    """preexec_fn: run the child as root without CAP_NET_RAW/CAP_NET_ADMIN (removed from the
    bounding set, so exec does not give them back), as in a container without NET_RAW."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (13, 12):  # CAP_NET_RAW, CAP_NET_ADMIN
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _to_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop privileges")
def test_unprivileged_run_says_how_to_fix_it():
    ran = []
    # as nobody when nobody can run this Python and read the project, else as root without
    # CAP_NET_RAW (e.g. Python under /root, which nobody cannot enter)
    try:
        nobody_can_run = subprocess.run([sys.executable, "-c", "import ftptui"], cwd=ROOT,
                                        capture_output=True, preexec_fn=_to_nobody).returncode == 0
    except PermissionError:
        nobody_can_run = False
    for drop in ((_to_nobody,) if nobody_can_run else ()) + (_drop_capabilities,):
        try:
            res = run_ftptui("-i", "lo", "--print", "-c", "1", preexec_fn=drop)
        except PermissionError:
            continue
        line = _one_line_error(res)
        assert "cannot capture on lo: permission denied" in line
        assert "run as root" in line and "setcap cap_net_raw,cap_net_admin+eip" in line
        ran.append(drop.__name__)
    assert ran


def test_live_ui_errors_come_before_the_ui():
    """`ftptui -i` without --print opens the browser; what is wrong with the command line (an
    unknown interface, an invalid filter, no privileges) is one line and status 2 before the UI
    is drawn (so nothing here needs a terminal)."""
    line = _one_line_error(run_ftptui("-i", "nosuchif0", stdin=subprocess.DEVNULL))
    assert "there is no interface 'nosuchif0'" in line
    if bpf.available():
        line = _one_line_error(run_ftptui("-i", "lo", "-f", "tcp prt 80", stdin=subprocess.DEVNULL))
        assert "invalid capture filter" in line and "syntax error" in line
    line = _one_line_error(run_ftptui("-i", "lo", "-r", "x.pcap", stdin=subprocess.DEVNULL))
    assert "not both" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop privileges")
def test_unprivileged_ui_says_how_to_fix_it():
    res = run_ftptui("-i", "lo", preexec_fn=_drop_capabilities, stdin=subprocess.DEVNULL)
    line = _one_line_error(res)
    assert "cannot capture on lo: permission denied" in line
    assert "run as root" in line and "setcap cap_net_raw,cap_net_admin+eip" in line


def test_list_interfaces_like_tshark():
    res = run_ftptui("-D")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines == interface_lines()
    names = []
    for k, line in enumerate(lines, 1):
        m = re.fullmatch(rf"{k}\. (\S+)( \(Loopback\))?", line)
        assert m, line
        names.append(m.group(1))
    assert "lo" in names and "lo (Loopback)" in res.stdout
    if shutil.which("tshark") and NO_CAPTURE is None:
        ts = subprocess.run(["tshark", "-D"], capture_output=True, text=True, timeout=60)
        theirs = [re.match(r"\d+\. (\S+)", ln).group(1) for ln in ts.stdout.splitlines() if re.match(r"\d+\. ", ln)]
        if ts.returncode != 0 or not theirs:
            pytest.skip(f"tshark -D lists nothing here: {ts.stderr.strip()[-200:]}")
        assert [n for n in theirs if n in names] == names  # same order (tshark adds pseudo-interfaces)
        assert [ln.split(". ", 1)[1] for ln in ts.stdout.splitlines() if ln.split(". ", 1)[-1].split()[0] in names] \
            == [ln.split(". ", 1)[1] for ln in lines]


def test_interface_by_number():
    number = interface_lines().index("%d. lo (Loopback)" % (1 + [i.name for i in capture_interfaces()].index("lo")))
    res = run_ftptui("-i", str(number + 1), "-f", "tcp prt 1", "--print")
    assert res.returncode == 2 and ("invalid capture filter" in res.stderr or "cannot check" in res.stderr)


# --- the API the UI builds on --------------------------------------------------------------------


@needs_capture
@needs_bpf
def test_live_capture_api(tmp_path):
    """LiveCapture + open_capture + follow: the index grows as packets arrive; counters; a
    filter change; stop, resume, clear."""
    server = Server(TIMEOUT)
    live = LiveCapture(["lo"], f"tcp port {server.port}")
    try:
        live.start()
        cap = open_capture(live.path, live.display_name)
        index = PacketIndex(cap)
        stop = threading.Event()

        def follow_until(n):
            deadline = time.monotonic() + TIMEOUT
            for batch in follow(cap, live, stop, poll=0.05):
                index.add_batch(batch)
                if len(index) >= n or time.monotonic() > deadline:
                    break
            return len(index)

        server.exchange(b"a" * 1000)
        assert follow_until(8) >= 8
        st = live.stats()
        assert st.running and st.packets >= 8 and st.dropped == 0 and st.interfaces == ["lo"]
        assert st.capture_filter == f"tcp port {server.port}"
        with pytest.raises(CaptureError, match="invalid capture filter"):
            live.set_filter("tcp prt 1")
        assert live.capture_filter == f"tcp port {server.port}"
        live.set_filter("udp port 9")  # the server's traffic is no longer captured ...
        server.exchange(b"b" * 777)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"marker", ("127.0.0.1", 9))  # ... this is
        deadline = time.monotonic() + TIMEOUT
        for batch in follow(cap, live, stop, poll=0.05):
            index.add_batch(batch)
            n = len(index)
            if int(index.cols.raw("dport")[n - 1]) == 9 or time.monotonic() > deadline:
                break
        dport, paylen = index.cols["dport"], index.cols["paylen"]
        assert int(dport[-1]) == 9 and (dport == 9).sum() == 1
        assert not (paylen == 777).any()  # nothing of the exchange after the switch
        live.stop()
        assert live.finished and not live.stats().running
        n = len(pcap_records(Path(live.path)))
        assert n == live.stats().packets == len(index)
        live.set_filter(f"tcp port {server.port}")
        live.start()  # appends to the same spool
        server.exchange(b"c")
        assert follow_until(n + 8) >= n + 8
        gen, old = live.generation, live.path
        live.clear()
        assert live.generation == gen + 1 and live.path != old and live.stats().packets == 0
        assert live.running
        cap2 = open_capture(live.path)
        server.exchange(b"d")
        deadline = time.monotonic() + TIMEOUT
        got = 0
        for batch in follow(cap2, live, stop, poll=0.05):
            got += len(batch)
            if got >= 8 or time.monotonic() > deadline:
                break
        assert got >= 8
        cap.close()
        cap2.close()
    finally:
        live.close()
        server.close()
    assert not os.path.exists(live.path)


# --- a whole FTP session captured by ftptui --------------------------------------------------------


class FtptuiCapture:
    """`ftptui -i lo -f BPF --print -w FILE` as a capture backend for tests/ftp_traffic.py."""

    name = "ftptui"

    def __init__(self, path: Path, ports):
        self.path, self.ports = path, ports

    def __enter__(self):
        self.proc = ftptui("-i", "lo", "-f", self.ports.bpf(), "--print", "-w", str(self.path))
        self.err = wait_for_stderr(self.proc, b"Capturing on")
        return self

    def stop(self) -> Path:
        self._wait_for_end()
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=TIMEOUT)
        self.stdout, self.err = out.decode(), self.err + err
        assert self.proc.returncode == 0, self.err
        assert b"dropped" not in self.err, self.err
        return self.path

    def _wait_for_end(self) -> None:
        """Until the end of the traffic is in the file: the RST that refuses the sentinel's
        connection (tests/ftp_traffic.py sends it last), or, without one, a file that has
        stopped growing."""
        sentinel = getattr(self.ports, "sentinel", None)
        cap = open_capture(str(self.path))
        index = PacketIndex(cap)
        deadline, size, since = time.monotonic() + TIMEOUT, -1, time.monotonic()
        try:
            while time.monotonic() < deadline:
                for batch in cap.tail():
                    index.add_batch(batch)
                flags, dport = index.cols["tcpflags"], index.cols["dport"]
                if sentinel is not None and ((flags & 0x04 != 0) & (dport == sentinel)).any():
                    return
                if sentinel is None:
                    if cap.size() != size:
                        size, since = cap.size(), time.monotonic()
                    elif time.monotonic() - since > 0.5:
                        return
                select.select([], [], [], 0.02)
            pytest.fail("the end of the traffic never reached ftptui's file")
        finally:
            cap.close()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@needs_capture
@needs_bpf
def test_ftp_session_captured_live(tmp_path):
    pytest.importorskip("pyftpdlib", reason="the live FTP test needs pyftpdlib (pip install -e '.[test]')")
    sys.path.insert(0, str(Path(__file__).parent))
    import ftp_traffic as ft

    from ftptui.ftp.analysis import analyse

    backend = {}

    class Backend(FtptuiCapture):
        def __enter__(self):
            backend["it"] = self
            return super().__enter__()

    ft.BACKENDS["ftptui"] = Backend
    try:
        traffic = ft.run(tmp_path, backends=["ftptui"], port21=False)
    finally:
        ft.BACKENDS.pop("ftptui", None)
    path = traffic.pcaps["ftptui"]
    printed = backend["it"].stdout.splitlines()
    assert printed and printed == run_ftptui("-r", str(path), "--print", "--tshark-ftp-data").stdout.splitlines()
    index = PacketIndex(open_capture(str(path)))
    index.build()
    analysis = analyse(index)
    by_client = {s.client: s for s in analysis.sessions}
    assert len(analysis.sessions) == len(traffic.sessions)
    for e_session in traffic.sessions:
        s = by_client[e_session.client]
        assert (s.user, s.logged_in) == (e_session.user, True)
        assert len(s.transfers) == len(e_session.transfers)
        for t, e in zip(s.transfers, e_session.transfers):
            data = e.data if e.complete else e.whole[:t.bytes]
            assert (t.command, t.path, t.bytes, t.sha256) == (e.command, e.path, len(data), ft.sha256(data))
    # The same traffic through a pipe, as `ssh box tcpdump -w - | ftptui -r -` gets it: the
    # spool written with -w holds every packet, and the follower finds the same transfers.
    piped_path = tmp_path / "through-a-pipe.pcap"
    res = subprocess.run([sys.executable, "-m", "ftptui", "-r", "-", "--print", "-w", str(piped_path)],
                         input=path.read_bytes(), capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().splitlines() == printed
    piped = PacketIndex(open_capture(str(piped_path)))
    piped.build()
    assert [(t.command, t.path, t.sha256) for _, t in analyse(piped).transfers] == \
           [(t.command, t.path, t.sha256) for _, t in analysis.transfers]
