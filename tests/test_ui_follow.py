"""Follow TCP/UDP Stream in the UI (ftptui.ui.follow_view), driven through a Pilot.

Expected values come from tshark 4.0.17; each is written next to the command that produced it.
Synchronisation is on the app's workers and message queue, never on sleeps.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from test_ui import DATA, SEED, SIZE, opened, write_pcap
from test_ui_filter import apply, settle, shown_frames
from textual.widgets import Input, Static

from ftptui import clipboard
from ftptui.render.follow import hex_line
from ftptui.ui.app import FtptuiApp
from ftptui.ui.filter_bar import FilterBar
from ftptui.ui.follow_view import DumpLayout, FollowScreen, StreamText, TextLayout, text_of
from ftptui.ui.packet_list import PacketList

DUMP = DATA / "seed-ftp-active.dump.sql"  # the file RETR dump.sql transferred (tcp.stream 3)
BIGTRANSFER = DATA / "public" / "zeek__bigtransfer.pcap"
WIKIPEDIA = DATA / "public" / "zeek__wikipedia.pcap"

# tshark -r tests/data/seed-ftp-active.pcap -Y 'tcp.stream eq 3' -T fields -e frame.number
STREAM3_FRAMES = [61, 62, 64, 67, 68, 69, 70, 71, 72, 73, 74, 75]
# tshark -r tests/data/seed-ftp-active.pcap -q -z follow,tcp,hex,3 | sed -n 7p
STREAM3_HEX_FIRST = "00000000  2d 2d 20 4d 79 53 51 4c  20 64 75 6d 70 20 31 30  -- MySQL  dump 10"
# tshark -r tests/data/seed-ftp-active.pcap -Y ftp -T fields -e frame.number
FTP_FRAMES = [4, 6, 8, 10, 12, 14, 16, 18, 19, 21, 26, 32, 35, 37, 39, 44, 51, 53, 55, 57, 58, 60, 65, 76, 78, 80]
# tshark -r tests/data/public/zeek__bigtransfer.pcap -q -z follow,tcp,ascii,2 | grep -m1 missing
FIRST_GAP = "[380355712 bytes missing in capture file]"
# tshark -r tests/data/public/zeek__bigtransfer.pcap -q -z follow,tcp,ascii,2 | grep -c missing
GAPS = 9


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Applying filters writes the history to the state dir: keep it out of the user's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


REAL_PYPERCLIP_COPY = clipboard._pyperclip_copy


@pytest.fixture(autouse=True)
def no_desktop_clipboard(monkeypatch):
    """Copy must not touch the developer's real clipboard: the pyperclip route is stubbed."""
    monkeypatch.setattr(clipboard, "_pyperclip_copy", lambda text: False)


# --- helpers -------------------------------------------------------------------------------------
async def select_frame(pilot, screen, number: int) -> None:
    plist = screen.query_one(PacketList)
    row = plist.row_of(number - 1)
    assert row is not None, f"frame {number} is not displayed"
    plist.move_to(row)
    await pilot.pause()


async def follow(app, pilot, key: str = "F") -> FollowScreen:
    """Press the follow key and wait for the stream worker, the screen and the filter run."""
    browser = app.screen
    await pilot.press(key)
    await settle(app, pilot, browser)
    screen = app.screen
    assert isinstance(screen, FollowScreen), screen
    return screen


def visible(view: StreamText) -> list[str]:
    """The lines on screen, as drawn (trailing padding removed)."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def dump_lines() -> list[str]:
    return [line.expandtabs(8) for line in DUMP.read_text().split("\n")[:-1]]


def has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)


def tcp_segment(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int,
                payload: bytes = b"") -> bytes:
    """IPv4 + TCP with the given sequence numbers (checksums left zero)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    return ip + tcp


