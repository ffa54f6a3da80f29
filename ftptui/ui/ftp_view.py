"""The FTP view: sessions, a session's dialogue, its transfers, credentials and its sequence
diagram.  The analysis (ftptui/ftp) runs in a worker; this screen only arranges it.

Dismissed with ("goto", frame), ("filter", text), ("follow", "tcp", stream) or None, which the
browser carries out on the packet list.
"""
from __future__ import annotations

import os

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Log,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from .. import clipboard
from ..errors import FtptuiError
from ..ftp.analysis import FtpAnalysis, analyse
from ..ftp.extract import extract
from ..render.follow import hex_dump
from ..render.ftp import session_steps
from ..render.sequence import ladder, mermaid
from ..streams.follow import endpoint_text
from ..text import safe
from .failures import Guarded, report
from .messages import AnalysisReady
from .plain import plain, plain_row

CONTENT_LIMIT = 4 << 20  # bytes shown in the content viewer


def dialogue_lines(session) -> list[tuple[str, int]]:
    """The session as the seed shows it: replies as the server sent them, commands after '> ';
    each line with its frame (0-based)."""
    lines = [(safe(line), r.frame) for r in session.greeting for line in r.lines]
    for c in session.commands:
        lines.append((f"> {safe(c.raw)}", c.frame))
        lines += [(safe(line), r.frame) for r in c.replies for line in r.lines]
    if session.tls:
        lines.append(("[the rest of the session is encrypted (AUTH TLS accepted)]", session.commands[-1].frame))
    return lines


