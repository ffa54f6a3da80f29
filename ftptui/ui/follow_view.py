"""Follow TCP/UDP Stream: one stream's bytes, client and server in two colours (Wireshark's
Analyze › Follow › TCP Stream), drawn line by line so a stream of many megabytes stays quick.

The text is laid out once per (format, direction, width) into display lines (text, side, chunk
index, continuation flag):

* ASCII and UTF-8: consecutive chunks from one side run together as Wireshark's dialog shows them
  (a line may span packets); lines break at newlines (CRLF too) and wrap at the view's width.
  Nothing from the capture reaches the terminal raw: in ASCII every byte outside 0x20-0x7e
  becomes a dot as in tshark (tabs are expanded); in UTF-8 undecodable bytes become U+FFFD and
  every non-printable character (C0, DEL, C1, escape sequences' ESC) a dot.
* Hex Dump (tshark's `-z follow,tcp,hex` lines, without the tab that indents the server's) and
  Raw (each chunk in hex, wrapped): laid out lazily, only the lines drawn are formatted.

A gap (bytes the capture lacks) is a line of its own: "[N bytes missing in capture file]".
"""
from __future__ import annotations

import bisect
import os
import re
from collections import OrderedDict

import numpy as np
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Input, Static

from .. import clipboard
from ..render.follow import HEX_LINE_WIDTH, gap_text, hex_line
from ..streams.follow import endpoint_text
from . import messages
from .cursor_view import CursorView, cursor_bindings
from .failures import Guarded
from .key_bar import KeyBar
from .plain import plain

MODES = ("ascii", "hex", "raw", "utf8")
MODE_NAMES = {"ascii": "ASCII", "hex": "Hex Dump", "raw": "Raw", "utf8": "UTF-8"}
SIDES = ((0, 1), (0,), (1,))  # both, client only, server only

# Wireshark's follow colours: client red on pink, server blue on lilac
SIDE_CLASSES = ("stream-text--client", "stream-text--server")  # Wireshark's follow colours, restylable


def gap_label(chunk) -> str:
    return gap_text(chunk)[:-1].decode()  # without tshark's NUL


def text_of(line: bytes, mode: str) -> str:
    """A line of stream bytes (no newline in it) as the view shows it."""
    return _decode(line, mode)


class LineRun:
    """Display lines of one run of same-side chunks (or of one gap): their texts, the chunk each
    line comes from, and which lines continue the one before (wrapped)."""
    __slots__ = ("texts", "owners", "cont", "side")

    def __init__(self, texts: list[str], owners: np.ndarray, cont: np.ndarray | None, side: int):
        self.texts, self.owners, self.cont, self.side = texts, owners, cont, side