def tcp_session_pcap(path: Path, server_data: bytes, client_data: bytes = b"GET /big\r\n", mss: int = 1448) -> Path:
    """A raw-IP pcap with one TCP connection: handshake, a request, `server_data` in `mss`-byte
    segments (each acknowledged), FIN."""
    c, s = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    cp, sp = 40000, 8080
    cseq, sseq = 1000, 5000
    pkts = [tcp_segment(c, s, cp, sp, cseq, 0, 0x02),
            tcp_segment(s, c, sp, cp, sseq, cseq + 1, 0x12),
            tcp_segment(c, s, cp, sp, cseq + 1, sseq + 1, 0x10),
            tcp_segment(c, s, cp, sp, cseq + 1, sseq + 1, 0x18, client_data)]
    cseq += 1 + len(client_data)
    sseq += 1
    for k in range(0, len(server_data), mss):
        piece = server_data[k:k + mss]
        pkts.append(tcp_segment(s, c, sp, cp, sseq, cseq, 0x18, piece))
        sseq += len(piece)
        if (k // mss) % 8 == 7:
            pkts.append(tcp_segment(c, s, cp, sp, cseq, sseq, 0x10))
    pkts.append(tcp_segment(s, c, sp, cp, sseq, cseq, 0x11))
    pkts.append(tcp_segment(c, s, cp, sp, cseq, sseq + 1, 0x11))
    return write_pcap(path, pkts)


# --- the FTP-DATA transfer of the seed ----------------------------------------------------------------
async def test_follow_ftp_data_shows_the_transferred_file():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 67)  # FTP-DATA of RETR dump.sql
        screen = await follow(app, pilot)
        view = screen.view
        assert screen.stream.proto == "tcp" and screen.stream.number == 3
        # tshark -r tests/data/seed-ftp-active.pcap -q -z follow,tcp,raw,3: Node 0: 10.10.10.187:20,
        # Node 1: 10.10.15.211:38545; wc -c tests/data/seed-ftp-active.dump.sql: 3405
        title = str(screen.query_one("#follow-title", Static).render())
        assert "tcp.stream eq 3" in title
        assert "10.10.10.187:20 → 10.10.15.211:38545: 3,405 bytes" in title
        assert "10.10.15.211:38545 → 10.10.10.187:20: 0 bytes" in title
        # the packet list underneath is filtered to the stream, as Wireshark does
        assert browser.filter_text == "tcp.stream eq 3"
        assert shown_frames(plist) == STREAM3_FRAMES
        assert browser.query_one(FilterBar).value == "tcp.stream eq 3"
        # ASCII: the file, line for line (long lines wrap on screen; joined again they are the file's)
        expected = dump_lines()
        assert view.text().split("\n")[:-1] == expected
        shown = visible(view)
        assert shown[:5] == expected[:5]
        assert all(len(line) <= view.scrollable_content_region.width for line in shown)
        status = str(screen.query_one("#follow-status", Static).render())
        assert "ASCII" in status and "packet 67" in status
        # hex dump: tshark's lines
        await pilot.press("x")
        assert view.mode == "hex"
        assert visible(view)[0] == STREAM3_HEX_FIRST
        tshark_hex = (DATA / "follow" / "seed-ftp-active.pcap.tcp.0.hex").read_text().split("\n")
        assert hex_line(b"USER ftpuser\r\n", 0) == tshark_hex[8]
        # m cycles ASCII → Hex Dump → Raw → UTF-8 → ASCII
        await pilot.press("m")
        assert view.mode == "raw"
        # tshark -r tests/data/seed-ftp-active.pcap -q -z follow,tcp,raw,3: one line per chunk
        raw = (DATA / "follow" / "seed-ftp-active.pcap.tcp.3.txt").read_text().split("\n")[6:9]
        assert view.text().split("\n")[:-1] == raw
        assert all(len(t) <= view.scrollable_content_region.width for t in visible(view))
        await pilot.press("m")
        assert view.mode == "utf8"
        assert view.text().split("\n")[:-1] == expected
        await pilot.press("m")
        assert view.mode == "ascii"
        # Esc: back to the list, unfiltered again, on the packet that was selected
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browser
        assert browser.filter_text == "" and browser.flt is None
        assert plist.rows == 84 and plist.frames is None
        assert plist.current_frame == 66
        assert browser.query_one(FilterBar).value == ""
        assert "Displayed: 84 of 84" in str(browser.query_one("#status", Static).render())


