"""The display filter in the browser: the filter bar (validation, history, completion), applying a
filter in a worker (view, status, selection, growing index, Esc), and Apply/Prepare as Filter from
the detail tree (ftptui.dfilter.prepare).

Expected frame numbers come from tshark 4.0.17 on the seed capture; each is written next to the
command that produced it.  Synchronisation is on the app's workers, never on sleeps.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import pytest
from test_ui import SEED, SIZE, find_node, goto, opened, select_field, tree_label, tree_nodes
from textual import work
from textual.widgets import Static

from ftptui.capture import open_capture
from ftptui.dfilter import apply as filter_apply
from ftptui.dfilter.apply import Cancelled, FilterRun
from ftptui.dfilter.compile import PacketView, compile_filter
from ftptui.dfilter.prepare import PrepareError, combine, filter_for_field, quote
from ftptui.dissect.packet import dissect
from ftptui.dissect.tree import Dissection, Field
from ftptui.store.index import PacketIndex
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.filter_bar import FilterBar, FilterMenu, suggest
from ftptui.ui.history import MAX_FILTERS, load_filters, remember_filter
from ftptui.ui.messages import IndexProgress
from ftptui.ui.packet_list import PacketList

# tshark -r tests/data/seed-ftp-active.pcap -Y 'ftp.request.command == "PORT"'
PORT_FRAMES = [18, 35, 57]
# tshark -r tests/data/seed-ftp-active.pcap -Y 'ftp.request.command == "USER"'
USER_FRAMES = [6]
# tshark -r tests/data/seed-ftp-active.pcap -Y 'tcp.srcport == 47050' -T fields -e frame.number
SRCPORT_47050 = [1, 3, 5, 6, 9, 10, 13, 14, 17, 18, 20, 21, 27, 33, 35, 38, 39, 49, 52, 53, 56, 57, 59, 60, 66,
                 77, 78, 81, 83]
# tshark -r tests/data/seed-ftp-active.pcap -Y ftp -T fields -e frame.number
FTP_FRAMES = [4, 6, 8, 10, 12, 14, 16, 18, 19, 21, 26, 32, 35, 37, 39, 44, 51, 53, 55, 57, 58, 60, 65, 76, 78, 80]
PORT_FILTER = 'ftp.request.command == "PORT"'


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Opening files and applying filters write to the state dir: keep them out of the user's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


# --- helpers -------------------------------------------------------------------------------------
def status(screen) -> str:
    return str(screen.query_one("#status", Static).render())


def shown_frames(plist: PacketList) -> list[int]:
    """The frame numbers (1-based) of the rows on display."""
    return [plist.frame_at(r) + 1 for r in range(plist.rows)]


def number_column(plist: PacketList) -> list[int]:
    """The No. column as drawn, for every row on screen."""
    out = []
    for y in range(1, min(plist.rows, plist.scrollable_content_region.height - 1) + 1):
        out.append(int(plist.render_line(y).text.split()[0]))
    return out


async def settle(app, pilot, screen) -> None:
    """Wait for every worker, including filter runs started by messages handled meanwhile."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if screen.job is None and not any(w.is_running for w in app.workers):
            return
    raise AssertionError("the workers did not settle")


async def type_filter(pilot, text: str, keys: bool = True) -> None:
    """Focus the bar with '/', clear it and type `text` (without Enter).  keys=False puts the text
    in at once (the input still validates it), to keep the tests that only apply filters fast."""
    await pilot.press("slash")
    if keys:
        await pilot.press("end", "ctrl+u")
        if text:
            await pilot.press(*text)
    else:
        box = pilot.app.screen.query_one(FilterBar).input
        box.value = text
        box.cursor_position = len(text)
    await pilot.pause()


async def apply(app, pilot, screen, text: str) -> None:
    await type_filter(pilot, text, keys=False)
    await pilot.press("enter")
    await settle(app, pilot, screen)


def seed_index() -> PacketIndex:
    idx = PacketIndex(open_capture(str(SEED)))
    idx.build()
    return idx


