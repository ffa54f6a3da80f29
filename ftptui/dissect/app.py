"""Application-layer decoders: FTP and FTP-DATA, DNS in full; for the rest, the right
Protocol column and a short Info, as far as it is cheap to tell."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ftp.tshark_link import tshark_links
from ..store.columns import FTP_PORT
from ..store.index import PacketIndex
from ..store.prefix import startswith_any
from ..text import bits, first_line, format_text
from . import dns
from .context import Context
from .ftp import data_connection_candidates, ftp_control, ftp_data
from .http import http
from .media import data_node as data_node  # transport.py and packet.py use app.data_node
from .stp import llc as llc  # packet.py calls app.llc
from .table import Dissector, DissectorTable, Payload
from .tls import payload_frames, records, tls13_frames
from .tree import Field

HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ",
                b"PATCH ", b"NOTIFY ", b"M-SEARCH ", b"SUBSCRIBE ")
HTTP_PORTS = {80, 8080, 8000, 3128, 8008, 8088}
TLS_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
TLS_CONTENT = {20: "Change Cipher Spec", 21: "Alert", 22: "Handshake", 23: "Application Data"}


def _ftp(pl: Payload) -> None:
    """The control connection (port 21); TLS once the server has answered AUTH TLS."""
    tls_from = tshark_links(pl.ctx.index).tls_from.get(pl.stream)
    if tls_from is not None and pl.ctx.i >= tls_from and tls(pl.ctx, pl.p, pl.end, pl.data, pl.stream):
        return
    ftp_control(pl.ctx, pl.p, pl.end, pl.data, is_request=pl.dport == FTP_PORT)


def _http_start(data: bytes) -> bool:
    return data.startswith(HTTP_METHODS) or data.startswith(b"HTTP/")


def _tls_start(data: bytes) -> bool:
    return len(data) >= 5 and data[0] in TLS_CONTENT and data[1] == 3 and data[2] <= 4


def _starts(words: tuple[bytes, ...]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda first: startswith_any(first, words)


def _tls_first_bytes(first: np.ndarray) -> np.ndarray:
    return np.asarray(np.isin(first[:, 0], list(TLS_CONTENT)) & (first[:, 1] == 3) & (first[:, 2] <= 4))


def _no_application(pl: Payload) -> None:
    if pl.ctx.d.tree and not _stream_speaks_known_protocol(pl.ctx, pl.stream):
        pl.ctx.d.layers.append(data_node(pl.p, pl.data))  # nothing claims it: tshark's data dissector


TCP = DissectorTable("tcp", _no_application)
TCP.add(Dissector("ftp", _ftp, ports=frozenset({FTP_PORT}), fields=("tls",)))
TCP.add(Dissector("ftp-data", lambda pl: ftp_data(pl.ctx, pl.p, pl.end, pl.paylen, pl.stream),
                  candidates=data_connection_candidates, fields=("data-text-lines",)))
TCP.add(Dissector("http", lambda pl: http(pl.ctx, pl.p, pl.end, pl.data), heuristic=_http_start,
                  first_bytes=_starts(HTTP_METHODS + (b"HTTP/",)), fields=("data-text-lines",)))
TCP.add(Dissector("tls", lambda pl: tls(pl.ctx, pl.p, pl.end, pl.data, pl.stream), heuristic=_tls_start,
                  first_bytes=_tls_first_bytes))
TCP.add(Dissector("ssh", lambda pl: ssh(pl.ctx, pl.p, pl.end, pl.data, "Client" if pl.dport == 22 else "Server"),
                  ports=frozenset({22}), heuristic=lambda data: data.startswith(b"SSH-"),
                  first_bytes=_starts((b"SSH-",))))
TCP.add(Dissector("dns", lambda pl: dns.dissect(pl.ctx, pl.p + 2, pl.end, "DNS"), ports=frozenset({53})))


def tcp_payload(ctx: Context, p: int, end: int, paylen: int, sport: int, dport: int, stream: int) -> None:
    TCP.dispatch(Payload(ctx, p, end, ctx.pkt.data[p:end], sport, dport, stream, paylen))


class StreamSpeaks(dict[int, bool]):
    """_stream_speaks_known_protocol's answers per TCP stream (PacketIndex.derived)."""

    def __init__(self, index: PacketIndex):
        super().__init__()


