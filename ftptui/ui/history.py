"""Display filters the user applied, most recent first, kept in the user's state directory."""
from __future__ import annotations

import json
from pathlib import Path

from .state import state_file

MAX_FILTERS = 100


def _state_file() -> Path:
    return state_file("filters.json")


def load_filters() -> list[str]:
    try:
        items = json.loads(_state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(items, list):
        return []
    return [t for t in items if isinstance(t, str) and t.strip()][:MAX_FILTERS]


def remember_filter(text: str) -> list[str]:
    """Put `text` first in the history (once) and save it; returns the new history."""
    text = text.strip()
    items = load_filters()
    if not text:
        return items
    items = ([text] + [t for t in items if t != text])[:MAX_FILTERS]
    try:
        f = _state_file()
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        tmp.replace(f)
    except OSError:
        pass  # a read-only home must not stop the browser
    return items
