"""The user's state directory ($XDG_STATE_HOME/ftptui): filter history, recent files, error log."""
from __future__ import annotations

import os
from pathlib import Path


def state_file(name: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "ftptui" / name
