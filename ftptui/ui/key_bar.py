"""The bottom line of every screen: the keys that work where the focus is.

Textual's Footer rebuilds one widget per key each time the focus moves (about 140 ms of the UI
thread per Tab in the browser); this draws the same hints as one line of text.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text; }
    KeyBar > .key-bar--key { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES = {"key-bar--key"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.text = Text()
        self._strip: tuple[int, Strip] | None = None  # (width, the line): drawn once per change

    def update(self, text: Text) -> None:
        self.text, self._strip = text, None
        self.refresh()  # one line: its size never changes

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._strip is None or self._strip[0] != width:
            # the bar's colours under the text's own (the keys' colour and boldness)
            segments = Segment.apply_style(self.text.render(self.app.console), style=self.rich_style)
            self._strip = (width, Strip(list(segments)).extend_cell_length(width, self.rich_style).crop(0, width))
        return self._strip[1] if y == 0 else Strip([Segment(" " * width, self.rich_style)])

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.call_after_refresh(self.bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen) -> None:
        if self.is_attached and screen is self.screen:
            self.update(self.hints())

    def hints(self) -> Text:
        """One "key Description" per action shown (its first key), enabled ones only."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.description in seen:
                continue
            seen.add(binding.description)  # the same action on two keys: shown once
            text.append(f" {self.app.get_key_display(binding)} ", key_style)
            text.append(f"{binding.description} ")
        return text
