"""The dissection result: a tree of fields, each with its byte range, plus the list columns."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Field:
    """One line of the detail tree.  `name` is Wireshark's field name ('' for text-only lines);
    `start`/`length` are the bytes it covers in the frame (length 0: generated, no bytes)."""
    label: str
    name: str = ""
    start: int = 0
    length: int = 0
    value: object = None
    children: list["Field"] = field(default_factory=list)
    # tshark's hidden items (eth.ig, http.request, ftp.request, ...): filters see them, the
    # detail view should not show them
    hidden: bool = False

    def add(self, label: str, name: str = "", start: int = 0, length: int = 0, value: Any = None,
            hidden: bool = False) -> "Field":
        child = Field(label, name, start, length, value, hidden=hidden)
        self.children.append(child)
        return child

    def walk(self) -> Iterator[Field]:
        yield self
        for c in self.children:
            yield from c.walk()

    @property
    def key(self) -> str:
        """Stable identity across packets, to keep the same nodes expanded."""
        return self.name or self.label.split(":", 1)[0]


@dataclass(slots=True)
class Unkept(Field):
    """A layer of a list-only dissection: it keeps nothing added to it, so decoders need no
    checks to stay cheap; the costly labels are skipped with `if d.tree` where it matters."""

    def add(self, label: str, name: str = "", start: int = 0, length: int = 0, value: Any = None,
            hidden: bool = False) -> Field:
        return self


@dataclass
class Dissection:
    """What one packet shows: list columns, the tree and a colouring class."""
    number: int
    time: str
    source: str = ""
    destination: str = ""
    protocol: str = ""
    length: int = 0
    info: str = ""
    layers: list[Field] = field(default_factory=list)
    color: str = ""
    malformed: bool = False
    # False: the list columns only (the batch packet list); layers then stay empty
    tree: bool = True

    def layer(self, label: str, name: str, start: int, length: int) -> Field:
        if not self.tree:
            return Unkept(label, name, start, length)
        node = Field(label, name, start, length)
        self.layers.append(node)
        return node

    def fields(self) -> Iterator[Field]:
        for layer in self.layers:
            yield from layer.walk()
