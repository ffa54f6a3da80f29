"""Statistics › Conversations: Ethernet, IPv4, IPv6, TCP and UDP conversations in a table, one
tab each, computed from the index in a worker.

Dismissed with ("filter", text) (Enter: apply the conversation's filter to the packet list),
("follow", proto, stream) (f: follow a TCP/UDP conversation), or None.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, Tab, Tabs

from ..macnames import resolve_mac
from ..render.conversations import TITLES, size_text
from ..store.index import V4_MAPPED
from ..streams.conversations import (
    KINDS,
    Conversation,
    ConversationTable,
    conversations,
)
from ..text import ipv4, ipv6
from . import messages
from .conversation_list import ConversationList
from .failures import Guarded, report
from .key_bar import KeyBar
from .messages import ConversationsReady
from .plain import plain


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool


def split_endpoint(text: str, ports: bool) -> tuple[str, str]:
    """'10.0.0.1:80' → ('10.0.0.1', '80'); IPv6 addresses keep their colons."""
    if not ports:
        return text, ""
    addr, _, port = text.rpartition(":")
    return addr, port


BASE_COLUMNS = [
    Column("addr_a", "Address A", False), Column("port_a", "Port A", True),
    Column("addr_b", "Address B", False), Column("port_b", "Port B", True),
    Column("packets", "Packets", True), Column("bytes", "Bytes", True),
    Column("packets_ab", "Packets A→B", True), Column("bytes_ab", "Bytes A→B", True),
    Column("packets_ba", "Packets B→A", True), Column("bytes_ba", "Bytes B→A", True),
    Column("start", "Rel Start", True), Column("duration", "Duration", True),
]


def columns_for(kind: str) -> list[Column]:
    if kind in ("tcp", "udp"):
        return BASE_COLUMNS
    return [c for c in BASE_COLUMNS if not c.key.startswith("port")]


def address_key(addr: str) -> tuple:
    """IP addresses in numeric order (IPv4 before IPv6); names (resolved MACs) as text."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return (2, 0, addr)
    return (0 if ip.version == 4 else 1, int(ip), addr)


def cells(c: Conversation, kind: str) -> list[str]:
    """A conversation's row as the table shows it: sizes as Wireshark and tshark write them, the
    start with Wireshark's 6 decimals (tshark prints 9), the duration with 4."""
    ports = kind in ("tcp", "udp")
    addr_a, port_a = split_endpoint(c.a, ports)
    addr_b, port_b = split_endpoint(c.b, ports)
    row = [addr_a, port_a, addr_b, port_b] if ports else [addr_a, addr_b]
    row += [str(c.frames), size_text(c.bytes), str(c.frames_ab), size_text(c.bytes_ab),
            str(c.frames_ba), size_text(c.bytes_ba), f"{c.start / 1e9:.6f}", f"{c.duration_seconds:.4f}"]
    return row


NUMBERS = {"packets": "frames", "packets_ab": "frames_ab", "packets_ba": "frames_ba"}
SIZES = {"bytes": "bytes", "bytes_ab": "bytes_ab", "bytes_ba": "bytes_ba"}


def address_texts(table: ConversationTable, side: str) -> tuple[np.ndarray, list[str]]:
    """Each conversation's number in a list of the distinct address texts of that side."""
    addrs, _ = table.endpoints(side)
    if not len(addrs):
        return np.zeros(0, dtype=np.int64), []
    uniq, inverse = np.unique(np.ascontiguousarray(addrs).view(f"V{addrs.shape[1]}").ravel(), return_inverse=True)
    if table.kind == "eth":
        texts = [resolve_mac(u.tobytes()) for u in uniq]
    else:
        texts = [ipv4(b[12:]) if b[:12] == V4_MAPPED else ipv6(b) for b in (u.tobytes() for u in uniq)]
    return inverse.ravel(), texts


def column_widths(table: ConversationTable, kind: str) -> list[int]:
    """The widest text of each column, without making every row's text."""
    widths = []
    for col in columns_for(kind):
        key = col.key
        if key.startswith("addr_"):
            _, texts = address_texts(table, key[-1])
            widths.append(max(map(len, texts), default=0))
        elif key.startswith("port_"):
            widths.append(len(str(int(table.endpoints(key[-1])[1].max(initial=0)))))
        elif key in NUMBERS:
            widths.append(len(str(int(table.column(NUMBERS[key]).max(initial=0)))))
        elif key in SIZES:
            values = table.column(SIZES[key])
            widths.append(max((len(size_text(int(values[(values >= lo) & (values < hi)].max(initial=lo))))
                               for lo, hi in SIZE_CLASSES if ((values >= lo) & (values < hi)).any()), default=0))
        elif key == "start":
            widths.append(len(f"{int(table.start.max(initial=0)) / 1e9:.6f}"))
        else:
            widths.append(len(f"{int(table.duration.max(initial=0)) / 1e9:.4f}") + 1)
    return widths