async def test_leaving_restores_the_previous_filter():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await apply(app, pilot, browser, "ftp")
        assert shown_frames(plist) == FTP_FRAMES
        await select_frame(pilot, browser, 18)  # PORT, in the control connection (tcp.stream 0)
        screen = await follow(app, pilot)
        assert screen.stream.number == 0
        # tshark -r tests/data/seed-ftp-active.pcap -Y 'tcp.stream eq 0' | wc -l
        assert plist.rows == 56 and browser.filter_text == "tcp.stream eq 0"
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is browser
        assert browser.filter_text == "ftp"
        assert shown_frames(plist) == FTP_FRAMES
        assert plist.current_frame == 17
        assert browser.query_one(FilterBar).value == "ftp"
        # following did not put its filter in the history
        assert "tcp.stream eq 0" not in browser.query_one(FilterBar).input.history


async def test_find_next_and_previous():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 67)
        screen = await follow(app, pilot)
        view = screen.view
        await pilot.press("slash")
        box = screen.query_one("#follow-find", Input)
        assert box.display and app.focused is box
        await pilot.press(*"TABLE", "enter")
        await pilot.pause()
        assert app.focused is view and not box.display
        # grep -n TABLE tests/data/seed-ftp-active.dump.sql: lines 22, 25, 39, 40, 42, 43
        lines = dump_lines()
        hits = [k for k, line in enumerate(lines) if "TABLE" in line]
        assert hits == [21, 24, 38, 39, 41, 42]

        def matched_line() -> str:
            y, a, b = view.match
            text = view.line(y)[0]
            assert text[a:b] == "TABLE"
            return text

        first = view.match
        assert lines[first[0]] == matched_line()  # no wrapped line before it
        assert first[0] == hits[0] and view.cursor == first[0]
        # highlighted and in view
        top = view.scroll_offset.y
        assert top <= first[0] < top + view.scrollable_content_region.height
        strip = view.render_line(first[0] - top)
        match = view.get_component_rich_style("stream-text--match")
        assert any(seg.style == match and seg.text == "TABLE" for seg in strip)
        await pilot.press("n")
        assert view.match[0] == hits[1] and view.cursor == hits[1]
        await pilot.press("n")
        assert view.match[0] == hits[2]
        assert view.scroll_offset.y <= hits[2] < view.scroll_offset.y + view.scrollable_content_region.height
        await pilot.press("N")
        assert view.match[0] == hits[1]
        # a capital in the query: case-sensitive; lower case: not
        assert "Find: TABLE" in str(screen.query_one("#follow-status", Static).render())
        await pilot.press("slash", "ctrl+u", *"no such words", "enter")
        await pilot.pause()
        assert view.match is None
        assert "no match" in str(screen.query_one("#follow-status", Static).render())
        await pilot.press("ctrl+f", "ctrl+u", *"lock tables", "enter")
        await pilot.pause()
        assert "LOCK TABLES" in matched_line_of(view)
        # Esc in the find box closes the box, not the view
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert app.screen is screen and not box.display


def matched_line_of(view: StreamText) -> str:
    y, a, b = view.match
    return view.line(y)[0]


