"""Recently opened captures, kept in the user's state directory."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .state import state_file

MAX_RECENT = 10


def _state_file() -> Path:
    return state_file("recent.json")


def load_recent() -> list[str]:
    try:
        items = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return []
    return [p for p in items if isinstance(p, str)][:MAX_RECENT]


def remember(path: str) -> None:
    path = os.path.abspath(path)
    items = [path] + [p for p in load_recent() if p != path]
    try:
        f = _state_file()
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(items[:MAX_RECENT]))
    except OSError:
        pass  # a read-only home must not stop the browser
