"""Display filter language: lexer, parser and literals, table-driven; the parser never raises
anything but FilterError (property test)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftptui.dfilter.compile import compile_filter, take_ranges
from ftptui.dfilter.errors import FilterError
from ftptui.dfilter.lexer import tokenize
from ftptui.dfilter.literals import Network, parse_bytes, parse_int, parse_mac
from ftptui.dfilter.parser import BitAnd, Compare, Exists, FieldRef, Literal, Logic, Member, Slice, parse


@pytest.mark.parametrize("text, expected", [
    ("tcp.port==21", [("word", "tcp.port"), ("op", "=="), ("word", "21")]),
    ("a eq b", [("word", "a"), ("op", "=="), ("word", "b")]),
    ("!(x)", [("op", "not"), ("op", "("), ("word", "x"), ("op", ")")]),
    ("x && y || z", [("word", "x"), ("op", "and"), ("word", "y"), ("op", "or"), ("word", "z")]),
    ("a + 1 - b * 2 / c % 3", [("word", "a"), ("op", "+"), ("word", "1"), ("op", "-"), ("word", "b"), ("op", "*"),
                               ("word", "2"), ("op", "/"), ("word", "c"), ("op", "%"), ("word", "3")]),
    ("{1..5}", [("op", "{"), ("word", "1"), ("op", ".."), ("word", "5"), ("op", "}")]),
    ("f[1-3]", [("word", "f"), ("op", "["), ("word", "1-3"), ("op", "]")]),
    ("ip.src == 10.0.0.0/8", [("word", "ip.src"), ("op", "=="), ("word", "10.0.0.0/8")]),
    ("ipv6.addr == ::1", [("word", "ipv6.addr"), ("op", "=="), ("word", "::1")]),
    ("x ~ \"a\"", [("word", "x"), ("op", "matches"), ("string", b"a")]),
    ("x !== y === z ~= w", [("word", "x"), ("op", "!=="), ("word", "y"), ("op", "==="), ("word", "z"),
                            ("op", "!=="), ("word", "w")]),
])
def test_tokens(text, expected):
    assert [(t.kind, t.value) for t in tokenize(text)[:-1]] == expected


@pytest.mark.parametrize("text, value", [
    (r'"a\"b"', b'a"b'), (r'"\x41\x4a"', b"AJ"), (r'"\101"', b"A"), (r'"tab\there"', b"tab\there"),
    (r'"back\\slash"', b"back\\slash"), ('"caf\u00e9"', "caf\u00e9".encode()), (r'r"\d+"', rb"\d+"),
])
def test_string_escapes(text, value):
    tok = tokenize(text)[0]
    assert tok.kind == "string" and tok.value == value


def test_char_constant():
    tok = tokenize(r"'\n'")[0]
    assert (tok.kind, tok.value) == ("char", 10)


@pytest.mark.parametrize("text, pos", [('"open', 0), ("tcp.port == 21 ^", 15), ("'ab'", 0), (r'"a\.b"', 2)])
def test_lexer_errors_point_at_the_problem(text, pos):
    with pytest.raises(FilterError) as e:
        tokenize(text)
    assert e.value.pos == pos


def test_precedence_not_and_or():
    ast = parse("not tcp or udp and ip")
    assert isinstance(ast, Logic) and ast.op == "or"
    assert ast.args[0].op == "not" and ast.args[1].op == "and"


def test_parenthesised_value_and_group():
    ast = parse("(tcp.flags & 0x12) == 0x12")
    assert isinstance(ast, Compare) and isinstance(ast.left, BitAnd)
    ast = parse("(tcp.port == 21 or udp) and ip")
    assert ast.op == "and" and ast.args[0].op == "or"


def test_shapes():
    assert isinstance(parse("tcp"), Exists)
    m = parse("tcp.port in {21, 80, 40000..41023}")
    assert isinstance(m, Member) and len(m.items) == 3 and isinstance(m.items[2], tuple)
    assert parse("tcp.port not in {21}").negated
    s = parse("eth.src[0:3] == 00:0c:29")
    assert isinstance(s.left, Slice) and s.left.ranges == [(0, 3)]
    assert parse("frame[1-3,5,:2,4:,-1]").operand.ranges == [(1, 3), (5, 1), (0, 2), (4, None), (-1, 1)]
    c = parse('ftp.request.command == "USER"')
    assert isinstance(c.left, FieldRef) and isinstance(c.right, Literal) and c.right.value == b"USER"


@pytest.mark.parametrize("text, pos, fragment", [
    ("tcp.prot == 21", 0, "neither a field nor a protocol name. Did you mean tcp.port"),
    ("TCP", 0, "Did you mean tcp?"),
    ("21 == tcp.port", 0, "Left side of"),
    ("tcp.prot", 0, "neither a field nor a protocol"),
    ("ip.src == 300.1.1.1", 10, "not a valid hostname or IPv4 address"),
    ("tcp.port == 70000", 12, "too big for this field, maximum 65535"),
    ("tcp.port in {21 80}", 16, "unexpected"),
    ("tcp xor udp", 4, "unexpected"),
    ("tcp.flags.syn & 1", 0, "FT_BOOLEAN"),
    ("tcp.srcport[0:1] == 00", 0, "cannot be sliced"),
    ('ip.src == "10.10.15.211"', 10, "cannot be converted from a string"),
    ("tcp.port == abc", 12, "not a valid number"),
    ("tcp.port ==", 11, "Unexpected end"),
    ("tcp.port == 21 and", 18, "Unexpected end"),
    ("(tcp", 4, "Unexpected end"),
    ("tcp.port 21", 9, "unexpected"),
    ("port 21", 0, "neither a field nor a protocol"),
    ("tcp.port in {}", 13, "unexpected"),
    ("ip.src contains 1", 0, "contains"),
    ("frame matches \"(\"", 14, "Regex compilation error"),
    ("frame matches 55:53", 14, "double quoted string"),
    ("foo(tcp)", 0, "function"),
    ("", 0, "Empty"),
])
def test_errors(text, pos, fragment):
    with pytest.raises(FilterError) as e:
        compile_filter(text)
    assert fragment.lower() in e.value.message.lower()
    assert e.value.pos == pos, e.value.message


def test_error_caret():
    with pytest.raises(FilterError) as e:
        compile_filter("tcp.port == 21 and ip.src == 1.2.3")
    assert e.value.caret("tcp.port == 21 and ip.src == 1.2.3").splitlines()[1] == " " * 29 + "^" * 5


@pytest.mark.parametrize("text, value", [("21", 21), ("0x15", 21), ("025", 21), ("-3", -3), ("0", 0)])
def test_integers(text, value):
    assert parse_int(text) == value


def test_addresses_and_bytes():
    assert parse_mac("00:0c:29:aa:bb:cc") == parse_mac("00-0c-29-aa-bb-cc") == parse_mac("000c.29aa.bbcc")
    assert parse_bytes("aa:bb:cc") == b"\xaa\xbb\xcc" and parse_bytes("45") == b"\x45"
    net = Network(0x0A000000, 32, 8)
    assert net.contains(0x0A0A0A0A) and not net.contains(0x0B000000)


def test_slices():
    assert take_ranges(b"abcdef", [(1, 2)]) == b"bc"
    assert take_ranges(b"abcdef", [(-1, 1)]) == b"f"
    assert take_ranges(b"abcdef", [(4, None)]) == b"ef"
    assert take_ranges(b"abcdef", [(0, 1), (5, 1)]) == b"af"
    assert take_ranges(b"abc", [(2, 5)]) is None


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("tcp.ort=!<>&|(){}[]\"'\\ 0123456789x:-/,~aeinqsu")), max_size=40))
def test_parser_raises_only_filter_errors(text):
    try:
        compile_filter(text)
    except FilterError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_parser_raises_only_filter_errors_on_any_text(text):
    try:
        compile_filter(text)
    except FilterError:
        pass
