"""Errors shown to the user as one line (never a traceback), and the one way they are printed."""
from __future__ import annotations

import sys


class FtptuiError(Exception):
    """Base class: str(error) is the whole message the user sees."""


class CaptureError(FtptuiError):
    """A file that cannot be read as a capture."""


def print_error(message: str, prefix: str = "ftptui: ") -> None:
    """One line on stderr.  Messages name files and quote captures, so anything a terminal
    could act on (escape sequences, bidi controls, newlines) is shown as a dot."""
    from .text import safe
    print(prefix + safe(str(message)), file=sys.stderr, flush=True)
