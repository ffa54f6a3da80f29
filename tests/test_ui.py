"""The Textual UI, driven headless through App.run_test() and a Pilot.

Synchronisation is always on the app itself: the index is built in a thread worker, so each test
waits for the workers to finish and then lets the message queue drain (pilot.pause()).
"""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from ftptui.ui import packet_list
from ftptui.ui.app import FtptuiApp
from ftptui.ui.browser import BrowserScreen
from ftptui.ui.detail_tree import DetailTree
from ftptui.ui.hex_view import HexView, hexdump_lines
from ftptui.ui.packet_list import COLUMNS, PacketList
from ftptui.ui.welcome import WelcomeScreen

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-ftp-active.pcap"
SIZE = (150, 45)

# tshark's one-line summary: "  No.  time src → dst PROTO len info"
EXPECTED_RE = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\S+) → (\S+) (\S+) (\d+) (.*)$")


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Opening a file records it in the recent list; keep that out of the user's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


# --- helpers -----------------------------------------------------------------------------------
def _csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_tcp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes = b"", flags: int = 0x18) -> bytes:
    """A raw IPv4 + TCP (20-byte header) packet with correct checksums."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return ip + tcp


def write_pcap(path: Path, packets: list[bytes], repeat: int = 1) -> Path:
    """A little-endian pcap, linktype 101 (raw IP); the records are repeated `repeat` times."""
    records = b"".join(struct.pack("<IIII", 1, k, len(p), len(p)) + p for k, p in enumerate(packets))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        f.write(records * repeat)
    return path


async def opened(app: FtptuiApp, pilot):
    """Wait until the index worker has finished and its messages were handled."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    assert screen.index.done
    return screen, screen.query_one(PacketList), screen.query_one(DetailTree), screen.query_one(HexView)


def visible_rows(plist: PacketList) -> int:
    return plist.scrollable_content_region.height - 1  # line 0 is the column header


def tree_nodes(tree: DetailTree):
    stack = list(tree.root.children)
    while stack:
        node = stack.pop(0)
        yield node
        stack[0:0] = list(node.children)


def find_node(tree: DetailTree, name: str):
    for node in tree_nodes(tree):
        if node.data and node.data[0].name == name:
            return node
    raise AssertionError(f"no tree node for field {name!r}")


def tshark_fields(frame: int) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    lines = (DATA / "fields" / "seed-ftp-active.fields.tsv").read_text().split("\n")
    for line in lines[1:]:
        if not line:
            continue
        number, name, pos, size, *_ = line.split("\t")
        if int(number) == frame and pos.isdigit() and size.isdigit():
            out.setdefault(name, (int(pos), int(size)))
    return out


def tree_label(node) -> str:
    return str(getattr(node.label, "plain", node.label))


async def select_field(pilot, tree: DetailTree, name: str):
    """Expand every ancestor of the field's node, then move the tree cursor onto it."""
    node = find_node(tree, name)
    parent = node.parent
    while parent is not None and parent is not tree.root:
        parent.expand()
        parent = parent.parent
    await pilot.pause()  # the tree rebuilds its lines, giving the node a line number
    tree.move_cursor(node)
    await pilot.pause()
    assert tree.cursor_node is node
    return node


async def goto(pilot, number: str):
    await pilot.press("ctrl+g")
    await pilot.press(*number, "enter")
    await pilot.pause()


# --- opening the seed ----------------------------------------------------------------------------
async def test_seed_rows_match_tshark_columns():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert plist.rows == 84
        assert "Packets: 84" in str(screen.query_one("#status", Static).render())
        expected = (DATA / "seed-ftp-active.expected.txt").read_text().splitlines()
        assert len(expected) == 84
        header = plist.render_line(0).text
        for name in ("No.", "Time", "Source", "Destination", "Protocol", "Length", "Info"):
            assert name in header
        edges = [0]
        for _, width, _ in COLUMNS[:-1]:
            edges.append(edges[-1] + width)
        info_at = edges[-1]
        assert header[info_at:].startswith("Info")
        n = visible_rows(plist)
        assert n >= 10
        seen = set()
        while True:
            top = plist.scroll_offset.y
            for y in range(1, n + 1):
                row = top + y - 1
                if row >= 84:
                    break
                seen.add(row)
                line = plist.render_line(y).text
                m = EXPECTED_RE.match(expected[row])
                assert m, expected[row]
                number, time, src, dst, proto, length, info = m.groups()
                # each column sits under its header
                cells = [line[a:b].strip() for a, b in zip(edges, edges[1:])]
                assert cells == [number, time, src, dst, proto, length], line
                shown = line[info_at:].rstrip()
                assert shown, line
                if shown.endswith("…"):
                    shown = shown[:-1]
                assert info.startswith(shown), (line, info)
                assert len(shown) >= min(len(info), len(line) - info_at - 2)
            if plist.cursor == 83:
                break
            await pilot.press("pagedown")
            await pilot.pause()
        assert seen == set(range(84))
        await pilot.press("home")
        await pilot.pause()
        assert "Request: USER ftpuser" in plist.render_line(6).text
        # the first packet is selected once rows arrive
        assert plist.cursor == 0
        assert tree_label(tree.root.children[0]).startswith("Frame 1:")