def _stream_speaks_known_protocol(ctx: Context, stream: int) -> bool:
    """Whether the stream's first payload is HTTP, TLS or SSH: its other segments are then the
    middle of a message tshark reassembles (shown as TCP only), not "data"."""
    if stream < 0:
        return False
    memo = ctx.index.derived(StreamSpeaks)
    if stream not in memo:
        first = payload_frames(ctx.index, stream, 1)
        raw = ctx.index.payload(first[0]) if first else b""
        memo[stream] = _http_start(raw) or raw.startswith(b"SSH-") or _tls_start(raw)
    return bool(memo[stream])


HANDSHAKES = {1: "Client Hello", 2: "Server Hello", 4: "New Session Ticket", 8: "Encrypted Extensions",
              11: "Certificate", 12: "Server Key Exchange", 13: "Certificate Request", 14: "Server Hello Done",
              15: "Certificate Verify", 16: "Client Key Exchange", 20: "Finished"}
HELLO_RETRY = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def tls(ctx: Context, p: int, end: int, data: bytes, stream: int) -> bool:
    """TLS records: Protocol is the record version, or TLSv1.3 once the server chose it."""
    if not _tls_start(data):
        return False
    d = ctx.d
    names, off = [], 0
    while off + 5 <= len(data):
        ctype, rlen = data[off], int.from_bytes(data[off + 3:off + 5], "big")
        body = data[off + 5:off + 5 + rlen]
        if ctype == 22 and body and body[0] in HANDSHAKES and not _encrypted(ctx, stream):
            name = HANDSHAKES[body[0]]
            if body[0] == 2 and body[6:38] == HELLO_RETRY:
                name = "Hello Retry Request"
            names.append(name)
        elif ctype == 22:
            names.append("Encrypted Handshake Message")
        else:
            names.append(TLS_CONTENT.get(ctype, "Continuation Data"))
        off += 5 + rlen
    version = (data[1] << 8) | data[2]
    d.protocol = "TLSv1.3" if _tls13(ctx, stream) else TLS_VERSIONS.get(version, "TLS")
    d.info = ", ".join(names)
    if d.tree:
        records(ctx, d.layer("Transport Layer Security", "tls", p, end - p), p, data, stream, _tls13(ctx, stream))
    return True


def _tls13(ctx: Context, stream: int) -> bool:
    f = tls13_frames(ctx.index, stream)[0]
    return f is not None and f <= ctx.i


def _encrypted(ctx: Context, stream: int) -> bool:
    f = tls13_frames(ctx.index, stream)[1]
    return f is not None and f < ctx.i


SSH_MESSAGES = {20: "Key Exchange Init", 21: "New Keys", 30: "Diffie-Hellman Key Exchange Init",
                31: "Diffie-Hellman Key Exchange Reply", 34: "Diffie-Hellman Group Exchange Request",
                32: "Diffie-Hellman Group Exchange Init", 33: "Diffie-Hellman Group Exchange Reply"}
SSH_GEX_GROUP = 31


