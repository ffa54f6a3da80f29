"""Parse a display filter into an AST whose nodes remember where they are in the text.

Grammar (Wireshark 4.0; `not` binds tightest, then `and`, then `or`; 4.0 has no `xor`):

    expr     := and_expr (("or" | "||") and_expr)*
    and_expr := not_expr (("and" | "&&") not_expr)*
    not_expr := ("not" | "!") not_expr | "(" expr ")" | test
    test     := ["any" | "all"] value [cmp value | cmp set | "in" set | "not" "in" set]
    value    := arith ("&" arith)*
    arith    := term (("+" | "-") term)*          term := unary (("*" | "/" | "%") unary)*
    unary    := "-" unary | operand
    operand  := field ["#" layer] [slice] | "${" field "}" | function "(" args ")" [slice]
              | literal | "(" value ")" | "{" value "}"
    set      := "{" item ("," item)* "}"          item := literal [".." literal]
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .errors import FilterError
from .fields import canonical, lookup
from .lexer import Token, tokenize

COMPARISONS = {"==", "!=", "===", "!==", ">", ">=", "<", "<=", "contains", "matches"}
FUNCTIONS = {"len", "count", "lower", "upper", "string", "max", "min", "abs"}


@dataclass
class Node:
    pos: int
    end: int


@dataclass
class FieldRef(Node):
    name: str
    layer: int | None = None   # field#n: only occurrences in the n-th layer of its protocol
    reference: bool = False    # ${field}: the field of the selected packet (none in a filter run)


@dataclass
class Literal(Node):
    kind: str      # "word" (unquoted), "string" (value: bytes), "char" (value: int)
    value: Any
    text: str = ""


@dataclass
class Slice(Node):
    operand: Node
    ranges: list[tuple[int, int | None]] = field(default_factory=list)  # (start, length|None) pairs, start may be negative


@dataclass
class Call(Node):
    name: str
    args: list[Node] = field(default_factory=list)


@dataclass
class BitAnd(Node):
    left: Node
    right: Node


@dataclass
class Arith(Node):
    op: str            # "+", "-", "*", "/", "%", or "neg" (unary minus: right is None)
    left: Node
    right: Node | None = None


@dataclass
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass
class Member(Node):
    operand: Node
    items: list[Node | tuple[Node, Node]]  # Literal or (Literal, Literal) for ranges
    negated: bool = False


@dataclass
class Exists(Node):
    operand: Node


@dataclass
class Logic(Node):
    op: str            # "and", "or", "not"
    args: list[Node] = field(default_factory=list)


# How deeply parentheses, "not", unary minus and function calls may nest, and how deep the
# syntax tree may grow (a chain "a + b + c ..." is a tree as deep as it is long).  Far beyond any
# filter a person writes; it keeps a crafted filter from exhausting Python's stack.
MAX_NESTING = 64
MAX_DEPTH = 200


class TooDeep(FilterError):
    """A filter nested beyond MAX_NESTING or MAX_DEPTH."""


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0

    @contextmanager
    def nested(self, tok: Token) -> Iterator[None]:
        """Around a part of the grammar that nests (it recurses in Python)."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise TooDeep(f"The filter nests too deeply (more than {MAX_NESTING} levels of parentheses, "
                          "not, minus or function calls).", tok.pos, tok.end)
        try:
            yield
        finally:
            self.nesting -= 1

    # --- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def expect_op(self, op: str, what: str) -> Token:
        if not self.at_op(op):
            self.unexpected(what)
        return self.take()

    def unexpected(self, what: str = "") -> NoReturn:
        t = self.tok
        if t.kind == "eof":
            raise FilterError("Unexpected end of filter expression." + (f" Expected {what}." if what else ""),
                              t.pos, t.pos + 1)
        raise FilterError(f'"{t.text}" was unexpected in this context.', t.pos, t.end)

    # --- grammar
    def parse(self) -> Node:
        if self.tok.kind == "eof":
            raise FilterError("Empty filter.", 0, 0)
        node = self.expr()
        if self.tok.kind != "eof":
            self.unexpected()
        return node

    def expr(self) -> Node:
        """`a or b or c` is one node with three arguments (evaluated left to right)."""
        args = [self.and_expr()]
        while self.at_op("or"):
            self.take()
            args.append(self.and_expr())
        return args[0] if len(args) == 1 else Logic(args[0].pos, args[-1].end, "or", args)

    def and_expr(self) -> Node:
        args = [self.not_expr()]
        while self.at_op("and"):
            self.take()
            args.append(self.not_expr())
        return args[0] if len(args) == 1 else Logic(args[0].pos, args[-1].end, "and", args)

    def not_expr(self) -> Node:
        if self.at_op("not"):
            tok = self.take()
            with self.nested(tok):
                inner = self.not_expr()
            return Logic(tok.pos, inner.end, "not", [inner])
        return self.test()

    def test(self) -> Node:
        if self.at_op("("):
            # "(" opens either a logical group or a parenthesised value: try the group first
            save = self.i
            start = self.tok.pos
            with self.nested(self.take()):
                try:
                    inner = self.expr()
                except TooDeep:
                    raise
                except FilterError:
                    inner = None
            if inner is not None and self.at_op(")"):
                end = self.take().end
                if not (self.at_op(*COMPARISONS, "&", "in", "+", "-", "*", "/", "%") or self._at_not_in()):
                    inner.pos, inner.end = start, end
                    return inner
            self.i = save
        quantifier: str | None = None
        if self.tok.kind == "word" and self.tok.value in ("any", "all") and self.tokens[self.i + 1].kind == "word":
            quantifier = self.take().value
        left = self.value()
        if self.at_op(*COMPARISONS):
            op_tok = self.take()
            op: str = QUANTIFIED.get((quantifier, op_tok.value), op_tok.value)
            if isinstance(left, Literal):
                if FIELD_LIKE.match(left.text):
                    raise unknown_field(left)
                raise FilterError(f'Left side of "{op_tok.text}" expression must be a field or function, '
                                  f'not {left.text}.', left.pos, left.end)
            if self.at_op("{") and op in ("==", "!="):
                start = self.tok.pos
                items, end = self.set_items()
                member = Member(left.pos, end, left, items, op == "!=")
                self._only_field_in_set(left)
                return member
            right = self.value()
            return Compare(left.pos, right.end, op, left, right)
        if self.at_op("in") or self._at_not_in():
            negated = self.at_op("not")
            self.take()
            if negated:
                self.take()
            self._only_field_in_set(left)
            items, end = self.set_items()
            return Member(left.pos, end, left, items, negated)
        if isinstance(left, Literal):
            if left.text in BPF_WORDS:
                raise FilterError(f'"{left.text}" is neither a field nor a protocol name.{BPF_HINT}',
                                  left.pos, left.end)
            raise unknown_field(left)
        if self.tok.kind not in ("eof",) and not self.at_op("and", "or", ")"):
            if self.tok.kind == "word" and self.tok.value in BPF_WORDS:
                raise FilterError(f'"{self.tok.text}" was unexpected in this context.{BPF_HINT}',
                                  self.tok.pos, self.tok.end)
            self.unexpected()
        return Exists(left.pos, left.end, left)

    def _only_field_in_set(self, left: Node) -> None:
        if not isinstance(left, FieldRef):
            raise FilterError("Only a field may be tested for membership in a set.", left.pos, left.end)

    def _at_not_in(self) -> bool:
        nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        return self.at_op("not") and nxt is not None and nxt.kind == "op" and nxt.value == "in"

    def set_items(self) -> tuple[list[Node | tuple[Node, Node]], int]:
        """`{a, b, lo..hi}`: Wireshark 4.0 wants commas between the items."""
        self.expect_op("{", '"{" to start a set')
        items: list[Node | tuple[Node, Node]] = []
        while True:
            lo = self.literal_in_set()
            if self.at_op(".."):
                self.take()
                items.append((lo, self.literal_in_set()))
            else:
                items.append(lo)
            if self.at_op("}"):
                return items, self.take().end
            if not self.at_op(","):
                self.unexpected('"," or "}"')
            self.take()

    def literal_in_set(self) -> Node:
        t = self.tok
        if t.kind in ("word", "string", "char"):
            self.take()
            return Literal(t.pos, t.end, t.kind, t.value, t.text)
        if t.kind == "op" and t.value == "-" and self.tokens[self.i + 1].kind == "word":
            self.take()
            w = self.take()
            return Literal(t.pos, w.end, "word", "-" + w.value, "-" + w.text)
        self.unexpected("a value in the set")

    def value(self) -> Node:
        left = self.arith()
        while self.at_op("&"):
            self.take()
            right = self.arith()
            left = BitAnd(left.pos, right.end, left, right)
        return left

    def arith(self) -> Node:
        left = self.term()
        while self.at_op("+", "-"):
            op = self.take().value
            right = self.term()
            left = Arith(left.pos, right.end, op, left, right)
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.take().value
            right = self.unary()
            left = Arith(left.pos, right.end, op, left, right)
        return left

    def unary(self) -> Node:
        if self.at_op("-"):
            tok = self.take()
            start = tok.pos
            with self.nested(tok):
                inner = self.unary()
            if isinstance(inner, Literal) and inner.kind == "word":
                return Literal(start, inner.end, "word", "-" + inner.value, "-" + inner.text)
            return Arith(start, inner.end, "neg", inner)
        return self.operand()

    def operand(self) -> Node:
        t = self.tok
        if self.at_op("("):
            start = t.pos
            with self.nested(self.take()):
                inner = self.value()
            end = self.expect_op(")", '")"').end
            inner.pos, inner.end = start, end
            return inner
        if self.at_op("{"):
            start = t.pos
            with self.nested(self.take()):
                inner = self.value()
            end = self.expect_op("}", '"}"').end
            inner.pos, inner.end = start, end
            return inner
        if self.at_op("$"):
            start = self.take().pos
            self.expect_op("{", '"{" after "$"')
            name = self.tok
            if name.kind != "word" or lookup(name.value) is None:
                self.unexpected("a field name")
            self.take()
            end = self.expect_op("}", '"}"').end
            return FieldRef(start, end, name.value, reference=True)
        if t.kind in ("string", "char"):
            self.take()
            return Literal(t.pos, t.end, t.kind, t.value, t.text)
        if t.kind == "op" and t.value in WORD_OPERATOR_NAMES and t.text.isalpha():
            self.unexpected()
        if t.kind != "word":
            self.unexpected("a field or a value")
        self.take()
        nxt = self.tok
        if nxt.kind == "op" and nxt.value == "(" and nxt.pos == t.end:
            return self.call(t)
        node: Node
        if lookup(t.value) is not None:
            node = FieldRef(t.pos, t.end, canonical(t.value))
            if self.at_op("#") and self.tokens[self.i + 1].kind == "word":
                self.take()
                n = self.take()
                if not n.value.isdigit():
                    raise FilterError(f'"{n.text}" is not a valid layer number.', n.pos, n.end)
                node = FieldRef(t.pos, n.end, t.value, layer=int(n.value))
        elif t.value.startswith("-") and lookup(t.value[1:]) is not None:  # "-tcp.len"
            return Arith(t.pos, t.end, "neg", FieldRef(t.pos + 1, t.end, t.value[1:]))
        else:
            node = Literal(t.pos, t.end, "word", t.value, t.text)
        if self.at_op("["):
            if isinstance(node, Literal):
                raise FilterError(f'"{t.text}" is neither a field nor a protocol name.', t.pos, t.end)
            node = self.slice(node)
        return node

    def call(self, name_tok: Token) -> Node:
        name = name_tok.value
        if name not in FUNCTIONS:
            raise FilterError(f'The function "{name}" does not exist.', name_tok.pos, name_tok.end)
        args: list[Node] = []
        with self.nested(self.take()):  # "("
            while not self.at_op(")"):
                if args:
                    self.expect_op(",", '"," or ")"')
                args.append(self.value())
        end = self.take().end
        node: Node = Call(name_tok.pos, end, name, args)
        if self.at_op("["):
            node = self.slice(node)
        return node

    def slice(self, operand: Node) -> Node:
        self.take()  # "["
        ranges = []
        while True:
            start_tok = self.tok
            text, end_pos = self._slice_text()
            ranges.append(_parse_range(text, start_tok.pos, end_pos))
            if self.at_op(","):
                self.take()
                continue
            break
        if self.tok.kind == "eof":
            raise FilterError("The right bracket was missing from a slice.", self.tok.pos, self.tok.pos + 1)
        end = self.expect_op("]", '"]"').end
        return Slice(operand.pos, end, operand, ranges)

    def _slice_text(self) -> tuple[str, int]:
        """Gather the raw text of one range up to "," or "]"."""
        start = self.tok.pos
        while self.tok.kind != "eof" and not self.at_op(",", "]"):
            self.take()
        end = self.tok.pos
        return self.text[start:end].strip(), end


