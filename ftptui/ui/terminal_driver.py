"""Textual's terminal driver for Linux and macOS, with a lone Esc delivered when it is due.

A terminal sends Esc both as a key and as the start of escape sequences (arrows, function keys),
so a lone Esc byte is a key only once ESCDELAY has passed with nothing after it.  Textual's input
thread checks that deadline only when its select() returns, and with no more input that is
after its 0.1 s poll: every Esc (closing any view) took 100 ms or more whatever ESCDELAY said.
This input loop waits only until the parser's deadline.
"""
from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

POLL = 0.1  # seconds between checks of the exit flag when nothing happens (Textual's too)


class TerminalDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                ready = selector.select(self._wait(parser))
                if ready and not self._feed(parser, decode(os.read(self.fileno, 4096))):
                    break  # end of input (a pipe, not a terminal)
                for event in parser.tick():  # a lone Esc whose deadline has passed
                    self.process_message(event)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def _feed(self, parser: XTermParser, text: str) -> bool:
        for event in parser.feed(text):
            self.process_message(event)
        return bool(text)

    @staticmethod
    def _wait(parser: XTermParser) -> float:
        """Seconds to wait for input: until the parser's escape deadline, if it has one."""
        deadline = parser._timeout_time  # (private: Textual has no public way to ask)
        if deadline is None:
            return POLL
        return min(POLL, max(0.0, deadline - get_time()))
