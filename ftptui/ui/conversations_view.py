"""Statistics › Conversations: Ethernet, IPv4, IPv6, TCP and UDP conversations in a table, one
tab each, computed from the index in a worker.

Dismissed with ("filter", text) (Enter: apply the conversation's filter to the packet list),
("follow", proto, stream) (f: follow a TCP/UDP conversation), or None.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, Tab, Tabs

from ..render.conversations import TITLES, size_text
from ..streams.conversations import KINDS, Conversation, conversations
from .failures import Guarded, report
from .plain import plain, plain_row


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


def sort_value(c: Conversation, key: str, ports: bool):
    if key in ("addr_a", "port_a"):
        addr, port = split_endpoint(c.a, ports)
        return int(port or 0) if key == "port_a" else address_key(addr)
    if key in ("addr_b", "port_b"):
        addr, port = split_endpoint(c.b, ports)
        return int(port or 0) if key == "port_b" else address_key(addr)
    return {
        "packets": c.frames, "bytes": c.bytes, "packets_ab": c.frames_ab, "bytes_ab": c.bytes_ab,
        "packets_ba": c.frames_ba, "bytes_ba": c.bytes_ba, "start": c.start, "duration": c.duration,
    }[key]


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


def aligned(rows: list[list[str]], labels: list[str], cols: list[Column]) -> tuple[list[str], list[list[str]]]:
    """Numbers right-aligned: numeric cells and headers padded to their column's width."""
    widths = [max([len(labels[k])] + [len(r[k]) for r in rows]) for k in range(len(cols))]
    labels = [t.rjust(widths[k]) if cols[k].numeric else t for k, t in enumerate(labels)]
    return labels, [[v.rjust(widths[k]) if cols[k].numeric else v for k, v in enumerate(r)] for r in rows]


class ConversationsReady(Message):
    def __init__(self, kind: str, convs: list | None, error: str | None = None):
        self.kind, self.convs, self.error = kind, convs, error
        super().__init__()


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

    def __init__(self, index, kind: str = "tcp"):
        super().__init__()
        self.index = index
        self.kind = kind if kind in KINDS else "tcp"
        self.results: dict[str, list[Conversation]] = {}
        self.errors: dict[str, str] = {}
        self.sort_key: str | None = None  # None: tshark's order (most packets first)
        self.reverse = False
        self.shown: list[Conversation] = []  # the table's rows, in display order
        self.packets = len(index)
        self.complete = bool(index.done)

    def compose(self):
        yield Static(self.title_text(), id="conv-title")
        yield Tabs(*(Tab(TITLES[k], id=f"conv-{k}") for k in KINDS), active=f"conv-{self.kind}", id="conv-tabs")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="conv-table")
        yield Static("", id="conv-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        table.loading = True
        table.focus()
        self.compute()
        self.update_status()

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def title_text(self) -> Text:
        text = Text(" Conversations", style="bold")
        text.append(f"  ({self.packets:,} packets")
        text.append(")" if self.complete else ", indexing was not finished: reopen for the rest)")
        return text

    @work(thread=True, exclusive=True, group="conversations")
    def compute(self) -> None:
        order = [self.kind] + [k for k in KINDS if k != self.kind]
        for kind in order:
            convs, error = None, None
            for attempt in range(3):  # the index may grow meanwhile: its columns can change length under us
                try:
                    convs = conversations(self.index, kind)
                    error = None
                    break
                except Exception as e:
                    error = f"{type(e).__name__}: {e}"
                    if attempt == 2:
                        report(self.app, e, f"{TITLES[kind]} conversations failed")
            self.post_message(ConversationsReady(kind, convs, error))

    def on_conversations_ready(self, message: ConversationsReady) -> None:
        kind = message.kind
        if message.error:
            self.errors[kind] = message.error
            self.results[kind] = []
        else:
            self.results[kind] = message.convs
        tab = self.query_one(f"#conv-{kind}", Tab)
        tab.label = f"{TITLES[kind]} · {len(self.results[kind])}"
        if kind == self.kind:
            self.populate()

    # --- the table ----------------------------------------------------------------------------
    def populate(self, keep: Conversation | None = None) -> None:
        table = self.table
        kind = self.kind
        convs = self.results.get(kind)
        table.clear(columns=True)
        if convs is None:
            table.loading = True
            self.shown = []
            self.update_status()
            return
        table.loading = False
        cols = columns_for(kind)
        ports = kind in ("tcp", "udp")
        labels = [col.label + ((" ▼" if self.reverse else " ▲") if col.key == self.sort_key else "")
                  for col in cols]
        rows = list(convs)
        if self.sort_key is not None and any(c.key == self.sort_key for c in cols):
            rows.sort(key=lambda c: sort_value(c, self.sort_key, ports), reverse=self.reverse)
        elif self.reverse:
            rows.reverse()
        self.shown = rows
        labels, texts = aligned([cells(c, kind) for c in rows], labels, cols)
        for col, label in zip(cols, labels):
            table.add_column(label, key=col.key)
        for k, row in enumerate(texts):
            table.add_row(*plain_row(*row), key=str(k))
        if keep is not None and keep in rows:
            table.move_cursor(row=rows.index(keep), animate=False)
        self.update_status()

    def update_status(self) -> None:
        kind = self.kind
        text = Text(f" {TITLES[kind]}: ")
        if kind in self.errors:
            text.append(plain(f"failed: {self.errors[kind]}", style="bold red"))
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
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.update_status()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_apply()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column (the same column again: the other way round)."""
        if reverse is None:
            reverse = not self.reverse if key == self.sort_key else False
        keep = self.selected
        self.sort_key, self.reverse = key, reverse
        self.populate(keep)

    def action_next_sort(self, step: int) -> None:
        keys = [c.key for c in columns_for(self.kind)]
        k = keys.index(self.sort_key) + step if self.sort_key in keys else (0 if step > 0 else -1)
        self.sort_by(keys[k % len(keys)], reverse=False)

    def action_reverse(self) -> None:
        keep = self.selected
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
