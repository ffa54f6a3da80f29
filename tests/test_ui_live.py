"""The browser on a live capture (Pilot): a LiveCapture on `lo` with a BPF filter for the port a
test server listens on, while the test makes TCP traffic on 127.0.0.1 with sockets.

Rows appear; the list follows the newest packet while the cursor is on the last row; moving up
stops following and the status bar counts "+N new"; End resumes; Ctrl+E stops (traffic made while
stopped is not captured) and starts again; Ctrl+R restarts (after asking); q asks before the
unsaved packets are lost; a display filter applied during the
capture filters the new rows; m marks; save as writes a pcap our reader reads back with the same
packets; Ctrl+K restarts with a new capture filter (an invalid one shows libpcap's message and is
not applied); the welcome screen's Capture part starts a capture.

Waits poll the app's state (await pilot.pause() in a loop) up to a deadline; nothing sleeps a
fixed time.  Skipped where live capture is impossible (not root / no CAP_NET_RAW, not Linux) or
capture filters cannot be compiled (no libpcap or tcpdump).
"""
from __future__ import annotations

import contextlib
import hashlib
import sys
import time
from pathlib import Path

import pytest
from loopback import Server, capture_unavailable
from textual.widgets import Input, Label, OptionList, Static

from ftptui.capture import bpf, open_capture
from ftptui.capture.live import LiveCapture
from ftptui.ftp.analysis import latest_analysis
from ftptui.store.index import PacketIndex
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.confirm import ConfirmDialog
from ftptui.ui.live import CaptureFilterDialog
from ftptui.ui.packet_list import PacketList
from ftptui.ui.saving import SaveDialog
from ftptui.ui.welcome import WelcomeScreen

SIZE = (150, 45)
TIMEOUT = 20.0
SEED = Path(__file__).parent / "data" / "seed-ftp-active.pcap"


NO_CAPTURE = capture_unavailable()
pytestmark = [pytest.mark.skipif(NO_CAPTURE is not None, reason=NO_CAPTURE or ""),
              pytest.mark.skipif(bpf.available() is None, reason=bpf.NO_COMPILER)]


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def server():
    s = Server(TIMEOUT)
    yield s
    s.close()