# size_text's units: within each, a bigger number never has a shorter text
SIZE_CLASSES = [(0, 10**4), (10**4, 10**7), (10**7, 10**10), (10**10, 1 << 63)]


def sort_order(table: ConversationTable, key: str | None, reverse: bool) -> np.ndarray:
    """Display rows (table rows) sorted by a column, stable over tshark's order, as Python's
    sorted(..., reverse=...) would sort them (ties keep their order either way)."""
    n = len(table)
    if key is None:
        order = np.arange(n)
        return order[::-1].copy() if reverse else order
    if key.startswith("addr_"):
        inverse, texts = address_texts(table, key[-1])
        ranks = np.argsort(np.asarray(sorted(range(len(texts)), key=lambda k: address_key(texts[k]))))
        values = ranks[inverse] if n else inverse
    elif key.startswith("port_"):
        values = table.endpoints(key[-1])[1]
    elif key in NUMBERS or key in SIZES:
        values = table.column(NUMBERS.get(key) or SIZES[key])
    else:
        values = table.start if key == "start" else table.duration
    if not reverse:
        return np.argsort(values, kind="stable")
    return (n - 1 - np.argsort(values[::-1], kind="stable"))[::-1].copy()


class ConversationsScreen(Guarded, Screen):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Back", id="conv.close"),
        Binding("enter", "apply", "Apply as filter", id="conv.apply"),
        Binding("f", "follow", "Follow stream", id="conv.follow"),
        Binding("tab", "next_kind(1)", "Next type", id="conv.next_kind"),
        Binding("shift+tab", "next_kind(-1)", "Previous type", show=False, id="conv.previous_kind"),
        Binding("s", "next_sort(1)", "Sort column", id="conv.sort"),
        Binding("S", "next_sort(-1)", "Previous sort column", show=False, id="conv.sort_previous"),
        Binding("r", "reverse", "Reverse order", id="conv.reverse"),
        Binding("e", "kind('eth')", "Ethernet", show=False, id="conv.eth"),
        Binding("4", "kind('ip')", "IPv4", show=False, id="conv.ip"),
        Binding("6", "kind('ipv6')", "IPv6", show=False, id="conv.ipv6"),
        Binding("t", "kind('tcp')", "TCP", show=False, id="conv.tcp"),
        Binding("u", "kind('udp')", "UDP", show=False, id="conv.udp"),
    ]

    def __init__(self, index, kind: str = "tcp", previous: "ConversationsScreen | None" = None):
        """`previous`: the screen as it was closed; its tables, order and row are kept when the
        capture has not grown since (they are computed once per capture)."""
        super().__init__()
        self.index = index
        self.kind = kind if kind in KINDS else "tcp"
        self.results: dict[str, ConversationTable] = {}
        self.widths: dict[str, list[int]] = {}
        self.failed: set[str] = set()
        self.computing: set[str] = set()
        self.sort_key: str | None = None  # None: tshark's order (most packets first)
        self.reverse = False
        self.packets = len(index)
        self.complete = bool(index.done)
        self.row_at_close: int | None = None  # the table row under the cursor when it closed
        if previous is not None and (previous.packets, previous.complete) == (self.packets, self.complete):
            self.results, self.widths = previous.results, previous.widths
            self.sort_key, self.reverse = previous.sort_key, previous.reverse
            self.row_at_close = previous.row_at_close

    def compose(self):
        yield Static(self.title_text(), id="conv-title")
        yield Tabs(*(Tab(TITLES[k], id=f"conv-{k}") for k in KINDS), active=f"conv-{self.kind}", id="conv-tabs")
        yield ConversationList(id="conv-table")
        yield Static("", id="conv-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.populate(keep=self.row_at_close)

    def dismiss(self, result=None):
        table = self.table  # the row, for when it opens again
        if table.row_count and 0 <= table.cursor < table.row_count:
            self.row_at_close = int(table.order[table.cursor])
        return super().dismiss(result)

    @property
    def table(self) -> ConversationList:
        return self.query_one(ConversationList)

    def title_text(self) -> Text:
        text = Text(" Conversations", style="bold")
        text.append(f"  ({self.packets:,} packets")
        text.append(")" if self.complete else ", indexing was not finished: reopen for the rest)")
        return text

    @work(thread=True, exclusive=False, group="conversations")
    def compute(self, kind: str) -> None:
        """One type's table (computed when its tab is first shown: each costs memory and time)."""
        for attempt in range(3):  # the index may grow meanwhile: its columns can change length under us
            try:
                table = conversations(self.index, kind)
                widths = column_widths(table, kind)
            except Exception as e:
                if attempt == 2:
                    report(self.app, e, f"{TITLES[kind]} conversations failed")
                    self.post_message(ConversationsReady(kind, None))
            else:
                self.post_message(ConversationsReady(kind, table, widths))
                return

    def on_conversations_ready(self, message: ConversationsReady) -> None:
        kind = message.kind
        if message.table is None:
            self.failed.add(kind)
        else:
            self.results[kind], self.widths[kind] = message.table, message.widths or []
            self.query_one(f"#conv-{kind}", Tab).label = f"{TITLES[kind]} · {len(message.table)}"
        if kind == self.kind:
            self.populate()

    # --- the table ----------------------------------------------------------------------------
    def populate(self, keep: int | None = None) -> None:
        """Show the current type in the current order; `keep`: the table row to stay on."""
        table, kind = self.table, self.kind
        rows = self.results.get(kind)
        if rows is None:
            table.show(None, np.zeros(0, dtype=np.int64), [], [], [], None)
            table.loading = kind not in self.failed
            if kind not in self.failed and kind not in self.computing:
                self.computing.add(kind)
                self.compute(kind)
            self.update_status()
            return
        table.loading = False
        cols = columns_for(kind)
        if self.sort_key is not None and all(c.key != self.sort_key for c in cols):
            self.sort_key = None
        labels = [col.label + ((" ▼" if self.reverse else " ▲") if col.key == self.sort_key else "")
                  for col in cols]
        order = sort_order(rows, self.sort_key, self.reverse)
        table.show(rows, order, cols, labels, self.widths[kind], lambda c: cells(c, kind))
        table.move_to(int(np.flatnonzero(order == keep)[0]) if keep is not None and keep < len(rows) else 0)
        self.update_status()

    def update_status(self) -> None:
        kind = self.kind
        text = Text(f" {TITLES[kind]}: ")
        if kind in self.failed:
            text.append("failed (see the notice)", style="bold red")
        elif kind not in self.results:
            text.append("computing…")
        else:
            text.append(f"{len(self.results[kind]):,} conversations")
            if self.sort_key:
                label = next((c.label for c in columns_for(kind) if c.key == self.sort_key), self.sort_key)
                text.append(f"  ·  sorted by {label} {'descending' if self.reverse else 'ascending'}")
            c = self.selected
            if c is not None:
                text.append("  ·  Enter: ")
                text.append(plain(c.filter, style="bold"))
        self.query_one("#conv-status", Static).update(text)

    @property
    def selected(self) -> Conversation | None:
        table = self.table
        if table.rows is None or not 0 <= table.cursor < table.row_count:
            return None
        return table.conversation(table.cursor)

    def _selected_row(self) -> int | None:
        table = self.table
        if table.rows is None or not 0 <= table.cursor < table.row_count:
            return None
        return int(table.order[table.cursor])

    def on_line_table_highlighted(self, event: messages.Highlighted) -> None:
        self.update_status()

    def on_line_table_header_clicked(self, event: messages.HeaderClicked) -> None:
        event.stop()
        self.sort_by(event.key)

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column (the same column again: the other way round)."""
        if reverse is None:
            reverse = not self.reverse if key == self.sort_key else False
        keep = self._selected_row()
        self.sort_key, self.reverse = key, reverse
        self.populate(keep)

    def action_next_sort(self, step: int) -> None:
        keys = [c.key for c in columns_for(self.kind)]
        k = keys.index(self.sort_key) + step if self.sort_key in keys else (0 if step > 0 else -1)
        self.sort_by(keys[k % len(keys)], reverse=False)

    def action_reverse(self) -> None:
        keep = self._selected_row()
        self.reverse = not self.reverse
        self.populate(keep)

    # --- conversation types -------------------------------------------------------------------
    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is None or event.tab.id is None:
            return
        kind = event.tab.id.removeprefix("conv-")
        if kind != self.kind:
            self.kind = kind
            self.populate()
            self.table.focus()

    def action_kind(self, kind: str) -> None:
        self.query_one(Tabs).active = f"conv-{kind}"

    def action_next_kind(self, step: int) -> None:
        self.action_kind(KINDS[(KINDS.index(self.kind) + step) % len(KINDS)])

    # --- leaving ------------------------------------------------------------------------------
    def action_apply(self) -> None:
        c = self.selected
        if c is None:
            self.app.bell()
            return
        self.dismiss(("filter", c.filter))

    def action_follow(self) -> None:
        c = self.selected
        if c is None or c.kind not in ("tcp", "udp") or c.stream < 0:
            self.notify("Only TCP and UDP conversations can be followed", severity="warning", timeout=3)
            return
        self.dismiss(("follow", c.kind, c.stream))
