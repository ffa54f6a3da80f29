"""Application-layer decoders: FTP and FTP-DATA, DNS in full; for the rest, the right
Protocol column and a short Info, as far as it is cheap to tell."""
from __future__ import annotations

from ..ftp.tshark_link import first_line
from . import dns
from .text import format_text

FTP_PORT, FTP_DATA_PORT = 21, 20
HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ",
                b"PATCH ", b"NOTIFY ", b"M-SEARCH ", b"SUBSCRIBE ")
HTTP_PORTS = {80, 8080, 8000, 3128, 8008, 8088}
TLS_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
TLS_CONTENT = {20: "Change Cipher Spec", 21: "Alert", 22: "Handshake", 23: "Application Data"}


def tcp_payload(ctx, p, end, paylen, sport, dport, stream) -> None:
    d, data = ctx.d, ctx.pkt.data[p:end]
    if FTP_PORT in (sport, dport):
        ftp(ctx, p, end, data, is_request=dport == FTP_PORT)
        return
    label = ctx.index.ftp.label(stream, ctx.i) if stream >= 0 else None
    if label is not None:
        method, command = label
        d.protocol = "FTP-DATA"
        d.info = f"FTP Data: {paylen} bytes"
        layer = d.layer(f"FTP Data ({len(data)} bytes data)", "ftp-data", p, end - p)
        if method:
            d.info += f" ({method})"
            layer.add(f"[Setup method: {method}]", "ftp-data.setup-method", value=method)
        if command:
            d.info += f" ({command})"
            layer.add(f"[Command: {command}]", "ftp-data.command", value=command)
        return
    if data.startswith(HTTP_METHODS) or (data.startswith(b"HTTP/") and (sport in HTTP_PORTS or dport in HTTP_PORTS
                                                                        or True)):
        d.protocol = "HTTP"
        d.info = format_text(first_line(data)) + " "
        d.layer("Hypertext Transfer Protocol", "http", p, end - p)
        return
    if len(data) >= 5 and data[0] in TLS_CONTENT and data[1] == 3 and data[2] <= 4:
        version = (data[1] << 8) | data[2]
        d.protocol = TLS_VERSIONS.get(version, "TLS")
        d.info = TLS_CONTENT[data[0]]
        d.layer("Transport Layer Security", "tls", p, end - p)
        return
    if data.startswith(b"SSH-"):
        d.protocol = "SSH"
        side = "Client" if dport == 22 else "Server"
        d.info = f"{side}: Protocol ({format_text(first_line(data))})"
        d.layer("SSH Protocol", "ssh", p, end - p)
        return
    if 22 in (sport, dport):
        d.protocol = "SSH"
        d.layer("SSH Protocol", "ssh", p, end - p)
        return
    if 53 in (sport, dport):
        dns.dissect(ctx, p + 2, end, "DNS")


def ftp(ctx, p, end, data: bytes, is_request: bool) -> None:
    d = ctx.d
    d.protocol = "FTP"
    line = first_line(data)
    d.info = ("Request: " if is_request else "Response: ") + format_text(line)
    layer = d.layer("File Transfer Protocol (FTP)", "ftp", p, end - p)
    eol = len(line) + (2 if data[len(line):len(line) + 2] == b"\r\n" else 1 if len(data) > len(line) else 0)
    node = layer.add(format_text(line) + ("\\r\\n" if eol == len(line) + 2 else ""), "", p, eol)
    if is_request:
        token = line.split(b" ", 1)[0]
        node.add(f"Request command: {format_text(token)}", "ftp.request.command", p, len(token),
                 token.decode("latin-1"))
        if len(line) > len(token) + 1:
            arg = line[len(token) + 1:]
            node.add(f"Request arg: {format_text(arg)}", "ftp.request.arg", p + len(token) + 1, len(arg),
                     arg.decode("latin-1"))
    elif len(line) >= 3 and line[:3].isdigit():
        code = int(line[:3])
        node.add(f"Response code: {code}", "ftp.response.code", p, 3, code)
        if len(line) > 4:
            node.add(f"Response arg: {format_text(line[4:])}", "ftp.response.arg", p + 4, len(line) - 4,
                     line[4:].decode("latin-1"))
    elif line:
        node.add(f"Response arg: {format_text(line)}", "ftp.response.arg", p, len(line), line.decode("latin-1"))
    pos = p + eol
    rest = data[eol:]
    while rest:
        ln = first_line(rest)
        step = len(ln) + (2 if rest[len(ln):len(ln) + 2] == b"\r\n" else 1 if len(rest) > len(ln) else 0)
        layer.add(format_text(ln) + ("\\r\\n" if step == len(ln) + 2 else ""), "", pos, step)
        pos += step
        rest = rest[step:]


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
        d.protocol = "NTP"
        d.layer("Network Time Protocol", "ntp", p, end - p)
    elif 137 in ports:
        d.protocol = "NBNS"
        d.layer("NetBIOS Name Service", "nbns", p, end - p)
    elif 1900 in ports:
        d.protocol = "SSDP"
        d.info = format_text(first_line(ctx.pkt.data[p:end])) + " "
        d.layer("Simple Service Discovery Protocol", "ssdp", p, end - p)


def igmp(ctx, off, end) -> None:
    d = ctx.d
    typ = ctx.pkt.u8(off)
    d.protocol = {0x22: "IGMPv3", 0x16: "IGMPv2", 0x17: "IGMPv2", 0x12: "IGMPv1"}.get(typ, "IGMP")
    d.layer("Internet Group Management Protocol", "igmp", off, end - off)
    d.info = {0x22: "Membership Report", 0x11: "Membership Query", 0x16: "Membership Report",
              0x17: "Leave Group"}.get(typ, f"Unknown Type:0x{typ:02x}")


def llc(ctx, off, dst: bytes) -> None:
    d = ctx.d
    if dst[:5] == b"\x01\x80\xc2\x00\x00" and ctx.pkt.data[off:off + 2] == b"\x42\x42":
        d.protocol = "STP"
        d.layer("Spanning Tree Protocol", "stp", off + 3, len(ctx.pkt.data) - off - 3)
        d.info = "Conf."
    else:
        d.protocol = "LLC"
        d.layer("Logical-Link Control", "llc", off, 3)
