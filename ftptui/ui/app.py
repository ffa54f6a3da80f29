"""The Textual application: welcome screen or browser, and one place for errors."""
from __future__ import annotations

import asyncio
import os

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.worker import WorkerFailed

from ..errors import FtptuiError
from ..text import safe
from . import messages
from .browser import BrowserScreen
from .confirm import ConfirmDialog
from .failures import Guarded, report
from .idle_gc import IdleCollector
from .plain import plain
from .recent import remember
from .welcome import WelcomeScreen


class FtptuiApp(Guarded, App):
    CSS_PATH = "ftptui.tcss"
    TITLE = "ftptui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit"),
                Binding("ctrl+l", "redraw", "Redraw", show=False, id="app.redraw")]

    def __init__(self, path: str | None = None, sample: str | None = None, source=None, cap=None,
                 scanner=None, display_filter: str | None = None):
        """`source`: a growing capture instead of a file (a LiveCapture, a StreamSpool or a
        FileSource; `cap` its capture file if it is open already).  `scanner`: a ScanProcess
        already scanning the file at `path` (its capture opened).  `display_filter`: applied
        to that first capture when it opens (-Y)."""
        super().__init__()
        self.display_filter = display_filter
        self.path = path
        self.scanner = scanner
        self.sample = sample
        self.source, self.source_cap = source, cap
        self.collector = IdleCollector()  # full garbage collections between keys, not on one
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # no sliding tab underlines: each frame of one is a repaint, bytes over SSH and time
            # taken from the next key
            self.animation_level = "none"

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.input_seen()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self.collector.stop()

    def get_driver_class(self):
        """Textual's own driver, but on Linux and macOS its input loop with Esc on time
        (terminal_driver); TEXTUAL_DRIVER still chooses another."""
        import sys

        from textual import constants

        if constants.DRIVER is None and sys.platform != "win32":
            from .terminal_driver import TerminalDriver
            return TerminalDriver
        return super().get_driver_class()

    def notify(self, message, *, title: str = "", severity="information", timeout=None, markup: bool = False) -> None:
        """Notifications quote captures, file names and filters: never markup, and nothing a
        terminal could act on (Screen.notify and Widget.notify come here too)."""
        super().notify(safe(str(message)), title=safe(str(title)), severity=severity, timeout=timeout,
                       markup=False)

    def _handle_exception(self, error: Exception) -> None:
        """A worker that raised: reported (failures.report), and the app goes on.  Anything else
        that reaches here escaped the Guarded handlers: logged, then Textual ends the app."""
        if isinstance(error, WorkerFailed):
            report(self, error.error)
            return
        report(self, error, quiet=True)
        super()._handle_exception(error)

    async def action_quit(self) -> None:
        """q / Ctrl+Q: quit, after asking when packets captured from a live interface or a pipe
        would be lost (nothing kept them: no -w, not saved)."""
        browser = next((s for s in reversed(self.screen_stack) if isinstance(s, BrowserScreen)), None)
        lost = browser.unsaved_packets() if browser is not None else 0
        if not lost or isinstance(self.screen, ConfirmDialog):
            self.exit()
            return

        def answer(choice) -> None:
            if choice == "quit":
                self.exit()
            elif choice == "save" and browser is not None:
                browser.action_save()
        self.push_screen(ConfirmDialog(f"Quit and lose the {lost:,} packets captured? Nothing has saved them "
                                       "(they were captured without -w FILE).",
                                       [("s", "save them first", "save"), ("y", "quit anyway", "quit"),
                                        ("q", "quit anyway", "quit")]), answer)

    def action_redraw(self) -> None:
        """Ctrl+L, as in every terminal program: draw the whole screen again."""
        self.screen.refresh(repaint=True, layout=True)
        self.refresh(repaint=True, layout=True)

    def on_mount(self) -> None:
        self.loop = asyncio.get_running_loop()  # for the hangup watcher (ui/hangup.py)
        self.collector.start()
        self.set_interval(0.5, self.collector.tick)
        if self.source is not None:
            self.open_source(self.source, self.source_cap, exit_on_error=True, display_filter=self.display_filter)
        elif self.path:
            self.open_capture(self.path, exit_on_error=True, scanner=self.scanner, display_filter=self.display_filter)
        else:
            from ..capture import sample_path
            self.push_screen(WelcomeScreen(self.sample or sample_path()))

    def open_capture(self, path: str, exit_on_error: bool = False, scanner=None,
                     display_filter: str | None = None) -> None:
        try:
            screen = BrowserScreen(path, scanner=scanner, display_filter=display_filter)
        except FtptuiError as e:
            if exit_on_error:
                self.error_console.soft_wrap = True  # one line on stderr, not wrapped at the width
                self.exit(return_code=2, message=plain(f"ftptui: {e}"))
            else:
                self.notify(str(e), severity="error", timeout=8)
            return
        remember(path)
        self.push_screen(screen)

    def open_source(self, source, cap=None, exit_on_error: bool = False, start: bool = False,
                    display_filter: str | None = None) -> bool:
        """Browse a growing capture (with `start`, start the LiveCapture first).  Errors (no
        privileges, ...) end the app with one line when `exit_on_error`, else are a notice and
        the source is closed."""
        try:
            if start and not source.running:
                source.start()
            screen = BrowserScreen(source, cap, display_filter=display_filter)
        except FtptuiError as e:
            if exit_on_error:
                self.error_console.soft_wrap = True
                self.exit(return_code=2, message=plain(f"ftptui: {e}"))
            else:
                self.notify(str(e), severity="error", timeout=10)
                close = getattr(source, "close", None)
                if close:
                    close()
            return False
        self.push_screen(screen)
        return True

    def on_welcome_screen_open_file(self, message: messages.OpenFile) -> None:
        self.open_capture(message.path)

    def on_welcome_screen_start_capture(self, message: messages.StartCapture) -> None:
        self.open_source(message.live, start=True)
