"""The input loop's wait (ui/terminal_driver): a lone Esc is a key once ESCDELAY has passed,
so the loop must wake up then, not at its next 0.1 s poll."""
from __future__ import annotations

import time

from textual import constants
from textual._xterm_parser import XTermParser

from ftptui.ui.terminal_driver import POLL, TerminalDriver


def test_waits_only_until_a_lone_escape_is_due():
    parser = XTermParser()
    assert TerminalDriver._wait(parser) == POLL  # nothing pending: the ordinary poll
    assert list(parser.feed("\x1b")) == []  # Esc alone: could be the start of a sequence
    wait = TerminalDriver._wait(parser)
    assert 0 < wait <= min(constants.ESCAPE_DELAY, POLL)
    time.sleep(wait + 0.005)
    assert [e.key for e in parser.tick()] == ["escape"]
    assert TerminalDriver._wait(parser) == POLL


def test_a_sequence_is_not_taken_for_escape():
    parser = XTermParser()
    keys = [e.key for e in parser.feed("\x1b[A")]  # the up arrow, in one read
    assert keys == ["up"]
    assert TerminalDriver._wait(parser) == POLL