# --- moving --------------------------------------------------------------------------------------
async def test_cursor_keys():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert app.focused is plist
        assert plist.cursor == 0
        await pilot.press("j")
        assert plist.cursor == 1
        await pilot.press("down", "down")
        assert plist.cursor == 3
        await pilot.press("k")
        assert plist.cursor == 2
        await pilot.press("up")
        assert plist.cursor == 1
        await pilot.press("up", "up", "k")  # clamps at the top
        assert plist.cursor == 0
        page = plist.page
        await pilot.press("pagedown")
        assert plist.cursor == page
        await pilot.press("pageup")
        assert plist.cursor == 0
        await pilot.press("end")
        assert plist.cursor == 83
        await pilot.press("j")  # clamps at the bottom
        assert plist.cursor == 83
        await pilot.press("home")
        assert plist.cursor == 0
        await pilot.press("G")
        assert plist.cursor == 83
        await pilot.pause()
        # the last row is on screen and highlighted, and the detail panes follow the cursor
        last_lines = [plist.render_line(y).text for y in range(1, visible_rows(plist) + 1)]
        assert any(t.lstrip().startswith("84 ") for t in last_lines)
        assert tree_label(tree.root.children[0]).startswith("Frame 84:")
        await pilot.press("g")
        await pilot.pause()
        assert plist.cursor == 0
        assert plist.scroll_offset.y == 0
        assert tree_label(tree.root.children[0]).startswith("Frame 1:")


async def test_goto_packet_and_invalid_number():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "60")
        assert plist.cursor == 59
        assert tree_label(tree.root.children[0]).startswith("Frame 60:")
        assert not screen.query_one("#goto", Input).display
        assert app.focused is plist
        assert len(hexv.data) == int(tree.root.children[0].data[0].length)

        notes = []
        real_notify = app.notify

        def notify(message, *args, **kwargs):
            notes.append((message, kwargs.get("severity")))
            return real_notify(message, *args, **kwargs)

        app.notify = notify
        for bad in ("999", "0", "abc"):
            notes.clear()
            await goto(pilot, bad)
            assert notes and notes[-1][1] == "error", bad
            assert "No packet" in notes[-1][0]
            assert plist.cursor == 59
            await pilot.press("escape")
            await pilot.pause()
            assert not screen.query_one("#goto", Input).display
            assert app.focused is plist
        # ':' opens the same box
        await pilot.press("colon")
        await pilot.press("7", "enter")
        await pilot.pause()
        assert plist.cursor == 6


# --- the detail tree and the hex pane -------------------------------------------------------------
@pytest.mark.parametrize("field,raw", [("ftp.request.command", b"USER"),
                                       ("tcp.srcport", struct.pack("!H", 47050)),
                                       ("ip.src", bytes([10, 10, 15, 211]))])
async def test_selecting_a_field_marks_its_bytes(field, raw):
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "6")
        assert "Request: USER ftpuser" in plist.render_line(6 - plist.scroll_offset.y).text
        node = await select_field(pilot, tree, field)
        assert hexv.marked_bytes() == raw
        assert hexv.mark == tshark_fields(6)[field]
        assert hexv.mark == (node.data[0].start, node.data[0].length)
        # the marked bytes are drawn reversed in the pane
        start, length = hexv.mark
        y = start // 16 - hexv.scroll_offset.y
        strip = hexv.render_line(y)
        marked = "".join(seg.text for seg in strip if seg.style and seg.style.reverse)
        assert raw[:1].hex() in marked


async def test_expanded_nodes_stay_expanded():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "6")
        tcp = find_node(tree, "tcp")
        assert not tcp.is_expanded
        tree.move_cursor(tcp)
        tree.focus()
        await pilot.pause()
        await pilot.press("space")  # Tree's own toggle key
        await pilot.pause()
        assert tcp.is_expanded
        plist.focus()
        await pilot.press("j")
        await pilot.pause()
        assert tree_label(tree.root.children[0]).startswith("Frame 7:")
        tcp7 = find_node(tree, "tcp")
        assert tcp7 is not tcp
        assert tcp7.is_expanded
        assert not find_node(tree, "ip").is_expanded
        # collapsing is remembered too
        tree.move_cursor(tcp7)
        tree.focus()
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        plist.focus()
        await pilot.press("k")
        await pilot.pause()
        assert not find_node(tree, "tcp").is_expanded


