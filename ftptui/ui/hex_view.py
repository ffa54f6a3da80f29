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

    def show(self, data: bytes) -> None:
        self.data = data
        self.mark = (0, 0)
        self.virtual_size = Size(78, (len(data) + BYTES_PER_LINE - 1) // BYTES_PER_LINE)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def highlight(self, start: int, length: int) -> None:
        self.mark = (start, length)
        if length:
            line = start // BYTES_PER_LINE
            if not (self.scroll_offset.y <= line < self.scroll_offset.y + self.size.height):
                self.scroll_to(y=line, animate=False)
        self.refresh()

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
        start, length = self.mark
        offset, mark = (self.get_component_rich_style(f"hex-view--{part}") for part in ("offset", "mark"))
        segs = [Segment(f"{off:04x}  ", offset)]
        for k, b in enumerate(chunk):
            sep = "  " if k == 7 else " "
            on = start <= off + k < start + length
            segs.append(Segment(f"{b:02x}", mark if on else PLAIN))
            segs.append(Segment(sep, mark if on and start <= off + k + 1 < start + length and k != 15 else PLAIN))
        pad = 3 * (BYTES_PER_LINE - len(chunk)) + (1 if len(chunk) <= 8 else 0)
        segs.append(Segment(" " * pad + " ", PLAIN))
        for k, b in enumerate(chunk):
            on = start <= off + k < start + length
            segs.append(Segment(printable(b), mark if on else PLAIN))
        return Strip(segs).crop(self.scroll_offset.x, self.scroll_offset.x + width).extend_cell_length(width, self.rich_style)