# --- prepare.filter_for_field ------------------------------------------------------------------------
@pytest.fixture
def utc(monkeypatch):
    """Absolute times are written in local time, as Wireshark does: run in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_filter_for_field_on_frame_6(utc):
    idx = seed_index()
    d = dissect(idx, 5)
    data = idx.packet_bytes(5)
    by_name = {}
    for f in d.fields():
        by_name.setdefault(f.name, f)
    expect = {
        "ftp": "ftp",
        "tcp": "tcp",
        "tcp.srcport": "tcp.srcport == 47050",
        "tcp.flags.syn": "tcp.flags.syn == 0",
        "tcp.flags.ack": "tcp.flags.ack == 1",
        "ip.src": "ip.src == 10.10.15.211",
        "ip.dst": "ip.dst == 10.10.10.187",
        "ftp.request.command": 'ftp.request.command == "USER"',
        "ftp.request.arg": 'ftp.request.arg == "ftpuser"',
        "tcp.payload": "tcp.payload == 55:53:45:52:20:66:74:70:75:73:65:72:0d:0a",
        # fields Wireshark shows in hex are written in hex, as `tshark -T fields -e tcp.flags` prints them
        "tcp.flags": "tcp.flags == 0x0018",
        "ip.checksum": "ip.checksum == 0x2015",
        "ip.id": "ip.id == 0xebef",
        "frame.time_relative": "frame.time_relative == 3.505193000",
        "frame.number": "frame.number == 6",
        # TZ=UTC tshark -r tests/data/seed-ftp-active.pcap -Y 'frame.time == "Jul 18, 2020 09:41:29.505525000"'
        # shows frame 6
        "frame.time": 'frame.time == "Jul 18, 2020 09:41:29.505525000"',
    }
    for name, text in expect.items():
        assert filter_for_field(by_name[name], data) == text, name
    for name in ("frame.number", "frame.time", "frame.time_relative", "ftp.request.command"):
        assert list(FilterRun(idx, compile_filter(expect[name])).rows()) == [5], name
    text_only = by_name[""]
    with pytest.raises(PrepareError):
        filter_for_field(text_only, data)


def test_filter_for_field_value_types():
    data = bytes(range(64))
    cases = [
        (Field("Source: 00:0c:29:aa:bb:cc", "eth.src", 6, 6, bytes.fromhex("000c29aabbcc")),
         "eth.src == 00:0c:29:aa:bb:cc"),
        (Field("Address: 10.1.2.3", "dns.a", 0, 4, "10.1.2.3"), "dns.a == 10.1.2.3"),
        (Field("Source", "ipv6.src", 8, 16, bytes.fromhex("fe800000000000000000000000000001")),
         "ipv6.src == fe80::1"),
        (Field("Request arg", "ftp.request.arg", 0, 9, 'a"b\\c\x1bd'), r'ftp.request.arg == "a\"b\\c\x1bd"'),
        (Field("Syn", "tcp.flags.syn", 0, 1, True), "tcp.flags.syn == 1"),
        # a name the filter language does not know is matched on its bytes in the frame
        (Field("TCP Option - No-Operation (NOP)", "tcp.options.nop", 40, 2), "frame[40:2] == 28:29"),
        (Field("Transmission Control Protocol", "tcp", 20, 20), "tcp"),
    ]
    for field, text in cases:
        assert filter_for_field(field, data) == text
        compile_filter(text)
    with pytest.raises(PrepareError):
        filter_for_field(Field("tcp.options.nop", "tcp.options.nop", 0, 0), data)
    with pytest.raises(PrepareError):
        filter_for_field(Field("just a line of text"), data)


def test_quoted_string_round_trips_through_the_compiler():
    value = 'say "hi" \\ there\x00\x07\r\n·é'
    d = Dissection(number=1, time="0")
    layer = d.layer("File Transfer Protocol (FTP)", "ftp", 0, 10)
    layer.add("Request arg", "ftp.request.arg", 0, 10, value)
    text = f"ftp.request.arg == {quote(value)}"
    assert compile_filter(text).match(PacketView(d, b"x" * 10))
    assert not compile_filter(f"ftp.request.arg == {quote(value + 'x')}").match(PacketView(d, b"x" * 10))


def test_every_prepared_filter_compiles_and_selects_its_packet():
    """Every named field of every packet of the seed gives a filter that compiles and, applied,
    keeps the packet it came from (the list's filter path: columns where they can answer)."""
    idx = seed_index()
    compiled = {}
    checked = 0
    for i in range(len(idx)):
        d = dissect(idx, i)
        data = idx.packet_bytes(i)
        for f in d.fields():
            if not f.name:
                continue
            text = filter_for_field(f, data)
            flt = compiled.get(text) or compiled.setdefault(text, compile_filter(text))
            assert list(FilterRun(idx, flt).rows(i, i + 1)) == [i], (i + 1, text)
            checked += 1
    assert checked > 5000


def test_combine_like_wiresharks_menus():
    assert combine("", "tcp.port == 21") == "tcp.port == 21"
    assert combine("ftp", "tcp.port == 21", "and") == "(ftp) && (tcp.port == 21)"
    assert combine("ftp", "tcp.port == 21", "or") == "(ftp) || (tcp.port == 21)"
    assert combine("ftp", "tcp.port == 21", "not") == "!(tcp.port == 21)"
    assert combine("ftp", "tcp.port == 21", "and_not") == "(ftp) && !(tcp.port == 21)"
    assert combine("ftp", "tcp.port == 21", "or_not") == "(ftp) || !(tcp.port == 21)"
    assert combine("  ", "ip", "and") == "ip"
    assert combine("", "ip", "or_not") == "!(ip)"
    for how in ("selected", "not", "and", "or", "and_not", "or_not"):
        compile_filter(combine("ftp", 'ftp.request.command == "USER"', how))


# --- completion and history (units) ------------------------------------------------------------------
def test_suggest_completes_the_field_at_the_end():
    assert suggest("ftp.request.co") == "ftp.request.command"
    assert suggest("tcp.port == 21 && ftp.request.co") == "tcp.port == 21 && ftp.request.command"
    assert suggest("ftp.request.command") is None          # already complete
    assert suggest('ftp.request.arg == "ftp.request.co') is None  # inside a string
    assert suggest("ip.src == 10.10.15.2") is None          # a value, not a field
    assert suggest("eth.src == 00:0c:29:aa") is None
    assert suggest("") is None


def test_history_file(tmp_path):
    assert load_filters() == []
    for text in ("ftp", "tcp.port == 21", "ftp", "  "):
        remember_filter(text)
    assert load_filters() == ["ftp", "tcp.port == 21"]
    path = tmp_path / "state" / "ftptui" / "filters.json"
    assert json.loads(path.read_text()) == ["ftp", "tcp.port == 21"]
    for k in range(MAX_FILTERS + 20):
        remember_filter(f"frame.number == {k}")
    items = load_filters()
    assert len(items) == MAX_FILTERS and items[0] == f"frame.number == {MAX_FILTERS + 19}"
    path.write_text("{not json")
    assert load_filters() == []


# --- the filter bar ------------------------------------------------------------------------------------
async def test_bar_validates_as_you_type():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        bar = screen.query_one(FilterBar)
        msg = screen.query_one("#filter-msg", Static)
        await pilot.press("slash")
        assert app.focused is bar.input
        assert bar.state == "empty" and not msg.display

        await type_filter(pilot, "tcp.port == 21")
        assert bar.state == "valid"
        assert bar.input.has_class("filter-valid") and not bar.input.has_class("filter-invalid")
        assert not msg.display

        await type_filter(pilot, "tcp.port == ")
        assert bar.state == "invalid"
        assert bar.input.has_class("filter-invalid") and not bar.input.has_class("filter-valid")
        assert msg.display
        line = str(msg.render())
        assert bar.error is not None and bar.error.message in line
        assert "\n" not in line.strip()

        await type_filter(pilot, "tcp.portt == 21")
        assert bar.state == "invalid"
        line = str(msg.render())
        assert bar.error.message in line and "tcp.portt" in bar.error.message
        assert bar.error.pos == 0  # the unknown field is the offending part
        # the caret sits under the offending word (the bar's text starts at the input's content)
        offset = bar.input.content_region.x - bar.content_region.x
        assert line.index("^") == offset + bar.error.pos

        # Enter on an invalid filter applies nothing and stays in the bar
        await pilot.press("enter")
        await settle(app, pilot, screen)
        assert screen.flt is None and plist.rows == 84
        assert app.focused is bar.input
        assert "Filter:" not in status(screen)

        await type_filter(pilot, "")
        assert bar.state == "empty"
        assert not bar.input.has_class("filter-valid") and not bar.input.has_class("filter-invalid")
        assert not msg.display

        # Esc leaves the bar without applying what it holds
        await type_filter(pilot, "ftp")
        await pilot.press("escape")
        await settle(app, pilot, screen)
        assert app.focused is plist
        assert screen.flt is None and plist.rows == 84


async def test_apply_port_filter_and_clear():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert "Displayed: 84 of 84" in status(screen)
        await apply(app, pilot, screen, PORT_FILTER)
        assert app.focused is plist
        assert shown_frames(plist) == PORT_FRAMES
        assert number_column(plist) == PORT_FRAMES
        assert "PORT 10,10,15,211" in plist.render_line(1).text
        text = status(screen)
        assert "Displayed: 3 of 84" in text and "Packets: 84" in text
        assert PORT_FILTER in text
        # the first displayed frame is selected and dissected; j moves within the view
        assert plist.cursor == 0
        assert tree_label(tree.root.children[0]).startswith("Frame 18:")
        await pilot.press("j")
        await pilot.pause()
        assert tree_label(tree.root.children[0]).startswith("Frame 35:")
        await pilot.press("G")
        await pilot.pause()
        assert plist.cursor == 2
        assert tree_label(tree.root.children[0]).startswith("Frame 57:")

        # clearing the bar and pressing Enter shows every packet again, on the same frame
        await apply(app, pilot, screen, "")
        assert plist.rows == 84 and plist.frames is None
        assert "Displayed: 84 of 84" in status(screen)
        assert "Filter:" not in status(screen)
        assert plist.cursor == 56
        assert tree_label(tree.root.children[0]).startswith("Frame 57:")


async def test_only_displayed_rows_are_drawn(monkeypatch):
    from test_ui import record_dissections
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await type_filter(pilot, PORT_FILTER, keys=False)
        drawn = record_dissections(monkeypatch)  # rows already drawn stay cached; only new dissections count
        await pilot.press("enter")
        await settle(app, pilot, screen)
        plist.refresh()
        await pilot.pause()
        port = {f - 1 for f in PORT_FRAMES}
        assert drawn <= port
        assert port <= set(plist._cache)


async def test_selection_stays_on_the_same_or_nearest_frame():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "35")
        await apply(app, pilot, screen, PORT_FILTER)
        assert plist.cursor == 1 and plist.current_frame == 34
        assert tree_label(tree.root.children[0]).startswith("Frame 35:")
        # a view without frame 35: the nearest displayed frame (the USER view has frame 6 only)
        await apply(app, pilot, screen, 'ftp.request.command == "USER"')
        assert shown_frames(plist) == USER_FRAMES
        assert tree_label(tree.root.children[0]).startswith("Frame 6:")
        await apply(app, pilot, screen, "")
        assert plist.current_frame == 5
        # frame 24 is hidden by the PORT filter: 18 is 6 away, 35 is 11 away
        await goto(pilot, "24")
        await apply(app, pilot, screen, PORT_FILTER)
        assert plist.current_frame == 17
        assert tree_label(tree.root.children[0]).startswith("Frame 18:")
        # frame 50 is nearer to 57 than to 35
        await apply(app, pilot, screen, "")
        await goto(pilot, "50")
        await apply(app, pilot, screen, PORT_FILTER)
        assert plist.current_frame == 56

        # go to packet in a view: the displayed row of that frame, or a notice
        notes = []
        real_notify = app.notify
        app.notify = lambda message, *a, **k: (notes.append((message, k.get("severity"))),
                                               real_notify(message, *a, **k))
        await goto(pilot, "35")
        assert plist.cursor == 1 and plist.current_frame == 34
        await goto(pilot, "36")
        assert notes and "isn't displayed" in notes[-1][0] and notes[-1][1] == "warning"
        assert plist.current_frame == 34
        await pilot.press("escape")
        await goto(pilot, "99")
        assert "No packet" in notes[-1][0] and "1..84" in notes[-1][0]
        await pilot.press("escape")


