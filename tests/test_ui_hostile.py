"""Capture text in the app is never markup and never a control sequence (Pilot, every view).

tests/data/hostile/markup.pcap (tests/tools/make_hostile_captures.py) carries Textual markup and
escape sequences in an FTP banner, user name, password, reply, file name and file content, a DNS
query name and an HTTP request.  Each view that shows them is drawn, and the segments Textual
would write to the terminal are checked: the payloads appear literally, no segment carries a
hyperlink or a click action, and no character a terminal acts on is there.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, TabbedContent

from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.content_view import ContentScreen
from ftptui.ui.conversations_view import ConversationsScreen
from ftptui.ui.detail_tree import DetailTree
from ftptui.ui.diagram_view import DiagramScreen
from ftptui.ui.follow_view import FollowScreen
from ftptui.ui.ftp_view import FtpScreen
from ftptui.ui.line_table import TextTable
from ftptui.ui.packet_list import PacketList

sys.path.insert(0, str(Path(__file__).parent / "tools"))
from make_hostile_captures import BANNER, DNS_NAME, HTTP_PATH, PASSWORD, SCREENSHOT, USER  # noqa: E402

DATA = Path(__file__).parent / "data"
MARKUP = DATA / "hostile" / "markup.pcap"
SIZE = (220, 60)
CONTROL = {chr(c) for c in range(32)} | {"\x7f", "\u202e", "\x85"}
BANNER_TEXT = BANNER.decode().strip()


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def screen_lines(app) -> list[str]:
    """What the terminal would show, line by line; every segment is checked on the way."""
    lines = []
    for strip in app.screen._compositor.render_strips():
        text = []
        for seg in strip:
            style = seg.style
            if style is not None:
                assert not style.link, f"a hyperlink reached the screen: {style.link!r}"
                click = str((style.meta or {}).get("@click", ""))
                assert "screenshot" not in click and "app.quit" not in click, f"a click action: {click!r}"
            assert not CONTROL & set(seg.text), repr(seg.text)
            text.append(seg.text)
        lines.append("".join(text))
    return lines


def shows(app, *needles: str) -> None:
    text = "\n".join(screen_lines(app))
    for needle in needles:
        assert needle in text, f"{needle!r} is not on the screen"


def toasts(app) -> str:
    """The notifications on screen, as they render (unwrapped)."""
    from textual.widgets._toast import Toast
    screen_lines(app)  # the usual checks on what is drawn
    return "\n".join(str(toast.render()) for toast in app.screen.query(Toast))


async def settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def select_frame(app, pilot, frame: int) -> None:
    browser = app.screen
    assert isinstance(browser, BrowserScreen)
    plist = browser.query_one(PacketList)
    plist.move_to(plist.row_of(frame))
    await pilot.pause()
    browser.query_one(DetailTree).root.expand_all()
    await pilot.pause()


async def test_every_view_shows_capture_text_literally():
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        shows(app, "Response: 220 [@click=app.quit]Click to continue[/]", f"Request: USER {USER}")
        # the detail tree of the banner, the USER command, the DNS query and the HTTP request
        for frame, needle in ((3, BANNER_TEXT), (5, f"USER {USER}"), (38, DNS_NAME), (42, f"GET {HTTP_PATH} HTTP/1.1")):
            await select_frame(app, pilot, frame)
            shows(app, needle)
        # follow the control connection: the dialogue as sent
        await select_frame(app, pilot, 3)
        await pilot.press("F")
        await settle(app, pilot)
        assert isinstance(app.screen, FollowScreen)
        shows(app, BANNER_TEXT, f"USER {USER}", f"PASS {PASSWORD}", SCREENSHOT)
        await pilot.press("escape")
        await settle(app, pilot)
        # conversations and the stream's sequence diagram
        await pilot.press("C")
        await settle(app, pilot)
        assert isinstance(app.screen, ConversationsScreen)
        screen_lines(app)
        await pilot.press("escape")
        await pilot.press("D")
        await settle(app, pilot)
        assert isinstance(app.screen, DiagramScreen)
        shows(app, "FTP [Request: USER]")  # the ladder names commands, not their arguments
        await pilot.press("escape")
        # the FTP view, every tab
        await pilot.press("T")
        await settle(app, pilot)
        ftp = app.screen
        assert isinstance(ftp, FtpScreen)
        shows(app, USER)
        for tab, needles in (("tab-dialogue", [BANNER_TEXT, f"> USER {USER}", f"230 {SCREENSHOT}"]),
                             ("tab-transfers", ["RETR [b]report[/b].]0;pwned..txt.exe"]),
                             ("tab-credentials", [USER, PASSWORD]),
                             ("tab-diagram", ["FTP [Request: USER]"])):
            ftp.query_one(TabbedContent).active = tab
            await settle(app, pilot)  # (the diagram is drawn by a worker, started after a paint)
            shows(app, *needles)
        # the transfer's content, as text and as a hex dump
        ftp.query_one(TabbedContent).active = "tab-transfers"
        ftp.query_one("#ftp-transfers", TextTable).focus()
        await pilot.pause()
        await pilot.press("v")
        await settle(app, pilot)
        assert isinstance(app.screen, ContentScreen)
        shows(app, "[@click=app.quit]content[/] .[31mred.[0m")
        await pilot.press("x")
        await pilot.pause()
        shows(app, "5b 40 63 6c 69 63 6b 3d", "[@click= app.quit")
        await pilot.press("escape", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, BrowserScreen)


async def test_filters_and_notices_quote_text_literally():
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        browser = app.screen
        text = 'ftp.request.arg == "[/]" or dns.qry.name == "[/].example.com"'
        assert browser.apply_filter(text)
        await settle(app, pilot)
        assert browser.query_one(PacketList).rows == 2
        shows(app, "Filter: " + text)
        browser.select_frame(0)  # hidden by the filter: the notice quotes it
        await pilot.pause()
        assert f"the filter {text!r} hides it" in toasts(app)
        bar = browser.query_one(Input)
        bar.value = 'ftp.request.arg == "[@click=app.quit]x[/]'  # unterminated: an error below the bar
        await pilot.pause()
        screen_lines(app)
        app.notify("[link=https://evil.example]click[/link] \x1b]0;title\x07")
        await pilot.pause()
        assert "[link=https://evil.example]click[/link] .]0;title." in toasts(app)


async def test_a_file_name_is_shown_literally(tmp_path):
    path = tmp_path / "[@click=app.quit]x[b]\x1b]0;title\x07\u202e.pcap"
    shutil.copy(MARKUP, path)
    app = FtptuiApp(str(path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        shows(app, "[@click=app.quit]x[b].]0;title...pcap")


async def test_no_color(monkeypatch):
    """NO_COLOR=1: every view still draws (Textual's monochrome filter needs a style on every
    segment)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await select_frame(app, pilot, 3)
        screen_lines(app)
        for key in ("F", "C", "D", "T"):
            await pilot.press(key)
            await settle(app, pilot)
            screen_lines(app)
            await pilot.press("escape")
            await settle(app, pilot)
        assert isinstance(app.screen, BrowserScreen)
    assert app.return_code in (None, 0)


