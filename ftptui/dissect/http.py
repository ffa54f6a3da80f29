"""HTTP/1.x messages as tshark 4.0's tree shows them: the request or status line split into its
parts, one item per header line (tshark's named headers get their field, the others are only
http.request.line / http.response.line), and a text body as data-text-lines.

Only what the segment holds is shown: tshark would first reassemble a message that spans
segments, which ftptui does not do.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable

from ..text import first_line, format_text
from .context import Context
from .media import line_spans, text_lines
from .tree import Dissection, Field

# header name (lower case) -> tshark's field, for the headers packet-http.c knows by name
HEADERS = {name: "http." + field for name, field in (
    ("host", "host"), ("user-agent", "user_agent"), ("accept", "accept"), ("accept-language", "accept_language"),
    ("accept-encoding", "accept_encoding"), ("connection", "connection"), ("cache-control", "cache_control"),
    ("date", "date"), ("content-type", "content_type"), ("last-modified", "last_modified"), ("server", "server"),
    ("content-length", "content_length_header"), ("content-encoding", "content_encoding"), ("referer", "referer"),
    ("cookie", "cookie"), ("set-cookie", "set_cookie"), ("location", "location"),
    ("transfer-encoding", "transfer_encoding"), ("authorization", "authorization"),
    ("proxy-authorization", "proxy_authorization"), ("proxy-authenticate", "proxy_authenticate"),
    ("www-authenticate", "www_authenticate"), ("upgrade", "upgrade"), ("x-forwarded-for", "x_forwarded_for"),
    ("http2-settings", "http2_settings"), ("sec-websocket-accept", "sec_websocket_accept"),
    ("sec-websocket-extensions", "sec_websocket_extensions"), ("sec-websocket-key", "sec_websocket_key"),
    ("sec-websocket-protocol", "sec_websocket_protocol"), ("sec-websocket-version", "sec_websocket_version"))}
# bodies tshark hands to its line-based text dissector
TEXT_TYPES = ("application/javascript", "application/x-javascript")
STATUS = {100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
          203: "Non-authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content",
          300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
          305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
          401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
          408: "Request Time-out", 409: "Conflict", 410: "Gone", 411: "Length Required",
          412: "Precondition Failed", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
          415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable", 417: "Expectation Failed",
          418: "I'm a teapot", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
          503: "Service Unavailable", 504: "Gateway Time-out", 505: "HTTP Version not supported"}


def http(ctx: Context, p: int, end: int, data: bytes) -> None:
    d = ctx.d
    d.protocol = "HTTP"
    d.info = format_text(first_line(data)) + " " + _content_type_note(data)
    if not d.tree:
        return
    layer = d.layer("Hypertext Transfer Protocol", "http", p, end - p)
    is_response = data.startswith(b"HTTP/")
    spans = list(line_spans(data))
    if not spans:
        return
    start_len = spans[0][1]
    node = layer.add(format_text(data[:start_len]), "", p, start_len)
    (_status_line if is_response else _request_line)(node, p, first_line(data))
    headers, body_at = _headers(layer, p, data, spans[1:], "http.response.line" if is_response else "http.request.line")
    if is_response:
        layer.add("[Response: True]", "http.response", value=True, hidden=True)
    else:
        uri = node.children[1].value if len(node.children) > 1 else ""
        if "http.host" in headers:
            full = f"http://{headers['http.host']}{uri}"
            label = format_text(full.encode("utf-8", "surrogateescape"))
            layer.add(f"[Full request URI: {label}]", "http.request.full_uri", value=full)
        layer.add("[Request: True]", "http.request", value=True, hidden=True)
    if body_at is not None:
        _body(d, layer, p + body_at, data[body_at:], headers)


def _content_type_note(data: bytes) -> str:
    """tshark's Info ends with the media type of a response that has a body here."""
    head, sep, body = data.partition(b"\r\n\r\n")
    note = ""
    if data.startswith(b"HTTP/") and sep and body:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-type":
                note += f" ({format_text(value.strip().split(b';')[0])})"
    return note


def _request_line(node: Field, p: int, line: bytes) -> None:
    method, _, rest = line.partition(b" ")
    uri, _, version = rest.partition(b" ")
    node.add(f"Request Method: {format_text(method)}", "http.request.method", p, len(method), _text(method))
    if rest:
        at = p + len(method) + 1
        node.add(f"Request URI: {format_text(uri)}", "http.request.uri", at, len(uri), _text(uri))
        if version:
            node.add(f"Request Version: {format_text(version)}", "http.request.version", at + len(uri) + 1,
                     len(version), _text(version))


def _status_line(node: Field, p: int, line: bytes) -> None:
    version, _, rest = line.partition(b" ")
    code_raw, _, phrase = rest.partition(b" ")
    node.add(f"Response Version: {format_text(version)}", "http.response.version", p, len(version), _text(version))
    if len(code_raw) != 3 or not code_raw.isdigit():
        return
    code = int(code_raw)
    at = p + len(version) + 1
    node.add(f"Status Code: {code}", "http.response.code", at, 3, code)
    desc = STATUS.get(code, "Unknown")
    node.add(f"[Status Code Description: {desc}]", "http.response.code.desc", at, 3, desc)
    node.add(f"Response Phrase: {format_text(phrase)}", "http.response.phrase", at + 4, len(phrase), _text(phrase))


def _headers(layer: Field, p: int, data: bytes, spans: Iterable[tuple[int, int]],
             line_field: str) -> tuple[dict[str, str], int | None]:
    """One item per header line up to the empty line; returns ({field: value}, where the body
    starts or None when the header block does not end in this segment)."""
    values: dict[str, str] = {}
    for pos, length in spans:
        raw = data[pos:pos + length]
        line = raw.rstrip(b"\r\n")
        if not line:
            layer.add(format_text(raw), "", p + pos, length)
            return values, pos + length
        name, colon, value = line.partition(b":")
        field = HEADERS.get(name.strip().lower().decode("latin-1")) if colon else None
        label = format_text(raw)
        if field:
            text = _text(value.lstrip(b" \t"))
            values.setdefault(field, text)
            item = layer.add(label, field, p + pos, length, text)
            if field == "http.content_length_header" and text.strip().isdigit():
                item.add(f"Content length: {int(text)}", "http.content_length", p + pos, length, int(text))
        layer.add(label, line_field, p + pos, length, _text(raw), hidden=bool(field))
    return values, None


def _body(d: Dissection, layer: Field, at: int, body: bytes, headers: dict[str, str]) -> None:
    """A complete text body (Content-Length given and all here): its lines, decompressed first
    when gzip- or deflate-encoded (the lines then cover no frame bytes)."""
    size = headers.get("http.content_length_header", "").strip()
    if not size.isdigit() or len(body) < int(size) or not int(size):
        return
    body = body[:int(size)]
    media = headers.get("http.content_type", "").split(";")[0].strip().lower()
    text, ranged = body, True
    encoding = headers.get("http.content_encoding", "").strip().lower()
    if encoding in ("gzip", "deflate"):
        try:
            text = zlib.decompress(body, 47)  # gzip or zlib header, detected
        except zlib.error:
            return
        ranged = False
        layer.add(f"Content-encoded entity body ({encoding}): {len(body)} bytes -> {len(text)} bytes", "", at,
                  len(body))
    layer.add(f"File Data: {len(text)} bytes", "http.file_data", at if ranged else 0, len(text) if ranged else 0,
              _text(text))
    if (media.startswith("text/") and media != "text/xml") or media in TEXT_TYPES:
        d.layers.append(text_lines(at, text, media, ranged))


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