async def test_enter_selects_the_chunk_packet():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 67)
        screen = await follow(app, pilot)
        view = screen.view
        # tshark -r tests/data/seed-ftp-active.pcap -Y 'tcp.stream eq 3 && tcp.len > 0' -T fields -e frame.number
        # gives 67, 69, 71: the chunks' packets
        assert [c.frame + 1 for c in screen.stream.chunks] == [67, 69, 71]
        assert view.line(0)[2] == 0
        await pilot.press("end")
        last = view.cursor
        assert last == view.lines - 1 and view.line(last)[2] == 2
        assert "packet 71" in str(screen.query_one("#follow-status", Static).render())
        # a line of the second chunk
        y = next(k for k in range(view.lines) if view.line(k)[2] == 1)
        view.move_to(y + 1)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is browser
        assert browser.filter_text == "" and plist.rows == 84
        assert plist.current_frame == 68  # frame 69
        assert browser.current.number == 69


async def test_save_writes_the_raw_bytes(tmp_path):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 67)
        screen = await follow(app, pilot)
        await pilot.press("w")
        box = screen.query_one("#follow-save", Input)
        assert box.display and app.focused is box
        assert box.value == "tcp-stream-3.bin"
        target = tmp_path / "dump.sql"
        box.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert target.read_bytes() == DUMP.read_bytes()
        assert not box.display and app.screen is screen
        # server side only (10.10.15.211:38545 sent nothing): an empty file
        await pilot.press("d", "d")
        assert screen.view.sides == (1,)
        assert screen.view.lines == 0
        await pilot.press("ctrl+s")
        assert box.value == "tcp-stream-3-server.bin"
        box.value = str(tmp_path / "server.bin")
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "server.bin").read_bytes() == b""
        # a path that cannot be written: an error notice, the box stays open
        await pilot.press("w")
        box.value = str(tmp_path)  # a directory
        await pilot.press("enter")
        await pilot.pause()
        assert box.display
        assert any("Could not write" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert not box.display and app.screen is screen


async def test_copy_puts_the_text_on_the_clipboard():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 67)
        await follow(app, pilot)
        await pilot.press("c")
        assert app.clipboard == DUMP.read_text().expandtabs(8)
        await pilot.press("x", "y")
        assert app.clipboard.split("\n")[0] == STREAM3_HEX_FIRST
        assert any("Copied" in n.message for n in app._notifications)


def test_clipboard_survives_a_headless_pyperclip(monkeypatch):
    import pyperclip

    class FakeApp:
        copied = None

        def copy_to_clipboard(self, text):
            self.copied = text

    def no_clipboard(text):
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism")

    copied = []
    monkeypatch.setattr(clipboard, "_pyperclip_copy", REAL_PYPERCLIP_COPY)  # the autouse stub's target
    monkeypatch.setattr(pyperclip, "copy", no_clipboard)
    app = FakeApp()
    assert clipboard.copy(app, "hello") == ["terminal"]
    assert app.copied == "hello"
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    assert clipboard.copy(app, "again") == ["terminal", "desktop"]
    assert copied == ["again"]


# --- gaps, control characters, UDP ------------------------------------------------------------------
async def test_gap_line():
    app = FtptuiApp(str(BIGTRANSFER))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        first = int(np.nonzero(browser.index.cols["stream"] == 2)[0][0])
        await select_frame(pilot, browser, first + 1)
        screen = await follow(app, pilot)
        view = screen.view
        assert screen.stream.number == 2
        for mode in ("ascii", "x", "r", "u"):
            if mode != "ascii":
                await pilot.press(mode)
            texts = [view.line(y)[0] for y in range(view.lines)]
            assert texts.count(FIRST_GAP) == 1, view.mode
            assert sum(t.endswith("bytes missing in capture file]") for t in texts) == GAPS
        y = next(k for k in range(view.lines) if view.line(k)[0] == FIRST_GAP)
        view.move_to(y)
        await pilot.pause()
        top = view.scroll_offset.y
        assert view.render_line(y - top).text.rstrip() == FIRST_GAP
        assert "9 gaps" in str(screen.query_one("#follow-title", Static).render())


NASTY = (b"plain\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07 \x9b2J \xc2\x9b \xc2\x85 \x1bP+q\x1b\\ \x00\x7f\x08\r"
         b"bell\x07\ttab\r\nnext line \xff\xfe caf\xc3\xa9\n\x1b[2J\x1b[H" * 3)


