"""Text that came from a capture, a file name or the user, on its way to a widget.

Textual reads a plain `str` given to most widgets (Static, Label, Tree nodes, DataTable cells,
Option prompts, border titles, notifications) as content markup: "[@click=app.quit]" in an FTP
banner would become a clickable action, "[link=...]" a terminal hyperlink, and "[/]" an error
that blanks the screen.  Every such string goes through `plain()`, which makes a Rich `Text`
(never parsed as markup) with the characters a terminal could act on shown as dots.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..text import safe


def plain(text: object, style: str | Style = "") -> Text:
    return Text(safe(str(text)), style=style, no_wrap=False, end="")

