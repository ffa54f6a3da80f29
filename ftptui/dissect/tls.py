"""The record layer of TLS as tshark 4.0's tree shows it, for the records a segment holds whole
(tshark would reassemble the others first).  Handshake messages are opened only while they are
in the clear: type, length, hello version and the SNI of a ClientHello."""
from __future__ import annotations

import numpy as np

from ..store.index import PacketIndex
from ..text import format_text
from .context import Context
from .tree import Field

RECORD_VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
SESSION_NAMES = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
CONTENT = {20: "Change Cipher Spec", 21: "Alert", 22: "Handshake", 23: "Application Data", 24: "Heartbeat"}
HANDSHAKE_TYPES = {0: "Hello Request", 1: "Client Hello", 2: "Server Hello", 4: "New Session Ticket",
                   5: "End of Early Data", 8: "Encrypted Extensions", 11: "Certificate", 12: "Server Key Exchange",
                   13: "Certificate Request", 14: "Server Hello Done", 15: "Certificate Verify",
                   16: "Client Key Exchange", 20: "Finished", 24: "Key Update"}


HELLO_RETRY = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
SUPPORTED_VERSIONS_13 = b"\x00\x2b\x00\x02\x03\x04"


def records(ctx: Context, layer: Field, p: int, data: bytes, stream: int, tls13: bool) -> None:
    """One tls.record per complete record.  In TLS 1.3, the records after the ServerHello (not a
    HelloRetryRequest) are encrypted: tshark shows their opaque type and no handshake contents."""
    sh = tls13_frames(ctx.index, stream)[1] if tls13 and stream >= 0 else None
    encrypted = sh is not None and sh < ctx.i
    off = 0
    while off + 5 <= len(data):
        ctype, version, rlen = data[off], int.from_bytes(data[off + 1:off + 3], "big"), \
            int.from_bytes(data[off + 3:off + 5], "big")
        if off + 5 + rlen > len(data):
            return
        body, at = data[off + 5:off + 5 + rlen], p + off
        session = "TLSv1.3" if tls13 else SESSION_NAMES.get(version, "TLS")
        rec = layer.add(f"{session} Record Layer: {CONTENT.get(ctype, 'Unknown')} Protocol", "tls.record", at,
                        5 + rlen)
        if tls13 and encrypted and ctype == 23:
            rec.add(f"Opaque Type: Application Data ({ctype})", "tls.record.opaque_type", at, 1, ctype)
        else:
            rec.add(f"Content Type: {CONTENT.get(ctype, 'Unknown')} ({ctype})", "tls.record.content_type", at, 1,
                    ctype)
        rec.add(f"Version: {RECORD_VERSIONS.get(version, 'Unknown')} (0x{version:04x})", "tls.record.version",
                at + 1, 2, version)
        rec.add(f"Length: {rlen}", "tls.record.length", at + 3, 2, rlen)
        if ctype == 22 and not encrypted:
            names = _handshakes(rec, at + 5, body)
            rec.label += ": " + (names[0] if len(names) == 1 else "Multiple Handshake Messages")
            encrypted = tls13 and _is_server_hello(body)
        elif ctype == 23:
            rec.add(f"Encrypted Application Data: {body[:36].hex()}{'…' if len(body) > 36 else ''}",
                    "tls.app_data", at + 5, rlen)
        elif ctype == 20:
            rec.add("Change Cipher Spec Message", "tls.change_cipher_spec", at + 5, rlen)
        off += 5 + rlen


def _is_server_hello(body: bytes) -> bool:
    return body[:1] == b"\x02" and body[6:38] != HELLO_RETRY


SERVER_HELLO_WITHIN = 32  # payload packets of a stream searched for its ServerHello


class Tls13Streams:
    """tls13_frames' answers per TCP stream (PacketIndex.derived)."""

    def __init__(self, index: PacketIndex):
        self.frames: dict[int, tuple[int | None, int | None]] = {}


def tls13_frames(index: PacketIndex, stream: int) -> tuple[int | None, int | None]:
    """The stream's first frame that settles TLS 1.3 (a ServerHello or HelloRetryRequest with
    supported_versions 0x0304), and its ServerHello proper, after which records are encrypted;
    None for either not found among its first payload packets."""
    known = index.derived(Tls13Streams).frames
    if stream not in known:
        first = hello = None
        for f in payload_frames(index, stream, SERVER_HELLO_WITHIN):
            raw = index.payload(f)
            if len(raw) > 47 and raw[0] == 22 and raw[5] == 2 and SUPPORTED_VERSIONS_13 in raw[:600]:
                first = int(f) if first is None else first
                if _is_server_hello(raw[5:]):
                    hello = int(f)
                    break
        known[stream] = (first, hello)
    return known[stream]


def payload_frames(index: PacketIndex, stream: int, limit: int) -> list[int]:
    """The stream's first `limit` frames with payload, searched forward from its first frame in
    growing windows (a whole-capture scan per stream would be slow on big files)."""
    cols, n = index.cols, len(index)
    found: list[int] = []
    lo, size = index.tcp.first_frame(stream), 64
    while lo < n and len(found) < limit:
        hi = min(n, lo + size)
        hits = np.flatnonzero((cols.raw("stream")[lo:hi] == stream) & (cols.raw("paylen")[lo:hi] > 0))
        found += [lo + int(h) for h in hits[:limit - len(found)]]
        lo, size = hi, size * 4
    return found


def _handshakes(rec: Field, at: int, body: bytes) -> list[str]:
    names, off = [], 0
    while off + 4 <= len(body):
        kind, size = body[off], int.from_bytes(body[off + 1:off + 4], "big")
        msg = body[off + 4:off + 4 + size]
        name = HANDSHAKE_TYPES.get(kind, "Unknown")
        names.append(name)
        hs = rec.add(f"Handshake Protocol: {name}", "tls.handshake", at + off, min(4 + size, len(body) - off))
        hs.add(f"Handshake Type: {name} ({kind})", "tls.handshake.type", at + off, 1, kind)
        hs.add(f"Length: {size}", "tls.handshake.length", at + off + 1, 3, size)
        if kind in (1, 2) and len(msg) >= 2:
            version = int.from_bytes(msg[:2], "big")
            hs.add(f"Version: {RECORD_VERSIONS.get(version, 'Unknown')} (0x{version:04x})", "tls.handshake.version",
                   at + off + 4, 2, version)
        if kind == 1:
            _server_name(hs, at + off + 4, msg)
        off += 4 + size
    return names


def _server_name(hs: Field, at: int, hello: bytes) -> None:
    """The SNI of a ClientHello: skip version, random, session id, cipher suites and compression
    methods, then look through the extensions for server_name (0)."""
    pos = 34
    try:
        pos += 1 + hello[pos]
        pos += 2 + int.from_bytes(hello[pos:pos + 2], "big")
        pos += 1 + hello[pos]
        end = min(len(hello), pos + 2 + int.from_bytes(hello[pos:pos + 2], "big"))
        pos += 2
        while pos + 4 <= end:
            etype, elen = int.from_bytes(hello[pos:pos + 2], "big"), int.from_bytes(hello[pos + 2:pos + 4], "big")
            if etype == 0 and elen >= 5:
                size = int.from_bytes(hello[pos + 7:pos + 9], "big")
                raw = hello[pos + 9:pos + 9 + size]
                hs.add(f"Server Name: {format_text(raw)}", "tls.handshake.extensions_server_name", at + pos + 9,
                       size, raw.decode("utf-8", "replace"))
                return
            pos += 4 + elen
    except IndexError:  # a truncated hello has no SNI to show
        return