class TextLayout:
    """ASCII / UTF-8: every display line computed up front, run by run, with whole-run string
    operations (translate, decode, replace, split) so that even millions of lines take little
    Python work per line."""

    def __init__(self, chunks: list, sides: tuple, mode: str, width: int):
        self.width = max(8, width)
        self.mode = mode
        self.max_width = 0
        self.segments: list[LineRun] = []
        self.starts: list[int] = []  # first display line of each segment
        self.total = 0
        run: list[bytes] = []
        starts: list[int] = []
        owners: list[int] = []
        size = 0
        side = -1
        for k, c in enumerate(chunks):
            if c.side not in sides:
                continue
            if c.gap or c.side != side:
                self._run(run, starts, owners, side)
                run, starts, owners, size = [], [], [], 0
                side = c.side
            if c.gap:
                label = gap_label(c)
                self._add(LineRun([label], np.array([k]), None, c.side), len(label))
                side = -1
                continue
            run.append(c.data)
            starts.append(size)
            owners.append(k)
            size += len(c.data)
        self._run(run, starts, owners, side)

    def _add(self, seg: LineRun, widest: int) -> None:
        if not seg.texts:
            return
        self.segments.append(seg)
        self.starts.append(self.total)
        self.total += len(seg.texts)
        self.max_width = max(self.max_width, widest)

    def _run(self, run: list[bytes], chunk_starts: list[int], chunk_owners: list[int], side: int) -> None:
        if not run:
            return
        data = b"".join(run)
        # where each line starts in the run's bytes, and so which chunk it comes from
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        line_starts = np.concatenate([np.zeros(1, dtype=np.int64), newlines + 1])
        if data.endswith(b"\n"):
            line_starts = line_starts[:-1]  # no empty line after the last newline
        cstarts = np.asarray(chunk_starts, dtype=np.int64)
        cowners = np.asarray(chunk_owners, dtype=np.int64)
        owners = cowners[np.searchsorted(cstarts, line_starts, side="right") - 1]
        text = _decode(data, self.mode)
        texts = text.split("\n")
        if text.endswith("\n"):
            texts.pop()
        if len(texts) != len(line_starts):  # cannot happen (a newline byte always decodes to one)
            texts = [_decode(line, self.mode) for line in data.split(b"\n")[:len(line_starts)]]
        width = self.width
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        # a line with characters two cells wide (East Asian, emoji) is wrapped at half the width
        step = np.full(len(texts), width, dtype=np.int64)
        if self.mode != "ascii":
            for i in np.flatnonzero(lens > width // 2).tolist():
                if _WIDE.search(texts[i]):
                    step[i] = max(1, width // 2)
        longmask = lens > step
        if not longmask.any():
            widest = int(np.minimum(lens, step).max()) if len(lens) else 0
            self._add(LineRun(texts, owners, None, side), widest if self.mode == "ascii" else width)
            return
        # wrap the long lines: every piece a line, marked as a continuation
        n = len(texts)
        counts = np.maximum(1, -(-lens // step))
        first = np.cumsum(counts) - counts
        line_of = np.repeat(np.arange(n), counts)
        piece_no = np.arange(int(counts.sum())) - np.repeat(first, counts)
        offsets = piece_no * step[line_of]
        out = [texts[i][o:o + w] for i, o, w in zip(line_of.tolist(), offsets.tolist(), step[line_of].tolist())]
        # the chunk of each piece: its bytes' position, in proportion (exact for ASCII without tabs)
        ends = np.append(line_starts[1:], len(data))
        nbytes = (ends - line_starts)[line_of]
        at = line_starts[line_of] + offsets * nbytes // np.maximum(lens[line_of], 1)
        piece_owners = cowners[np.searchsorted(cstarts, at, side="right") - 1]
        self._add(LineRun(out, piece_owners, piece_no > 0, side), width)

    def __len__(self) -> int:
        return self.total

    def line(self, y: int) -> tuple[str, int, int, bool]:
        i = bisect.bisect_right(self.starts, y) - 1
        seg = self.segments[i]
        j = y - self.starts[i]
        return seg.texts[j], seg.side, int(seg.owners[j]), bool(seg.cont[j]) if seg.cont is not None else False

    format = line

    def first_line_of(self, chunk: int) -> int | None:
        for start, seg in zip(self.starts, self.segments):
            if seg.owners[-1] >= chunk:
                return start + int(np.searchsorted(seg.owners, chunk))
        return None


# ASCII mode: printable ASCII stays, tab, LF and CR are handled afterwards, every other byte is a dot
_ASCII_CR = bytes(b if 0x20 <= b < 0x7F or b in (0x09, 0x0A, 0x0D) else 0x2E for b in range(256))
# UTF-8 mode: C0 controls and DEL (never part of a multi-byte sequence) become dots; tab, LF, CR kept
_C0 = bytes(0x2E if (b < 0x20 and b not in (0x09, 0x0A, 0x0D)) or b == 0x7F else b for b in range(256))
# the C1 controls U+0080-U+009F (CSI is U+009B), as UTF-8
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
# characters two cells wide (East Asian wide and full-width, emoji; the ranges of rich's table,
# with small gaps closed): lines with one wrap at half the width
_WIDE = re.compile("[\u1100-\u115f\u231a-\u23f3\u25fd-\u27bf\u2b1b-\u2b55\u2e80-\ua4c6\ua960-\ua97c"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe10-\uffe6\U00016fe0-\U00018df2\U0001aff0-\U0001b2fb"
                   "\U0001d300-\U0001d376\U0001f004-\U0001faf8\U00020000-\U0003fffd]")


def _decode(data: bytes, mode: str) -> str:
    """Stream bytes as safe text, newlines kept: CRLF → LF, a lone CR and every control → '.',
    tabs expanded; in UTF-8 mode undecodable bytes → U+FFFD and every other character that is
    not printable (format characters, separators, unassigned) → '.' too.  Whole-buffer
    operations, so a run of megabytes costs a few of them, not a Python step per byte."""
    if mode == "ascii":
        data = data.translate(_ASCII_CR)
    else:
        data = data.translate(_C0)
        if b"\xc2" in data:
            data = _C1.sub(b".", data)
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b".")
    text = data.decode("ascii" if mode == "ascii" else "utf-8", errors="replace")
    if "\t" in text:
        text = text.expandtabs(8)
    if mode != "ascii" and not text.replace("\n", "").isprintable():
        text = _printable(text)
    return text


def _printable(text: str) -> str:
    """`text` with every non-ASCII character that is not printable (str.isprintable: format
    characters, separators, private use, unassigned) replaced by '.', with numpy over the code
    points: only the distinct candidates are looked up one by one."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    where = np.flatnonzero((points >= 0x7F) & (points != 0xFFFD))
    if not len(where):
        return text
    values = points[where]
    bad = [c for c in np.unique(values).tolist() if not chr(c).isprintable()]
    if not bad:
        return text
    table = np.zeros(0x110000, dtype=bool)
    table[bad] = True
    points[where[table[values]]] = 0x2E
    return points.tobytes().decode("utf-32-le")


class DumpLayout:
    """Hex Dump and Raw: the number of lines of each chunk is known from its size, so a line is
    only formatted when it is drawn (or searched or copied)."""

    def __init__(self, chunks: list, sides: tuple, mode: str, width: int):
        self.chunks = chunks
        self.mode = mode
        self.per = 16 if mode == "hex" else max(4, width // 2)  # bytes per line
        self.max_width = HEX_LINE_WIDTH if mode == "hex" else 2 * self.per
        items, counts = [], []
        offsets = [0, 0]
        for k, c in enumerate(chunks):
            size = len(gap_text(c)) if c.gap else len(c.data)
            if c.side in sides:
                n = 1 if c.gap else -(-size // self.per)
                if n:
                    items.append((k, offsets[c.side]))
                    counts.append(n)
            offsets[c.side] += size  # per side, as tshark counts (a gap counts its text)
        self.items = items
        self.starts = np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64)
        self.formatted = 0  # lines formatted so far (the tests check only drawn ones are)
        self._cache: OrderedDict[int, tuple] = OrderedDict()

    def __len__(self) -> int:
        return int(self.starts[-1])

    def line(self, y: int) -> tuple[str, int, int, bool]:
        hit = self._cache.get(y)
        if hit is not None:
            return hit
        value = self.format(y)
        self._cache[y] = value
        if len(self._cache) > 2000:
            self._cache.popitem(last=False)
        return value

    def format(self, y: int) -> tuple[str, int, int, bool]:
        self.formatted += 1
        i = int(np.searchsorted(self.starts, y, side="right")) - 1
        k, offset = self.items[i]
        j = y - int(self.starts[i])
        c = self.chunks[k]
        if c.gap:
            return gap_label(c), c.side, k, False
        row = c.data[j * self.per:(j + 1) * self.per]
        if self.mode == "hex":
            return hex_line(row, offset + j * self.per), c.side, k, False
        return row.hex(), c.side, k, j > 0

    def first_line_of(self, chunk: int) -> int | None:
        i = bisect.bisect_left(self.items, (chunk, -1))
        if i < len(self.items):
            return int(self.starts[i])
        return None


def make_layout(chunks, sides, mode, width):
    return (TextLayout if mode in ("ascii", "utf8") else DumpLayout)(chunks, sides, mode, width)


class StreamText(Guarded, CursorView, can_focus=True):
    """The stream's display lines, drawn with the Line API; a line cursor picks a chunk."""

    DEFAULT_CSS = """
    StreamText { scrollbar-gutter: stable; }
    StreamText > .stream-text--client { color: #7f0000; background: #fbeded; }
    StreamText > .stream-text--server { color: #00007f; background: #ededfb; }
    StreamText > .stream-text--gap { color: black; background: #ffd866; text-style: bold; }
    StreamText > .stream-text--cursor { color: white; background: #2a5db0; text-style: bold; }
    StreamText > .stream-text--match { color: black; background: #ffff00; text-style: bold; }
    """
    COMPONENT_CLASSES = {*SIDE_CLASSES, "stream-text--gap", "stream-text--cursor", "stream-text--match"}

    BINDINGS = cursor_bindings("follow", page_down="pagedown,space", sideways=("left", "right"))



    def __init__(self, stream, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream
        self.mode = "ascii"
        self.sides = SIDES[0]
        self.plan = None
        self._key = None
        self.match: tuple[int, int, int] | None = None  # (line, start, end) of the current find

    # --- layout -------------------------------------------------------------------------------
    def wrap_width(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 0 else 80

    def relayout(self, force: bool = False) -> None:
        """(Re)build the layout for the current format, direction and width; the cursor stays on
        the chunk it was on."""
        width = self.wrap_width()
        key = (self.mode, self.sides, width if self.mode != "hex" else 0)
        if key == self._key and not force:
            return
        chunk = self.current_chunk
        self._key = key
        self.plan = make_layout(self.stream.chunks, self.sides, self.mode, width)
        self.match = None
        self.virtual_size = Size(self.plan.max_width, len(self.plan))
        self.refresh()
        self.cursor = self.line_of_chunk(chunk) if chunk is not None else 0

    def line_of_chunk(self, chunk: int) -> int:
        y = self.plan.first_line_of(chunk)
        return y if y is not None else max(0, len(self.plan) - 1)

    def on_resize(self, event) -> None:
        self.relayout()

    @property
    def lines(self) -> int:
        return len(self.plan) if self.plan is not None else 0

    def line(self, y: int) -> tuple[str, int, int, bool]:
        return self.plan.line(y)

    @property
    def current_chunk(self) -> int | None:
        if self.plan is None or not 0 <= self.cursor < self.lines:
            return None
        return self.plan.line(self.cursor)[2]

    def text(self) -> str:
        """The text as displayed, wrapped lines joined again (what Copy copies)."""
        if self.plan is None:
            self.relayout()
        out: list = []
        for y in range(self.lines):
            text, _, _, cont = self.plan.format(y)
            if cont and out:
                out[-1] += text
            else:
                out.append(text)
        return "\n".join(out) + ("\n" if out else "")

    # --- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        idx = scroll_y + y
        if self.plan is None or idx >= self.lines:
            return Strip.blank(width, self.rich_style)
        text, side, chunk, _ = self.plan.line(idx)
        if self.stream.chunks[chunk].gap:
            style = self.get_component_rich_style("stream-text--gap")
        else:
            style = self.get_component_rich_style(SIDE_CLASSES[side])
        if idx == self.cursor:
            style = self.get_component_rich_style("stream-text--cursor")
        segments = [Segment(text, style)]
        if self.match is not None and self.match[0] == idx:
            _, a, b = self.match
            segments = [Segment(text[:a], style), Segment(text[a:b], self.get_component_rich_style("stream-text--match")), Segment(text[b:], style)]
        strip = Strip(segments)
        total = max(width + scroll_x, self.virtual_size.width)
        strip = strip.adjust_cell_length(total, style)
        return strip.crop(scroll_x, scroll_x + width)

    # --- movement -----------------------------------------------------------------------------
    @property
    def line_count(self) -> int:
        return self.lines

    def watch_cursor(self, old: int, new: int) -> None:
        self.keep_in_view(new)
        self.refresh()
        self.post_message(messages.Moved())

    def on_click(self, event) -> None:
        at = event.get_content_offset(self)
        if at is not None:
            self.move_to(self.scroll_offset.y + at.y)
            self.focus()

    # --- find ---------------------------------------------------------------------------------
    def find(self, query: str, direction: int = 1, here: bool = False) -> tuple[int, int, int] | None:
        """The next (direction 1) or previous (-1) occurrence of `query` from the current match
        (or the cursor line), wrapping around; case-insensitive unless the query has a capital.
        here=True: a match on the cursor line itself counts (a new search)."""
        n = self.lines
        if not query or not n:
            return None
        fold = query == query.lower()
        needle = query.lower() if fold else query
        plan = self.plan
        get = plan.format  # not through the drawing cache

        def hay(y: int) -> str:
            text = get(y)[0]
            return text.lower() if fold else text

        if self.match is not None and not here:
            y, a, _ = self.match
        else:
            y, a = self.cursor, None
        # the rest of the current line first
        text = hay(y)
        if direction > 0:
            k = text.find(needle, 0 if a is None else a + 1)
        elif a is None:
            k = text.rfind(needle)
        else:
            k = text.rfind(needle, 0, a - 1 + len(needle)) if a > 0 else -1
        if k >= 0:
            return y, k, k + len(needle)
        for step in range(1, n + 1):
            z = (y + direction * step) % n
            text = hay(z)
            k = text.find(needle) if direction > 0 else text.rfind(needle)
            if k >= 0:
                return z, k, k + len(needle)
        return None

    def show_match(self, match: tuple[int, int, int]) -> None:
        self.match = match
        y, a, b = match
        self.cursor = y
        width = self.scrollable_content_region.width
        x = self.scroll_offset.x
        if width and (a < x or b > x + width):
            self.scroll_to(x=max(0, b - width + 1) if b > width else 0, animate=False)
        self.refresh()


class FollowScreen(Guarded, Screen):
    """Follow a stream; dismissed with the frame to select (Enter on a line) or None."""

    DEFAULT_CSS = """
    FollowScreen > .follow-screen--client { color: #7f0000; background: #fbeded; }
    FollowScreen > .follow-screen--server { color: #00007f; background: #ededfb; }
    """
    COMPONENT_CLASSES = {"follow-screen--client", "follow-screen--server"}

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="follow.close"),
        Binding("enter", "goto_packet", "Packet", id="follow.goto_packet"),
        Binding("slash,ctrl+f", "find", "Find", id="follow.find"),
        Binding("n", "find_next(1)", "Next", id="follow.find_next"),
        Binding("N", "find_next(-1)", "Previous", id="follow.find_previous"),
        Binding("m", "cycle_mode", "Format", id="follow.format"),
        Binding("a", "set_mode('ascii')", "ASCII", show=False, id="follow.ascii"),
        Binding("h,x", "set_mode('hex')", "Hex dump", show=False, id="follow.hex"),
        Binding("r", "set_mode('raw')", "Raw", show=False, id="follow.raw"),
        Binding("u", "set_mode('utf8')", "UTF-8", show=False, id="follow.utf8"),
        Binding("d", "cycle_sides", "Direction", id="follow.direction"),
        Binding("w,ctrl+s", "save", "Save raw", id="follow.save"),
        Binding("c,y", "copy", "Copy", id="follow.copy"),
    ]

    def __init__(self, stream, filter_text: str = "", mode: str = "ascii"):
        super().__init__()
        self.stream = stream
        self.filter_text = filter_text or f"{stream.proto}.stream eq {stream.number}"
        self.find_text = ""
        self.initial_mode = mode

    @property
    def view(self) -> StreamText:
        return self.query_one(StreamText)

    def compose(self):
        yield Static(self.title_text(), id="follow-title")
        yield StreamText(self.stream, id="follow-text")
        with Vertical(id="follow-boxes"):
            yield Input(placeholder="Find in the stream (Enter searches, n / N next / previous, Esc closes)",
                        id="follow-find", compact=True)
            yield Input(placeholder="Save the raw bytes to … (Enter writes, Esc cancels)", id="follow-save",
                        compact=True)
        yield Static("", id="follow-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#follow-find", Input).display = False
        self.query_one("#follow-save", Input).display = False
        view = self.view
        view.mode = self.initial_mode
        view.focus()
        self.update_status()

    # --- texts --------------------------------------------------------------------------------
    def side_bytes(self) -> list[int]:
        sizes = [0, 0]
        for c in self.stream.chunks:
            if not c.gap:
                sizes[c.side] += len(c.data)
        return sizes

    def endpoint(self, side: int) -> str:
        if len(self.stream.nodes) < 2:
            return "?"
        return endpoint_text(self.stream.nodes[side])

    def direction_label(self, sides: tuple) -> str:
        sizes = self.side_bytes()
        if len(sides) == 2:
            return f"Entire conversation ({sum(sizes):,} bytes)"
        s = sides[0]
        return f"{self.endpoint(s)} → {self.endpoint(1 - s)} ({sizes[s]:,} bytes)"

    def title_text(self) -> Text:
        s = self.stream
        sizes = self.side_bytes()
        text = Text()
        text.append(f" Follow {s.proto.upper()} Stream ({self.filter_text})", style="bold")
        gaps = len(s.gaps)
        if gaps:
            text.append(f"  {gaps} gap{'s' if gaps > 1 else ''}", style="bold #a06000")
        text.append("\n ")
        client, server = (self.get_component_rich_style(f"follow-screen--{side}") for side in ("client", "server"))
        text.append(f" client {self.endpoint(0)} → {self.endpoint(1)}: {sizes[0]:,} bytes ", style=client)
        text.append("  ")
        text.append(f" server {self.endpoint(1)} → {self.endpoint(0)}: {sizes[1]:,} bytes ", style=server)
        return text

    def status_text(self) -> Text:
        view = self.view
        text = Text(f" Show data as: {MODE_NAMES[view.mode]} (m)  ·  {self.direction_label(view.sides)} (d)")
        if view.lines:
            text.append(f"  ·  line {view.cursor + 1:,} of {view.lines:,}")
            chunk = view.current_chunk
            if chunk is not None:
                text.append(f"  ·  packet {self.stream.chunks[chunk].frame + 1}")
        if self.find_text:
            text.append("  ·  Find: ")
            text.append(plain(self.find_text, style="bold"))
            if view.match is None:
                text.append(" (no match)", style="bold red")
        return text

    def update_status(self) -> None:
        self.query_one("#follow-status", Static).update(self.status_text())

    def on_stream_text_moved(self, message: messages.Moved) -> None:
        self.update_status()

    # --- format and direction -----------------------------------------------------------------
    def action_cycle_mode(self) -> None:
        self.action_set_mode(MODES[(MODES.index(self.view.mode) + 1) % len(MODES)])

    def action_set_mode(self, mode: str) -> None:
        view = self.view
        view.mode = mode
        view.relayout()
        self.update_status()

    def action_cycle_sides(self) -> None:
        view = self.view
        view.sides = SIDES[(SIDES.index(view.sides) + 1) % len(SIDES)]
        view.relayout()
        self.update_status()

    # --- leaving ------------------------------------------------------------------------------
    def _close_boxes(self) -> bool:
        closed = False
        for box in self.query(Input):
            if box.display:
                box.display = False
                closed = True
        if closed:
            self.view.focus()
        return closed

    def action_close(self) -> None:
        if not self._close_boxes():
            self.dismiss(None)

    def action_goto_packet(self) -> None:
        chunk = self.view.current_chunk
        if chunk is None:
            self.app.bell()
            return
        self.dismiss(self.stream.chunks[chunk].frame)

    # --- find ---------------------------------------------------------------------------------
    def action_find(self) -> None:
        box = self.query_one("#follow-find", Input)
        self.query_one("#follow-save", Input).display = False
        box.display = True
        box.value = self.find_text
        box.cursor_position = len(box.value)
        box.focus()

    def search(self, query: str, direction: int = 1, new: bool = False) -> bool:
        view = self.view
        self.find_text = query
        match = view.find(query, direction, here=new)
        if match is None:
            view.match = None
            view.refresh()
            self.notify(f"{query!r} is not in the stream ({MODE_NAMES[view.mode]})", severity="warning", timeout=3)
        else:
            view.show_match(match)
        self.update_status()
        return match is not None

    def action_find_next(self, direction: int) -> None:
        if not self.find_text:
            self.action_find()
            return
        self.search(self.find_text, direction)

    # --- save and copy ------------------------------------------------------------------------
    def raw_bytes(self) -> bytes:
        """The shown side(s)' bytes in stream order, gaps left out (what Save writes)."""
        sides = self.view.sides
        return b"".join(c.data for c in self.stream.chunks if c.side in sides and not c.gap)

    def default_name(self) -> str:
        sides = self.view.sides
        tail = "" if len(sides) == 2 else ("-client" if sides == (0,) else "-server")
        return f"{self.stream.proto}-stream-{self.stream.number}{tail}.bin"

    def action_save(self) -> None:
        box = self.query_one("#follow-save", Input)
        self.query_one("#follow-find", Input).display = False
        box.display = True
        box.value = self.default_name()
        box.cursor_position = len(box.value)
        box.focus()

    def save(self, path: str) -> bool:
        path = os.path.expanduser(path.strip())
        if not path:
            self.notify("No file name given", severity="error")
            return False
        data = self.raw_bytes()
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as e:
            self.notify(f"Could not write {path}: {e.strerror or e}", severity="error", timeout=8)
            return False
        self.notify(f"Wrote {len(data):,} bytes ({self.direction_label(self.view.sides)}) to {os.path.abspath(path)}",
                    timeout=5)
        return True

    def action_copy(self) -> None:
        view = self.view
        text = view.text()
        routes = clipboard.copy(self.app, text)
        where = " and ".join(routes) or "no"
        self.notify(f"Copied {len(text):,} characters ({MODE_NAMES[view.mode]}) to the {where} clipboard",
                    timeout=4)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = event.input
        if box.id == "follow-find":
            box.display = False
            self.view.focus()
            if event.value:
                self.search(event.value, 1, new=True)
        elif box.id == "follow-save":
            if self.save(event.value):
                box.display = False
                self.view.focus()
