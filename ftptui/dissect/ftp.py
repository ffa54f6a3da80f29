"""FTP control and FTP-DATA trees as tshark 4.0 shows them (packet-ftp.c), one pass.

The control connection's state that a packet's tree depends on (working directory, data
connections and the commands they answer) comes from the index's TsharkFtpLinker, which sees
every control packet in frame order.
"""
from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np

from ..ftp.analysis import FtpAnalysis, latest_analysis
from ..ftp.tshark_link import tshark_links
from ..ftp.tshark_parse import eprt, epsv_port, six_numbers
from ..store.columns import PROTO_TCP
from ..store.index import PacketIndex
from ..text import first_line, format_text, ipv4
from .context import Context
from .media import line_spans, looks_like_text, text_lines
from .tree import Field


def ftp_control(ctx: Context, p: int, end: int, data: bytes, is_request: bool) -> None:
    d = ctx.d
    d.protocol = "FTP"
    line = first_line(data)
    d.info = ("Request: " if is_request else "Response: ") + format_text(line)
    if not d.tree:
        return
    layer = d.layer("File Transfer Protocol (FTP)", "ftp", p, end - p)
    # both flags on every packet, hidden: a bare `ftp.request` matches responses too
    layer.add(f"Request: {is_request}", "ftp.request", value=is_request, hidden=True)
    layer.add(f"Response: {not is_request}", "ftp.response", value=not is_request, hidden=True)
    spans = list(line_spans(data))
    first_len = spans[0][1] if spans else 0
    node = layer.add(format_text(data[:first_len]), "", p, first_len)
    if is_request:
        _request(ctx, node, p, line)
    else:
        _response(ctx, node, p, line)
    for pos, length in spans[1:]:
        layer.add(format_text(data[pos:pos + length]), "", p + pos, length)
    cwd = tshark_links(ctx.index).cwd_at.get(ctx.i, "")
    layer.add(f"[Current working directory: {_label(cwd)}]", "ftp.current-working-directory", value=cwd)


def _request(ctx: Context, node: Field, p: int, line: bytes) -> None:
    token = line.split(b" ", 1)[0]
    if token:
        node.add(f"Request command: {format_text(token)}", "ftp.request.command", p, len(token), _text(token))
    arg_at = len(token) + 1
    arg = line[arg_at:]
    if not arg:
        return
    node.add(f"Request arg: {format_text(arg)}", "ftp.request.arg", p + arg_at, len(arg), _text(arg))
    # tshark compares only the token's length of "PORT"/"EPRT", so "POR" is a PORT too
    if 0 < len(token) <= 4 and b"PORT".startswith(token):
        _port(ctx, node, p + arg_at, arg)
    elif 0 < len(token) <= 4 and b"EPRT".startswith(token):
        _eprt(node, p + arg_at, arg)


def _response(ctx: Context, node: Field, p: int, line: bytes) -> None:
    if len(line) >= 3 and line[:3].isdigit():
        code = int(line[:3])
        node.add(f"Response code: {FTP_CODES.get(code, 'Unknown')} ({code})", "ftp.response.code", p, 3, code)
        rest = line[4:]
        if rest:
            node.add(f"Response arg: {format_text(rest)}", "ftp.response.arg", p + 4, len(rest), _text(rest))
            if code == 227:
                _pasv(ctx, node, p + 4, rest)
            elif code == 229:
                _epsv(ctx, node, p + 4, rest)
    elif line:  # a middle line of a multi-line reply
        node.add(f"Response arg: {format_text(line)}", "ftp.response.arg", p, len(line), _text(line))