class ContentScreen(Guarded, ModalScreen):
    """A transfer's bytes, as text or as a hex dump (only what fits CONTENT_LIMIT)."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Back", id="ftp.content.close"),
                Binding("x", "toggle_hex", "Text / hex", id="ftp.content.toggle")]

    def __init__(self, title: str, data: bytes, cut: bool):
        super().__init__()
        self.title_text, self.data, self.cut, self.as_hex = title, data, cut, False

    def compose(self):
        with Vertical(id="ftp-content"):
            yield Static(plain(self.title_text), id="ftp-content-title")
            yield Log(id="ftp-content-log")
        yield Footer()

    def on_mount(self) -> None:
        self.show()

    def action_toggle_hex(self) -> None:
        self.as_hex = not self.as_hex
        self.show()

    def show(self) -> None:
        log = self.query_one(Log)
        log.clear()
        if self.as_hex:
            lines = hex_dump(self.data, 0, "").splitlines()
        else:
            lines = [safe(line.expandtabs(8)) for line in self.data.decode("utf-8", "replace").splitlines()]
        if self.cut:
            lines.append(f"[only the first {CONTENT_LIMIT:,} bytes are shown]")
        # Log.write_lines splits each item again and so drops empty lines: "\n" keeps one
        log.write_lines([line or "\n" for line in lines], scroll_end=False)
        log.scroll_home(animate=False)


class FtpScreen(Guarded, Screen):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Back", id="ftp.close"),
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

    def __init__(self, index):
        super().__init__()
        self.index = index
        self.analysis: FtpAnalysis | None = None
        self.session = None
        self.fold = False
        self.pending_input: str | None = None

    def compose(self):
        yield Static("FTP sessions — analysing…", id="ftp-title")
        yield DataTable(id="ftp-sessions", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="ftp-tabs"):
            with TabPane("Dialogue", id="tab-dialogue"):
                yield OptionList(id="ftp-dialogue")
            with TabPane("Transfers", id="tab-transfers"):
                yield DataTable(id="ftp-transfers", cursor_type="row", zebra_stripes=True)
            with TabPane("Credentials", id="tab-credentials"):
                yield DataTable(id="ftp-credentials", cursor_type="row", zebra_stripes=True)
            with TabPane("Diagram", id="tab-diagram"):
                yield Log(id="ftp-diagram")
        box = Input(placeholder="directory to extract into", id="ftp-input")
        box.display = False  # shown when a path is asked for
        yield box
        yield Footer()

    def on_mount(self) -> None:
        sessions = self.query_one("#ftp-sessions", DataTable)
        sessions.add_columns("Id", "Client", "Server", "User", "Logged in", "Commands", "Transfers", "TLS")
        self.query_one("#ftp-transfers", DataTable).add_columns(
            "Command", "Path", "Mode", "Direction", "Stream", "Bytes", "Expected", "Reply", "Complete", "sha256")
        self.query_one("#ftp-credentials", DataTable).add_columns("Session", "User", "Password", "Reply", "Frame")
        self.run_analysis()

    @work(thread=True, exclusive=True, group="ftp")
    def run_analysis(self) -> None:
        try:
            with self.index.lock:  # a growing capture's indexer waits while it is read
                analysis = analyse(self.index)
            self.post_message(AnalysisReady(analysis))
        except Exception as e:  # a bug in the analysis must not take the browser down
            report(self.app, e, "FTP analysis failed")
            self.post_message(AnalysisReady(None, failed=True))

    def on_analysis_ready(self, message: AnalysisReady) -> None:
        if message.analysis is None:
            self.query_one("#ftp-title", Static).update(plain("FTP sessions — the analysis failed"))
            return
        self.analysis = a = message.analysis
        self.query_one("#ftp-title", Static).update(plain(
            f"FTP sessions: {len(a.sessions)}, transfers: {len(a.transfers)}"
            f" ({sum(t.complete for _, t in a.transfers)} complete)"))
        table = self.query_one("#ftp-sessions", DataTable)
        for s in a.sessions:
            logged = {True: "yes", False: "no", None: "?"}[s.logged_in]
            table.add_row(*plain_row(s.id, endpoint_text(s.client), endpoint_text(s.server), s.user or "", logged,
                                     len(s.commands), len(s.transfers), "yes" if s.tls else ""), key=str(s.id))
        creds = self.query_one("#ftp-credentials", DataTable)
        for s in a.sessions:
            for user, password, reply, frame in s.credentials:
                creds.add_row(*plain_row(s.id, user, password or "", f"{reply.code} {reply.text}" if reply else "",
                                         frame + 1), key=f"{s.id}:{frame}")
        if a.sessions:
            self.show_session(a.sessions[0])
            table.focus()
        else:
            self.notify("No FTP sessions in this capture", timeout=5)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "ftp-sessions" and self.analysis and event.row_key is not None:
            sid = int(event.row_key.value or 0)
            self.show_session(next(s for s in self.analysis.sessions if s.id == sid))

    def show_session(self, session) -> None:
        self.session = session
        dialogue = self.query_one("#ftp-dialogue", OptionList)
        dialogue.clear_options()
        dialogue.add_options([Option(plain(text), id=f"{k}:{frame}")
                              for k, (text, frame) in enumerate(dialogue_lines(session))])
        transfers = self.query_one("#ftp-transfers", DataTable)
        transfers.clear()
        for k, t in enumerate(session.transfers):
            transfers.add_row(*plain_row(f"{t.command} {t.arg}".strip(), t.path or f"?/{t.arg}",
                                         f"{t.mode or ''} {t.setup or ''}".strip(), t.direction,
                                         t.tcp_stream if t.tcp_stream >= 0 else "", f"{t.bytes:,}",
                                         "" if t.expected_bytes is None else f"{t.expected_bytes:,}",
                                         t.final_reply.code if t.final_reply else "", "yes" if t.complete else "no",
                                         t.sha256[:16]), key=str(k))
        self.draw_diagram()

    def draw_diagram(self) -> None:
        log = self.query_one("#ftp-diagram", Log)
        log.clear()
        if self.session is None:
            return
        s = self.session
        log.write_lines(ladder(self.index, session_steps(self.index, s, self.fold),
                               f"Client {endpoint_text(s.client)}", f"FTP server {endpoint_text(s.server)}"), scroll_end=False)

    # --- the selected transfer / line
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a dialogue line: go to its packet."""
        self.dismiss(("goto", int((event.option.id or ":0").split(":")[1])))

    def current_transfer(self):
        table = self.query_one("#ftp-transfers", DataTable)
        if self.session is None or not self.session.transfers or table.cursor_row is None:
            self.notify("Select a transfer first (Transfers tab)", severity="warning", timeout=3)
            return None
        return self.session.transfers[min(table.cursor_row, len(self.session.transfers) - 1)]

    def _tab(self) -> str:
        return self.query_one("#ftp-tabs", TabbedContent).active

    def action_goto(self) -> None:
        tab = self._tab()
        if tab == "tab-dialogue":
            dialogue = self.query_one("#ftp-dialogue", OptionList)
            if dialogue.highlighted is not None:
                option = dialogue.get_option_at_index(dialogue.highlighted)
                self.dismiss(("goto", int((option.id or ":0").split(":")[1])))
        elif tab == "tab-transfers":
            t = self.current_transfer()
            if t is not None:
                self.dismiss(("goto", t.first_data_frame if t.first_data_frame >= 0 else t.command_frame))
        elif tab == "tab-credentials":
            creds = self.query_one("#ftp-credentials", DataTable)
            if creds.row_count:
                self.dismiss(("goto", int(str(creds.get_row_at(creds.cursor_row)[4])) - 1))
        elif self.session is not None:
            self.dismiss(("goto", self.session.start_frame))

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

    def action_view(self) -> None:
        t = self.current_transfer()
        if t is None:
            return
        if t.tcp_stream < 0:
            self.notify("This transfer's data connection is not in the capture", severity="warning")
            return
        from ..ftp.analysis import sender_side
        from ..streams.follow import follow_tcp
        sender, _ = sender_side(self.index, self.session, t, t.tcp_stream)
        parts, size = [], 0

        def take(chunk):
            nonlocal size
            if chunk.side == sender and not chunk.gap and size < CONTENT_LIMIT:
                parts.append(chunk.data[:CONTENT_LIMIT - size])
                size += len(parts[-1])
        follow_tcp(self.index, t.tcp_stream, emit=take)
        title = f"{t.command} {t.arg} — {t.bytes:,} bytes, sha256 {t.sha256}"
        self.app.push_screen(ContentScreen(safe(title), b"".join(parts), t.bytes > CONTENT_LIMIT))

    def action_copy_sha(self) -> None:
        t = self.current_transfer()
        if t is not None and t.sha256:
            routes = clipboard.copy(self.app, t.sha256)
            self.notify(f"sha256 copied ({', '.join(routes) or 'no clipboard'})", timeout=3)

    def action_fold(self) -> None:
        self.fold = not self.fold
        self.draw_diagram()

    def mermaid_text(self) -> str:
        s = self.session
        return mermaid(session_steps(self.index, s, self.fold), f"Client {endpoint_text(s.client)}",
                       f"FTP Server {endpoint_text(s.server)}")

    def action_copy_mermaid(self) -> None:
        if self.session is not None:
            routes = clipboard.copy(self.app, self.mermaid_text())
            self.notify(f"Mermaid diagram copied ({', '.join(routes) or 'no clipboard'})", timeout=3)

    def action_save_mermaid(self) -> None:
        self._ask("mermaid", "file to save the Mermaid diagram in", f"ftp-session-{self.session.id}.mmd")

    def action_extract(self) -> None:
        if self.current_transfer() is not None:
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
        try:
            if what == "mermaid":
                with open(target, "w", encoding="utf-8") as f:
                    f.write(self.mermaid_text())
                self.notify(f"Diagram written to {target}", timeout=4)
            else:
                t = self.current_transfer()
                number = self.session.transfers.index(t) + 1
                path = extract(self.index, self.session, t, target, number)
                self.notify(f"Written {path}", timeout=5)
        except (OSError, FtptuiError) as e:
            self.notify(f"Could not write: {e}", severity="error", timeout=6)
