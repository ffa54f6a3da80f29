"""End to end in a real terminal: the README's `ftptui --demo` inside a detached tmux session."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed; the terminal test needs it")

WIDTH, HEIGHT = 150, 45
DEADLINE = 15.0


def demo_command() -> list[str]:
    script = Path(sys.executable).with_name("ftptui")
    if script.exists():
        return [str(script), "--demo"]
    return [sys.executable, "-m", "ftptui", "--demo"]


SOCKET = f"ftptui-test-{os.getpid()}"  # a private tmux server, so no user session is touched


# COLUMNS/LINES (set under pytest) would override the pane's real size for the app inside
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([TMUX, "-L", SOCKET, *args], capture_output=True, text=True, check=check, timeout=10,
                          env=CLEAN_ENV)


def wait_for(session: str, text: str, timeout: float = DEADLINE) -> str:
    """Poll the pane until `text` is on it; fail with the last picture when the deadline passes."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        shot = tmux("capture-pane", "-p", "-t", session, check=False)
        if shot.returncode != 0:
            pytest.fail(f"the ftptui session ended while waiting for {text!r}; last screen:\n{screen}")
        screen = shot.stdout
        if text in screen:
            return screen
        time.sleep(0.1)  # polling interval only; the condition above is what we wait for
    size = tmux("display", "-p", "-t", session, "#{window_width}x#{window_height}", check=False).stdout.strip()
    pytest.fail(f"{text!r} did not appear within {timeout} s; the {size} pane shows:\n{screen}")


@pytest.fixture
def session(tmp_path):
    name = f"ftptui-test-{uuid.uuid4().hex[:8]}"
    env_args = []
    for key, value in {"XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color"}.items():
        env_args += ["-e", f"{key}={value}"]
    cmd = shlex.join(demo_command())
    conf = tmp_path / "tmux.conf"
    # default-size as well as -x/-y: with no client attached, tmux falls back to it on any resize
    conf.write_text(f"set -g default-size {WIDTH}x{HEIGHT}\nset -g status off\n")
    tmux("-f", str(conf), "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
         *env_args, cmd)
    socket_path = tmux("display", "-p", "-t", name, "#{socket_path}", check=False).stdout.strip()
    try:
        yield name
    finally:
        tmux("kill-session", "-t", name, check=False)
        tmux("kill-server", check=False)
        if socket_path.endswith(SOCKET):
            Path(socket_path).unlink(missing_ok=True)


def test_demo_in_tmux(session):
    screen = wait_for(session, "Request: USER ftpuser")
    assert "Response: 220 (vsFTPd 3.0.3)" in screen
    wait_for(session, "Frame 1:")  # the first packet is selected and dissected (its tree may come a frame later)
    tmux("send-keys", "-t", session, "j")
    wait_for(session, "Frame 2:")
    tmux("send-keys", "-t", session, "C-g")
    wait_for(session, "Go to packet number")
    tmux("send-keys", "-t", session, "60", "Enter")
    screen = wait_for(session, "Frame 60:")
    tree_lines = [line for line in screen.splitlines() if "Frame 60:" in line]
    assert tree_lines and "bytes on wire" in tree_lines[0]
    tmux("send-keys", "-t", session, "q")
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if tmux("has-session", "-t", session, check=False).returncode != 0:
            break
        time.sleep(0.1)
    else:
        pytest.fail("ftptui did not quit on q")


def test_filter_follow_and_ftp_views_in_tmux(session):
    """The keyboard paths of a triage in a real terminal: filter, follow the data connection,
    back, the FTP view."""
    wait_for(session, "Request: USER ftpuser")
    wait_for(session, "Frame 1:")  # ready: the first packet is selected and its tree drawn
    tmux("send-keys", "-t", session, "/")
    tmux("send-keys", "-t", session, "-l", 'ftp.request.command == "RETR"')
    tmux("send-keys", "-t", session, "Enter")
    screen = wait_for(session, "Displayed: 1 of 84")
    assert "Request: RETR dump.sql" in screen
    # the RETR is on the control connection; go to the data packet 67 and follow its stream
    tmux("send-keys", "-t", session, "/")
    tmux("send-keys", "-t", session, "C-u")
    tmux("send-keys", "-t", session, "Enter")
    wait_for(session, "Displayed: 84 of 84")
    tmux("send-keys", "-t", session, "C-g")
    wait_for(session, "Go to packet number")
    tmux("send-keys", "-t", session, "67", "Enter")
    wait_for(session, "Frame 67:")
    tmux("send-keys", "-t", session, "F")
    screen = wait_for(session, "-- MySQL dump")  # the transferred file, as text
    assert "tcp.stream eq 3" in screen
    tmux("send-keys", "-t", session, "Escape")
    wait_for(session, "Frame 67:")
    tmux("send-keys", "-t", session, "T")
    screen = wait_for(session, "FTP sessions: 1")
    assert "ftpuser" in screen and "10.10.10.187:21" in screen