def ssh(ctx: Context, p: int, end: int, data: bytes, side: str) -> None:
    """Banner, the clear-text key-exchange messages, then 'Encrypted packet' (as tshark)."""
    d = ctx.d
    layer = d.layer("SSH Protocol", "ssh", p, end - p)
    direction = f"[Direction: {'server-to-client' if side == 'Server' else 'client-to-server'}]"
    if data.startswith(b"SSH-"):
        d.protocol = "SSH"
        banner = first_line(data)
        d.info = f"{side}: Protocol ({format_text(banner)})"
        layer.add(f"Protocol: {format_text(banner)}", "ssh.protocol", p, len(banner), banner.decode("utf-8", "replace"))
        layer.add(direction, "ssh.direction", value=side == "Server")
        return
    d.protocol = "SSHv2"
    names: list[str] = []
    off = 0
    while off + 6 <= len(data):
        plen = int.from_bytes(data[off:off + 4], "big")
        code = data[off + 5]
        if plen < 2 or off + 4 + plen > len(data) or code not in SSH_MESSAGES:
            names = []
            break
        names.append(SSH_MESSAGES[code])
        _ssh_packet(layer, p + off, plen, data[off + 4], code)
        off += 4 + plen
    if not names or off != len(data):
        del layer.children[:]  # not a run of clear-text packets after all
    layer.add(direction, "ssh.direction", value=side == "Server")
    if names and off == len(data):
        if side == "Server" and names[0] == "Diffie-Hellman Key Exchange Reply":
            names[0] = "Diffie-Hellman Group Exchange Group" if len(data) < 600 else names[0]
        d.info = f"{side}: " + ", ".join(names)
    else:
        d.info = f"{side}: Encrypted packet (len={len(data)})"


def _ssh_packet(layer: Field, at: int, plen: int, padding: int, code: int) -> None:
    """A clear-text SSH binary packet: its lengths and message code."""
    node = layer.add("SSH Version 2", "", at, 4 + plen)
    node.add(f"Packet Length: {plen}", "ssh.packet_length", at, 4, plen)
    node.add(f"Padding Length: {padding}", "ssh.padding_length", at + 4, 1, padding)
    node.add(f"Message Code: {SSH_MESSAGES[code]} ({code})", "ssh.message_code", at + 5, 1, code)


def _named(protocol: str, title: str, name: str) -> Callable[[Payload], None]:
    """A decoder that only names the protocol and its layer (scapy's tree adds the rest)."""
    def decode(pl: Payload) -> None:
        pl.ctx.d.protocol = protocol
        pl.ctx.d.layer(title, name, pl.p, pl.end - pl.p)
    return decode


def _dropbox(pl: Payload) -> None:
    """Dropbox LAN sync discovery: a JSON object."""
    d = pl.ctx.d
    json = pl.ctx.pkt.data[pl.p:pl.p + 1] == b"{"
    d.protocol = "DB-LSP-DISC/JSON" if json else "DB-LSP-DISC"
    d.info = "Dropbox LAN sync Discovery Protocol" + (", JavaScript Object Notation" if json else "")
    d.layer("Dropbox LAN sync Discovery Protocol", "db-lsp-disc", pl.p, pl.end - pl.p)
    if json:
        d.layer("JavaScript Object Notation", "json", pl.p, pl.end - pl.p)


def _ssdp(pl: Payload) -> None:
    d = pl.ctx.d
    d.protocol = "SSDP"
    d.info = format_text(first_line(pl.ctx.pkt.data[pl.p:pl.end])) + " "
    d.layer("Simple Service Discovery Protocol", "ssdp", pl.p, pl.end - pl.p)


def _data(pl: Payload) -> None:
    """A port ftptui does not know: tshark's data dissector (unless tshark knows the port)."""
    if pl.ctx.d.tree:
        pl.ctx.d.layers.append(data_node(pl.p, pl.ctx.pkt.data[pl.p:pl.end]))


UDP = DissectorTable("udp", _data)
UDP.add(Dissector("mdns", lambda pl: dns.dissect(pl.ctx, pl.p, pl.end, "MDNS"), ports=frozenset({5353}),
                  fields=("dns",)))
UDP.add(Dissector("llmnr", lambda pl: dns.dissect(pl.ctx, pl.p, pl.end, "LLMNR"), ports=frozenset({5355}),
                  fields=("dns",)))