async def test_empty_view_clears_the_details():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await apply(app, pilot, screen, "udp")  # tshark -r tests/data/seed-ftp-active.pcap -Y udp: nothing
        assert plist.rows == 0
        assert "Displayed: 0 of 84" in status(screen)
        assert not tree.root.children and hexv.data == b""
        await pilot.press("j", "G")  # moving in an empty list does nothing
        await apply(app, pilot, screen, "ftp")
        assert shown_frames(plist) == FTP_FRAMES
        assert plist.cursor == 0
        assert tree_label(tree.root.children[0]).startswith("Frame 4:")


# --- history and completion in the bar ----------------------------------------------------------------
async def test_history_across_runs_with_up_down(tmp_path):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await apply(app, pilot, screen, "ftp")
        await apply(app, pilot, screen, "tcp.port == 21")
        await apply(app, pilot, screen, "ftp")           # moves to the top, once
        await type_filter(pilot, "tcp.port ==")          # an invalid filter is not remembered
        await pilot.press("enter")
        await pilot.press("escape")
    stored = json.loads((tmp_path / "state" / "ftptui" / "filters.json").read_text())
    assert stored == ["ftp", "tcp.port == 21"]

    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        bar = screen.query_one(FilterBar)
        await pilot.press("slash", "i", "p")
        await pilot.press("up")
        assert bar.value == "ftp"
        await pilot.press("up")
        assert bar.value == "tcp.port == 21"
        await pilot.press("up")                          # the oldest stays
        assert bar.value == "tcp.port == 21"
        await pilot.press("down")
        assert bar.value == "ftp"
        await pilot.press("down")                        # back to what was typed
        assert bar.value == "ip"
        await pilot.press("down")
        assert bar.value == "ip"
        await pilot.press("up", "up", "enter")
        await settle(app, pilot, screen)
        assert screen.filter_text == "tcp.port == 21"
        assert load_filters() == ["tcp.port == 21", "ftp"]


