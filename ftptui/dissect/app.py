"""Application-layer decoders: FTP and FTP-DATA, DNS in full; for the rest, the right
Protocol column and a short Info, as far as it is cheap to tell."""
from __future__ import annotations

from ..ftp.tshark_link import tshark_links
from ..store.columns import FTP_PORT
from ..text import bits, first_line, format_text
from . import dns
from .ftp import ftp_control, ftp_data
from .http import http
from .media import data_node
from .stp import llc  # noqa: F401 - packet.py calls app.llc
from .tls import payload_frames, records, tls13_frames

HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ",
                b"PATCH ", b"NOTIFY ", b"M-SEARCH ", b"SUBSCRIBE ")
HTTP_PORTS = {80, 8080, 8000, 3128, 8008, 8088}
TLS_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
TLS_CONTENT = {20: "Change Cipher Spec", 21: "Alert", 22: "Handshake", 23: "Application Data"}


def tcp_payload(ctx, p, end, paylen, sport, dport, stream) -> None:
    d, data = ctx.d, ctx.pkt.data[p:end]
    if FTP_PORT in (sport, dport):
        tls_from = tshark_links(ctx.index).tls_from.get(stream)
        if tls_from is not None and ctx.i >= tls_from and tls(ctx, p, end, data, stream):
            return
        ftp_control(ctx, p, end, data, is_request=dport == FTP_PORT)
        return
    if ftp_data(ctx, p, end, paylen, stream):
        return
    if data.startswith(HTTP_METHODS) or data.startswith(b"HTTP/"):
        http(ctx, p, end, data)
        return
    if tls(ctx, p, end, data, stream):
        return
    if data.startswith(b"SSH-") or 22 in (sport, dport):
        ssh(ctx, p, end, data, "Client" if dport == 22 else "Server")
        return
    if 53 in (sport, dport):
        dns.dissect(ctx, p + 2, end, "DNS")
        return
    if not _stream_speaks_known_protocol(ctx, stream):
        d.layers.append(data_node(p, data))  # nothing claims it: tshark's data dissector shows it


class StreamSpeaks(dict):
    """_stream_speaks_known_protocol's answers per TCP stream (PacketIndex.derived)."""

    def __init__(self, index):
        super().__init__()


def _stream_speaks_known_protocol(ctx, stream: int) -> bool:
    """Whether the stream's first payload is HTTP, TLS or SSH: its other segments are then the
    middle of a message tshark reassembles (shown as TCP only), not "data"."""
    if stream < 0:
        return False
    memo = ctx.index.derived(StreamSpeaks)
    if stream not in memo:
        first = payload_frames(ctx.index, stream, 1)
        raw = ctx.index.payload(first[0]) if first else b""
        memo[stream] = (raw.startswith(HTTP_METHODS) or raw.startswith(b"HTTP/") or raw.startswith(b"SSH-")
                        or (len(raw) >= 5 and raw[0] in TLS_CONTENT and raw[1] == 3 and raw[2] <= 4))
    return memo[stream]


HANDSHAKES = {1: "Client Hello", 2: "Server Hello", 4: "New Session Ticket", 8: "Encrypted Extensions",
              11: "Certificate", 12: "Server Key Exchange", 13: "Certificate Request", 14: "Server Hello Done",
              15: "Certificate Verify", 16: "Client Key Exchange", 20: "Finished"}
HELLO_RETRY = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def tls(ctx, p, end, data: bytes, stream: int) -> bool:
    """TLS records: Protocol is the record version, or TLSv1.3 once the server chose it."""
    if not (len(data) >= 5 and data[0] in TLS_CONTENT and data[1] == 3 and data[2] <= 4):
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
    records(ctx, d.layer("Transport Layer Security", "tls", p, end - p), p, data, stream, _tls13(ctx, stream))
    return True


def _tls13(ctx, stream: int) -> bool:
    f = tls13_frames(ctx.index, stream)[0]
    return f is not None and f <= ctx.i


