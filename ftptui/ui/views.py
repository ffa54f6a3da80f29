"""Opening a view (follow, conversations, FTP, a transfer's content, a diagram) over another.

A closed view is not removed at once: Textual lays the screen below out again after removing a
screen, a second full paint just after the one that showed it (Esc took 50-80 ms longer).  It
stays installed until the next view opens, whose own first layout then covers that one.
"""
from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from textual.app import App
from textual.screen import Screen

_OPENED: WeakKeyDictionary[App, list[Screen]] = WeakKeyDictionary()  # per app: views open or closed


def open_view(app: App, screen: Screen, callback: Any = None) -> None:
    """Push `screen` (callback: its dismiss result, as push_screen's), and remove the views
    closed since the last call."""
    views = _OPENED.setdefault(app, [])
    closed = [v for v in views if v not in app.screen_stack]
    views[:] = [v for v in views if v not in closed]
    app.install_screen(screen, f"view-{id(screen)}")
    views.append(screen)
    app.push_screen(screen, callback)
    for view in closed:
        app.uninstall_screen(view)
        view.remove()