async def test_control_characters_never_reach_the_terminal(tmp_path):
    path = tcp_session_pcap(tmp_path / "nasty.pcap", NASTY, client_data=b"\x1b]0;title\x07\x1bc\r\n")
    app = FtptuiApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 4)
        screen = await follow(app, pilot)
        view = screen.view
        assert screen.stream.side_bytes(1) == NASTY
        for key in ("a", "u", "x", "r"):
            await pilot.press(key)
            lines = [view.line(y)[0] for y in range(view.lines)]
            assert lines and not any(has_control(t) for t in lines), (view.mode, lines)
            drawn = [view.render_line(y).text for y in range(view.scrollable_content_region.height)]
            assert not any(has_control(t) for t in drawn), view.mode
        await pilot.press("c")
        assert not has_control(app.clipboard.replace("\n", ""))
    # tabs are expanded, CRLF and LF break lines, é survives in UTF-8 and is a dot in ASCII
    assert text_of(b"a\tb", "ascii") == "a       b"
    assert text_of(b"caf\xc3\xa9", "ascii") == "caf.."
    assert text_of(b"caf\xc3\xa9", "utf8") == "café"
    assert text_of(b"\xc2\x9b\x1b[1m\xff", "utf8") == "..[1m\ufffd"


async def test_follow_udp_and_nothing_to_follow():
    app = FtptuiApp(str(WIKIPEDIA))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 5)  # ARP
        await pilot.press("F")
        await pilot.pause()
        assert app.screen is browser
        assert any("no stream to follow" in n.message for n in app._notifications)
        # tshark -r tests/data/public/zeek__wikipedia.pcap -Y udp -T fields -e frame.number -e udp.stream:
        # frame 16 is udp.stream 3; tshark ... -Y 'udp.stream eq 3' shows frames 16 and 17
        await select_frame(pilot, browser, 16)
        screen = await follow(app, pilot)
        assert screen.stream.proto == "udp" and screen.stream.number == 3
        assert browser.filter_text == "udp.stream eq 3"
        assert shown_frames(plist) == [16, 17]
        assert "Follow UDP Stream (udp.stream eq 3)" in str(screen.query_one("#follow-title", Static).render())
        await pilot.press("x")
        # tshark -r tests/data/public/zeek__wikipedia.pcap -q -z follow,udp,hex,3 | sed -n 7p
        assert visible(screen.view)[0].startswith("00000000  ")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browser and plist.rows == len(browser.index)