async def test_completion_of_field_names():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        bar = screen.query_one(FilterBar)
        await type_filter(pilot, "ftp.request.co")
        await app.workers.wait_for_complete()  # the suggester runs as a worker of the input
        await pilot.pause()
        assert bar.input._suggestion == "ftp.request.command"
        await pilot.press("tab")
        assert bar.value == "ftp.request.command"
        assert app.focused is bar.input
        await pilot.press(*' == "PORT"', "enter")
        await settle(app, pilot, screen)
        assert shown_frames(plist) == PORT_FRAMES
        # Right accepts too; Tab with nothing to complete goes back to the list
        await type_filter(pilot, "tcp.fl")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("right")
        assert bar.value == "tcp.flags"
        await pilot.press("tab")
        assert app.focused is plist


# --- apply / prepare as filter from the tree -----------------------------------------------------------
async def test_apply_and_prepare_from_the_tree():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        bar = screen.query_one(FilterBar)
        await goto(pilot, "6")
        tree.focus()
        await select_field(pilot, tree, "ftp.request.command")
        await pilot.press("a")
        await settle(app, pilot, screen)
        assert bar.value == 'ftp.request.command == "USER"'
        assert screen.filter_text == 'ftp.request.command == "USER"'
        assert shown_frames(plist) == USER_FRAMES
        assert "Displayed: 1 of 84" in status(screen)

        # ...or Selected, with the source port of the same packet
        tree.focus()
        await select_field(pilot, tree, "tcp.srcport")
        await pilot.press("O")
        await settle(app, pilot, screen)
        # tshark -r tests/data/seed-ftp-active.pcap -Y '(ftp.request.command == "USER") || (tcp.srcport == 47050)'
        # gives the 47050 frames (frame 6 is one of them)
        assert screen.filter_text == '(ftp.request.command == "USER") || (tcp.srcport == 47050)'
        assert shown_frames(plist) == SRCPORT_47050
        assert plist.current_frame == 5  # still on frame 6

        # Not Selected
        tree.focus()
        await select_field(pilot, tree, "tcp.srcport")
        await pilot.press("N")
        await settle(app, pilot, screen)
        assert screen.filter_text == "!(tcp.srcport == 47050)"
        # tshark -r tests/data/seed-ftp-active.pcap -Y '!(tcp.srcport == 47050)' | wc -l  -> 55
        assert shown_frames(plist) == [n for n in range(1, 85) if n not in SRCPORT_47050]

        # ...and Selected: the ftp protocol node of a displayed packet
        await goto(pilot, "4")
        tree.focus()
        await select_field(pilot, tree, "ftp")
        await pilot.press("A")
        await settle(app, pilot, screen)
        # tshark -r tests/data/seed-ftp-active.pcap -Y '(!(tcp.srcport == 47050)) && (ftp)' -T fields -e frame.number
        assert screen.filter_text == "(!(tcp.srcport == 47050)) && (ftp)"
        assert shown_frames(plist) == [4, 8, 12, 16, 19, 26, 32, 37, 44, 51, 55, 58, 65, 76, 80]

        # Prepare: the expression goes to the bar, focused, and nothing is applied
        await select_field(pilot, tree, "ip.src")
        tree.focus()
        await pilot.press("p")
        await settle(app, pilot, screen)
        assert bar.value == "ip.src == 10.10.10.187"
        assert app.focused is bar.input and bar.state == "valid"
        assert screen.filter_text == "(!(tcp.srcport == 47050)) && (ftp)"
        await pilot.press("enter")
        await settle(app, pilot, screen)
        # tshark -r seed -Y 'ip.src == 10.10.10.187' | wc -l  -> 44
        assert plist.rows == 44 and screen.filter_text == "ip.src == 10.10.10.187"


