"""ICMP, ICMPv6, UDP and TCP decoders with tshark's Info text."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from ..store.columns import ACK, FIN, RST, SYN, URG
from ..store.index import PacketIndex
from ..store.tcp_options import MALFORMED, NOP, TRUNCATED, walk
from ..streams import analysis
from ..text import bits, format_abs_time, ipv6, mac, seconds
from . import app
from .context import Context
from .raw import Malformed, Packet
from .tree import Field

ICMP_TYPES = {0: "Echo (ping) reply", 3: "Destination unreachable", 4: "Source quench (flow control)",
              5: "Redirect", 8: "Echo (ping) request", 9: "Router advertisement", 10: "Router solicitation",
              11: "Time-to-live exceeded", 12: "Parameter problem", 13: "Timestamp request",
              14: "Timestamp reply"}
ICMP_UNREACH = {0: "Network unreachable", 1: "Host unreachable", 2: "Protocol unreachable",
                3: "Port unreachable", 4: "Fragmentation needed", 5: "Source route failed",
                9: "Network administratively prohibited", 10: "Host administratively prohibited",
                13: "Communication administratively filtered"}
ICMP_TTL = {0: "Time to live exceeded in transit", 1: "Fragment reassembly time exceeded"}
# tshark's code names for the ICMPv6 errors it names in Info (packet-icmpv6.c)
ICMPV6_CODES = {
    1: {0: "no route to destination", 1: "Communication with destination administratively prohibited",
        2: "Beyond scope of source address", 3: "Address unreachable", 4: "Port unreachable",
        5: "Source address failed ingress/egress policy", 6: "Reject route to destination"},
    3: {0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"},
}
ICMPV6_TYPES = {1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded", 4: "Parameter Problem",
                128: "Echo (ping) request", 129: "Echo (ping) reply", 130: "Multicast Listener Query",
                131: "Multicast Listener Report", 132: "Multicast Listener Done", 133: "Router Solicitation",
                134: "Router Advertisement", 135: "Neighbor Solicitation", 136: "Neighbor Advertisement",
                137: "Redirect", 143: "Multicast Listener Report Message v2"}
# Names in the Info column and the flags label, lowest bit first (tshark 4.0: 0x100 is "AE",
# any of the three reserved bits 0xE00 adds "Reserved" once, at the end).
TCP_FLAG_NAMES = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"]
# The flag items of tshark 4.0's tree, top bit first (0x100 is Accurate ECN there, not NS).
TCP_FLAG_BITS = ((0xE00, "res", "Reserved"), (0x100, "ae", "Accurate ECN"),
                 (0x80, "cwr", "Congestion Window Reduced"), (0x40, "ece", "ECN-Echo"), (0x20, "urg", "Urgent"),
                 (0x10, "ack", "Acknowledgment"), (0x08, "push", "Push"), (0x04, "reset", "Reset"),
                 (0x02, "syn", "Syn"), (0x01, "fin", "Fin"))

# tshark's option items (tcp.options.<name>) and their titles; ftptui decodes the contents of
# EOL, NOP, MSS, WS, SACK_PERM, SACK and timestamps only.  Any other kind is tcp.options.unknown.
TCP_OPTION_ITEMS = {0: ("eol", "End of Option List (EOL)"), 1: ("nop", "No-Operation (NOP)"),
                    2: ("mss", "Maximum segment size"), 3: ("wscale", "Window scale"),
                    4: ("sack_perm", "SACK permitted"), 5: ("sack", "SACK"), 6: ("echo", "Echo"),
                    7: ("echoreply", "Echo reply"), 8: ("timestamp", "Timestamps"), 11: ("cc", "CC"),
                    12: ("ccnew", "CC.NEW"), 13: ("ccecho", "CC.ECHO"), 19: ("md5", "TCP MD5 signature"),
                    20: ("scps", "SCPS capabilities"), 21: ("snack", "Selective Negative Acknowledgment"),
                    22: ("scpsrec", "SCPS record boundary"), 23: ("scpscor", "SCPS corruption experienced"),
                    27: ("qs", "Quick-Start"), 28: ("user_to", "User Timeout"), 29: ("ao", "TCP AO"),
                    34: ("tfo", "TCP Fast Open"), 76: ("rvbd.probe", "Riverbed Probe"),
                    78: ("rvbd.trpy", "Riverbed Transparency"), 172: ("acc_ecn", "Accurate ECN"),
                    174: ("acc_ecn", "Accurate ECN"), 253: ("experimental", "Experimental"),
                    254: ("experimental", "Experimental")}
# tshark's value names of tcp.option_kind (`tshark -G values`).
TCP_OPTION_KINDS = {0: "End of Option List", 1: "No-Operation", 2: "Maximum Segment Size", 3: "Window Scale",
                    4: "SACK Permitted", 5: "SACK", 6: "Echo", 7: "Echo Reply", 8: "Time Stamp Option",
                    9: "Partial Order Connection Permitted", 10: "Partial Order Service Profile", 11: "CC",
                    12: "CC.NEW", 13: "CC.ECHO", 14: "TCP Alternate Checksum Request",
                    15: "TCP Alternate Checksum Data", 16: "Skeeter", 17: "Bubba", 18: "Trailer Checksum Option",
                    19: "MD5 Signature Option", 20: "SCPS Capabilities", 21: "Selective Negative Acknowledgements",
                    22: "Record Boundaries", 23: "Corruption experienced", 24: "SNAP", 25: "Unassigned",
                    26: "TCP Compression Filter", 27: "Quick-Start Response", 28: "User Timeout Option",
                    29: "The TCP Authentication Option", 30: "Multipath TCP", 34: "TCP Fast Open Cookie",
                    76: "Riverbed Probe", 78: "Riverbed Transparency", 172: "Accurate ECN Order 0",
                    174: "Accurate ECN Order 1", 253: "RFC3692-style Experiment 1",
                    254: "RFC3692-style Experiment 2"}


def dispatch(ctx: Context, proto: int, off: int, end: int) -> None:
    if proto == 6:
        tcp(ctx, off, end)
    elif proto == 17:
        udp(ctx, off, end)
    elif proto == 1:
        icmp(ctx, off, end)
    elif proto == 58:
        icmpv6(ctx, off, end)
    elif proto == 2:
        app.igmp(ctx, off, end)
    elif not ctx.d.info:
        names = {47: "GRE", 50: "ESP", 132: "SCTP", 41: "IPv6", 4: "IPIP", 89: "OSPF"}
        if proto in names:
            ctx.d.protocol = names[proto]
        ctx.d.info = ctx.d.info or f"{ctx.d.protocol}"


def icmp(ctx: Context, off: int, end: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    typ, code = pkt.u8(off), pkt.u8(off + 1)
    d.protocol = "ICMP"
    layer = d.layer("Internet Control Message Protocol", "icmp", off, end - off)
    layer.add(f"Type: {typ} ({ICMP_TYPES.get(typ, 'Unknown')})", "icmp.type", off, 1, typ)
    layer.add(f"Code: {code}", "icmp.code", off + 1, 1, code)
    _checksum_items(ctx, layer, "icmp", off, end, b"")
    name = ICMP_TYPES.get(typ, "Unknown ICMP (obsolete or malformed?)")
    if typ in (0, 8):
        ident, seq = pkt.u16(off + 4), pkt.u16(off + 6)
        swap_id, swapped = _swap16(ident), _swap16(seq)
        layer.add(f"Identifier (BE): {ident} (0x{ident:04x})", "icmp.ident", off + 4, 2, ident)
        layer.add(f"Identifier (LE): {swap_id} (0x{swap_id:04x})", "icmp.ident_le", off + 4, 2, swap_id)
        layer.add(f"Sequence Number (BE): {seq} (0x{seq:04x})", "icmp.seq", off + 6, 2, seq)
        layer.add(f"Sequence Number (LE): {swapped} (0x{swapped:04x})", "icmp.seq_le", off + 6, 2, swapped)
        pad = "  " if typ == 8 else "    "
        d.info = f"{name}{pad}id=0x{ident:04x}, seq={seq}/{swapped}, ttl={ctx.ttl}"
        req = ctx.index.icmp_request_of.get(ctx.i)
        if typ == 0 and req is not None:
            d.info += f" (request in {req + 1})"
            _response_to(ctx, layer, "icmp", "Request frame", "Response time", req)
        data_at = _echo_timestamp(ctx, layer, off + 8, end)
        if end > data_at:
            layer.children.append(app.data_node(data_at, pkt.data[data_at:end]))
    elif typ == 3:
        d.info = f"{name} ({ICMP_UNREACH.get(code, 'Unknown')})"
    elif typ == 11:
        d.info = f"{name} ({ICMP_TTL.get(code, 'Unknown')})"
    else:
        d.info = name
    if typ in (3, 4, 5, 11, 12):
        quoted_packet(ctx, layer, off + 8, end, 4)
    d.color = "icmp" if typ in (0, 8) else "icmp-error"


def quoted_packet(ctx: Context, layer: Field, q: int, end: int, version: int) -> None:
    """The start of the packet an ICMP error quotes, as tshark shows it inside the ICMP layer: its
    IP header and the transport ports, under the usual field names (so `ip.addr`, `udp.port`
    match it, as in Wireshark).  A quote cut short just ends the items."""
    pkt = ctx.pkt
    try:
        if version == 4:
            ihl = (pkt.u8(q) & 0x0F) * 4
            src, dst, proto = pkt.bytes(q + 12, 4), pkt.bytes(q + 16, 4), pkt.u8(q + 9)
            node = layer.add(f"Internet Protocol Version 4, Src: {_v4(src)}, Dst: {_v4(dst)}", "ip", q,
                             min(ihl, end - q))
            node.add(f"Total Length: {pkt.u16(q + 2)}", "ip.len", q + 2, 2, pkt.u16(q + 2))
            node.add(f"Identification: 0x{pkt.u16(q + 4):04x} ({pkt.u16(q + 4)})", "ip.id", q + 4, 2, pkt.u16(q + 4))
            node.add(f"Time to Live: {pkt.u8(q + 8)}", "ip.ttl", q + 8, 1, pkt.u8(q + 8))
            node.add(f"Protocol: {proto}", "ip.proto", q + 9, 1, proto)
            node.add(f"Source Address: {_v4(src)}", "ip.src", q + 12, 4, src)
            node.add(f"Destination Address: {_v4(dst)}", "ip.dst", q + 16, 4, dst)
            t = q + ihl
        else:
            src, dst, proto = pkt.bytes(q + 8, 16), pkt.bytes(q + 24, 16), pkt.u8(q + 6)
            node = layer.add(f"Internet Protocol Version 6, Src: {ipv6(src)}, Dst: {ipv6(dst)}", "ipv6", q,
                             min(40, end - q))
            node.add(f"Next Header: {proto}", "ipv6.nxt", q + 6, 1, proto)
            node.add(f"Source Address: {ipv6(src)}", "ipv6.src", q + 8, 16, src)
            node.add(f"Destination Address: {ipv6(dst)}", "ipv6.dst", q + 24, 16, dst)
            t = q + 40
        if proto in (6, 17):
            sport, dport = pkt.u16(t), pkt.u16(t + 2)
            name, title = ("udp", "User Datagram Protocol") if proto == 17 else ("tcp", "Transmission Control Protocol")
            node = layer.add(f"{title}, Src Port: {sport}, Dst Port: {dport}", name, t, min(8, end - t))
            node.add(f"Source Port: {sport}", f"{name}.srcport", t, 2, sport)
            node.add(f"Destination Port: {dport}", f"{name}.dstport", t + 2, 2, dport)
    except Malformed:
        pass


def _v4(b: bytes) -> str:
    return "%d.%d.%d.%d" % tuple(b)



def _echo_timestamp(ctx: Context, layer: Field, p: int, end: int) -> int:
    """tshark reads the first 8 bytes of ping data as a timeval (big- or little-endian) when it
    is within a day of the frame's time; returns where the remaining data starts."""
    if end - p <= 8:
        return p
    now = int(ctx.index.cols.raw("ts")[ctx.i])
    raw = ctx.pkt.data[p:p + 8]
    for order in ("big", "little"):
        secs, usecs = int.from_bytes(raw[:4], order), int.from_bytes(raw[4:], order)
        diff = (secs - now // 1_000_000_000) & 0xFFFFFFFF
        if min(diff, 2**32 - diff) < 86400 and usecs < 1_000_000:
            stamp = secs * 1_000_000_000 + usecs * 1000
            layer.add(f"Timestamp from icmp data: {_abs_time(stamp)}", "icmp.data_time", p, 8, stamp)
            layer.add(f"[Timestamp from icmp data (relative): {seconds(now - stamp)} seconds]",
                      "icmp.data_time_relative", p, 8, now - stamp)
            return p + 8
    return p


def _abs_time(ns: int) -> str:
    return format_abs_time(ns)


def _swap16(v: int) -> int:
    return ((v & 0xFF) << 8) | (v >> 8)


def _checksum_items(ctx: Context, layer: Field, proto: str, off: int, end: int, pseudo: bytes) -> None:
    """The checksum and its status; tshark verifies ICMP and ICMPv6 checksums when the whole
    message was captured (ICMPv6's covers a pseudo-header: `pseudo`)."""
    pkt = ctx.pkt
    csum = pkt.u16(off + 2)
    status = 2
    if not ctx.cut:
        msg = pkt.data[off:off + 2] + b"\0\0" + pkt.data[off + 4:end]
        should = ~_ones_sum(pseudo + msg) & 0xFFFF
        status = 1 if should == csum else 0
    text = {2: "[unverified]", 1: "[correct]"}.get(status) or f"incorrect, should be 0x{should:04x}"
    layer.add(f"Checksum: 0x{csum:04x} {text}", f"{proto}.checksum", off + 2, 2, csum)
    layer.add(f"[Checksum Status: {('Bad', 'Good', 'Unverified')[status]}]", f"{proto}.checksum.status",
              value=status)


def _ones_sum(data: bytes) -> int:
    """The Internet checksum's one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = int(np.frombuffer(data, dtype=">u2").sum(dtype=np.uint64))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _response_to(ctx: Context, layer: Field, proto: str, to_title: str, time_title: str, req: int) -> None:
    """An echo reply's request frame and the time since it, in ms (FT_DOUBLE), as one-pass
    tshark shows them; resp_in (request -> reply) needs a later frame, so tshark -Y never has it."""
    ts = ctx.index.cols.raw("ts")
    ms = (int(ts[ctx.i]) - int(ts[req])) / 1e6
    layer.add(f"[{to_title}: {req + 1}]", f"{proto}.resp_to", value=req + 1)
    layer.add(f"[{time_title}: {ms:.3f} ms]", f"{proto}.resptime", value=ms)


def icmpv6(ctx: Context, off: int, end: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    typ, code = pkt.u8(off), pkt.u8(off + 1)
    d.protocol = "ICMPv6"
    layer = d.layer("Internet Control Message Protocol v6", "icmpv6", off, end - off)
    layer.add(f"Type: {ICMPV6_TYPES.get(typ, 'Unknown')} ({typ})", "icmpv6.type", off, 1, typ)
    layer.add(f"Code: {code}", "icmpv6.code", off + 1, 1, code)
    pseudo = (ctx.net_src or b"") + (ctx.net_dst or b"") + (end - off).to_bytes(4, "big") + b"\0\0\0\x3a"
    _checksum_items(ctx, layer, "icmpv6", off, end, pseudo)
    name = ICMPV6_TYPES.get(typ, f"Unknown ({typ})")
    d.color = "icmp"
    if typ in (128, 129):
        ident, seq = pkt.u16(off + 4), pkt.u16(off + 6)
        layer.add(f"Identifier: 0x{ident:04x}", "icmpv6.echo.identifier", off + 4, 2, ident)
        layer.add(f"Sequence: {seq}", "icmpv6.echo.sequence_number", off + 6, 2, seq)
        d.info = f"{name} id=0x{ident:04x}, seq={seq}, hop limit={ctx.ttl}"
        req = ctx.index.icmp_request_of.get(ctx.i)
        if typ == 129 and req is not None:
            d.info += f" (request in {req + 1})"
            _response_to(ctx, layer, "icmpv6", "Response To", "Response Time", req)
        if end > off + 8:
            layer.children.append(app.data_node(off + 8, pkt.data[off + 8:end]))
        return
    opts_at = {133: 8, 134: 16, 135: 24, 136: 24, 137: 40}.get(typ)
    lladdr = _ndp_lladdr(pkt, off + opts_at, end) if opts_at else None
    if typ == 135:
        target = ipv6(pkt.bytes(off + 8, 16))
        layer.add(f"Target Address: {target}", "icmpv6.nd.ns.target_address", off + 8, 16, target)
        d.info = f"{name} for {target}" + (f" from {mac(lladdr)}" if lladdr else "")
    elif typ == 136:
        flags = pkt.u8(off + 4)
        target = ipv6(pkt.bytes(off + 8, 16))
        layer.add(f"Target Address: {target}", "icmpv6.nd.na.target_address", off + 8, 16, target)
        names = [n for bit, n in ((0x80, "rtr"), (0x40, "sol"), (0x20, "ovr")) if flags & bit]
        d.info = f"{name} {target}" + (f" ({', '.join(names)})" if names else "")
        if lladdr:
            d.info += f" is at {mac(lladdr)}"
    elif typ in (133, 134):
        d.info = name + (f" from {mac(lladdr)}" if lladdr else "")
    else:
        d.info = name + (f" ({ICMPV6_CODES[typ].get(code, 'Unknown')})" if typ in ICMPV6_CODES else "")
        d.color = "icmp-error" if typ < 128 else "icmp"
    if typ in (1, 2, 3, 4):  # errors quote the offending packet
        quoted_packet(ctx, layer, off + 8, end, 6)


def _ndp_lladdr(pkt: Packet, p: int, end: int) -> bytes | None:
    """Source/target link-layer address option of a neighbour-discovery message."""
    while p + 2 <= end:
        otype, olen = pkt.u8(p), pkt.u8(p + 1) * 8
        if olen == 0:
            return None
        if otype in (1, 2) and olen >= 8:
            return pkt.bytes(p + 2, 6)
        p += olen
    return None


def udp(ctx: Context, off: int, end: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    sport, dport, length, csum = pkt.u16(off), pkt.u16(off + 2), pkt.u16(off + 4), pkt.u16(off + 6)
    d.protocol = "UDP"
    if d.tree:
        layer = d.layer(f"User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}", "udp", off, 8)
        layer.add(f"Source Port: {sport}", "udp.srcport", off, 2, sport)
        layer.add(f"Destination Port: {dport}", "udp.dstport", off + 2, 2, dport)
        layer.add(f"Length: {length}", "udp.length", off + 4, 2, length)
        layer.add(f"Checksum: 0x{csum:04x}", "udp.checksum", off + 6, 2, csum)
        stream = int(ctx.index.cols.raw("ustream")[ctx.i])
        if stream >= 0:  # -1 for a UDP header quoted inside an ICMP error
            layer.add(f"[Stream index: {stream}]", "udp.stream", value=stream)
    d.info = f"{sport} → {dport} Len={max(length - 8, 0)}"
    d.color = "udp"
    pay_end = min(end, off + length) if length >= 8 else end
    if pay_end > off + 8:
        app.udp_payload(ctx, off + 8, pay_end, sport, dport)


def tcp_options(pkt: Packet, p: int, end: int) -> Iterator[tuple[int, int, int, bytes | None]]:
    """Yield (kind, start, length, value) for each TCP option (store/tcp_options.walk); options
    cut off by the end of the captured bytes make the packet malformed."""
    for kind, start, length in walk(pkt.data, p, end):
        if kind == TRUNCATED:
            raise Malformed()
        yield kind, start, length, (pkt.data[start + 2:start + length] if kind > NOP else None)


def window_shift(index: PacketIndex, i: int, stream: int, direction: int) -> int | None:
    """tshark's window scaling of frame i: known only once both SYNs were seen; None when
    unscaled."""
    known = index.derived(StreamWindowShifts)
    found = known.get(2 * stream + direction)
    if found is not None:  # both SYNs seen: the shift from the later of them on
        return found[1] if i >= found[0] else None
    shifts = []
    for dr in (direction, direction ^ 1):
        f = index.tcp.syn_frame(stream, dr)
        if f < 0:  # not seen yet (a growing capture may still bring it): not remembered
            return None
        shifts.append((f, _syn_ws(index, f)))
    both_seen = max(shifts[0][0], shifts[1][0])
    shift = shifts[0][1] if shifts[0][1] is not None and shifts[1][1] is not None else None
    known[2 * stream + direction] = (both_seen, shift)
    return shift if i >= both_seen else None


class StreamWindowShifts(dict[int, tuple[int, int | None]]):
    """window_shift's answer per stream direction, once both SYNs are indexed: (the frame from
    which it holds, the shift or None) (PacketIndex.derived)."""

    def __init__(self, index: PacketIndex):
        super().__init__()


class SynWindowShifts(dict[int, int | None]):
    """_syn_ws's answers per SYN frame (PacketIndex.derived)."""

    def __init__(self, index: PacketIndex):
        super().__init__()