# --- a big stream: lazily drawn (its opening time is measured by bench/bench_latency.py) --------------
async def test_big_stream_draws_only_visible_lines(tmp_path):
    line = b"%07d the quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz\n"
    data = b"".join(line % k for k in range(4 * 1024 * 1024 // len(line % 0)))
    assert len(data) > 4_000_000
    path = tcp_session_pcap(tmp_path / "big.pcap", data)
    app = FtptuiApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        await select_frame(pilot, browser, 5)
        screen = await follow(app, pilot)
        view = screen.view
        first = visible(view)
        assert screen.stream.side_bytes(1) == data
        assert first[0] == "GET /big"
        assert first[1] == (line % 0).decode().rstrip("\n")
        height = view.scrollable_content_region.height
        # ASCII: one line per text line, drawn on demand
        assert view.lines == 1 + data.count(b"\n")
        calls = [0]
        render_line = view.render_line

        def counting(y):
            calls[0] += 1
            return render_line(y)
        view.render_line = counting  # the lines drawn from now on
        await pilot.press("end")
        await pilot.pause()
        assert visible(view)[-1] == (line % (data.count(b"\n") - 1)).decode().rstrip("\n")
        assert calls[0] <= 4 * (height + 2)
        # hex dump: ~270,000 lines, only those drawn are ever formatted
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(view.plan, DumpLayout)
        assert view.lines == 1 + sum(-(-len(data[k:k + 1448]) // 16) for k in range(0, len(data), 1448))
        assert view.plan.formatted <= 4 * (height + 2)
        await pilot.press("pagedown", "pagedown", "end")
        await pilot.pause()
        assert view.plan.formatted <= 10 * (height + 2)
        # the cursor stayed on the chunk it was on across the format change
        assert screen.stream.chunks[view.current_chunk].frame == screen.stream.chunks[-1].frame


# --- the layouts against tshark's text, without the UI ---------------------------------------------------
def _index(name: str):
    from ftptui.capture import open_capture
    from ftptui.store.index import PacketIndex
    path = DATA / name if (DATA / name).exists() else DATA / "public" / name
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


def _tshark_body(fixture: Path) -> list[str]:
    """The data lines of a `tshark -q -z follow,<proto>,<mode>,N` output (tests/data/follow, made by
    tests/tools/make_follow_fixtures.sh), the server's leading tab removed."""
    lines = fixture.read_text().split("\n")
    body = lines[lines.index(next(k for k in lines if k.startswith("Node 1:"))) + 1:]
    return [k.removeprefix("\t") for k in body[:body.index("=" * 67)]]


@pytest.mark.parametrize("fixture", ["seed-ftp-active.pcap.tcp.0.hex", "zeek__ipv6.pcap.tcp.1.hex",
                                     "zeek__var-services-std-ports.pcap.udp.3.hex",
                                     "zeek__bigtransfer.pcap.tcp.2.hex"])
def test_hex_layout_is_tsharks(fixture):
    from ftptui.render.follow import gap_text
    from ftptui.streams.follow import follow_tcp, follow_udp
    name, proto, number, _ = fixture.rsplit(".", 3)
    stream = (follow_tcp if proto == "tcp" else follow_udp)(_index(name), int(number))
    plan = DumpLayout(stream.chunks, (0, 1), "hex", 80)
    ours = [plan.line(y)[0] for y in range(len(plan))]
    expected = _tshark_body(DATA / "follow" / fixture)
    if not stream.gaps:
        assert ours == expected
        return
    # tshark dumps a gap's "[N bytes missing in capture file]" text in hex; the view gives it one line
    # of its own, and the offsets after it go on as tshark's do
    kept = [k for k in ours if not k.endswith("bytes missing in capture file]")]
    it = iter(expected)
    assert all(any(k == e for e in it) for k in kept)
    assert len(expected) - len(kept) == sum(-(-len(gap_text(c)) // 16) for c in stream.gaps)


@pytest.mark.parametrize("fixture", ["seed-ftp-active.pcap.tcp.0.ascii", "zeek__ipv6.pcap.tcp.1.ascii"])
def test_ascii_layout_has_tsharks_text(fixture):
    """tshark's ascii output gives each chunk its size line then its text (CR raw, other bytes as
    dots); the view has the same characters, lines broken at LF / CRLF only."""
    from ftptui.streams.follow import follow_tcp
    name, proto, number, _ = fixture.rsplit(".", 3)
    stream = follow_tcp(_index(name), int(number))
    plan = TextLayout(stream.chunks, (0, 1), "ascii", 10_000)
    ours = "\n".join(plan.line(y)[0] for y in range(len(plan)))
    raw = (DATA / "follow" / fixture).read_bytes().decode("ascii")  # CRs kept
    pos = raw.index("\n", raw.index("Node 1:")) + 1
    text = []
    while not raw.startswith("=" * 67, pos):
        end = raw.index("\n", pos)
        size = int(raw[pos:end].strip("\t"))  # the chunk's size line, then exactly that many characters
        text.append(raw[end + 1:end + 1 + size])
        pos = end + 1 + size + 1
    expected = "".join(text).replace("\r\n", "\n").replace("\r", ".").replace("\t", ".")
    assert ours.replace("\n", "") == expected.replace("\n", "")
    assert len(ours.split("\n")) == len(expected.rstrip("\n").split("\n"))