async def test_text_line_gives_an_error_notice():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        notes = []
        real_notify = app.notify
        app.notify = lambda message, *a, **k: (notes.append((message, k.get("severity"))),
                                               real_notify(message, *a, **k))
        await goto(pilot, "6")
        ftp = find_node(tree, "ftp")
        ftp.expand()
        await pilot.pause()
        line = next(n for n in tree_nodes(tree) if n.data and not n.data[0].name and n.parent is ftp)
        tree.focus()
        tree.move_cursor(line)
        await pilot.pause()
        await pilot.press("a")
        await settle(app, pilot, screen)
        assert notes and notes[-1][1] == "error" and "not a field" in notes[-1][0]
        assert screen.flt is None and plist.rows == 84
        assert screen.query_one(FilterBar).value == ""


async def test_filter_menu_prepares_and_not_selected():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        bar = screen.query_one(FilterBar)
        await apply(app, pilot, screen, "ftp")
        await goto(pilot, "6")
        tree.focus()
        await select_field(pilot, tree, "ftp.request.command")
        await pilot.press("f")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, FilterMenu)
        assert menu.expr == 'ftp.request.command == "USER"'
        from textual.widgets import OptionList
        options = menu.query_one(OptionList)
        ids = [options.get_option_at_index(k).id for k in range(options.option_count)]
        assert len(ids) == 12 and "prepare:and_not" in ids
        options.highlighted = ids.index("prepare:and_not")
        await pilot.press("enter")
        await settle(app, pilot, screen)
        assert app.screen is screen
        assert bar.value == '(ftp) && !(ftp.request.command == "USER")'
        assert app.focused is bar.input
        assert screen.filter_text == "ftp"  # prepared, not applied
        await pilot.press("enter")
        await settle(app, pilot, screen)
        # tshark -r tests/data/seed-ftp-active.pcap -Y '(ftp) && !(ftp.request.command == "USER")'
        assert shown_frames(plist) == [n for n in FTP_FRAMES if n not in USER_FRAMES]
        # Esc closes the menu without doing anything
        tree.focus()
        await select_field(pilot, tree, "tcp.srcport")
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FilterMenu)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert bar.value == '(ftp) && !(ftp.request.command == "USER")'
        assert app.focused is tree


