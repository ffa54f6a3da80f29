"""The terminal going away ends ftptui, in every state (a real terminal: tmux).

For each state (indexing a big capture, a filter running, the FTP view busy on the UI thread, a
save dialog open, reading a pipe, a live capture written with -w) the terminal is taken away:
`tmux kill-server` (what a dropped SSH connection does), or SIGHUP / SIGTERM to the process.
Afterwards no ftptui process and no capture child remains, nothing is left in its temporary
directory, and a -w capture reads back complete.  How fast it goes is bench/bench_hangup.py's
business; here a generous deadline only stops a hang.
"""
from __future__ import annotations

import os
import shlex
import signal
import struct
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from loopback import Server, capture_unavailable  # noqa: E402
from test_tmux import HEIGHT, SOCKET, TMUX, WIDTH, demo_command, tmux, wait_for  # noqa: E402
from test_tmux_live import wait_for_re  # noqa: E402

from ftptui.capture import bpf, open_capture  # noqa: E402
from ftptui.store.index import PacketIndex  # noqa: E402

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed; the terminal test needs it")

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-ftp-active.pcap"
GONE_WITHIN = 10.0  # only against a hang: the exit time itself is measured by bench/bench_hangup.py


def ftptui_command() -> list[str]:
    return demo_command()[:-1]


def seed_records() -> tuple[bytes, list[bytes]]:
    raw = SEED.read_bytes()
    head, pos, recs = raw[:24], 24, []
    while pos < len(raw):
        n = struct.unpack_from("<I", raw, pos + 8)[0]
        recs.append(raw[pos:pos + 16 + n])
        pos += 16 + n
    return head, recs


def repeated_seed(path: Path, times: int) -> Path:
    """The seed session's records `times` over: a capture as big as needed, quickly written."""
    head, recs = seed_records()
    block = b"".join(recs)
    with open(path, "wb") as f:
        f.write(head)
        for _ in range(times):
            f.write(block)
    return path


def long_ftp_transfer(path: Path, segments: int = 6000) -> Path:
    """One FTP session whose RETR takes `segments` data packets: its sequence diagram is big (the
    FTP view draws it on the UI thread: seconds of work)."""
    def ip_tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
        return ip + tcp
    c, s = (10, 1, 0, 2), (10, 1, 0, 1)
    pkts, cs, ss = [], [1000, 5000], [7000, 9000]

    def ctl(side, line):
        src, dst, sp, dp = (c, s, 40001, 21) if side == 0 else (s, c, 21, 40001)
        pkts.append(ip_tcp(src, dst, sp, dp, cs[side], cs[1 - side], 0x18, line))
        cs[side] += len(line)
    pkts += [ip_tcp(c, s, 40001, 21, 999, 0, 0x02), ip_tcp(s, c, 21, 40001, 4999, 1000, 0x12),
             ip_tcp(c, s, 40001, 21, 1000, 5000, 0x10)]
    for side, line in ((1, b"220 hi\r\n"), (0, b"USER a\r\n"), (1, b"331 p\r\n"), (0, b"PASS b\r\n"),
                       (1, b"230 ok\r\n"), (0, b"PASV\r\n"), (1, b"227 Entering Passive Mode (10,1,0,1,195,80).\r\n"),
                       (0, b"RETR big.bin\r\n"), (1, b"150 ok\r\n")):
        ctl(side, line)
    pkts += [ip_tcp(c, s, 40002, 50000, 6999, 0, 0x02), ip_tcp(s, c, 50000, 40002, 8999, 7000, 0x12),
             ip_tcp(c, s, 40002, 50000, 7000, 9000, 0x10)]
    for k in range(segments):
        pkts.append(ip_tcp(s, c, 50000, 40002, ss[1], ss[0], 0x18, bytes([k % 256]) * 1000))
        ss[1] += 1000
    ctl(1, b"226 done\r\n")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for k, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1_700_000_000 + k // 1000, k % 1000 * 1000, len(p), len(p)) + p)
    return path


class Terminal:
    """ftptui in a tmux session of its own, with a marker in its environment to find its
    processes by, and a temporary directory of its own."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.marker = uuid.uuid4().hex
        self.name = f"ftptui-hup-{self.marker[:8]}"
        self.conf = tmp_path / "tmux.conf"
        self.conf.write_text(f"set -g default-size {WIDTH}x{HEIGHT}\nset -g status off\n")
        self.state = tmp_path / "state"

    def start(self, command: str) -> None:
        env = {"XDG_STATE_HOME": str(self.state), "TERM": "xterm-256color", "TMPDIR": str(self.tmp),
               "FTPTUI_TEST_MARKER": self.marker}
        args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        tmux("-f", str(self.conf), "new-session", "-d", "-s", self.name, "-x", str(WIDTH), "-y", str(HEIGHT),
             *args, command)

    def processes(self) -> dict[int, str]:
        """pid -> command line of ftptui's processes (the app and any capture child)."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"FTPTUI_TEST_MARKER={self.marker}".encode() in environ and ("ftptui" in cmdline or "_pump" in cmdline):
                found[int(entry)] = cmdline
        return found

    def app_pid(self) -> int:
        apps = [pid for pid, cmd in self.processes().items() if "_pump" not in cmd]
        assert apps, "ftptui is not running"
        return min(apps)

    def hang_up(self, how: str) -> None:
        if how == "kill-server":
            tmux("kill-server", check=False)
        else:
            os.kill(self.app_pid(), getattr(signal, how))

    def assert_all_gone(self) -> None:
        deadline = time.monotonic() + GONE_WITHIN
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.processes()
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"still running after the terminal went away: {left}"
        assert list(self.tmp.iterdir()) == [], "temporary files left behind"


