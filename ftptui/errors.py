"""Errors shown to the user as one line (never a traceback)."""


class FtptuiError(Exception):
    """Base class: str(error) is the whole message the user sees."""


class CaptureError(FtptuiError):
    """A file that cannot be read as a capture."""