# --- running filters: Esc, and a growing index --------------------------------------------------------
class BlockedRun(FilterRun):
    """A FilterRun that reports some progress, then waits until it is stopped (as a long run on a
    big capture would): the test decides when it ends, with no timing involved."""
    started = threading.Event()

    def rows(self, start=0, end=None):
        if self.on_progress:
            self.on_progress(1, 4)
        BlockedRun.started.set()
        if not self.stop.wait(20):
            raise AssertionError("the filter run was never stopped")
        raise Cancelled()


async def test_esc_cancels_a_running_filter_and_keeps_the_view(monkeypatch):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        notes = []
        real_notify = app.notify
        app.notify = lambda message, *a, **k: (notes.append(message), real_notify(message, *a, **k))
        await apply(app, pilot, screen, PORT_FILTER)
        await goto(pilot, "35")
        monkeypatch.setattr(filter_apply, "FilterRun", BlockedRun)  # (the browser imports it when it runs a filter)

        # from the list
        BlockedRun.started.clear()
        await type_filter(pilot, "ftp")
        await pilot.press("enter")
        assert await asyncio.to_thread(BlockedRun.started.wait, 10)
        await pilot.pause()
        assert app.focused is plist
        assert "filtering" in status(screen) and "25%" in status(screen)
        assert shown_frames(plist) == PORT_FRAMES  # the previous view stays while it runs
        await pilot.press("escape")
        await settle(app, pilot, screen)
        assert shown_frames(plist) == PORT_FRAMES and plist.current_frame == 34
        assert screen.filter_text == PORT_FILTER and "filtering" not in status(screen)
        assert "Displayed: 3 of 84" in status(screen)
        assert any("cancelled" in n for n in notes)

        # from the bar: Esc there leaves it and cancels too
        BlockedRun.started.clear()
        await type_filter(pilot, "tcp")
        await pilot.press("enter")
        assert await asyncio.to_thread(BlockedRun.started.wait, 10)
        await pilot.press("slash")
        await pilot.press("escape")
        await settle(app, pilot, screen)
        assert app.focused is plist
        assert shown_frames(plist) == PORT_FRAMES and screen.filter_text == PORT_FILTER

        # a newer filter replaces a running one
        BlockedRun.started.clear()
        await type_filter(pilot, "ip")
        await pilot.press("enter")
        assert await asyncio.to_thread(BlockedRun.started.wait, 10)
        monkeypatch.setattr(filter_apply, "FilterRun", FilterRun)
        await apply(app, pilot, screen, 'ftp.request.command == "USER"')
        assert shown_frames(plist) == USER_FRAMES