UDP.add(Dissector("dns", lambda pl: dns.dissect(pl.ctx, pl.p, pl.end, "DNS"), ports=frozenset({53})))
UDP.add(Dissector("dhcp", _named("DHCP", "Dynamic Host Configuration Protocol", "dhcp"), ports=frozenset({67, 68})))
UDP.add(Dissector("dhcpv6", _named("DHCPv6", "DHCPv6", "dhcpv6"), ports=frozenset({546, 547})))
UDP.add(Dissector("ntp", lambda pl: ntp(pl.ctx, pl.p, pl.end), ports=frozenset({123})))
UDP.add(Dissector("nbns", lambda pl: nbns(pl.ctx, pl.p, pl.end), ports=frozenset({137})))
UDP.add(Dissector("db-lsp-disc", _dropbox, ports=frozenset({17500}), fields=("json",)))
UDP.add(Dissector("ssdp", _ssdp, ports=frozenset({1900})))


def udp_payload(ctx: Context, p: int, end: int, sport: int, dport: int) -> None:
    UDP.dispatch(Payload(ctx, p, end, b"", sport, dport))


NTP_MODES = {0: "reserved", 1: "symmetric active", 2: "symmetric passive", 3: "client", 4: "server",
             5: "broadcast", 6: "control", 7: "private"}


def ntp(ctx: Context, p: int, end: int) -> None:
    d = ctx.d
    d.protocol = "NTP"
    layer = d.layer("Network Time Protocol", "ntp", p, end - p)
    if end - p >= 1:
        first = ctx.pkt.u8(p)
        version, mode = (first >> 3) & 7, first & 7
        d.info = f"NTP Version {version}, {NTP_MODES[mode]}"
        layer.label = f"Network Time Protocol (NTP Version {version}, {NTP_MODES[mode]})"
        layer.add(f"{bits(first, 0x38, 8)} = Version number: NTP Version {version} ({version})", "ntp.flags.vn",
                  p, 1, version)
        layer.add(f"{bits(first, 0x07, 8)} = Mode: {NTP_MODES[mode]} ({mode})", "ntp.flags.mode", p, 1, mode)


def _netbios_name(enc: bytes) -> str:
    if len(enc) != 32:
        return "<Illegal NetBIOS name>"
    raw = bytes(((enc[k] - 0x41) << 4) | ((enc[k + 1] - 0x41) & 0xF) for k in range(0, 32, 2))
    return raw[:15].decode("latin-1").rstrip() + f"<{raw[15]:02x}>"


def nbns(ctx: Context, p: int, end: int) -> None:
    d, msg = ctx.d, ctx.pkt.data[p:end]
    d.protocol = "NBNS"
    d.layer("NetBIOS Name Service", "nbns", p, end - p)
    if len(msg) < 12 + 34 or msg[12] != 32:
        return
    flags = int.from_bytes(msg[2:4], "big")
    opcode = (flags >> 11) & 0xF
    name = _netbios_name(msg[13:45])
    ops = {0: "Name query", 5: "Registration", 6: "Release", 7: "Wait for acknowledgment", 8: "Refresh",
           9: "Refresh (alternate opcode)", 15: "Multi-homed registration"}
    qtype = {0x20: "NB", 0x21: "NBSTAT"}.get(int.from_bytes(msg[46:48], "big"), "")
    d.info = f"{ops.get(opcode, 'Unknown operation')}{' response' if flags & 0x8000 else ''} {qtype} {name}"


def igmp(ctx: Context, off: int, end: int) -> None:
    d = ctx.d
    typ = ctx.pkt.u8(off)
    d.protocol = {0x22: "IGMPv3", 0x16: "IGMPv2", 0x17: "IGMPv2", 0x12: "IGMPv1"}.get(typ, "IGMP")
    d.layer("Internet Group Management Protocol", "igmp", off, end - off)
    d.info = {0x22: "Membership Report", 0x11: "Membership Query", 0x16: "Membership Report",
              0x17: "Leave Group"}.get(typ, f"Unknown Type:0x{typ:02x}")