@pytest.mark.parametrize("key", ["T", "C", "D", "F"])
async def test_a_view_key_right_after_quit(key):
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await select_frame(app, pilot, 3)
        await pilot.press("q", key)
        await pilot.pause()
    assert app.return_code in (None, 0)


async def test_an_error_in_a_handler_is_reported_and_the_app_goes_on(tmp_path):
    """The one handler: a bug in a key's action becomes a notice naming the log file, whose
    traceback is there, and the screen keeps answering keys."""
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        browser = app.screen

        def broken() -> None:
            raise RuntimeError("a bug [/] here")
        browser.action_conversations = broken
        await pilot.press("C")
        await pilot.pause()
        log = tmp_path / "state" / "ftptui" / "ftptui.log"
        assert f"RuntimeError: a bug [/] here (details in {log})" in toasts(app)
        assert "RuntimeError: a bug [/] here" in log.read_text()
        assert oct(log.stat().st_mode & 0o777) == "0o600"
        await pilot.press("j")
        await pilot.pause()
        assert browser.query_one(PacketList).cursor == 1
        assert app.screen is browser
    assert app.return_code in (None, 0)


async def test_an_error_in_a_worker_is_reported_and_the_app_goes_on(tmp_path, monkeypatch):
    import ftptui.streams.follow as follow

    def broken(*args, **kwargs):
        raise ValueError("following broke")
    monkeypatch.setattr(follow, "follow_tcp", broken)
    app = FtptuiApp(str(MARKUP))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await select_frame(app, pilot, 3)
        await pilot.press("F")
        await settle(app, pilot)
        assert "ValueError: following broke" in toasts(app)
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("j")
        await pilot.pause()
        assert app.screen.query_one(PacketList).cursor == 4
    assert app.return_code in (None, 0)


async def test_recent_files_and_the_filter_menu(tmp_path):
    """The welcome screen's recent files (file names) and the Apply-as-Filter menu (a field value
    from the capture) are plain text too."""
    from ftptui.ui.filter_bar import FilterMenu
    from ftptui.ui.recent import remember
    from ftptui.ui.welcome import WelcomeScreen

    path = tmp_path / "[@click=app.quit]recent[b]\x1b[2J.pcap"
    shutil.copy(MARKUP, path)
    remember(str(path))
    app = FtptuiApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, WelcomeScreen)
        shows(app, "[@click=app.quit]recent[b].[2J.pcap")
        app.open_capture(str(path))
        await settle(app, pilot)
        await select_frame(app, pilot, 5)  # USER [link=...]admin[/link]
        tree = app.screen.query_one(DetailTree)
        node = next(n for n in _nodes(tree.root) if n.data and n.data[0].name == "ftp.request.arg")
        tree.move_cursor(node)
        tree.focus()
        await pilot.pause()
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, FilterMenu)
        shows(app, 'Filter on: ftp.request.arg == "[link=\\"https://evil.example/phish\\"]admin')


def _nodes(node):
    for child in node.children:
        yield child
        yield from _nodes(child)
