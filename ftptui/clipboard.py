"""Copying text to the clipboard, in one place.

Two routes, both tried:

* the terminal's clipboard through Textual's `App.copy_to_clipboard` (an OSC 52 escape
  sequence): works over SSH and inside tmux (with `set -g set-clipboard on`), needs no display,
  and is what a terminal user expects;
* the local desktop clipboard through pyperclip, when it is installed and finds a clipboard
  program.  On a headless box pyperclip raises (no xclip/xsel/wl-copy, no display): that is
  normal and ignored.
"""
from __future__ import annotations

from typing import Any


def _pyperclip_copy(text: str) -> bool:
    """Put `text` on the desktop clipboard; False when there is none (or no pyperclip)."""
    try:
        import pyperclip
    except ImportError:
        return False
    try:
        pyperclip.copy(text)
    except Exception:  # pyperclip.PyperclipException and whatever the helper program raised
        return False
    return True


def copy(app: Any, text: str) -> list[str]:  # app: the Textual app (its terminal clipboard)
    """Copy `text` through every route that works; returns their names ("terminal",
    "desktop"), for the notice shown to the user."""
    routes = []
    try:
        app.copy_to_clipboard(text)  # OSC 52; also sets app.clipboard
        routes.append("terminal")
    except Exception:
        pass
    if _pyperclip_copy(text):
        routes.append("desktop")
    return routes
