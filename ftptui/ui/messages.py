"""The messages workers post to the screens, and the jobs they report on: one module, so a
screen and the mixins and workers that talk to it share them without importing each other.
High-rate ones (progress) replace older queued ones of the same job (`can_replace`)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from textual.message import Message

if TYPE_CHECKING:  # (annotations only: importing them here put the filter compiler and the
    # live capture on the app's start, before the first rows)
    from ..capture.live import LiveCapture
    from ..capture.reader import CaptureFile
    from ..dfilter.compile import Filter
    from ..dissect.tree import Field
    from ..store.index import PacketIndex


@dataclass(eq=False)
class FilterJob:
    """One run of a display filter in the worker: "apply" (a new filter over [0, end)) or "extend"
    (the applied filter over packets the indexer added since)."""
    kind: str
    flt: Filter
    text: str
    stop: threading.Event = field(default_factory=threading.Event)
    progress: float = 0.0


@dataclass(eq=False)
class IndexRun:
    """One capture file being followed into one index (a cleared live capture starts another)."""
    cap: CaptureFile
    index: PacketIndex
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class IndexProgress(Message):
    """The indexer added packets; newer progress replaces older queued ones."""
    done: bool

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexProgress) and not message.done


@dataclass(eq=False)
class FilterProgress(Message):
    job: FilterJob
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FilterProgress) and message.job is self.job


@dataclass(eq=False)
class FilterDone(Message):
    """A filter run ended: `frames` matched in [start, end), or it was cancelled / failed."""
    job: FilterJob
    start: int
    end: int
    frames: np.ndarray | None = None
    cancelled: bool = False
    failed: bool = False


@dataclass(eq=False)
class StreamFollowed(Message):
    """The follow worker finished (`stream`: a FollowedStream, or None when it failed)."""
    stream: Any


@dataclass(eq=False)
class FtpFollowed(Message):
    """The FTP follower has analysed the whole capture."""


@dataclass(eq=False)
class AnalysisReady(Message):
    """The FTP follower has analysed the capture for the FTP view (None: it failed)."""
    analysis: Any
    failed: bool = False


@dataclass(eq=False)
class ContentReady(Message):
    """A transfer's bytes, gathered for the content viewer (`cut`: only the first part)."""
    data: bytes
    cut: bool


@dataclass(eq=False)
class DiagramReady(Message):
    """A sequence diagram drawn in a worker: its steps and ladder lines, for `key` (what it
    was drawn for: a session or a stream, folded or not)."""
    key: Any
    steps: Any
    lines: list[str]


@dataclass(eq=False)
class ScapyLayers(Message):
    """scapy's layers for a dissection the tree shows (added below its native layers)."""
    dissection: Any
    layers: list[Field]


@dataclass(eq=False)
class ExtractDone(Message):
    """A transfer was extracted to `path`, or could not be (`error`)."""
    path: str | None
    error: str | None


@dataclass(eq=False)
class Progress(Message):
    """How far a view's worker is (done of total), for its status line."""
    what: str
    done: int
    total: int


@dataclass(eq=False)
class SourceIdle(Message):
    """The source stopped growing: the live capture stopped (it may start again) or the stream
    ended (`ended`); everything it wrote is indexed."""
    run: IndexRun
    ended: bool


@dataclass(eq=False)
class SourceFull(Message):
    """The index holds --max-packets packets: nothing more is read (a live capture stops)."""
    run: IndexRun


@dataclass(eq=False)
class Saved(Message):
    """Saving the capture ended: what to say, and whether it failed."""
    text: str
    error: bool = False


@dataclass(eq=False)
class ConversationsReady(Message):
    """One conversation type's table is computed (None: it failed), with its column widths."""
    kind: str
    table: Any
    widths: list[int] | None = None


# --- what widgets and screens tell their parents.  Each is named as if nested in its sender
# (namespace=), so its handler is on_packet_list_selected and so on.
@dataclass(eq=False)
class TcpAnalysisReady(Message):
    """A TCP stream's analysis, left out of what was drawn (streams.analysis.bounded), is done:
    draw again."""


@dataclass(eq=False)
class FieldSelected(Message, namespace="detail_tree"):
    field: Field


@dataclass(eq=False)
class FilterRequest(Message, namespace="detail_tree"):
    """Apply or prepare a filter on a field: mode "apply"/"prepare"/"menu", how as in
    dfilter.prepare.combine ("selected", "not", "and", "or", "and_not", "or_not")."""
    field: Field
    mode: str
    how: str = "selected"


@dataclass(eq=False)
class Apply(Message, namespace="filter_bar"):
    """Enter on a valid or empty filter (empty: show every packet)."""
    text: str


@dataclass(eq=False)
class Leave(Message, namespace="filter_bar"):
    """Esc in the bar: back to the list without applying (and stop a filter being applied);
    Tab with nothing to complete: back to the list."""
    cancel: bool = True


@dataclass(eq=False)
class Highlighted(Message, namespace="line_table"):
    """A LineTable's cursor moved to another row."""


@dataclass(eq=False)
class HeaderClicked(Message, namespace="line_table"):
    """A column title was clicked (sort by it)."""
    key: str


@dataclass(eq=False)
class Moved(Message, namespace="stream_text"):
    """The follow view's cursor moved (the screen's status line follows it)."""


@dataclass(eq=False)
class OpenFile(Message, namespace="welcome_screen"):
    path: str


@dataclass(eq=False)
class StartCapture(Message, namespace="welcome_screen"):
    """Capture with this LiveCapture (interface and capture filter checked, not started)."""
    live: LiveCapture
