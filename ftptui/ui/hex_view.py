"""Hex + ASCII pane; the selected field's bytes are highlighted."""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .failures import Guarded

PLAIN = Style()
BYTES_PER_LINE = 16
LINE_WIDTH = 6 + 3 * BYTES_PER_LINE + 2 + BYTES_PER_LINE  # offset, hex bytes, gap, ASCII


def printable(b: int) -> str:
    """Bytes are shown as ASCII only when printable; anything else is a dot, never raw."""
    return chr(b) if 0x20 <= b < 0x7F else "."


def hexdump_lines(data: bytes) -> list[str]:
    """Plain-text hex dump, as the pane shows it (used by tests and copy)."""
    out = []
    for off in range(0, len(data), BYTES_PER_LINE):
        chunk = data[off:off + BYTES_PER_LINE]
        hexpart = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        out.append(f"{off:04x}  {hexpart:<48}  {''.join(printable(b) for b in chunk)}")
    return out


class HexView(Guarded, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    HexView > .hex-view--offset { text-style: dim; }
    HexView > .hex-view--mark { text-style: bold reverse; }
    """
    COMPONENT_CLASSES = {"hex-view--offset", "hex-view--mark"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.data = b""
        self.mark = (0, 0)
        self._height = 0
        self._pane = Size(0, 0)

    def show(self, data: bytes) -> None:
        drawn = self._lines(self.data)
        self.data = data
        self.mark = (0, 0)
        self._size_to_data()
        self.scroll_to(y=0, animate=False)
        self.refresh_lines(0, max(drawn, self._lines(data)))  # the blank lines below stay

    @staticmethod
    def _lines(data: bytes) -> int:
        return (len(data) + BYTES_PER_LINE - 1) // BYTES_PER_LINE

    def _size_to_data(self) -> None:
        # The virtual size only grows (until the pane is resized), to the biggest packet shown: a
        # new size means a new layout of the whole screen, which would cost every ↑/↓ in the list
        # more than all the rest.
        self._height = max(self._height, self._lines(self.data), self.scrollable_content_region.height)
        if self.virtual_size != (LINE_WIDTH, self._height):
            self.virtual_size = Size(LINE_WIDTH, self._height)

    def on_resize(self) -> None:
        if self.size != self._pane:  # (Textual sends Resize for a new virtual size too)
            self._pane, self._height = self.size, 0
            self._size_to_data()

    def highlight(self, start: int, length: int) -> None:
        for a, n in (self.mark, (start, length)):  # the lines of the old mark and of the new one
            if n:
                self.refresh_lines(a // BYTES_PER_LINE, (a + n - 1) // BYTES_PER_LINE - a // BYTES_PER_LINE + 1)
        self.mark = (start, length)
        if length:
            line = start // BYTES_PER_LINE
            if not (self.scroll_offset.y <= line < self.scroll_offset.y + self.size.height):
                self.scroll_to(y=line, animate=False)

    def marked_bytes(self) -> bytes:
        start, length = self.mark
        return self.data[start:start + length]

    def render_line(self, y: int) -> Strip:
        line = self.scroll_offset.y + y
        off = line * BYTES_PER_LINE
        width = self.size.width
        if off >= len(self.data):
            return Strip.blank(width, self.rich_style)
        chunk = self.data[off:off + BYTES_PER_LINE]
        offset_style, mark_style = (self.get_component_rich_style(f"hex-view--{part}") for part in ("offset", "mark"))
        # the marked bytes of this line: [a, b) within the chunk (a few segments, not one per byte)
        start, length = self.mark
        a = min(max(start - off, 0), len(chunk))
        b = min(max(start + length - off, 0), len(chunk))
        hexes = [f"{x:02x}" for x in chunk]

        def hex_text(lo: int, hi: int, last: bool) -> str:
            # each byte followed by its separator (two spaces after the 8th); a run marked to its
            # end keeps its last separator unmarked
            text = "".join(hexes[k] + ("  " if k == 7 else " ") for k in range(lo, hi))
            return text[:-2 if hi == 8 else -1] if last and text else text

        segs = [Segment(f"{off:04x}  ", offset_style), Segment(hex_text(0, a, False), PLAIN)]
        if b > a:
            marked = hex_text(a, b, True)
            segs += [Segment(marked, mark_style), Segment(hex_text(a, b, False)[len(marked):], PLAIN)]
        segs.append(Segment(hex_text(b, len(chunk), False), PLAIN))
        pad = 3 * (BYTES_PER_LINE - len(chunk)) + (1 if len(chunk) <= 8 else 0)
        segs.append(Segment(" " * pad + " ", PLAIN))
        text = "".join(printable(x) for x in chunk)
        segs += [Segment(text[:a], PLAIN), Segment(text[a:b], mark_style), Segment(text[b:], PLAIN)]
        segs = [seg for seg in segs if seg.text]
        return Strip(segs).crop(self.scroll_offset.x, self.scroll_offset.x + width).extend_cell_length(width, self.rich_style)
