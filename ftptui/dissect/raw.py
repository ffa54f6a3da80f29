"""A packet's captured bytes with bounds-checked big-endian readers; Malformed when a field
reaches past them (the decoders then mark the packet malformed, as Wireshark does)."""
from __future__ import annotations

import struct
from typing import Any


class Malformed(Exception):
    """A field reached past the captured bytes."""


class Packet:
    """Captured bytes plus bounds-checked big-endian readers."""

    def __init__(self, data: bytes):
        self.data = data

    def need(self, off: int, size: int) -> None:
        if off < 0 or off + size > len(self.data):
            raise Malformed()

    def u8(self, off: int) -> int:
        self.need(off, 1)
        return self.data[off]

    def u16(self, off: int) -> int:
        self.need(off, 2)
        return int(struct.unpack_from(">H", self.data, off)[0])

    def u32(self, off: int) -> int:
        self.need(off, 4)
        return int(struct.unpack_from(">I", self.data, off)[0])

    def bytes(self, off: int, size: int) -> bytes:
        self.need(off, size)
        return self.data[off:off + size]

    def unpack(self, fmt: struct.Struct, off: int) -> tuple[Any, ...]:
        """Several fields at once (a header's fixed part): one bounds check, one unpack."""
        self.need(off, fmt.size)
        return fmt.unpack_from(self.data, off)
