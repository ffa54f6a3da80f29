"""Regular expressions for `matches` / `~`, compiled with RE2: matching time is linear in the
packet's size whatever the pattern, so no capture can make a filter hang ("(a+)+$" against a
long run of "a" is as fast as "a").  Wireshark uses PCRE2; what RE2 cannot do in linear time
(backreferences, lookaround) is refused with RE2's message at the pattern's position.

Wireshark's defaults are kept: case-insensitive and "." matching newlines, switched off by a
leading "(?-i)" / "(?-s)", which RE2 understands as PCRE does.
"""
from __future__ import annotations

import re
from typing import Any

import re2

# PCRE2's limit on a {n,m} count; larger ones are refused as tshark refuses them
PCRE_MAX_REPEAT = 65535
REPEAT = re.compile(rb"(?<!\\)\{(\d+)(?:,(\d*))?\}")
# RE2 compiles a pattern into at most this much memory (the default, 8 MB, allows about a
# million states); a larger pattern is an error, not a slow filter
MAX_MEM = 64 << 20


class RegexError(ValueError):
    pass


class Searcher:
    """An re2 pattern's `search` as a yes/no on bytes.  re2's own `search` wraps each call in
    Python generator and match objects, several times the cost of the match on a packet-sized
    subject; the RE2 object under it answers directly (the same call, without the wrapping)."""

    def __init__(self, rx: Any):
        self.rx = rx
        regexp = getattr(rx, "_regexp", None)
        self._match = getattr(regexp, "Match", None)
        self._unanchored = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)

    def search(self, text: bytes) -> bool:
        if self._match is None or self._unanchored is None:  # another re2 release: its public call
            return self.rx.search(text) is not None
        return bool(self._match(self._unanchored, text, 0, len(text))[0][0] >= 0)


def compile_regex(pattern: bytes, binary: bool) -> Searcher:
    """A compiled pattern whose `search(bytes)` tells whether it matches.  `binary`: the
    subject is raw bytes (frame, data.data, ...), matched byte for byte; otherwise UTF-8 text
    (string fields, encoded with surrogateescape so undecodable bytes stay bytes)."""
    for m in REPEAT.finditer(pattern):
        if any(g and int(g) > PCRE_MAX_REPEAT for g in m.groups()):
            raise RegexError("number too big in {} quantifier")
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own message on stderr (over the TUI)
    options.case_sensitive = False
    options.dot_nl = True
    options.max_mem = MAX_MEM
    options.encoding = re2.Options.Encoding.LATIN1 if binary else re2.Options.Encoding.UTF8
    try:
        return Searcher(re2.compile(pattern, options))
    except re2.error as e:
        message = e.args[0] if e.args else str(e)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RegexError(str(message)) from None

