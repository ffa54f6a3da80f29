"""Marks and save as on a capture file (no live capture needed), and "/" as text in the filter bar.

Synchronisation is on the app: the index worker is awaited, then the message queue drained.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Static

from ftptui.capture import open_capture
from ftptui.capture.spool import StreamSpool
from ftptui.store.index import PacketIndex
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.confirm import ConfirmDialog
from ftptui.ui.filter_bar import FilterBar
from ftptui.ui.packet_list import PacketList
from ftptui.ui.saving import SaveDialog

SEED = Path(__file__).parent / "data" / "seed-ftp-active.pcap"
SIZE = (150, 45)


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def opened(app, pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen, screen.query_one(PacketList)


async def wait_until(pilot, condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()


def read_back(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


async def test_marks_and_save_as_on_a_file(tmp_path):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist = await opened(app, pilot)
        assert not plist.live and not screen.growing
        # the capture keys are a live capture's only: hidden from the footer and inert
        assert screen.check_action("toggle_capture", ()) is False
        await pilot.press("ctrl+e", "ctrl+r", "ctrl+l")
        assert app.screen is screen and len(screen.index) == 84
        # m marks and unmarks; marked rows are drawn white on black
        await pilot.press("m", "j", "j", "m", "j", "m", "m")
        assert plist.marked == {0, 2}
        await pilot.press("j")
        assert list(plist.render_line(1 + 2))[0].style == plist.get_component_rich_style("packet-list--marked")  # row 2 (line 0 is the header)
        assert "Marked: 2" in str(screen.query_one("#status", Static).render())
        # save the marked packets (the default choice once there are marks) as pcap
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        dialog = app.screen
        assert dialog.chosen_which == "marked"
        dialog.query_one("#save-path", Input).value = str(tmp_path / "marked.pcap")
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "marked.pcap").exists(), "the file")
        back = read_back(tmp_path / "marked.pcap")
        assert [back.packet_bytes(k) for k in range(2)] == [screen.index.packet_bytes(f) for f in (0, 2)]
        assert len(back) == 2
        # the displayed packets, with a filter applied, as pcapng (the extension decides)
        await pilot.press("slash", *'ftp.request.command == "USER"', "enter")
        await wait_until(pilot, lambda: screen.flt is not None and screen.job is None, "the filter")
        assert plist.rows == 1
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        dialog = app.screen
        await pilot.click("#save-displayed")
        dialog.query_one("#save-path", Input).value = str(tmp_path / "user.pcapng")
        dialog.query_one("#save-path", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "user.pcapng").exists(), "the file")
        back = read_back(tmp_path / "user.pcapng")
        assert back.cap.format == "pcapng" and len(back) == 1
        assert back.packet_bytes(0) == screen.index.packet_bytes(plist.frame_at(0))
        # nothing marked any more: saving marked packets says so and keeps the dialog
        await pilot.press("escape", "slash", "ctrl+u", "enter")
        await wait_until(pilot, lambda: screen.flt is None and plist.rows == 84, "all packets")
        plist.marked.clear()
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        dialog = app.screen
        await pilot.click("#save-marked")
        dialog.query_one("#save-path", Input).focus()
        await pilot.press("enter")
        assert app.screen is dialog and "No packets are marked" in str(dialog.query_one("#save-msg", Label).render())
        # a file that cannot be written: one notice, no crash
        dialog.query_one("#save-path", Input).value = str(tmp_path / "missing-dir" / "x.pcap")
        await pilot.click("#save-all")
        dialog.query_one("#save-path", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("Could not save" in str(n.message) for n in app._notifications),
                         "the error notice")
        assert app.screen is screen and app.is_running


async def test_slash_is_text_in_the_filter_bar():
    """"/" focuses the bar from the list (and keys typed right after it land in the bar); in the
    bar it is part of the filter (a CIDR), not a key."""
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist = await opened(app, pilot)
        await pilot.press("slash", *"ip.addr == 10.10.0.0/16")
        bar = screen.query_one(FilterBar)
        assert bar.value == "ip.addr == 10.10.0.0/16" and bar.state == "valid"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.flt is not None and screen.job is None, "the filter")
        assert plist.rows == 84


def pipe_source(path: Path | None = None) -> StreamSpool:
    """The seed capture arriving on a pipe, as `tcpdump -w - | ftptui -r -` gives it."""
    r, w = os.pipe()
    os.write(w, SEED.read_bytes())
    os.close(w)
    return StreamSpool(r, path=None if path is None else str(path)).start()


async def test_quitting_asks_before_captured_packets_are_lost(tmp_path):
    """A pipe spooled to a temporary file: q asks (Esc stays); s saves first, and once every
    packet is saved q quits at once."""
    source = pipe_source()
    app = FtptuiApp(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen) and source.finished
                         and len(app.screen.index) == 84, "the whole stream")
        browser = app.screen
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmDialog) and "lose the 84 packets" in str(
            app.screen.query_one("#confirm-message", Label).render())
        await pilot.press("escape")
        assert app.screen is browser and app.is_running
        await pilot.press("ctrl+q", "s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        app.screen.query_one("#save-path", Input).value = str(tmp_path / "kept.pcap")
        await pilot.press("enter")
        await wait_until(pilot, lambda: browser.saved_packets == 84, "the saved file")
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "quitting")
    assert read_back(tmp_path / "kept.pcap").cols.n == 84


async def test_quitting_does_not_ask_when_a_file_keeps_the_packets(tmp_path):
    source = pipe_source(tmp_path / "w.pcap")  # -w FILE
    app = FtptuiApp(source=source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen) and source.finished
                         and len(app.screen.index) == 84, "the whole stream")
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "quitting")