def _text(raw: bytes) -> str:
    """A string field's value: tshark's strings end at a NUL byte."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _port(ctx: Context, node: Field, at: int, arg: bytes) -> None:
    found = six_numbers(arg)
    if found is None:
        return
    ip, port, off, ip_len, port_len = found
    node.add(f"Active IP address: {ipv4(ip)}", "ftp.active.cip", at + off, ip_len, ip)
    node.add(f"Active port: {port}", "ftp.active.port", at + off + ip_len + 1, port_len, port)
    if ip != ctx.net_src:
        node.add("[Active IP NAT: True]", "ftp.active.nat", value=True)


def _pasv(ctx: Context, node: Field, at: int, rest: bytes) -> None:
    found = six_numbers(rest)
    if found is None:
        return
    ip, port, off, ip_len, port_len = found
    node.add(f"Passive IP address: {ipv4(ip)}", "ftp.passive.ip", at + off, ip_len, ip)
    node.add(f"Passive port: {port}", "ftp.passive.port", at + off + ip_len + 1, port_len, port)
    if ip != ctx.net_src:
        node.add("[Passive IP NAT: True]", "ftp.passive.nat", value=True)


def _eprt(node: Field, at: int, arg: bytes) -> None:
    """EPRT |af|address|port| (RFC 2428); tshark places the family at the second byte."""
    found = eprt(arg)
    if found is None:
        return
    af, ip_s, ip, port, port_s = found
    node.add(f"Extended active address family: {('IPv4', 'IPv6')[af - 1]} ({af})", "ftp.eprt.af", at + 1, 1, af)
    name = "ftp.eprt.ip" if af == 1 else "ftp.eprt.ipv6"
    title = "Extended active IP address" if af == 1 else "Extended active IPv6 address"
    node.add(f"{title}: {ip}", name, at + 3, len(ip_s), ip.packed)
    node.add(f"Extended active port: {port}", "ftp.eprt.port", at + 4 + len(ip_s), len(port_s), port)


def _epsv(ctx: Context, node: Field, at: int, rest: bytes) -> None:
    """229 (|||port|): the port, and the server's address (the packet's source) as a generated
    item; tshark's port length runs from the digits to just before ')'."""
    found = epsv_port(rest.split(b"\0", 1)[0])
    if found is None:
        return
    port, k, port_len = found
    src = ctx.net_src or b""
    if len(src) == 4:
        node.add(f"[Extended passive IPv4 address: {ipv4(src)}]", "ftp.epsv.ip", value=src)
    elif len(src) == 16:
        node.add(f"[Extended passive IPv6 address: {ipaddress.IPv6Address(src)}]", "ftp.epsv.ipv6", value=src)
    node.add(f"Extended passive port: {port}", "ftp.epsv.port", at + k, port_len, port)


# tshark's name for each way of setting up a data connection
SETUP_NAMES = {"PORT": "PORT", "PASV": "PASV", "EPRT": "EPRT", "EPSV": "EPASV"}


def follower_links(index: PacketIndex) -> dict[int, tuple[str, str, int, int]] | None:
    """tcp.stream -> (setup method, command, setup frame, command frame) from ftptui's own FTP
    follower (ftptui/ftp), once it has run; None before.  It links data connections the way Zeek
    does, so it is right where tshark's port rules are not.  On a growing capture the latest
    analysis may cover only the packets indexed when it ran: its links still hold (a data
    connection, once tied to its command, stays tied), and streams that started later fall back
    to tshark's rules until it runs again."""
    analysis = latest_analysis(index)
    if analysis is None or analysis.packets > len(index):
        return None
    links = index.derived(FollowerLinks)
    if links.analysis is not analysis:
        links.table = {t.tcp_stream: (SETUP_NAMES.get(t.setup or "", t.setup or ""), f"{t.command} {t.arg}".strip(),
                                      t.expectation.frame, t.command_frame)
                       for _, t in analysis.transfers if t.tcp_stream >= 0 and t.expectation is not None}
        links.analysis = analysis
    return links.table


class FollowerLinks:
    """follower_links' table, made once per analysis (PacketIndex.derived)."""

    def __init__(self, index: PacketIndex):
        self.analysis: FtpAnalysis | None = None
        self.table: dict[int, tuple[str, str, int, int]] = {}


def data_streams(index: PacketIndex) -> set[int]:
    """Every tcp.stream labelled FTP-DATA: tshark's links and, once it has run, the follower's."""
    links = follower_links(index) or {}
    return set(tshark_links(index).stream_conv) | set(links)


def data_connection_candidates(c: Any) -> np.ndarray:
    """For display filters (c: their columns): the rows ftp_data may label, a superset of them
    (TCP payload on a connection either linker ties to FTP)."""
    streams = np.fromiter(data_streams(c.index), dtype=np.int64)
    return np.asarray(c.transport(PROTO_TCP) & (c.col("paylen") > 0) & np.isin(c.col("stream"), streams))


def _label(text: str) -> str:
    """Control-connection text (decoded) in a tree label, escaped as tshark escapes it."""
    return format_text(text.encode("utf-8", "surrogateescape"))


