"""Statistics › Conversations in the UI (ftptui.ui.conversations_view), driven through a Pilot.

The rows are compared with tshark 4.0.17's `-q -z conv,<type>` tables in tests/data/conv/
(made by `tshark -r tests/data/public/zeek__wikipedia.pcap -q -z conv,tcp` and so on); other
expected values are written next to the tshark command that gives them.
"""
from __future__ import annotations

import re

import pytest
from test_ui import DATA, SIZE, opened
from test_ui_filter import settle, shown_frames
from textual.widgets import Static, Tabs

from ftptui.ui.app import FtptuiApp
from ftptui.ui.conversation_list import ConversationList
from ftptui.ui.conversations_view import ConversationsScreen
from ftptui.ui.filter_bar import FilterBar
from ftptui.ui.follow_view import FollowScreen

WIKIPEDIA = DATA / "public" / "zeek__wikipedia.pcap"
CONV = DATA / "conv"

ROW = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+([\d.]+)\s+([\d.]+)$")


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def tshark_rows(kind: str) -> list[list[str]]:
    """tshark's rows as the table's cells: Address A, [Port A,] Address B, [Port B,] Packets,
    Bytes, Packets A→B, Bytes A→B, Packets B→A, Bytes B→A, Rel Start (with Wireshark's 6 decimals;
    tshark's 9 end in 000 in these captures), Duration.  tshark's "<-" columns are B→A, its "->"
    columns A→B."""
    out = []
    for line in (CONV / f"zeek__wikipedia.pcap.{kind}.txt").read_text().splitlines():
        m = ROW.match(line)
        if not m:
            continue
        a, b, f_ba, b_ba, f_ab, b_ab, frames, size, start, duration = m.groups()
        if kind in ("tcp", "udp"):
            a_addr, _, a_port = a.rpartition(":")
            b_addr, _, b_port = b.rpartition(":")
            ends = [a_addr, a_port, b_addr, b_port]
        else:
            ends = [a, b]
        out.append(ends + [frames, size, f_ab, b_ab, f_ba, b_ba, f"{float(start):.6f}", duration])
    assert out, kind
    return out


def table_rows(table) -> list[list[str]]:
    return [[cell.strip() for cell in table.get_row_at(r)] for r in range(table.row_count)]


