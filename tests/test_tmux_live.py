"""Growing captures in a real terminal (tmux, the harness of tests/test_tmux.py): a pcap piped into
`ftptui -r -` (keys from the terminal, the pipe on another fd), and `ftptui -i lo -f 'tcp port P'`
while the test makes traffic on P.

Waits poll the pane (or a condition) up to a deadline; the slow writer waits for a flag file the
test creates once it has seen the first part, so nothing depends on timing.
"""
from __future__ import annotations

import re
import shlex
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from loopback import Server, capture_unavailable  # noqa: E402
from test_tmux import HEIGHT, SOCKET, TMUX, WIDTH, demo_command, tmux, wait_for  # noqa: E402

from ftptui.capture import bpf  # noqa: E402

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed; the terminal test needs it")

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-ftp-active.pcap"
DEADLINE = 20.0


def ftptui_command() -> list[str]:
    return demo_command()[:-1]  # the installed script (or python -m ftptui), without --demo


@pytest.fixture
def terminal(tmp_path):
    """Start a command in a detached tmux session; yields a function that starts it."""
    names = []

    def start(command: str) -> str:
        name = f"ftptui-test-{uuid.uuid4().hex[:8]}"
        conf = tmp_path / "tmux.conf"
        conf.write_text(f"set -g default-size {WIDTH}x{HEIGHT}\nset -g status off\nset -g remain-on-exit off\n")
        env_args = []
        for key, value in {"XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color"}.items():
            env_args += ["-e", f"{key}={value}"]
        tmux("-f", str(conf), "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
             *env_args, command)
        names.append(name)
        return name

    try:
        yield start
    finally:
        socket_path = tmux("display", "-p", "#{socket_path}", check=False).stdout.strip()
        for name in names:
            tmux("kill-session", "-t", name, check=False)
        tmux("kill-server", check=False)
        if socket_path.endswith(SOCKET):
            Path(socket_path).unlink(missing_ok=True)


def wait_for_re(session: str, pattern: str, timeout: float = DEADLINE, check=lambda m: True) -> re.Match:
    """Poll the pane until `pattern` matches (and `check(match)` holds)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        shot = tmux("capture-pane", "-p", "-t", session, check=False)
        if shot.returncode != 0:
            pytest.fail(f"the ftptui session ended while waiting for {pattern!r}; last screen:\n{screen}")
        screen = shot.stdout
        m = re.search(pattern, screen)
        if m and check(m):
            return m
        time.sleep(0.1)  # polling interval only
    pytest.fail(f"{pattern!r} did not appear within {timeout} s; the pane shows:\n{screen}")


def wait_gone(session: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if tmux("has-session", "-t", session, check=False).returncode != 0:
            return
        time.sleep(0.1)
    pytest.fail("ftptui did not quit on q")


def status_line(session: str) -> str:
    lines = tmux("capture-pane", "-p", "-t", session).stdout.rstrip("\n").splitlines()
    return lines[-2] if len(lines) >= 2 else ""


def test_pipe_into_the_browser(terminal):
    cmd = f"cat {shlex.quote(str(SEED))} | {shlex.join(ftptui_command())} -r -"
    session = terminal(cmd)
    wait_for(session, "stream ended", DEADLINE)
    wait_for(session, "standard input  Packets: 84  Displayed: 84 of 84")
    # the keys come from the terminal while the capture came through the pipe
    tmux("send-keys", "-t", session, "g")
    wait_for(session, "Frame 1:")
    tmux("send-keys", "-t", session, "j")
    wait_for(session, "Frame 2:")
    tmux("send-keys", "-t", session, "C-g")
    wait_for(session, "Go to packet number")
    tmux("send-keys", "-t", session, "60", "Enter")
    wait_for(session, "Frame 60:")
    # nothing keeps what came through the pipe (no -w): q asks first; y quits
    tmux("send-keys", "-t", session, "q")
    wait_for(session, "Quit and lose the 84 packets captured?")
    tmux("send-keys", "-t", session, "y")
    wait_gone(session)


SLOW_WRITER = r"""
import os, struct, sys, time
data = open(sys.argv[1], "rb").read()
pos, ends = 24, []
while pos < len(data):
    pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    ends.append(pos)
cut = ends[39]  # 40 packets first
os.write(1, data[:cut])
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
os.write(1, data[cut:])
"""


def test_slow_pipe_grows_and_follows(terminal, tmp_path):
    """A writer that sends 40 packets, waits for the test, then sends the rest: the list shows
    the first part while the stream is open, follows to the end, and says when it ended."""
    writer = tmp_path / "writer.py"
    writer.write_text(SLOW_WRITER)
    flag = tmp_path / "go"
    cmd = (f"{shlex.quote(sys.executable)} {shlex.quote(str(writer))} {shlex.quote(str(SEED))} "
           f"{shlex.quote(str(flag))} | {shlex.join(ftptui_command())} -r -")
    session = terminal(cmd)
    wait_for(session, "Packets: 40 ", DEADLINE)
    wait_for(session, "reading standard input")
    wait_for(session, "Frame 40:")  # following the newest packet
    tmux("send-keys", "-t", session, "k")  # stop following: the rest shows as "+N new"
    wait_for(session, "Frame 39:")
    flag.touch()
    wait_for(session, "stream ended", DEADLINE)
    wait_for(session, "Packets: 84")
    wait_for(session, "+44 new")
    tmux("send-keys", "-t", session, "G")
    wait_for(session, "Frame 84:")
    tmux("send-keys", "-t", session, "q")
    wait_for(session, "Quit and lose the 84 packets captured?")
    tmux("send-keys", "-t", session, "y")
    wait_gone(session)


@pytest.mark.skipif(capture_unavailable() is not None, reason=capture_unavailable() or "")
@pytest.mark.skipif(bpf.available() is None, reason=bpf.NO_COMPILER)
def test_live_capture_in_tmux(terminal):
    server = Server(DEADLINE)
    port = server.port
    try:
        session = terminal(f"{shlex.join(ftptui_command())} -i lo -f {shlex.quote(f'tcp port {port}')}")
        wait_for(session, "● capturing on lo", DEADLINE)
        assert f"Capture filter: tcp port {port}" in status_line(session)
        for k in range(3):
            server.exchange(b"hello %d" % k)
        # the counters: at least the 3 handshakes and payloads, none dropped, all displayed
        wait_for_re(session, r"Captured: (\d+)  Dropped: 0  [\d.]+ pkt/s  Displayed: (\d+) of (\d+)",
                    check=lambda m: int(m.group(1)) == int(m.group(2)) == int(m.group(3)) >= 12)
        # the rows: the connections to the port, the newest packet selected and dissected
        wait_for_re(session, rf"→ {port} \[")
        wait_for_re(session, r"Transmission Control Protocol, Src Port: \d+, Dst Port: \d+")
        wait_for_re(session, rf"(Src|Dst) Port: {port}\b")
        tmux("send-keys", "-t", session, "C-e")
        wait_for(session, "■ stopped on lo", DEADLINE)
        tmux("send-keys", "-t", session, "q")
        wait_for(session, "Quit and lose the")
        tmux("send-keys", "-t", session, "y")
        wait_gone(session)
    finally:
        server.close()
