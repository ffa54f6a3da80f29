"""The Textual application: welcome screen or browser, and one place for errors."""
from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from ..errors import FtptuiError
from .browser import BrowserScreen
from .recent import remember
from .welcome import WelcomeScreen


class FtptuiApp(App):
    CSS_PATH = "ftptui.tcss"
    TITLE = "ftptui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]

    def __init__(self, path: str | None = None, sample: str | None = None):
        super().__init__()
        self.path = path
        self.sample = sample

    def on_mount(self) -> None:
        if self.path:
            self.open_capture(self.path, exit_on_error=True)
        else:
            from ..cli import sample_path
            self.push_screen(WelcomeScreen(self.sample or sample_path()))

    def open_capture(self, path: str, exit_on_error: bool = False) -> None:
        try:
            screen = BrowserScreen(path)
        except FtptuiError as e:
            if exit_on_error:
                self.error_console.soft_wrap = True  # one line on stderr, not wrapped at the width
                self.exit(return_code=2, message=f"ftptui: {e}")
            else:
                self.notify(str(e), severity="error", timeout=8)
            return
        remember(path)
        self.push_screen(screen)

    def on_welcome_screen_open_file(self, message: WelcomeScreen.OpenFile) -> None:
        self.open_capture(message.path)