def _syn_ws(index: PacketIndex, frame: int) -> int | None:
    cache = index.derived(SynWindowShifts)
    if frame in cache:
        return cache[frame]
    data = index.packet_bytes(frame)
    off = int(index.cols.raw("l4off")[frame])
    pkt = Packet(data)
    shift = None
    try:
        hdr = (pkt.u8(off + 12) >> 4) * 4
        for kind, _s, _l, val in tcp_options(pkt, off + 20, off + hdr):
            if kind == 3 and val:
                shift = min(val[0], 14)
    except Exception:  # noqa: BLE001 - a broken SYN just means "no scaling"
        shift = None
    cache[frame] = shift
    return shift


def tcp_timestamps(ctx: Context, layer: Field, stream: int) -> None:
    """tshark's [Timestamps] item (shown by default): times since the stream's first frame and
    since its previous frame, in ns."""
    if stream < 0:
        return
    ts = ctx.index.cols.raw("ts")
    first = ctx.index.tcp.first_frame(stream)
    prev = _previous_in_stream(ctx.index, stream, ctx.i, first)
    rel, delta = int(ts[ctx.i]) - int(ts[first]), int(ts[ctx.i]) - int(ts[prev])
    node = layer.add("[Timestamps]")
    node.add(f"[Time since first frame in this TCP stream: {seconds(rel)} seconds]", "tcp.time_relative", value=rel)
    node.add(f"[Time since previous frame in this TCP stream: {seconds(delta)} seconds]", "tcp.time_delta",
             value=delta)


