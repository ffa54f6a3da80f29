"""The FTP view in the app (Pilot): sessions, dialogue, transfers, credentials, content, copy,
extraction, the diagram, and jumping back to packets.  Expected values come from the seed
walkthrough (its session, file and credentials) and tshark's frame numbers."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from textual.widgets import Input, TabbedContent

from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.content_view import ContentScreen
from ftptui.ui.diagram_view import DiagramPane
from ftptui.ui.ftp_view import FtpScreen
from ftptui.ui.key_bar import KeyBar
from ftptui.ui.line_table import TextTable
from ftptui.ui.lines_view import LinesView
from ftptui.ui.packet_list import PacketList

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-ftp-active.pcap"
DUMP = (DATA / "seed-ftp-active.dump.sql").read_bytes()
SIZE = (160, 50)


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def open_ftp(pilot, app) -> FtpScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("T")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, FtpScreen)
    return screen


async def drawn(pilot, app) -> None:
    """Wait for the diagram: drawn in a worker that starts once "drawing…" is painted."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def show_tab(pilot, screen, tab: str):
    screen.query_one(TabbedContent).active = tab
    await drawn(pilot, screen.app)


def shown(view: LinesView) -> list[str]:
    return [view.source.line(y) for y in range(len(view.source))]


async def test_sessions_dialogue_and_credentials():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ftp(pilot, app)
        sessions = screen.query_one("#ftp-sessions", TextTable)
        assert sessions.row_count == 1
        assert [str(c) for c in sessions.get_row_at(0)[:5]] == ["1", "10.10.15.211:47050", "10.10.10.187:21",
                                                                   "ftpuser", "yes"]
        dialogue = screen.query_one("#ftp-dialogue", LinesView)
        lines = shown(dialogue)
        assert lines[:5] == ["220 (vsFTPd 3.0.3)", "> USER ftpuser", "331 Please specify the password.",
                             "> PASS %n?4Wz>R$tTF7", "230 Login successful."]
        creds = screen.query_one("#ftp-credentials", TextTable)
        assert [str(c) for c in creds.get_row_at(0)] == ["1", "ftpuser", "%n?4Wz>R$tTF7", "230 Login successful.", "10"]
        # the key bar lists the view's keys once they work (not only Esc, as while it was analysing)
        await pilot.pause()
        assert "View content" in screen.query_one(KeyBar).text.plain
        # Enter on a dialogue line selects its packet: "> PORT 10,10,15,211,158,215" is frame 18 (tshark)
        port = next(k for k, text in enumerate(lines) if text.startswith("> PORT 10,10,15,211,158,215"))
        dialogue.focus()
        dialogue.move_to(port)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        assert app.screen.query_one(PacketList).current_frame == 17


async def test_transfers_content_copy_and_extract(tmp_path):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ftp(pilot, app)
        await show_tab(pilot, screen, "tab-transfers")
        table = screen.query_one("#ftp-transfers", TextTable)
        assert [str(table.get_row_at(k)[0]) for k in range(table.row_count)] == ["LIST", "NLST dump.sql", "RETR dump.sql"]
        table.focus()
        table.move_to(2)
        await pilot.press("y")
        assert app.clipboard == hashlib.sha256(DUMP).hexdigest()
        await pilot.press("v")
        await app.workers.wait_for_complete()  # the bytes are gathered in a worker
        await pilot.pause()
        assert isinstance(app.screen, ContentScreen)
        view = app.screen.query_one(LinesView)
        assert shown(view) == [line.expandtabs(8) for line in DUMP.decode().splitlines()]
        await pilot.press("x")  # hex dump
        await pilot.pause()
        assert shown(view)[0].startswith("00000000  ")
        assert len(shown(view)) == (len(DUMP) + 15) // 16
        await pilot.press("escape")
        await pilot.pause()
        table.focus()
        await pilot.press("e")
        box = screen.query_one("#ftp-input", Input)
        assert app.focused is box
        box.value = str(tmp_path / "out")
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # extraction runs in a worker
        await pilot.pause()
        assert (tmp_path / "out" / "dump.sql").read_bytes() == DUMP


