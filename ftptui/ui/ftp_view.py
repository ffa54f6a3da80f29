"""The FTP view: sessions, a session's dialogue, its transfers, credentials and its sequence
diagram.  The analysis (ftptui/ftp) runs in a worker; this screen only arranges it.

Dismissed with ("goto", frame), ("filter", text), ("follow", "tcp", stream) or None, which the
browser carries out on the packet list.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import (
    Input,
    Static,
    TabbedContent,
    TabPane,
)

from .. import clipboard
from ..errors import FtptuiError
from ..ftp.analysis import FtpAnalysis, analyse, latest_analysis, sender_side
from ..ftp.extract import extract
from ..ftp.session import Session
from ..render.ftp import bytes_text, session_steps
from ..render.sequence import mermaid
from ..streams.follow import endpoint_text, follow_tcp
from ..text import safe
from .content_view import CONTENT_LIMIT, ContentScreen
from .diagram_view import DiagramPane, copy_diagram, save_diagram
from .failures import Guarded, report
from .key_bar import KeyBar
from .line_table import TextTable
from .lines_view import LinesView, ListLines
from .messages import AnalysisReady, ExtractDone
from .plain import plain
from .views import open_view

SESSION_COLUMNS = ("Id", "Client", "Server", "User", "Logged in", "Commands", "Transfers", "TLS")
TRANSFER_COLUMNS = ("Command", "Path", "Mode", "Direction", "Stream", "Bytes", "Expected", "Reply", "Complete", "sha256")
CREDENTIAL_COLUMNS = ("Session", "User", "Password", "Reply", "Frame")
SESSION_NUMERIC = (True, False, False, False, False, True, True, False)
TRANSFER_NUMERIC = (False, False, False, False, True, True, True, False, False, False)
CREDENTIAL_NUMERIC = (True, False, False, False, True)
REFRESH_EVERY = 1.0  # seconds between checks for new packets on a growing capture


@dataclass
class FtpViewState:
    """What the FTP view keeps between openings: the session, tab and transfer shown, and the
    diagrams drawn (for the analysis of `packets` packets; a grown capture draws them again)."""
    packets: int = -1
    session: int | None = None
    tab: str = "tab-dialogue"
    transfer_row: int = 0
    drawn: dict[Any, Any] = field(default_factory=dict)


def dialogue_lines(session) -> list[tuple[str, int]]:
    """The session as the seed shows it: replies as the server sent them, commands after '> ';
    each line with its frame (0-based)."""
    lines = [(safe(line), r.frame) for r in session.greeting for line in r.lines]
    refused = {t.command_frame for t in session.refused}
    for c in session.commands:
        lines.append((f"> {safe(c.raw)}" + ("   [refused: not a transfer]" if c.frame in refused else ""), c.frame))
        lines += [(safe(line), r.frame) for r in c.replies for line in r.lines]
    if session.tls:
        lines.append(("[the rest of the session is encrypted (AUTH TLS accepted)]", session.commands[-1].frame))
    return lines


class SessionTable(TextTable):
    """The sessions table; `on_row(row)` is called as soon as the cursor moves (not by a
    message), so the cursor and the session's dialogue are painted in the same frame."""

    def __init__(self, on_row, **kwargs):
        super().__init__(**kwargs)
        self.on_row = on_row

    def watch_cursor(self, row: int) -> None:
        super().watch_cursor(row)
        if row < self.row_count:
            self.on_row(row)


class FtpDetails(Vertical):
    """The FTP view's tabs: a session's dialogue, transfers, credentials and diagram."""

    def __init__(self, index, tab: str):
        super().__init__(id="ftp-details")
        self.index, self.tab = index, tab

    def compose(self):
        with TabbedContent(id="ftp-tabs", initial=self.tab):
            with TabPane("Dialogue", id="tab-dialogue"):
                yield LinesView(grow_only=True, id="ftp-dialogue")
            with TabPane("Transfers", id="tab-transfers"):
                yield TextTable(id="ftp-transfers")
            with TabPane("Credentials", id="tab-credentials"):
                yield TextTable(id="ftp-credentials")
            with TabPane("Diagram", id="tab-diagram"):
                yield DiagramPane(self.index, id="ftp-diagram")