def _previous_in_stream(index: PacketIndex, stream: int, i: int, first: int) -> int:
    """The stream's frame before frame i (i itself for the first): searched backwards in
    growing windows, as it is usually close."""
    col = index.cols.raw("stream")
    hi, size = i, 64
    while hi > first:
        lo = max(first, hi - size)
        hits = np.flatnonzero(col[lo:hi] == stream)
        if len(hits):
            return lo + int(hits[-1])
        hi, size = lo, size * 4
    return min(first, i)


TCP_HEADER = struct.Struct(">HHIIHH")  # ports, sequence and ack numbers, offset and flags, window
NOP_NOP_TIMESTAMPS = bytes((NOP, NOP, 8, 10))
TIMESTAMPS = struct.Struct(">II")


def tcp(ctx: Context, off: int, end: int) -> None:
    pkt, d, index, i = ctx.pkt, ctx.d, ctx.index, ctx.i
    sport, dport, seq, ack, offflags, win = pkt.unpack(TCP_HEADER, off)
    hdr = (offflags >> 12) * 4
    flags = offflags & 0x0FFF
    d.protocol = "TCP"
    stream = int(index.cols.raw("stream")[i])
    direction = int(index.cols.raw("dir")[i])
    paylen = max(end - off - hdr, 0)
    layer = d.layer("Transmission Control Protocol", "tcp", off, hdr)
    if d.tree:
        layer.label += f", Src Port: {sport}, Dst Port: {dport}"
        layer.add(f"Source Port: {sport}", "tcp.srcport", off, 2, sport)
        layer.add(f"Destination Port: {dport}", "tcp.dstport", off + 2, 2, dport)
        layer.add(f"[Stream index: {stream}]", "tcp.stream", value=stream)
        layer.add(f"[TCP Segment Len: {paylen}]", "tcp.len", value=paylen)
    if hdr < 20:
        d.info = f"{sport} → {dport} [Bogus TCP header length ({hdr}, must be at least 20)]"
        return
    pkt.need(off, hdr)
    base = index.tcp.base(stream, direction) if stream >= 0 else -1
    rel_seq = (seq - base) & 0xFFFFFFFF if base >= 0 else seq
    rel_ack = None
    if flags & ACK:
        rbase = index.tcp.base(stream, direction ^ 1) if stream >= 0 else -1
        rel_ack = (ack - rbase) & 0xFFFFFFFF if rbase >= 0 else ack
    shift = window_shift(index, i, stream, direction) if not flags & SYN and stream >= 0 else None
    scaled = win << shift if shift is not None else win
    urg = pkt.u16(off + 18)
    if d.tree:
        _tcp_items(layer, pkt, off, paylen, rel_seq, rel_ack, shift)
    info = tcp_info(sport, dport, flags, rel_seq, rel_ack, scaled, urg, paylen)
    if hdr > 20:
        info += _options(ctx, layer, off + 20, off + hdr, stream, direction)
    d.info = info
    d.color = "tcp-syn" if flags & (SYN | FIN) else "tcp-rst" if flags & RST else "tcp"
    if d.tree:
        tcp_timestamps(ctx, layer, stream)
    seq_ack = sequence_analysis(ctx, stream)
    if d.tree and seq_ack is not None and seq_ack.present:
        analysis.add_tree(layer, seq_ack)
    if paylen:
        p = off + hdr
        avail = min(end, len(pkt.data))
        if d.tree:
            layer.add(f"TCP payload ({paylen} byte{'s' if paylen != 1 else ''})", "tcp.payload", p,
                      max(avail - p, 0))
        if seq_ack is None or not seq_ack.flags & analysis.NO_SUBDISSECTOR:
            app.tcp_payload(ctx, p, avail, paylen, sport, dport, stream)
        elif seq_ack.flags & analysis.RETRANSMISSION:
            layer.add(f"Retransmitted TCP segment data ({paylen} byte{'s' if paylen != 1 else ''})",
                      "tcp.segment_data", p, max(avail - p, 0))
        elif seq_ack.flags & analysis.KEEP_ALIVE and avail > p:  # tshark shows a keep-alive's byte as data
            data = d.layer(f"Data ({avail - p} byte{'s' if avail - p != 1 else ''})", "data", p, avail - p)
            data.add(f"Data: {pkt.data[p:avail].hex()}", "data.data", p, avail - p, pkt.data[p:avail])
            data.add(f"[Length: {avail - p}]", "data.len", value=avail - p)
    if seq_ack is not None and seq_ack.flags:
        d.info = seq_ack.labels() + d.info  # in front of the application's Info too
        if seq_ack.bad:
            d.color = "tcp-bad"