def _encrypted(ctx, stream: int) -> bool:
    f = tls13_frames(ctx.index, stream)[1]
    return f is not None and f < ctx.i


SSH_MESSAGES = {20: "Key Exchange Init", 21: "New Keys", 30: "Diffie-Hellman Key Exchange Init",
                31: "Diffie-Hellman Key Exchange Reply", 34: "Diffie-Hellman Group Exchange Request",
                32: "Diffie-Hellman Group Exchange Init", 33: "Diffie-Hellman Group Exchange Reply"}
SSH_GEX_GROUP = 31


def ssh(ctx, p, end, data: bytes, side: str) -> None:
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
    names, off = [], 0
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


def _ssh_packet(layer, at: int, plen: int, padding: int, code: int) -> None:
    """A clear-text SSH binary packet: its lengths and message code."""
    node = layer.add("SSH Version 2", "", at, 4 + plen)
    node.add(f"Packet Length: {plen}", "ssh.packet_length", at, 4, plen)
    node.add(f"Padding Length: {padding}", "ssh.padding_length", at + 4, 1, padding)
    node.add(f"Message Code: {SSH_MESSAGES[code]} ({code})", "ssh.message_code", at + 5, 1, code)


def udp_payload(ctx, p, end, sport, dport) -> None:
    d = ctx.d
    ports = (sport, dport)
    if 5353 in ports:
        dns.dissect(ctx, p, end, "MDNS")
    elif 5355 in ports:
        dns.dissect(ctx, p, end, "LLMNR")
    elif 53 in ports:
        dns.dissect(ctx, p, end, "DNS")
    elif 67 in ports or 68 in ports:
        d.protocol = "DHCP"
        d.layer("Dynamic Host Configuration Protocol", "dhcp", p, end - p)
    elif 546 in ports or 547 in ports:
        d.protocol = "DHCPv6"
        d.layer("DHCPv6", "dhcpv6", p, end - p)
    elif 123 in ports:
        ntp(ctx, p, end)
    elif 137 in ports:
        nbns(ctx, p, end)
    elif 17500 in ports:  # Dropbox LAN sync discovery: a JSON object
        json = ctx.pkt.data[p:p + 1] == b"{"
        d.protocol = "DB-LSP-DISC/JSON" if json else "DB-LSP-DISC"
        d.info = "Dropbox LAN sync Discovery Protocol" + (", JavaScript Object Notation" if json else "")
        d.layer("Dropbox LAN sync Discovery Protocol", "db-lsp-disc", p, end - p)
        if json:
            d.layer("JavaScript Object Notation", "json", p, end - p)
    elif 1900 in ports:
        d.protocol = "SSDP"
        d.info = format_text(first_line(ctx.pkt.data[p:end])) + " "
        d.layer("Simple Service Discovery Protocol", "ssdp", p, end - p)
    else:  # a port ftptui does not know: tshark's data dissector (unless tshark knows the port)
        d.layers.append(data_node(p, ctx.pkt.data[p:end]))


NTP_MODES = {0: "reserved", 1: "symmetric active", 2: "symmetric passive", 3: "client", 4: "server",
             5: "broadcast", 6: "control", 7: "private"}


def ntp(ctx, p, end) -> None:
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


def nbns(ctx, p, end) -> None:
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


def igmp(ctx, off, end) -> None:
    d = ctx.d
    typ = ctx.pkt.u8(off)
    d.protocol = {0x22: "IGMPv3", 0x16: "IGMPv2", 0x17: "IGMPv2", 0x12: "IGMPv1"}.get(typ, "IGMP")
    d.layer("Internet Group Management Protocol", "igmp", off, end - off)
    d.info = {0x22: "Membership Report", 0x11: "Membership Query", 0x16: "Membership Report",
              0x17: "Leave Group"}.get(typ, f"Unknown Type:0x{typ:02x}")