async def wait_until(pilot, condition, what: str, timeout: float = TIMEOUT):
    """Poll the app (letting its messages run) until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()  # and let the messages already queued be handled


def status(screen) -> str:
    return str(screen.query_one("#status", Static).render())


def frames_with(index: PacketIndex, marker: bytes) -> list[int]:
    return [i for i in range(len(index)) if marker in index.packet_bytes(i)]


async def browser_on(app, pilot) -> tuple[BrowserScreen, PacketList]:
    await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen), "the browser")
    screen = app.screen
    return screen, screen.query_one(PacketList)


async def test_live_rows_follow_new_indicator_stop_clear(server):
    live = LiveCapture(["lo"], f"tcp port {server.port}")
    live.start()
    app = FtptuiApp(source=live)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen, plist = await browser_on(app, pilot)
            assert plist.live and screen.growing
            server.exchange(b"first")
            await wait_until(pilot, lambda: frames_with(screen.index, b"first") and plist.rows >= 8,
                             "the first exchange in the list")
            # following: the newest packet is selected, and its details shown
            await wait_until(pilot, lambda: plist.cursor == plist.rows - 1 and plist.following, "following")
            text = status(screen)
            assert "● capturing on lo" in text and f"Capture filter: tcp port {server.port}" in text
            await wait_until(pilot, lambda: f"Captured: {live.stats().packets:,}" in status(screen)
                             and live.stats().packets == len(screen.index), "the status counters")
            assert "Dropped: 0" in status(screen) and "pkt/s" in status(screen)
            await wait_until(pilot, lambda: screen.current is not None and screen.current.number == plist.rows,
                             "the newest packet's details")

            # move up: the list stays put and counts the new rows
            await pilot.press("k", "k")
            here, rows, counted = plist.cursor, plist.rows, plist.new_rows
            assert here <= rows - 3 and not plist.following  # (a late packet of the first exchange may come)
            server.exchange(b"second")
            await wait_until(pilot, lambda: frames_with(screen.index, b"second") and plist.rows > rows,
                             "the second exchange")
            assert plist.cursor == here
            assert plist.new_rows == counted + plist.rows - rows > 0
            assert f"+{plist.new_rows} new" in status(screen)
            assert f"+{plist.new_rows} new" in str(plist.border_subtitle)
            # End resumes following
            await pilot.press("end")
            assert plist.cursor == plist.rows - 1 and plist.following and plist.new_rows == 0
            assert "new" not in status(screen)
            server.exchange(b"third")
            await wait_until(pilot, lambda: frames_with(screen.index, b"third")
                             and plist.cursor == plist.rows - 1 == len(screen.index) - 1, "following again")

            # Ctrl+E stops: traffic while stopped is not captured; Ctrl+E starts again
            await pilot.press("ctrl+e")
            assert not live.running
            await wait_until(pilot, lambda: "■ stopped on lo" in status(screen), "stopped in the status bar")
            stopped_at = live.stats().packets
            server.exchange(b"while-stopped")
            assert live.stats().packets == stopped_at
            await pilot.press("ctrl+e")
            assert live.running
            server.exchange(b"fourth")
            await wait_until(pilot, lambda: frames_with(screen.index, b"fourth"), "capturing again")
            assert frames_with(screen.index, b"while-stopped") == []
            assert "● capturing" in status(screen)

            # Ctrl+R (Wireshark's Restart) asks first; Esc keeps the packets, y drops them: a new,
            # empty index, and new traffic starts at packet 1.  Ctrl+L only redraws.
            old_index = screen.index
            await pilot.press("ctrl+l")
            assert screen.index is old_index
            await pilot.press("ctrl+r")
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")
            assert app.screen is screen and screen.index is old_index
            await pilot.press("ctrl+r", "y")
            assert screen.index is not old_index and plist.index is screen.index
            assert plist.rows == 0 or not frames_with(screen.index, b"fourth")
            server.exchange(b"fifth")
            await wait_until(pilot, lambda: frames_with(screen.index, b"fifth") and plist.rows >= 8,
                             "packets after clearing")
            assert frames_with(screen.index, b"fourth") == [] and frames_with(screen.index, b"first") == []
            assert screen.index.field("ts", 0) > 0 and plist.frame_at(0) == 0
            # nothing keeps these packets (no -w): q asks; y quits
            await pilot.press("q")
            assert isinstance(app.screen, ConfirmDialog) and app.is_running
            await pilot.press("y")
        assert app.return_code in (None, 0)
    finally:
        live.close()


async def test_display_filter_marks_and_save_as_during_capture(server, tmp_path):
    live = LiveCapture(["lo"], f"tcp port {server.port}")
    live.start()
    app = FtptuiApp(source=live)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen, plist = await browser_on(app, pilot)
            server.exchange(b"before-filter")
            await wait_until(pilot, lambda: frames_with(screen.index, b"before-filter") and plist.rows >= 8,
                             "the first exchange")
            # a display filter applied during the capture filters the rows that come after it
            await pilot.press("slash")
            await pilot.press(*"tcp.len > 0")
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.flt is not None and screen.job is None, "the filter")
            shown = plist.rows
            assert shown == 2  # the payload and the "ok"
            server.exchange(b"after-filter")
            await wait_until(pilot, lambda: frames_with(screen.index, b"after-filter")
                             and screen.view_end == len(screen.index) and plist.rows == shown + 2,
                             "the filter extended to new rows")
            paylen = screen.index.cols["paylen"]
            assert all(int(paylen[plist.frame_at(r)]) > 0 for r in range(plist.rows))
            assert "Filter: tcp.len > 0" in status(screen)
            assert plist.cursor == plist.rows - 1  # still following, in the filtered view

            # mark two packets (m), shown as marked, counted in the status bar
            await pilot.press("home", "m", "down", "m", "down", "m", "m")
            assert plist.marked == {plist.frame_at(0), plist.frame_at(1)}
            assert "Marked: 2" in status(screen)

            # save as: the marked packets, as pcapng
            await pilot.press("w")
            await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
            dialog = app.screen
            assert dialog.chosen_which == "marked"
            box = dialog.query_one("#save-path", Input)
            box.value = str(tmp_path / "marked.pcapng")
            await pilot.press("enter")
            await wait_until(pilot, lambda: (tmp_path / "marked.pcapng").exists(), "the marked file")
            marked = sorted(plist.marked)
            back = PacketIndex(open_capture(str(tmp_path / "marked.pcapng")))
            back.build()
            assert back.cap.format == "pcapng"
            assert [back.packet_bytes(k) for k in range(len(back))] == [screen.index.packet_bytes(f) for f in marked]

            # save as: every packet, as pcap
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
            dialog = app.screen
            await pilot.click("#save-all")
            await pilot.click("#save-pcap")
            assert dialog.chosen_which == "all" and dialog.chosen_format == "pcap"
            box = dialog.query_one("#save-path", Input)
            box.value = str(tmp_path / "all.pcap")
            box.focus()
            n = len(screen.index)
            await pilot.press("enter")
            await wait_until(pilot, lambda: (tmp_path / "all.pcap").exists(), "the whole capture saved")
            back = PacketIndex(open_capture(str(tmp_path / "all.pcap")))
            back.build()
            assert back.cap.format == "pcap" and len(back) >= n
            for k in range(len(back)):
                assert back.packet_bytes(k) == screen.index.packet_bytes(k)
                assert int(back.field("ts", k)) == int(screen.index.field("ts", k))
            await pilot.press("q")
    finally:
        live.close()


async def test_restart_with_a_new_capture_filter(server):
    other = Server(TIMEOUT)
    live = LiveCapture(["lo"], f"tcp port {server.port}")
    live.start()
    app = FtptuiApp(source=live)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen, plist = await browser_on(app, pilot)
            server.exchange(b"one")
            await wait_until(pilot, lambda: frames_with(screen.index, b"one"), "the first exchange")
            await pilot.press("ctrl+k")
            await wait_until(pilot, lambda: isinstance(app.screen, CaptureFilterDialog), "the dialog")
            dialog = app.screen
            box = dialog.query_one(Input)
            assert box.value == f"tcp port {server.port}"  # pre-filled with the current filter
            box.value = "tcp prt 80"
            await pilot.press("enter")
            msg = str(dialog.query_one("#capfilter-msg", Label).render())
            assert "invalid capture filter" in msg and "syntax error" in msg
            assert app.screen is dialog and live.capture_filter == f"tcp port {server.port}"  # not applied
            box.value = f"tcp port {other.port}"
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is screen, "back to the list")
            assert live.capture_filter == f"tcp port {other.port}" and live.running
            other.exchange(b"two")
            server.exchange(b"three")  # no longer captured
            await wait_until(pilot, lambda: frames_with(screen.index, b"two"), "the new filter's packets")
            assert frames_with(screen.index, b"one") == [] and frames_with(screen.index, b"three") == []
            assert f"Capture filter: tcp port {other.port}" in status(screen)
            await pilot.press("q")
    finally:
        other.close()
        live.close()


async def test_welcome_capture_part_starts_a_capture(server):
    app = FtptuiApp(None, sample=str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        ifaces = welcome.query_one("#iface-list", OptionList)
        ids = [ifaces.get_option_at_index(i).id for i in range(ifaces.option_count)]
        ifaces.focus()
        ifaces.highlighted = ids.index("iface:lo")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CaptureFilterDialog), "the capture filter dialog")
        dialog = app.screen
        await pilot.press(*"tcp port")  # incomplete: libpcap's message, the dialog stays
        await pilot.press("enter")
        assert app.screen is dialog and "invalid capture filter" in str(dialog.query_one("#capfilter-msg").render())
        await pilot.press(*f" {server.port}")
        await pilot.press("enter")
        screen, plist = await browser_on(app, pilot)
        live = screen.live
        try:
            assert live is not None and live.running and live.capture_filter == f"tcp port {server.port}"
            server.exchange(b"from-welcome")
            await wait_until(pilot, lambda: frames_with(screen.index, b"from-welcome"), "captured packets")
            await pilot.press("q")
        finally:
            live.close()
    assert not live.running


@contextlib.asynccontextmanager
async def ftp_session_in_the_browser(tmp_path, content: bytes):
    """The browser on a live loopback capture while a pyftpdlib server serves data.bin
    (`content`) to an ftplib client logged in to it: yields (app, pilot, screen, plist, ftp, user)."""
    pytest.importorskip("pyftpdlib", reason="needs pyftpdlib (pip install -e '.[test]')")
    sys.path.insert(0, str(Path(__file__).parent))
    import ftp_traffic as ft

    ports = ft.Ports.pick(["127.0.0.1"])
    home = tmp_path / "home"
    home.mkdir()
    (home / "data.bin").write_bytes(content)
    live = LiveCapture(["lo"], ports.bpf())
    live.start()
    app = FtptuiApp(source=live)
    try:
        with ft.FtpServers(home, [("127.0.0.1", ports.control)], ports.passive):
            async with app.run_test(size=SIZE) as pilot:
                screen, plist = await browser_on(app, pilot)
                ftp = ft.Client(ports)
                ftp.connect("127.0.0.1", ports.control, timeout=TIMEOUT)
                ftp.login(ft.USER, ft.PASSWORD)
                yield app, pilot, screen, plist, ftp, ft.USER
    finally:
        live.close()


async def test_ftp_view_on_a_growing_capture(tmp_path):
    """An FTP session (pyftpdlib + ftplib, active mode: the server connects back from an
    ephemeral port, which tshark 4.0's rules do not tie to the PORT command) captured live: the
    FTP view analyses what has arrived when it opens (the follower does not run on every batch),
    and afterwards the list labels the data connection FTP-DATA by the follower's linking."""
    from ftptui.ui.ftp_view import FtpScreen

    content = bytes(range(256)) * 64
    async with ftp_session_in_the_browser(tmp_path, content) as (app, pilot, screen, plist, ftp, user):
        ftp.set_pasv(False)
        got = bytearray()
        ftp.retrbinary("RETR data.bin", got.extend)
        ftp.quit()
        assert bytes(got) == content
        await wait_until(pilot, lambda: frames_with(screen.index, b"221 ") != [], "the session's end")
        assert latest_analysis(screen.index) is None  # not analysed on every batch
        payload = frames_with(screen.index, content[:64])
        assert payload and plist.cells(payload[0])[0][4] != "FTP-DATA"  # tshark's rules: no link
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, FtpScreen)
                         and app.screen.analysis is not None, "the FTP analysis")
        analysis = app.screen.analysis
        assert len(analysis.sessions) == 1 and len(analysis.transfers) == 1
        session, transfer = analysis.transfers[0]
        assert session.user == user and transfer.complete
        assert transfer.sha256 == hashlib.sha256(content).hexdigest()
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the list")
        data = [r for r in range(plist.rows)
                if int(screen.index.field("stream", plist.frame_at(r))) == transfer.tcp_stream
                and int(screen.index.field("paylen", plist.frame_at(r))) > 0]
        assert data and all(plist.cells(plist.frame_at(r))[0][4] == "FTP-DATA" for r in data)
        await pilot.press("q")