def timestamps_info(tsval: int, tsecr: int) -> str:
    """The Info text of a timestamps option."""
    return f" TSval={tsval} TSecr={tsecr}"


def tcp_info(sport: int, dport: int, flags: int, rel_seq: int, rel_ack: int | None, window: int, urg: int,
             paylen: int) -> str:
    """A segment's Info, up to its options (rel_ack None: the ACK flag is not set)."""
    info = f"{sport} → {dport} [{flag_names(flags)}] Seq={rel_seq}"
    if rel_ack is not None:
        info += f" Ack={rel_ack}"
    info += f" Win={window}"
    if flags & URG:
        info += f" Urg={urg}"
    return info + f" Len={paylen}"


def sequence_analysis(ctx: Context, stream: int) -> analysis.Analysis | None:
    """tshark's tcp.analysis of the segment (None outside a stream): from the per-stream cache,
    or from the whole capture's flags when the caller has them (all the list needs; None
    then when no flag is set)."""
    if stream < 0:
        return None
    every, i = ctx.every, ctx.i
    if every is None:
        return analysis.tcp_analysis(ctx.index, i)
    flags = int(every.flags[i])
    if not flags:
        return None
    return analysis.Analysis(flags, dupack_num=int(every.dupack_num[i]), dupack_frame=int(every.dupack_frame[i]))