@pytest.fixture
def terminal(tmp_path):
    t = Terminal(tmp_path)
    try:
        yield t
    finally:
        for pid in t.processes():
            os.kill(pid, signal.SIGKILL)
        socket_path = tmux("display", "-p", "#{socket_path}", check=False).stdout.strip()
        tmux("kill-server", check=False)
        if socket_path.endswith(SOCKET):
            Path(socket_path).unlink(missing_ok=True)


def app(*args: str) -> str:
    return shlex.join([*ftptui_command(), *args])


@pytest.mark.parametrize("how", ["kill-server", "SIGHUP", "SIGTERM"])
def test_while_the_ftp_view_keeps_the_ui_thread_busy(terminal, tmp_path, how):
    path = long_ftp_transfer(tmp_path / "one-transfer.pcap")
    terminal.start(app("-r", str(path)))
    wait_for(terminal.name, "Request: RETR big.bin")
    tmux("send-keys", "-t", terminal.name, "T")
    time.sleep(0.3)  # inside the view's work, not waiting for it
    terminal.hang_up(how)
    terminal.assert_all_gone()


def test_while_indexing(terminal, tmp_path):
    path = repeated_seed(tmp_path / "big.pcap", 15000)  # 1.26 million packets
    terminal.start(app("-r", str(path)))
    wait_for(terminal.name, "indexing")
    terminal.hang_up("kill-server")
    terminal.assert_all_gone()


@pytest.mark.parametrize("how", ["kill-server", "SIGTERM"])
def test_while_a_filter_runs(terminal, tmp_path, how):
    path = repeated_seed(tmp_path / "medium.pcap", 1500)
    terminal.start(app("-r", str(path)))
    wait_for(terminal.name, "Displayed: 126,000 of 126,000")
    tmux("send-keys", "-t", terminal.name, "/", 'frame.protocols contains "no such protocol"', "Enter")
    wait_for(terminal.name, "filtering")
    terminal.hang_up(how)
    terminal.assert_all_gone()


def test_with_a_dialog_open(terminal, tmp_path):
    terminal.start(app("-r", str(SEED)))
    wait_for(terminal.name, "Request: USER ftpuser")
    tmux("send-keys", "-t", terminal.name, "w")
    wait_for(terminal.name, "Save packets as")
    terminal.hang_up("kill-server")
    terminal.assert_all_gone()


@pytest.mark.parametrize("how", ["kill-server", "SIGHUP"])
def test_while_reading_a_pipe(terminal, how):
    # the stream stays open (the sleep): ftptui is still reading it when the terminal goes
    terminal.start(f"(cat {shlex.quote(str(SEED))}; sleep 60) | {app('-r', '-')}")
    wait_for(terminal.name, "reading standard input")
    wait_for(terminal.name, "Packets: 84")
    terminal.hang_up(how)
    terminal.assert_all_gone()


@pytest.mark.skipif(capture_unavailable() is not None, reason=capture_unavailable() or "")
@pytest.mark.skipif(bpf.available() is None, reason=bpf.NO_COMPILER)
@pytest.mark.parametrize("how", ["kill-server", "SIGTERM"])
@pytest.mark.parametrize("keep", [True, False], ids=["-w", "spool"])
def test_during_a_live_capture(terminal, tmp_path, how, keep):
    server = Server(20.0)
    try:
        out = tmp_path / "kept.pcap"
        args = ["-i", "lo", "-f", f"tcp port {server.port}"] + (["-w", str(out)] if keep else [])
        terminal.start(app(*args))
        wait_for(terminal.name, "● capturing on lo")
        for k in range(3):
            server.exchange(b"hello %d" % k)
        wait_for_re(terminal.name, r"Captured: (\d+)", check=lambda m: int(m.group(1)) >= 12)
        pumps = [pid for pid, cmd in terminal.processes().items() if "_pump" in cmd]
        assert pumps, "no capture child to watch"
        terminal.hang_up(how)
        terminal.assert_all_gone()
        if keep:  # the -w file is a whole capture: every packet complete, nothing cut
            cap = open_capture(str(out))
            index = PacketIndex(cap)
            index.build()
            assert cap.warnings == [] and len(index) >= 12
            assert any(b"hello 2" in index.packet_bytes(i) for i in range(len(index)))
    finally:
        server.close()