async def test_ftp_view_refreshes_while_open_on_a_growing_capture(tmp_path):
    """The FTP view open on a live capture is analysed again as packets come: a download made
    while it is open appears in it, complete, with the real file's sha256, and the user's
    session stays selected."""
    from ftptui.ui.ftp_view import FtpScreen
    from ftptui.ui.line_table import TextTable

    content = bytes(range(256)) * 32
    async with ftp_session_in_the_browser(tmp_path, content) as (app, pilot, screen, _, ftp, user):
        await wait_until(pilot, lambda: frames_with(screen.index, b"230 ") != [], "the login")
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, FtpScreen)
                         and app.screen.analysis is not None and app.screen.analysis.sessions,
                         "the FTP view with the session")
        view = app.screen
        assert not view.analysis.transfers
        got = bytearray()
        ftp.retrbinary("RETR data.bin", got.extend)
        ftp.quit()
        assert bytes(got) == content
        await wait_until(pilot, lambda: view.analysis.transfers
                         and view.analysis.transfers[0][1].complete, "the download in the open view")
        transfer = view.analysis.transfers[0][1]
        assert transfer.sha256 == hashlib.sha256(content).hexdigest()
        assert app.screen is view and view.session is not None and view.session.user == user
        assert view.query_one("#ftp-sessions", TextTable).get_row_at(0)[6] == "1"  # its Transfers column
        await pilot.press("escape")
        await pilot.press("q")