@lru_cache(maxsize=None)  # at most 4096 values, a few of them common
def flag_names(flags: int) -> str:
    """The flags as the Info column and the flags item name them: "SYN, ACK", "<None>"."""
    names = [n for b, n in enumerate(TCP_FLAG_NAMES) if flags & (1 << b)] + (["Reserved"] if flags & 0xE00 else [])
    return ", ".join(names) if names else "<None>"


def _tcp_items(layer: Field, pkt: Packet, off: int, paylen: int, rel_seq: int, rel_ack: int | None,
               shift: int | None) -> None:
    """The items of a sound TCP header, up to the options; rel_ack None: the ACK flag is not set."""
    seq, ack, offflags, win = pkt.u32(off + 4), pkt.u32(off + 8), pkt.u16(off + 12), pkt.u16(off + 14)
    hdr, flags = (offflags >> 12) * 4, offflags & 0x0FFF
    layer.label += f", Seq: {rel_seq}"
    layer.add(f"Sequence Number: {rel_seq}    (relative sequence number)", "tcp.seq", off + 4, 4, rel_seq)
    layer.add(f"Sequence Number (raw): {seq}", "tcp.seq_raw", off + 4, 4, seq)
    nxt = rel_seq + paylen + (1 if flags & (SYN | FIN) else 0)
    layer.add(f"[Next Sequence Number: {nxt}    (relative sequence number)]", "tcp.nxtseq", value=nxt)
    if rel_ack is not None:
        layer.label += f", Ack: {rel_ack}"
        layer.add(f"Acknowledgment Number: {rel_ack}    (relative ack number)", "tcp.ack", off + 8, 4, rel_ack)
        layer.add(f"Acknowledgment number (raw): {ack}", "tcp.ack_raw", off + 8, 4, ack)
    else:
        layer.add("Acknowledgment Number: 0", "tcp.ack", off + 8, 4, 0)
    layer.label += f", Len: {paylen}"
    layer.add(f"{hdr >> 2:04b} .... = Header Length: {hdr} bytes ({hdr >> 2})", "tcp.hdr_len", off + 12, 1, hdr)
    fl = layer.add(f"Flags: 0x{flags:03x} ({flag_names(flags)})", "tcp.flags", off + 12, 2, flags)
    for mask, fname, title in TCP_FLAG_BITS:
        # tshark highlights the byte that holds the bit: reserved and AE live in the first one
        fl.add(f"{bits(flags, mask, 12)} = {title}: {'Set' if flags & mask else 'Not set'}", f"tcp.flags.{fname}",
               off + 12 if mask > 0xFF else off + 13, 1, bool(flags & mask))
    letters = "".join(c if flags & (0x800 >> k) else "·" for k, c in enumerate("RRRACEUAPRSF"))
    fl.add(f"[TCP Flags: {letters}]", "tcp.flags.str", off + 12, 2, letters)
    scaled = win << shift if shift is not None else win
    layer.add(f"Window: {win}", "tcp.window_size_value", off + 14, 2, win)
    layer.add(f"[Calculated window size: {scaled}]", "tcp.window_size", value=scaled)
    if shift is not None:
        layer.add(f"[Window size scaling factor: {1 << shift}]", "tcp.window_size_scalefactor", value=1 << shift)
    csum, urg = pkt.u16(off + 16), pkt.u16(off + 18)
    layer.add(f"Checksum: 0x{csum:04x}", "tcp.checksum", off + 16, 2, csum)
    layer.add(f"Urgent Pointer: {urg}", "tcp.urgent_pointer", off + 18, 2, urg)