class FtpScreen(Guarded, Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="ftp.close"),
        Binding("enter", "goto", "Go to packet", id="ftp.goto"),
        Binding("v", "view", "View content", id="ftp.view"),
        Binding("f", "follow", "Follow data", id="ftp.follow"),
        Binding("g", "filter_data", "Filter its packets", id="ftp.filter"),
        Binding("e", "extract", "Extract", id="ftp.extract"),
        Binding("y", "copy_sha", "Copy sha256", id="ftp.copy_sha"),
        Binding("z", "fold", "Fold handshakes", id="ftp.fold"),
        Binding("m", "copy_mermaid", "Copy Mermaid", id="ftp.copy_mermaid"),
        Binding("M", "save_mermaid", "Save Mermaid", id="ftp.save_mermaid"),
    ]

    def __init__(self, index, state: FtpViewState | None = None, growing: bool = False):
        """`growing`: a live capture, a stream or a file being written, analysed again while the
        view is open as packets come."""
        super().__init__()
        self.index = index
        self.growing = growing
        self.analysing = False  # a run of the analysis is under way
        self.state = state if state is not None else FtpViewState()
        self.analysis: FtpAnalysis | None = None
        self.session: Session | None = None
        self.dialogue_frames: list[int] = []  # the frame of each line of the dialogue
        self.transfers_of: Session | None = None  # whose transfers the table holds (made when shown)
        self.details_shown = False  # the tabs mounted and filled
        self.fold = False
        self.pending_input: str | None = None

    def compose(self):
        # The tabs come a frame later (FtpDetails): the sessions line shows at once, and their
        # dozen widgets cost more than the rest of the screen together.
        yield Static("FTP sessions — analysing…", id="ftp-title")
        yield SessionTable(self.session_row, id="ftp-sessions")
        box = Input(placeholder="directory to extract into", id="ftp-input")
        box.display = False  # shown when a path is asked for
        yield box
        yield KeyBar()

    def on_mount(self) -> None:
        # the browser's pass (links only, made after indexing) shows the sessions in the first
        # frame; the tabs follow a frame later, the transfers' sizes and hashes when read
        links = latest_analysis(self.index)
        if links is not None and links.packets == len(self.index):
            self.show_analysis(links)
        self.call_after_refresh(self.add_details)
        if self.growing:
            self.set_interval(REFRESH_EVERY, self.analyse_new_packets)

    def analyse_new_packets(self) -> None:
        """(A growing capture) the analysis again when packets came since the last one."""
        if not self.analysing and self.analysis is not None and len(self.index) > self.analysis.packets:
            self.run_analysis()

    async def add_details(self) -> None:
        await self.mount(FtpDetails(self.index, self.state.tab), after="#ftp-sessions")
        if self.analysis is not None:
            self.show_details()
        self.run_analysis()

    def run_analysis(self) -> None:
        self.analysing = True
        self._analyse()

    def check_action(self, action: str, parameters) -> bool | None:
        # until the analysis and its tabs are shown, only Esc: the other keys act on the tabs
        return action == "close" or self.details_shown

    @work(thread=True, exclusive=True, group="ftp")
    def _analyse(self) -> None:
        try:
            with self.index.lock:  # a growing capture's indexer waits while it is read
                analysis = analyse(self.index)
            self.post_message(AnalysisReady(analysis))
        except Exception as e:  # a bug in the analysis must not take the browser down
            report(self.app, e, "FTP analysis failed")
            self.post_message(AnalysisReady(None, failed=True))

    def on_analysis_ready(self, message: AnalysisReady) -> None:
        self.analysing = False
        if message.analysis is None:
            self.query_one("#ftp-title", Static).update(plain("FTP sessions — the analysis failed"))
        elif message.analysis is not self.analysis:
            self.show_analysis(message.analysis)

    def show_analysis(self, a: FtpAnalysis) -> None:
        """The title and the sessions table; the tabs too once they are mounted."""
        first = self.analysis is None
        self.analysis = a
        refused = sum(len(s.refused) for s in a.sessions)
        self.query_one("#ftp-title", Static).update(plain(
            f"FTP sessions: {len(a.sessions)}, transfers: {len(a.transfers)}"
            + (f" ({sum(t.complete for _, t in a.transfers)} complete)" if a.contents else " (reading them…)")
            + (f", refused data commands: {refused}" if refused else "")))
        table = self.query_one("#ftp-sessions", TextTable)
        table.show(SESSION_COLUMNS, [
            (s.id, endpoint_text(s.client), endpoint_text(s.server), s.user or "",
             {True: "yes", False: "no", None: "?"}[s.logged_in], len(s.commands), len(s.transfers),
             "yes" if s.tls else "")
            for s in a.sessions], SESSION_NUMERIC)
        if not a.sessions:
            if first:
                self.notify("No FTP sessions in this capture", severity="warning", timeout=5)
        else:
            row = next((k for k, s in enumerate(a.sessions) if s.id == self.state.session), 0)
            table.move_to(row)
            if first:
                table.focus()
        if self.query(FtpDetails):
            self.show_details()

    def show_details(self) -> None:
        """What the tabs show of the analysis: credentials, and the selected session's dialogue
        and transfers (the user's transfer row kept from the last opening)."""
        a, first = self.analysis, not self.details_shown
        assert a is not None
        self.details_shown = True
        if first:
            self.refresh_bindings()  # (check_action allows the other keys now: the key bar shows them)
        if self.state.packets != a.packets:  # drawn for fewer packets: draw again when shown
            self.state.packets, self.state.drawn = a.packets, {}
        self.query_one(DiagramPane).drawn = self.state.drawn
        self.query_one("#ftp-credentials", TextTable).show(CREDENTIAL_COLUMNS, [
            (s.id, user, password or "", f"{reply.code} {reply.text}" if reply else "", frame + 1)
            for s in a.sessions for user, password, reply, frame in s.credentials], CREDENTIAL_NUMERIC)
        if not a.sessions:
            return
        self.session_row(self.query_one("#ftp-sessions", TextTable).cursor)
        transfers = self.fill_transfers()
        if first and self.state.transfer_row < transfers.row_count:
            transfers.move_to(self.state.transfer_row)

    def session_row(self, row: int) -> None:
        """The sessions table's cursor is on another row (shown once the tabs are)."""
        if self.details_shown and self.analysis is not None and row < len(self.analysis.sessions):
            session = self.analysis.sessions[row]
            if self.session is not session:
                self.show_session(session)

    def show_session(self, session) -> None:
        """The session's dialogue, and what the open tab shows of it (the others when opened:
        a hidden table filled again laid the screen out on every ↓ between sessions)."""
        self.session = session
        self.state.session = session.id
        lines = dialogue_lines(session)
        self.dialogue_frames = [frame for _, frame in lines]
        self.query_one("#ftp-dialogue", LinesView).show(ListLines([text for text, _ in lines]))
        tab = self._tab()
        if tab == "tab-transfers":
            self.fill_transfers()
        elif tab == "tab-diagram":
            self.draw_diagram()

    def fill_transfers(self) -> TextTable:
        """The transfers table, holding the session's transfers."""
        table = self.query_one("#ftp-transfers", TextTable)
        session = self.session
        if session is not None and self.transfers_of is not session:
            self.transfers_of = session
            read = self.analysis is not None and self.analysis.contents  # else: sizes and hashes to come
            cursor = table.cursor
            table.show(TRANSFER_COLUMNS, [
                (f"{t.command} {t.arg}".strip(), t.path or f"?/{t.arg}", f"{t.mode or ''} {t.setup or ''}".strip(),
                 t.direction, t.tcp_stream if t.tcp_stream >= 0 else "", bytes_text(t) if read else "…",
                 "" if t.expected_bytes is None else f"{t.expected_bytes:,}",
                 t.final_reply.code if t.final_reply else "",
                 ("yes" if t.complete else "no") if read else "…", t.sha256[:16] if read else "…")
                for t in session.transfers], TRANSFER_NUMERIC)
            table.move_to(cursor if cursor < table.row_count else 0)  # (the same session's rows, read now)
        return table

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.state.tab = self._tab()
        if self.state.tab == "tab-transfers":
            self.fill_transfers()
        elif self.state.tab == "tab-diagram":
            self.draw_diagram()

    def draw_diagram(self) -> None:
        """The session's ladder; drawn in the pane's worker the first time it is shown."""
        s, fold, index = self.session, self.fold, self.index
        if s is None:
            return
        self.query_one(DiagramPane).draw((s.id, fold), lambda tick: session_steps(index, s, fold, tick),
                                         f"Client {endpoint_text(s.client)}", f"FTP server {endpoint_text(s.server)}")

    def action_close(self) -> None:
        if self.details_shown and self.transfers_of is self.session:  # (else another session's rows)
            self.state.transfer_row = self.query_one("#ftp-transfers", TextTable).cursor
        self.dismiss(None)

    # --- the selected transfer / line
    def current_transfer(self):
        table = self.fill_transfers()
        if self.session is None or not self.session.transfers:
            self.notify("Select a transfer first (Transfers tab)", severity="warning", timeout=3)
            return None
        return self.session.transfers[min(table.cursor, len(self.session.transfers) - 1)]

    def _tab(self) -> str:
        return self.query_one("#ftp-tabs", TabbedContent).active

    def action_goto(self) -> None:
        tab = self._tab()
        if tab == "tab-dialogue":
            line = self.query_one("#ftp-dialogue", LinesView).cursor
            if line < len(self.dialogue_frames):
                self.dismiss(("goto", self.dialogue_frames[line]))
        elif tab == "tab-transfers":
            t = self.current_transfer()
            if t is not None:
                self.dismiss(("goto", t.first_data_frame if t.first_data_frame >= 0 else t.command_frame))
        elif tab == "tab-credentials":
            creds = self.query_one("#ftp-credentials", TextTable)
            if creds.row_count:
                self.dismiss(("goto", int(creds.get_row_at(creds.cursor)[4]) - 1))
        elif self.session is not None:
            pane = self.query_one(DiagramPane)
            drawn = pane.steps()
            frame = drawn[pane.view.cursor - 1].frame if drawn and pane.view.cursor > 0 else -1
            self.dismiss(("goto", frame if frame >= 0 else self.session.start_frame))

    def action_follow(self) -> None:
        t = self.current_transfer()
        if t is not None:
            if t.tcp_stream < 0:
                self.notify("This transfer's data connection is not in the capture", severity="warning")
            else:
                self.dismiss(("follow", "tcp", t.tcp_stream))

    def action_filter_data(self) -> None:
        t = self.current_transfer()
        if t is not None and t.tcp_stream >= 0:
            self.dismiss(("filter", f"tcp.stream eq {t.tcp_stream}"))

    def transfers_read(self) -> bool:
        """Whether the transfers' bytes are counted and hashed yet (else a notice)."""
        if self.analysis is not None and self.analysis.contents:
            return True
        self.notify("Reading the transfers' data… (a moment)", timeout=3)
        return False

    def action_view(self) -> None:
        t = self.current_transfer() if self.transfers_read() else None
        if t is None:
            return
        if t.tcp_stream < 0:
            self.notify("This transfer's data connection is not in the capture", severity="warning")
            return
        index, session = self.index, self.session
        assert session is not None  # a transfer was selected

        def gather(check) -> tuple[bytes, bool]:
            """The sender's bytes of the data connection, up to CONTENT_LIMIT."""
            sender, _ = sender_side(index, session, t, t.tcp_stream)
            parts, size = [], 0

            def take(chunk) -> None:
                nonlocal size
                check()
                if chunk.side == sender and not chunk.gap and size < CONTENT_LIMIT:
                    parts.append(chunk.data[:CONTENT_LIMIT - size])
                    size += len(parts[-1])
            follow_tcp(index, t.tcp_stream, emit=take)
            return b"".join(parts), t.bytes > CONTENT_LIMIT
        title = f"{t.command} {t.arg} — {t.bytes:,} bytes, sha256 {t.sha256}"
        open_view(self.app, ContentScreen(safe(title), gather))

    def action_copy_sha(self) -> None:
        t = self.current_transfer() if self.transfers_read() else None
        if t is not None and t.sha256:
            routes = clipboard.copy(self.app, t.sha256)
            self.notify(f"sha256 copied ({', '.join(routes) or 'no clipboard'})", timeout=3)

    def action_fold(self) -> None:
        self.fold = not self.fold
        if self._tab() == "tab-diagram":
            self.draw_diagram()

    def mermaid_text(self) -> str | None:
        """The session's diagram as Mermaid; None (and a notice) until it has been drawn."""
        s = self.session
        drawn = self.query_one(DiagramPane).drawn.get((s.id, self.fold)) if s is not None else None
        if s is None or drawn is None:
            self.notify("Open the Diagram tab first: the diagram is drawn there", severity="warning", timeout=4)
            return None
        return mermaid(drawn[0], f"Client {endpoint_text(s.client)}", f"FTP Server {endpoint_text(s.server)}")

    def action_copy_mermaid(self) -> None:
        text = self.mermaid_text()
        if text is not None:
            copy_diagram(self, text)

    def action_save_mermaid(self) -> None:
        if self.session is not None and self.mermaid_text() is not None:
            self._ask("mermaid", "file to save the Mermaid diagram in", f"ftp-session-{self.session.id}.mmd")

    def action_extract(self) -> None:
        if self.transfers_read() and self.current_transfer() is not None:
            self._ask("extract", "directory to extract the transfer into", os.path.join(os.getcwd(), "ftp-objects"))

    def _ask(self, what: str, placeholder: str, value: str) -> None:
        box = self.query_one("#ftp-input", Input)
        box.placeholder, box.value, box.display = placeholder, value, True
        self.pending_input = what
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        what, self.pending_input = self.pending_input, None
        event.input.display = False
        target = event.value.strip()
        if not target or what is None:
            return
        if what == "mermaid":
            text = self.mermaid_text()
            if text is not None:
                save_diagram(self, target, text)
            return
        t, s = self.current_transfer(), self.session
        if t is not None and s is not None:
            self.notify(f"Extracting {t.command} {t.arg}…", timeout=3)
            self.run_extract(s, t, target, s.transfers.index(t) + 1)

    @work(thread=True, group="extract")
    def run_extract(self, session, transfer, target: str, number: int) -> None:
        """Reassemble and write the transfer (big ones take seconds): off the UI thread."""
        try:
            path = extract(self.index, session, transfer, target, number)
            self.post_message(ExtractDone(path, None))
        except (OSError, FtptuiError) as e:
            self.post_message(ExtractDone(None, str(e)))

    def on_extract_done(self, message: ExtractDone) -> None:
        if message.error is not None:
            self.notify(f"Could not write: {message.error}", severity="error", timeout=6)
        else:
            self.notify(f"Written {message.path}", timeout=5)