async def test_sessions_shown_from_the_links_before_the_transfers_are_read(monkeypatch):
    """T shows the sessions at once from the browser's links-only pass; sizes, hashes and the
    keys that need them wait for the full analysis, then the same rows get them."""
    import threading

    from ftptui.ui import ftp_view
    release, reading = threading.Event(), threading.Event()
    real = ftp_view.analyse

    def slow(index, contents=True):
        reading.set()
        release.wait(10)
        return real(index, contents)
    monkeypatch.setattr(ftp_view, "analyse", slow)
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()  # indexed, and the browser's pass linked the data
        await pilot.pause()
        await pilot.press("T")
        for _ in range(50):
            await pilot.pause(0.02)
            if reading.is_set() and isinstance(app.screen, FtpScreen) and app.screen.analysis is not None:
                break
        screen = app.screen
        assert isinstance(screen, FtpScreen) and not screen.analysis.contents
        assert "(reading them…)" in str(screen.query_one("#ftp-title").render())
        assert screen.query_one("#ftp-sessions", TextTable).row_count == 1
        assert shown(screen.query_one("#ftp-dialogue", LinesView))[0] == "220 (vsFTPd 3.0.3)"
        screen.query_one(TabbedContent).active = "tab-transfers"
        await pilot.pause()
        table = screen.query_one("#ftp-transfers", TextTable)
        assert [str(c) for c in table.get_row_at(2)][:1] == ["RETR dump.sql"]
        assert [str(c) for c in table.get_row_at(2)][5] == "…"
        table.focus()
        table.move_to(2)
        await pilot.press("y")  # needs the hash: a notice, nothing copied
        assert app.clipboard != hashlib.sha256(DUMP).hexdigest()
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.analysis.contents
        assert [str(c) for c in table.get_row_at(2)][5] == f"{len(DUMP):,}"
        assert table.cursor == 2 and app.focused is table  # where the user was
        await pilot.press("y")
        assert app.clipboard == hashlib.sha256(DUMP).hexdigest()


async def test_diagram_and_follow_from_a_transfer():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ftp(pilot, app)
        await show_tab(pilot, screen, "tab-diagram")
        lines = shown(screen.query_one(DiagramPane).view)
        assert any("TCP [SYN]" in ln and "▶" in ln for ln in lines)
        assert any("FTP [Request: USER]" in ln for ln in lines)
        await pilot.press("z")  # fold the handshakes
        await drawn(pilot, app)
        folded = shown(screen.query_one(DiagramPane).view)
        assert any("Connection established" in ln for ln in folded) and not any("TCP [SYN]" in ln for ln in folded)
        await pilot.press("m")
        assert app.clipboard.startswith("sequenceDiagram\n") and "Note over A,F: Connection established" in app.clipboard
        await show_tab(pilot, screen, "tab-transfers")
        table = screen.query_one("#ftp-transfers", TextTable)
        table.focus()
        table.move_to(2)
        await pilot.press("g")  # filter the list to the data connection
        await app.workers.wait_for_complete()
        await pilot.pause()
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        assert browser.filter_text == "tcp.stream eq 3"
        # tshark -r tests/data/seed-ftp-active.pcap -Y "tcp.stream eq 3" -T fields -e frame.number
        assert [int(f) + 1 for f in browser.query_one(PacketList).frames] == [61, 62, 64, 67, 68, 69, 70, 71, 72, 73,
                                                                              74, 75]


async def test_browser_relabels_ftp_data_once_followed():
    """After indexing, the browser follows the FTP sessions and the list shows the data
    connection tshark misses (Zeek ftp.log: active-mode LIST to port 33582, frame 63)."""
    from ftptui.dissect.packet import dissect
    from ftptui.ftp.analysis import latest_analysis
    app = FtptuiApp(str(DATA / "public" / "zeek__ipv4.pcap"))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        browser = app.screen
        assert latest_analysis(browser.index) is not None
        d = dissect(browser.index, 62)
        assert (d.protocol, d.info) == ("FTP-DATA", "FTP Data: 342 bytes (PORT) (LIST)")


async def test_tcp_stream_diagram_screen():
    """D on a packet of the LIST data connection (frame 28, tcp.stream 1) draws its ladder:
    the walkthrough's steps TCP [SYN] ... FTP-DATA ... TCP [FIN, ACK]."""
    from ftptui.ui.diagram_view import DiagramScreen
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.select_frame(27)
        await pilot.press("D")
        await drawn(pilot, app)
        screen = app.screen
        assert isinstance(screen, DiagramScreen)
        lines = shown(screen.query_one(DiagramPane).view)
        labels = [ln.split("│")[1].strip("─ ▶◀") for ln in lines[1:]]
        assert labels == ["TCP [SYN]", "TCP [SYN, ACK]", "TCP [ACK]", "FTP-DATA", "TCP [ACK]", "TCP [FIN, ACK]",
                          "TCP [FIN, ACK]", "TCP [ACK]"]
        await pilot.press("m")
        assert app.clipboard.startswith("sequenceDiagram\n    participant A as 10.10.10.187:20")


def test_binary_content_opens_as_a_hex_dump():
    """`v` opens a transfer as text unless its first 8 KiB hold a NUL or bytes that are not
    UTF-8 (then as a hex dump; x switches)."""
    from ftptui.ui.content_view import binary_content
    gz = (Path(__file__).parent.parent / "ftptui" / "data" / "macnames.tsv.gz").read_bytes()
    assert binary_content(gz) and binary_content(b"PK\x03\x04\0\0") and binary_content(b"caf\xe9\n")
    assert not binary_content(DUMP) and not binary_content(b"") and not binary_content("café ☕\n".encode())
    # a character cut by the 8 KiB sample is no evidence; one cut at the very end of the data is
    text = ("x" * 8191 + "é" + "more text\n").encode()
    assert not binary_content(text) and binary_content(text[:8192])
    assert not binary_content(b"x" * 9000 + b"\0")  # (a NUL past the sample is not looked at)
