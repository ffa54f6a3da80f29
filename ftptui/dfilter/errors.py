"""The one error a display filter can raise: a message and where in the filter it points."""
from __future__ import annotations

from ..errors import FtptuiError


class FilterError(FtptuiError):
    def __init__(self, message: str, pos: int = 0, end: int | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.end = pos + 1 if end is None else end

    def describe(self, text: str) -> str:
        """One line for the command line: the message and the column it points at."""
        return f"{self.message} (at column {self.pos + 1} of {text!r})"

    def caret(self, text: str) -> str:
        """The filter text with a line of carets under the offending part."""
        width = max(1, self.end - self.pos)
        return f"{text}\n{' ' * self.pos}{'^' * width}"