async def open_conversations(app, pilot) -> ConversationsScreen:
    await pilot.press("C")
    screen = app.screen
    assert isinstance(screen, ConversationsScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.table.loading is False
    return screen


async def test_tables_match_tshark():
    app = FtptuiApp(str(WIKIPEDIA))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        screen = await open_conversations(app, pilot)
        assert screen.kind == "tcp"  # opens on TCP
        table = screen.table
        labels = [label.strip() for label in table.labels]
        assert labels == ["Address A", "Port A", "Address B", "Port B", "Packets", "Bytes", "Packets A→B",
                          "Bytes A→B", "Packets B→A", "Bytes B→A", "Rel Start", "Duration"]
        assert table_rows(table) == tshark_rows("tcp")
        # every type, by its key, and the tabs' counts
        for key, kind in (("e", "eth"), ("4", "ip"), ("6", "ipv6"), ("u", "udp"), ("t", "tcp")):
            await pilot.press(key)
            await pilot.pause()
            assert screen.kind == kind
            assert table_rows(screen.table) == tshark_rows(kind), kind
            label = str(screen.query_one(f"#conv-{kind}").label)
            assert label.endswith(f"· {len(tshark_rows(kind))}")
        assert len(table.labels) == 12
        # Tab / Shift+Tab go through the types in Wireshark's order
        await pilot.press("tab")
        assert screen.kind == "udp" and screen.query_one(Tabs).active == "conv-udp"
        await pilot.press("tab")
        assert screen.kind == "eth"
        assert [label.strip() for label in screen.table.labels][:2] == ["Address A", "Address B"]
        await pilot.press("shift+tab")
        assert screen.kind == "udp"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browser
        # it reopens on the type last looked at
        await pilot.press("C")
        assert app.screen.kind == "udp"


async def test_sort_by_bytes():
    app = FtptuiApp(str(WIKIPEDIA))
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        screen = await open_conversations(app, pilot)
        table = screen.table
        expected = tshark_rows("tcp")
        by_bytes = sorted(expected, key=lambda r: int(r[5].split()[0]))
        # s moves the sort to the next column: Address A, Port A, Address B, Port B, Packets, Bytes
        for _ in range(6):
            await pilot.press("s")
        assert screen.sort_key == "bytes" and not screen.reverse
        assert [r[5] for r in table_rows(table)] == [r[5] for r in by_bytes]
        assert table_rows(table) == by_bytes  # totals are all different: the order is unique
        assert table.labels[5].strip() == "Bytes ▲"
        assert "sorted by Bytes ascending" in str(screen.query_one("#conv-status", Static).render())
        await pilot.press("r")
        assert table_rows(table) == by_bytes[::-1]
        # clicking a header sorts by that column; clicking it again reverses
        x = table.column_x(4) + 2
        await pilot.click(ConversationList, offset=(x, 0))
        await pilot.pause()
        assert screen.sort_key == "packets" and not screen.reverse
        assert [int(r[4]) for r in table_rows(table)] == sorted(int(r[4]) for r in expected)
        await pilot.click(ConversationList, offset=(x, 0))
        await pilot.pause()
        assert screen.sort_key == "packets" and screen.reverse
        assert [int(r[4]) for r in table_rows(table)] == sorted((int(r[4]) for r in expected), reverse=True)


async def test_enter_applies_the_conversation_filter():
    app = FtptuiApp(str(WIKIPEDIA))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        screen = await open_conversations(app, pilot)
        # the first row is 141.142.220.118:49996 <-> 208.80.152.3:80, tcp.stream 2:
        # tshark -r tests/data/public/zeek__wikipedia.pcap -Y 'tcp.port == 49996' -T fields -e tcp.stream
        assert screen.selected.a == "141.142.220.118:49996"
        assert "tcp.stream eq 2" in str(screen.query_one("#conv-status", Static).render())
        await pilot.press("enter")
        await settle(app, pilot, browser)
        assert app.screen is browser
        assert browser.filter_text == "tcp.stream eq 2"
        assert browser.query_one(FilterBar).value == "tcp.stream eq 2"
        # tshark -r tests/data/public/zeek__wikipedia.pcap -Y 'tcp.stream eq 2' | wc -l
        assert plist.rows == 10
        assert "Displayed: 10 of 136" in str(browser.query_one("#status", Static).render())
        # an IPv4 conversation: its ip.addr filter
        screen = await open_conversations(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        c = screen.selected
        # the first row of tests/data/conv/zeek__wikipedia.pcap.ip.txt
        assert (c.a, c.b) == tuple(tshark_rows("ip")[0][:2])
        await pilot.press("enter")
        await settle(app, pilot, browser)
        assert browser.filter_text == f"ip.addr == {c.a} && ip.addr == {c.b}"
        assert plist.rows == c.frames


async def test_f_follows_the_conversation():
    app = FtptuiApp(str(WIKIPEDIA))
    async with app.run_test(size=SIZE) as pilot:
        browser, plist, *_ = await opened(app, pilot)
        screen = await open_conversations(app, pilot)
        await pilot.press("down")  # 141.142.220.118:49997 <-> 208.80.152.3:80, tcp.stream 3
        assert screen.selected.stream == 3
        await pilot.press("f")
        await settle(app, pilot, browser)
        follow = app.screen
        assert isinstance(follow, FollowScreen)
        assert follow.stream.proto == "tcp" and follow.stream.number == 3
        assert follow.view.line(0)[0].startswith("GET ")
        # tshark -r tests/data/public/zeek__wikipedia.pcap -Y 'tcp.stream eq 3' | wc -l
        assert browser.filter_text == "tcp.stream eq 3" and plist.rows == 10
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browser and browser.filter_text == "" and plist.rows == 136
        # a type that cannot be followed: a notice, the table stays
        screen = await open_conversations(app, pilot)
        await pilot.press("4", "f")
        await pilot.pause()
        assert app.screen is screen
        assert any("Only TCP and UDP" in n.message for n in app._notifications)
        # a UDP conversation follows its udp.stream
        await pilot.press("u")
        await pilot.pause()
        stream, frames = screen.selected.stream, screen.selected.frames
        await pilot.press("f")
        await settle(app, pilot, browser)
        assert isinstance(app.screen, FollowScreen) and app.screen.stream.proto == "udp"
        assert browser.filter_text == f"udp.stream eq {stream}"
        assert len(shown_frames(plist)) == frames