def ftp_data(ctx: Context, p: int, end: int, paylen: int, stream: int) -> bool:
    """An FTP data connection's segment (False if the stream is not one).  ftptui's follower
    decides when it has run; before that (and for connections it could not tie to a control
    connection) tshark's own linking rules do."""
    linker = tshark_links(ctx.index)
    label = linker.label(stream, ctx.i) if stream >= 0 else None
    links = follower_links(ctx.index)
    ours = links.get(stream) if links is not None and stream >= 0 else None
    if label is None and ours is None:
        return False
    conv = linker.data_conv(stream)
    d, data = ctx.d, ctx.pkt.data[p:end]
    if ours is not None:
        method, command, setup, command_frame = ours
        cwd = conv.cwd.text if conv is not None and conv.cwd is not None else None
    else:
        assert label is not None and conv is not None  # tshark's linker labelled the stream
        method, command = label
        # a port-20 connection nothing announced links to its TCP conversation's first frame
        setup = conv.setup_frame if conv.cwd is not None else ctx.index.tcp.first_frame(stream)
        command_frame = conv.command_frame
        cwd = conv.cwd.text if conv.cwd is not None else None
    d.protocol = "FTP-DATA"
    d.info = f"FTP Data: {paylen} bytes" + (f" ({method})" if method else "") + (f" ({command})" if command else "")
    if not d.tree:
        return True
    layer = d.layer(f"FTP Data ({len(data)} bytes data)", "ftp-data", p, end - p)
    layer.add(f"[Setup frame: {setup + 1}]", "ftp-data.setup-frame", value=setup + 1)
    if ours is not None or (conv is not None and conv.cwd is not None):
        if method:
            layer.add(f"[Setup method: {method}]", "ftp-data.setup-method", value=method)
        if command:
            layer.add(f"[Command: {_label(command)}]", "ftp-data.command", value=command)
            layer.add(f"Command frame: {command_frame + 1}", "ftp-data.command-frame", value=command_frame + 1)
        if cwd is not None:
            layer.add(f"[Current working directory: {_label(cwd)}]", "ftp-data.current-working-directory", value=cwd)
    if looks_like_text(data):
        d.layers.append(text_lines(p, data))
    return True


# tshark's names of reply codes (response_table in packet-ftp.c)
FTP_CODES = {
    110: "Restart marker reply", 120: "Service ready in nnn minutes",
    125: "Data connection already open; transfer starting", 150: "File status okay; about to open data connection",
    200: "Command okay", 202: "Command not implemented, superfluous at this site",
    211: "System status, or system help reply", 212: "Directory status", 213: "File status", 214: "Help message",
    215: "NAME system type", 220: "Service ready for new user", 221: "Service closing control connection",
    225: "Data connection open; no transfer in progress", 226: "Closing data connection",
    227: "Entering Passive Mode", 229: "Entering Extended Passive Mode", 230: "User logged in, proceed",
    232: "User logged in, authorized by security data exchange", 234: "Security data exchange complete",
    235: "Security data exchange completed successfully", 250: "Requested file action okay, completed",
    257: "PATHNAME created", 331: "User name okay, need password", 332: "Need account for login",
    334: "Requested security mechanism is ok", 335: "Security data is acceptable, more is required",
    336: "Username okay, need password. Challenge is ...", 350: "Requested file action pending further information",
    421: "Service not available, closing control connection", 425: "Can't open data connection",
    426: "Connection closed; transfer aborted", 431: "Need some unavailable resource to process security",
    450: "Requested file action not taken", 451: "Requested action aborted: local error in processing",
    452: "Requested action not taken. Insufficient storage space in system",
    500: "Syntax error, command unrecognized", 501: "Syntax error in parameters or arguments",
    502: "Command not implemented", 503: "Bad sequence of commands", 504: "Command not implemented for that parameter",
    522: "Network protocol not supported", 530: "Not logged in", 532: "Need account for storing files",
    533: "Command protection level denied for policy reasons", 534: "Request denied for policy reasons",
    535: "Failed security check (hash, sequence, etc)", 536: "Requested PROT level not supported by mechanism",
    537: "Command protection level not supported by security mechanism",
    550: "Requested action not taken: File unavailable", 551: "Requested action aborted: page type unknown",
    552: "Requested file action aborted: Exceeded storage allocation",
    553: "Requested action not taken: File name not allowed", 631: "Integrity protected reply",
    632: "Confidentiality and integrity protected reply", 633: "Confidentiality protected reply"}
