"""The UI thread only draws and dispatches: the heavy work behind each view runs in a worker
thread (the real functions are wrapped to record the thread they ran on), and views come back
as they were left."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_ui_ftp import open_ftp  # the tests' one way into the FTP view
from textual.widgets import TabbedContent

from ftptui.ui import diagram_view, ftp_view
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.content_view import ContentScreen
from ftptui.ui.diagram_view import DiagramPane, DiagramScreen
from ftptui.ui.ftp_view import FtpScreen
from ftptui.ui.line_table import TextTable

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-ftp-active.pcap"
TWO_SESSIONS = DATA / "public" / "suricata-verify__firewall-117-ftp-all-data-ipv6.pcap"
SIZE = (160, 50)


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def threads(monkeypatch):
    """name -> the threads each wrapped function ran on."""
    seen: dict[str, list[threading.Thread]] = {}

    def record(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            seen.setdefault(name, []).append(threading.current_thread())
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)
    for module, name in ((ftp_view, "analyse"), (ftp_view, "session_steps"), (ftp_view, "follow_tcp"),
                         (ftp_view, "extract"), (diagram_view, "steps"), (diagram_view, "ladder")):
        record(module, name)
    return seen


async def settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_ftp_view_work_runs_in_workers(threads, tmp_path):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ftp(pilot, app)
        assert "session_steps" not in threads  # the Diagram tab was not opened: nothing drawn
        screen.query_one(TabbedContent).active = "tab-diagram"
        await settle(app, pilot)
        assert screen.query_one(DiagramPane).steps()
        screen.query_one(TabbedContent).active = "tab-transfers"
        await pilot.pause()
        table = screen.query_one("#ftp-transfers", TextTable)
        table.focus()
        table.move_to(2)
        await pilot.press("v")
        await settle(app, pilot)
        assert isinstance(app.screen, ContentScreen)
        await pilot.press("escape")
        await pilot.press("e")
        screen.query_one("#ftp-input").value = str(tmp_path / "out")
        await pilot.press("enter")
        await settle(app, pilot)
        assert (tmp_path / "out" / "dump.sql").exists()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        app.screen.select_frame(27)
        await pilot.press("D")
        await settle(app, pilot)
        assert isinstance(app.screen, DiagramScreen)
    main = threading.main_thread()
    for name in ("analyse", "session_steps", "follow_tcp", "extract", "steps", "ladder"):
        assert threads.get(name), f"{name} never ran"
        assert main not in threads[name], f"{name} ran on the UI thread"


async def test_ftp_view_reopens_as_it_was_left():
    app = FtptuiApp(str(TWO_SESSIONS))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ftp(pilot, app)
        sessions = screen.query_one("#ftp-sessions", TextTable)
        assert sessions.row_count == 2
        await pilot.press("down")
        await pilot.pause()
        assert screen.session.id == 2
        screen.query_one(TabbedContent).active = "tab-diagram"
        await settle(app, pilot)
        drawn = screen.query_one(DiagramPane).steps()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("T")
        await settle(app, pilot)
        again = app.screen
        assert isinstance(again, FtpScreen) and again is not screen
        assert again.session.id == 2 and again.query_one("#ftp-sessions", TextTable).cursor == 1
        assert again.query_one(TabbedContent).active == "tab-diagram"
        assert again.query_one(DiagramPane).steps() is drawn  # kept, not drawn again


async def test_scapy_layers_come_from_a_worker_below_the_native_tree(monkeypatch):
    """Frame 4 of the HTTP capture: the native HTTP layer at once, scapy's layers (a second to
    import) added by a worker without moving the tree's cursor."""
    from ftptui.ui import browser as browser_module
    from ftptui.ui.detail_tree import DetailTree
    ran_on = []
    real = browser_module.scapy_layers

    def recording(data, link):
        ran_on.append(threading.current_thread())
        return real(data, link)
    monkeypatch.setattr(browser_module, "scapy_layers", recording)
    app = FtptuiApp(str(DATA / "public" / "chrissanders__http_ip4and6.pcapng"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.select_frame(3)
        await settle(app, pilot)
        labels = [str(node.label) for node in app.screen.query_one(DetailTree).root.children]
        assert labels[-3].startswith("Hypertext Transfer Protocol")
        assert labels[-2:] == ["HTTP 1 (scapy)", "HTTP Request (scapy)"]
    assert ran_on and threading.main_thread() not in ran_on


async def test_conversations_reopen_as_they_were_left(monkeypatch):
    """Computed once per capture: reopening shows the same tables (not computed again), the
    same sort and the same conversation under the cursor."""
    from ftptui.ui import conversations_view
    from ftptui.ui.conversations_view import ConversationsScreen
    computed = []
    real = conversations_view.conversations

    def counting(index, kind):
        computed.append(kind)
        return real(index, kind)
    monkeypatch.setattr(conversations_view, "conversations", counting)
    app = FtptuiApp(str(DATA / "public" / "zeek__ipv4.pcap"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("C")
        await settle(app, pilot)
        first = app.screen
        assert isinstance(first, ConversationsScreen) and first.table.row_count >= 3
        await pilot.press("s", "r", "down", "down")
        await pilot.pause()
        row = int(first.table.order[first.table.cursor])
        sort = (first.sort_key, first.reverse)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("C")
        await settle(app, pilot)
        again = app.screen
        assert isinstance(again, ConversationsScreen) and again is not first
        assert (again.sort_key, again.reverse) == sort
        assert int(again.table.order[again.table.cursor]) == row
    assert computed == ["tcp"]


async def test_rows_of_a_long_stream_never_wait_for_its_analysis(monkeypatch):
    """G on a 4,500-packet stream with a row budget of 200 frames: the UI thread analyses at most
    that much at once, a thread does the rest, and the rows are drawn again with tshark's labels
    (tests/data/analysis/retransmission-storm.pcap.tshark.txt)."""
    from ftptui.streams import analysis
    from ftptui.ui.packet_list import PacketList
    monkeypatch.setattr(analysis, "ROW_BUDGET", 200)
    monkeypatch.setattr(analysis, "AHEAD", 50)
    sizes: list[tuple[threading.Thread, int]] = []
    real = analysis.analyse_segments

    def recording(conv, rows, out, options_of, want_bif=True):
        rows = list(rows)
        sizes.append((threading.current_thread(), len(rows)))
        return real(conv, rows, out, options_of, want_bif)
    monkeypatch.setattr(analysis, "analyse_segments", recording)
    storm = DATA / "analysis" / "retransmission-storm.pcap"
    expected = (DATA / "analysis" / "retransmission-storm.pcap.tshark.txt").read_text().splitlines()
    app = FtptuiApp(str(storm))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        plist = app.screen.query_one(PacketList)
        plist.focus()
        await pilot.press("end")
        for _ in range(100):  # the thread's analysis, then the rows drawn again
            await pilot.pause(0.05)
            if sizes and not any(t.name.startswith("tcp-analysis-") for t in threading.enumerate()):
                break
        await settle(app, pilot)
        info = [line.split(" TCP ", 1)[1].split(" ", 1)[1] for line in expected]  # after protocol and length
        late = [k for k in range(len(expected) - 60, len(expected))]  # on screen after End, with labels
        assert [plist.cells(k)[0][-1] for k in late] == [info[k] for k in late]
        assert any("[TCP Retransmission]" in info[k] for k in late)
        # the selected (last) packet's tree was shown again with its analysis
        assert not app.screen.current_incomplete
        assert info[-1] == app.screen.current.info
    main = threading.main_thread()
    assert any(t is not main and n > 200 for t, n in sizes), "the long analysis did not run in a thread"
    assert all(n <= 200 + 50 for t, n in sizes if t is main), [n for t, n in sizes if t is main]