async def test_tree_keys_expand_collapse_and_walk_like_wireshark():
    """→ expands a node (again: goes to its first child), ← collapses it (on a child: goes to
    the parent), Shift+→ opens a whole subtree; the hex pane follows the selected field."""
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "6")  # USER: frame, eth, ip, tcp, ftp
        await pilot.press("tab")
        assert app.focused is tree and tree.cursor_node is tree.root.children[0]  # Frame
        assert hexv.mark == (0, len(hexv.data))
        ip = find_node(tree, "ip")
        tree.move_cursor(ip)
        await pilot.pause()
        assert hexv.mark == tshark_fields(6)["ip"]
        assert not ip.is_expanded
        await pilot.press("right")
        assert ip.is_expanded and tree.cursor_node is ip
        await pilot.press("right")
        assert tree.cursor_node is ip.children[0]  # Version
        await pilot.press("left")
        assert tree.cursor_node is ip and ip.is_expanded
        await pilot.press("left")
        assert not ip.is_expanded
        assert [tree_label(n) for n in tree.lines] == [tree_label(n) for n in tree.root.children]
        await pilot.press("shift+right")
        nested = [n for n in tree_nodes(tree) if n.parent is not tree.root and n.children]
        assert nested and all(n.is_expanded for n in nested if n.parent.parent is ip or n.parent is ip)
        await pilot.press("shift+left")
        assert not any(n.is_expanded for n in tree_nodes(tree) if n is ip or n.parent is ip)
        await pilot.press("down", "enter")
        tcp = find_node(tree, "tcp")
        assert tree.cursor_node is tcp and tcp.is_expanded
        await pilot.press("space")
        assert not tcp.is_expanded


async def test_hex_pane_marks_a_field_across_lines():
    """The pane's text is the plain hex dump, the marked bytes (and only their inner
    separators) reversed, on every line the field spans."""
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        await goto(pilot, "6")
        dump = [line.ljust(hexv.size.width) for line in hexdump_lines(hexv.data)]
        for start, length in ((0, 6), (14, 20), (5, 12), (7, 2), (54, len(hexv.data) - 54)):
            hexv.highlight(start, length)
            marked = []
            for y, line in enumerate(dump):
                strip = hexv.render_line(y - hexv.scroll_offset.y)
                assert "".join(seg.text for seg in strip) == line
                x = 0
                for seg in strip:
                    if seg.style and seg.style.reverse:
                        marked.append((y, x, seg.text))
                    x += len(seg.text)
            hexes = [h for _, _, t in marked for h in t.split()]
            expect = hexv.data[start:start + length]
            # each marked byte appears twice: as hex and as its ASCII (a dot when not printable)
            assert "".join(h for h in hexes if len(h) == 2 and all(c in "0123456789abcdef" for c in h)
                           )[:2 * length] == expect.hex()
            assert all(not t.endswith(" ") for _, _, t in marked)


