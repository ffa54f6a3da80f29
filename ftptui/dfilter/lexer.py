"""Tokens of Wireshark's display filter language, each with its position in the filter text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import FilterError

# Words that are operators.  Symbols and words mean the same (Wireshark accepts both).
WORD_OPS = {
    "eq": "==", "any_eq": "==", "ne": "!=", "all_ne": "!=", "all_eq": "===", "any_ne": "!==",
    "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "contains": "contains", "matches": "matches",
    "bitwise_and": "&", "and": "and", "or": "or", "not": "not", "in": "in",
}
SYMBOLS = [  # longest first
    ("===", "==="), ("!==", "!=="), ("==", "=="), ("!=", "!="), (">=", ">="), ("<=", "<="), ("&&", "and"),
    ("||", "or"), ("~=", "!=="), (">", ">"), ("<", "<"), ("~", "matches"), ("&", "&"),
    ("!", "not"), ("(", "("), (")", ")"), ("[", "["), ("]", "]"), ("{", "{"), ("}", "}"), (",", ","),
    ("..", ".."), ("+", "+"), ("*", "*"), ("%", "%"), ("#", "#"), ("$", "$"),
]
# Words that are arithmetic operators when they stand alone ("frame.len - 52", "tcp.len / 2").
ARITH_WORDS = {"-": "-", "/": "/"}
# An unquoted word: field names, numbers, addresses, byte strings, slice ranges ("1-3", "2:").
# A dot only continues a word when the next character is not a dot, so "1..5" is 1 .. 5.
WORD_RE = re.compile(r"(?:[A-Za-z0-9_:/\-]|\.(?!\.))+")
# The escapes Wireshark 4.0 accepts in strings (any other is an error there too).
STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
                  '"': '"', "'": "'", "0": "\0", "?": "?"}


@dataclass
class Token:
    kind: str      # "op" (text in .value), "word", "string", "char", "eof"
    value: Any  # operator name, word text, string value (bytes for strings, int for chars)
    pos: int       # offset of the first character in the filter text
    end: int       # offset just past the token
    text: str = ""

    def __repr__(self) -> str:
        return f"{self.kind}:{self.value!r}@{self.pos}"


def tokenize(text: str) -> list[Token]:
    tokens = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"' or (c in "rR" and text[i + 1:i + 2] == '"'):
            raw = c != '"'
            value, end = _string(text, i + raw, raw)
            tokens.append(Token("string", value, i, end, text[i:end]))
            i = end
            continue
        if c == "'":
            char, end = _char(text, i)
            tokens.append(Token("char", char, i, end, text[i:end]))
            i = end
            continue
        m = WORD_RE.match(text, i)
        if m:
            word = m.group()
            op = WORD_OPS.get(word) or ARITH_WORDS.get(word)
            tokens.append(Token("op" if op else "word", op or word, i, m.end(), word))
            i = m.end()
            continue
        for sym, op in SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(Token("op", op, i, i + len(sym), sym))
                i += len(sym)
                break
        else:
            raise FilterError(f'"{c}" was unexpected in this context.', i, i + 1)
    tokens.append(Token("eof", None, n, n))
    return tokens


def _string(text: str, start: int, raw: bool) -> tuple[bytes, int]:
    """Parse a double-quoted string at text[start]; return its bytes (UTF-8) and the end."""
    out = bytearray()
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return bytes(out), i + 1
        if c == "\\" and not raw:
            esc, i = _escape(text, i)
            out += esc
            continue
        if c == "\\" and raw and text[i + 1:i + 2] == '"':
            out += b'\\"'
            i += 2
            continue
        out += c.encode("utf-8", "surrogateescape")  # bytes that were not UTF-8 stay bytes
        i += 1
    raise FilterError("The final quote was missing from a quoted string.", start, len(text))


def _escape(text: str, i: int) -> tuple[bytes, int]:
    """One backslash escape at text[i] (the backslash): \\n \\t \\xhh \\ooo \\" ..."""
    nxt = text[i + 1:i + 2]
    if nxt == "x":
        m = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2:])
        if not m:
            raise FilterError("\\x escape without hex digits.", i, i + 2)
        return bytes([int(m.group(), 16)]), i + 2 + m.end()
    m = re.match(r"[0-7]{1,3}", text[i + 1:])
    if m and not (nxt == "0" and len(m.group()) == 1):
        return bytes([int(m.group(), 8) & 0xFF]), i + 1 + m.end()
    if nxt in STRING_ESCAPES:
        return STRING_ESCAPES[nxt].encode(), i + 2
    if not nxt:
        raise FilterError("The final quote was missing from a quoted string.", i, i + 1)
    raise FilterError(f"\\{nxt} is not a valid character escape sequence (write \\\\ for a backslash).", i, i + 2)


def _char(text: str, start: int) -> tuple[int, int]:
    i = start + 1
    if text[i:i + 1] == "\\":
        value, i = _escape(text, i)
    else:
        value, i = text[i:i + 1].encode("utf-8", "surrogateescape"), i + 1
    if len(value) != 1 or text[i:i + 1] != "'":
        end = text.find("'", i)
        raise FilterError(f"{text[start:end + 1 if end >= 0 else len(text)]} is not a valid character constant "
                          "(one character in single quotes).", start, end + 1 if end >= 0 else len(text))
    return value[0], i + 1