# Words of libpcap's capture-filter language: typed here, they probably belong in the capture filter.
BPF_WORDS = {"host", "net", "port", "portrange", "src", "dst", "ether", "proto", "gateway", "less", "greater",
             "broadcast", "multicast", "vlan"}
BPF_HINT = (" This looks like a capture filter (BPF); display filters use field names, "
            "e.g. tcp.port == 21 or ip.addr == 10.0.0.1.")
WORD_OPERATOR_NAMES = {"==", "!=", "===", "!==", ">", ">=", "<", "<=", "contains", "matches", "&", "and", "or",
                       "not", "in"}
# "any"/"all" before a comparison pick Wireshark's quantified operators
QUANTIFIED: dict[tuple[str | None, str], str] = {("any", "=="): "==", ("all", "=="): "===", ("any", "!="): "!==", ("all", "!="): "!="}
RANGE_RE = re.compile(r"^(-?\d+)?(?:(:)(\d+)?|-(-?\d+))?$")


def _parse_range(text: str, pos: int, end: int) -> tuple[int, int | None]:
    """One slice range as (start, length or None for "to the end"): Wireshark's forms i:len,
    i-j (inclusive), i, :len, i: ."""
    m = RANGE_RE.match(text.replace(" ", ""))
    if not text or not m:
        raise FilterError(f'"{text}" is not a valid range.', pos, max(end, pos + 1))
    start = int(m.group(1)) if m.group(1) else 0
    if m.group(2):
        length = int(m.group(3)) if m.group(3) else None
    elif m.group(4) is not None:
        last = int(m.group(4))
        length = last - start + 1
        if length <= 0:
            raise FilterError(f'"{text}" is not a valid range.', pos, end)
    else:
        length = 1
    return start, length


FIELD_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")


def unknown_field(lit: Literal) -> FilterError:
    """'"x" is neither a field nor a protocol name', with the closest names Wireshark knows."""
    import difflib

    from .fields import registry
    names = registry()
    close = ([lit.text.lower()] if lit.text.lower() in names else
             difflib.get_close_matches(lit.text, names.keys(), n=2, cutoff=0.8))
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return FilterError(f'"{lit.text}" is neither a field nor a protocol name.{hint}', lit.pos, lit.end)


def parse(text: str) -> Node:
    node = Parser(text).parse()
    check_depth(node)
    return node


def check_depth(root: Node) -> None:
    """Refuse a syntax tree deeper than MAX_DEPTH (walked without recursion)."""
    todo = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(f"The filter is too deeply nested (more than {MAX_DEPTH} levels).", node.pos, node.end)
        for child in vars(node).values():
            for c in (child if isinstance(child, (list, tuple)) else (child,)):
                if isinstance(c, Node):
                    todo.append((c, depth + 1))