async def test_filter_follows_a_growing_index(monkeypatch):
    """The indexer adds the seed in small batches and is held after the first; a filter applied
    then covers the first batch, and the rows of later batches are filtered as they arrive."""
    gate = threading.Event()
    first = threading.Event()

    @work(thread=True, exclusive=True, group="index")
    def build_in_steps(self) -> None:
        for k, batch in enumerate(self.cap.scan(chunk=2048)):
            if k == 1:
                first.set()
                gate.wait(20)
            self.index.add_batch(batch)
            self.post_message(IndexProgress(False))
        self.index.done = True
        self.post_message(IndexProgress(True))

    monkeypatch.setattr(BrowserScreen, "build_index", build_in_steps)
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        assert await asyncio.to_thread(first.wait, 10)
        await pilot.pause()
        screen = app.screen
        plist = screen.query_one(PacketList)
        n = len(screen.index)
        assert 18 <= n < 35 and not screen.index.done
        await type_filter(pilot, PORT_FILTER, keys=False)
        await pilot.press("enter")
        for w in [w for w in app.workers if w.group == "filter"]:
            await w.wait()
        await pilot.pause()
        assert shown_frames(plist) == [18]
        assert f"Displayed: 1 of {n}" in status(screen)
        gate.set()
        await settle(app, pilot, screen)
        assert screen.index.done
        assert shown_frames(plist) == PORT_FRAMES
        assert screen.view_end == 84
        assert "Displayed: 3 of 84" in status(screen)
        assert plist.current_frame == 17


def test_nearest_row_and_row_of():
    class FakeIndex:
        def __len__(self):
            return 100

    plist = PacketList(FakeIndex())
    plist.frames = np.array([10, 20, 40], dtype=np.int64)
    plist.rows = 3
    assert plist.row_of(20) == 1 and plist.row_of(21) is None and plist.row_of(99) is None
    assert [plist.nearest_row(f) for f in (0, 10, 14, 15, 16, 29, 30, 31, 99)] == [0, 0, 0, 0, 1, 1, 1, 2, 2]


async def test_a_filter_from_the_command_line_is_applied_when_the_capture_opens(tmp_path):
    """`ftptui -r FILE -Y FILTER` opens the browser with the filter applied (termshark does),
    shown in the bar as if typed, and kept out of the filter history."""
    app = FtptuiApp(str(SEED), display_filter="ftp")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(app, pilot, screen)
        plist = screen.query_one(PacketList)
        assert shown_frames(plist) == FTP_FRAMES
        assert plist.current_frame == FTP_FRAMES[0] - 1  # the first match selected, its tree shown
        assert screen.current is not None and screen.current.layers
        assert screen.filter_text == "ftp" and screen.query_one(FilterBar).value == "ftp"
        assert "ftp" not in screen.query_one(FilterBar).input.history