def _options(ctx: Context, layer: Field, p: int, end: int, stream: int, direction: int) -> str:
    """The Info suffix of the options (MSS=, WS=, ...); in a full dissection also their items as
    tshark shows them, each with its Kind (and Length) byte."""
    tree = ctx.d.tree
    data = ctx.pkt.data
    if not tree and end - p == 12 and len(data) >= end and data[p:p + 4] == NOP_NOP_TIMESTAMPS:
        return timestamps_info(*TIMESTAMPS.unpack_from(data, p + 4))  # most segments' options: the list's shortcut
    opts = layer.add(f"Options: ({end - p} bytes)", "tcp.options", p, end - p) if tree else layer
    text = ""
    titles: list[str] = []
    for kind, start, length in walk(data, p, end):  # not tcp_options(): this loop runs for most packets
        if kind == TRUNCATED:
            raise Malformed()
        if kind == MALFORMED:
            opts.add("Malformed option", "_ws.malformed", start, length)
            break
        val = data[start + 2:start + length] if kind > NOP else b""  # EOL and NOP carry none
        o = _option_item(opts, kind, start, length, titles) if tree else opts
        if kind == 2 and len(val) == 2:
            mss = int.from_bytes(val, "big")
            text += f" MSS={mss}"
            if tree:
                o.label += f": {mss} bytes"
                o.add(f"MSS Value: {mss}", "tcp.options.mss_val", start + 2, 2, mss)
        elif kind == 3 and len(val) == 1:
            shift = val[0]
            text += f" WS={1 << min(shift, 14)}"
            if tree:
                o.label += f": {shift} (multiply by {1 << min(shift, 14)})"
                o.add(f"Shift count: {shift}", "tcp.options.wscale.shift", start + 2, 1, shift)
                # generated, but tshark still ties it to the shift byte
                o.add(f"[Multiplier: {1 << min(shift, 14)}]", "tcp.options.wscale.multiplier", start + 2, 1,
                      1 << min(shift, 14))
        elif kind == 4:
            text += " SACK_PERM"
        elif kind == 5:
            base = ctx.index.tcp.base(stream, direction ^ 1) if stream >= 0 else 0
            for k in range(0, len(val) - 7, 8):
                le = (int.from_bytes(val[k:k + 4], "big") - base) & 0xFFFFFFFF
                re_ = (int.from_bytes(val[k + 4:k + 8], "big") - base) & 0xFFFFFFFF
                text += f" SLE={le} SRE={re_}"
                if tree:
                    o.label += f" {le}-{re_}"
                    o.add(f"left edge = {le} (relative)", "tcp.options.sack_le", start + 2 + k, 4, le)
                    o.add(f"right edge = {re_} (relative)", "tcp.options.sack_re", start + 6 + k, 4, re_)
        elif kind == 8 and len(val) == 8:
            tsval, tsecr = TIMESTAMPS.unpack(val)
            text += timestamps_info(tsval, tsecr)
            if tree:
                o.label += f": TSval {tsval}, TSecr {tsecr}"
                o.add(f"Timestamp value: {tsval}", "tcp.options.timestamp.tsval", start + 2, 4, tsval)
                o.add(f"Timestamp echo reply: {tsecr}", "tcp.options.timestamp.tsecr", start + 6, 4, tsecr)
        elif kind not in TCP_OPTION_ITEMS and val:
            o.add(f"Payload: {val.hex()}", "tcp.options.unknown.payload", start + 2, length - 2, val)
    opts.label += "".join(", " + t for t in titles)
    return text


def _option_item(opts: Field, kind: int, start: int, length: int, titles: list[str]) -> Field:
    """One option's item with its Kind (and Length) byte; its title goes to `titles`."""
    name, title = TCP_OPTION_ITEMS.get(kind, ("unknown", "Unknown"))
    titles.append(f"Unknown (0x{kind:02x})" if name == "unknown" else title)
    o = opts.add(f"TCP Option - {title}", f"tcp.options.{name}", start, length)
    o.add(f"Kind: {TCP_OPTION_KINDS.get(kind, 'Unknown')} ({kind})", "tcp.option_kind", start, 1, kind)
    if kind > 1:
        o.add(f"Length: {length}", "tcp.option_len", start + 1, 1, length)
    return o