# --- focus and mouse -------------------------------------------------------------------------------
async def test_tab_cycles_panes_and_click_selects_row():
    app = FtptuiApp(str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert app.focused is plist
        await pilot.press("tab")
        assert app.focused is tree
        await pilot.press("tab")
        assert app.focused is hexv
        await pilot.press("tab")
        assert app.focused is plist
        await pilot.press("shift+tab")
        assert app.focused is hexv

        # Click the 4th data row: the list has a border line, then the column header.
        top = plist.content_region.y - plist.region.y
        await pilot.click("#packets", offset=(10, top + 1 + 3))
        await pilot.pause()
        assert plist.cursor == 3
        assert app.focused is plist
        assert tree_label(tree.root.children[0]).startswith("Frame 4:")
        # a click on the header changes nothing
        await pilot.click("#packets", offset=(10, top))
        await pilot.pause()
        assert plist.cursor == 3


# --- a million rows: only what is on screen is dissected --------------------------------------------
def record_dissections(monkeypatch) -> set[int]:
    """The frames the packet list dissects from now on (it calls dissect once per row drawn)."""
    seen: set[int] = set()
    real = packet_list.dissect

    def counting(index, i, **kwargs):
        seen.add(i)
        return real(index, i, **kwargs)
    monkeypatch.setattr(packet_list, "dissect", counting)
    return seen


async def test_million_rows_only_visible_rows_are_read(tmp_path, monkeypatch):
    drawn = record_dissections(monkeypatch)
    heights: list[tuple[int, int, bool]] = []  # (rows, scrollable height, indexed whole) per sizing
    real_size = PacketList.size_to_rows

    def size_to_rows(self) -> None:
        real_size(self)
        heights.append((self.rows, self.virtual_size.height, self.index.done))
    monkeypatch.setattr(PacketList, "size_to_rows", size_to_rows)
    pkt = ip_tcp(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 40000, 80, flags=0x10)
    assert len(pkt) == 40
    path = write_pcap(tmp_path / "million.pcap", [pkt], repeat=1_000_000)
    app = FtptuiApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert plist.rows == 1_000_000
        assert len(screen.index) == 1_000_000
        # while indexing the list's size grew in powers of two (each new size lays the screen
        # out again); once done it is exact: the header line and a line per packet
        growing = [(rows, height) for rows, height, done in heights if not done and rows]
        assert growing and all(height >= rows + 1 and height & (height - 1) == 0 for rows, height in growing)
        assert len({height for _, height in growing}) <= 21
        assert plist.virtual_size.height == 1_000_001
        assert "Packets: 1,000,000" in str(screen.query_one("#status", Static).render())
        n = visible_rows(plist)
        first = set(drawn)
        assert first, "nothing was drawn"
        assert len(first) <= n + 2
        assert max(first) < n + 2
        await pilot.press("end")
        await pilot.pause()
        assert plist.cursor == 999_999
        lines = [plist.render_line(y).text for y in range(1, n + 1)]
        assert lines[-1].lstrip().startswith("1000000 ")
        assert len(drawn) <= 2 * (n + 2)
        middle = [r for r in drawn if max(first) < r < 1_000_000 - n - 2]
        assert middle == [], "rows between the two screens were dissected"
        assert tree_label(tree.root.children[0]).startswith("Frame 1000000:")


# --- welcome screen and errors ----------------------------------------------------------------------
async def test_welcome_screen_opens_sample():
    app = FtptuiApp(None, sample=str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WelcomeScreen)
        labels = [str(label.render()) for label in screen.query("Label")]
        assert "Open" in labels and "Capture" in labels
        open_list = screen.query_one("#open-list", OptionList)
        prompts = [str(open_list.get_option_at_index(i).prompt) for i in range(open_list.option_count)]
        assert prompts[0].startswith("Sample:") and str(SEED) in prompts[0]
        ifaces = screen.query_one("#iface-list", OptionList)
        names = [ifaces.get_option_at_index(i).id for i in range(ifaces.option_count)]
        assert "iface:lo" in names
        # "o" focuses the path box, where letters that are bindings elsewhere ("q") are just text
        await pilot.press("o")
        path_box = screen.query_one("#path", Input)
        assert app.focused is path_box
        await pilot.press("q", "x")
        assert path_box.value == "qx"
        assert app.is_running and app.screen is screen
        open_list.focus()
        await pilot.pause()
        assert app.focused is open_list
        open_list.highlighted = 0
        await pilot.press("enter")
        browser, plist, tree, hexv = await opened(app, pilot)
        assert plist.rows == 84
        assert browser.path == str(SEED)


async def test_welcome_lists_recent_files_once(tmp_path):
    """After opening the sample and another file, the Open list shows the sample once (as the
    sample) and the other file as recent."""
    from ftptui.ui.recent import remember
    other = tmp_path / "other.pcap"
    other.write_bytes(SEED.read_bytes())
    remember(str(SEED))
    remember(str(other))
    app = FtptuiApp(None, sample=str(SEED))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        open_list = app.screen.query_one("#open-list", OptionList)
        ids = [open_list.get_option_at_index(i).id for i in range(open_list.option_count)]
    assert ids == ["sample:", "recent:" + str(other)]


async def test_not_a_capture_exits_with_status_2(tmp_path, capsys):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a capture file\n" * 10)
    app = FtptuiApp(str(bogus))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_code == 2
    err = capsys.readouterr().err
    assert err.startswith("ftptui: ")
    assert "not a pcap or pcapng capture file" in err
    assert err.count("\n") == 1, repr(err)  # one line, however long the path


# --- no raw control characters on screen --------------------------------------------------------------
def _clean(text: str) -> bool:
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


async def test_control_bytes_never_reach_the_screen(tmp_path):
    evil = b"USER \x1b[2J\x07evil\x00\x9b\x7f\r\n"
    pkt = ip_tcp(bytes([192, 168, 0, 1]), bytes([192, 168, 0, 2]), 50000, 21, evil)
    path = write_pcap(tmp_path / "evil.pcap", [pkt])
    app = FtptuiApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen, plist, tree, hexv = await opened(app, pilot)
        assert plist.rows == 1
        line = plist.render_line(1).text
        assert "USER" in line and "evil" in line
        assert _clean(line), repr(line)
        for node in tree_nodes(tree):
            node.expand()
        await pilot.pause()
        labels = [tree_label(node) for node in tree_nodes(tree)]
        assert any("evil" in label for label in labels)
        for label in labels:
            assert _clean(label), repr(label)
        for y in range(tree.scrollable_content_region.height):
            assert _clean(tree.render_line(y).text)
        for y in range(hexv.scrollable_content_region.height):
            assert _clean(hexv.render_line(y).text)
