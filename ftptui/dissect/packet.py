"""Dissect one packet into list columns and a field tree, as tshark 4.0 shows them.

The link and network layers live here; transport and application decoders are in their own
modules.  Every decoder reads from `pkt` (the captured bytes) with explicit bounds, so a short
or corrupt packet ends as "[Malformed Packet]" instead of an exception.
"""
from __future__ import annotations

import struct
from collections.abc import Callable

from ..capture.reader import LINK_PCAPNG_CUSTOM
from ..macnames import resolve_mac
from ..store.index import PacketIndex
from ..streams import analysis
from ..streams.analysis import AllAnalysis
from ..text import bits, format_abs_time, format_text, ipv4, ipv6, mac
from . import app, transport
from .app import tcp_payload as transport_payload_tcp
from .app import udp_payload as transport_payload_udp
from .context import Context
from .raw import Malformed, Packet
from .tree import Dissection, Field

ETHERTYPES = {0x0800: "IPv4", 0x86DD: "IPv6", 0x0806: "ARP", 0x8035: "RARP", 0x8100: "802.1Q Virtual LAN",
              0x88A8: "802.1ad Provider Bridge (Q-in-Q)", 0x88CC: "802.1 Link Layer Discovery Protocol (LLDP)"}
IP_PROTOS = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP", 58: "ICMPv6",
             0: "IPv6 Hop-by-Hop Option", 43: "Routing Header for IPv6", 44: "Fragment Header for IPv6",
             60: "Destination Options for IPv6", 59: "No Next Header for IPv6", 132: "SCTP"}
LINK_NAMES = {0: "NULL/Loopback", 1: "Ethernet", 101: "Raw IP", 12: "Raw IP", 14: "Raw IP", 108: "OpenBSD loopback",
              113: "Linux cooked-mode capture v1", 228: "Raw IPv4", 229: "Raw IPv6", 276: "Linux cooked-mode capture v2"}
NULL_FAMILIES = {2: "IP", 7: "OSI", 16: "Appletalk", 23: "Netware IPX/SPX", 24: "IPv6", 28: "IPv6", 30: "IPv6"}
# frame.encap_type is wiretap's encapsulation number, not the file's link type
WTAP_ENCAP = {0: 15, 1: 1, 101: 7, 12: 7, 14: 7, 108: 174, 113: 25, 228: 129, 229: 130, 276: 210}
# layers whose payload tshark hands to its "ethertype" dispatcher, which frame.protocols lists
ETHERTYPE_CARRIERS = {"eth", "vlan", "ieee8021ad", "sll"}


def dissect(index: PacketIndex, i: int, tree: bool = True, every: AllAnalysis | None = None) -> Dissection:
    """Dissection of packet i (0-based) of a PacketIndex: its list columns, and its whole tree
    unless `tree` is False (the batch packet list, which prints the columns only).  `every`:
    the TCP analysis of the whole capture (TcpAnalysis.all()), cheaper per packet than the
    per-stream cache for a caller that goes through (nearly) every packet; the tree's analysis
    figures need the cache."""
    cols = index.cols
    data = index.packet_bytes(i)
    ts = int(cols.raw("ts")[i])
    rel = ts - (index.first_ts or ts)
    digits = int(cols.raw("prec")[i])
    d = Dissection(number=i + 1, time=format_time(rel, digits), length=int(cols.raw("origlen")[i]), tree=tree)
    link = int(cols.raw("link")[i])
    if link == LINK_PCAPNG_CUSTOM:
        return custom_block(index, i, d, data)
    pkt = Packet(data)
    if tree:
        frame = frame_layer(index, i, d, len(data), link)
        if digits >= 0:  # a Simple Packet Block has no timestamp, and tshark shows no times at all
            frame_times(index, i, frame, ts, rel)
        frame.add(f"Frame Number: {i + 1}", "frame.number", value=i + 1)
        frame.add(f"Frame Length: {d.length} bytes ({d.length * 8} bits)", "frame.len", value=d.length)
        frame.add(f"Capture Length: {len(data)} bytes ({len(data) * 8} bits)", "frame.cap_len", value=len(data))
        frame.add("[Frame is marked: False]", "frame.marked", value=False)  # no marking in a one-pass read
        frame.add("[Frame is ignored: False]", "frame.ignored", value=False)
    ctx = Context(index, i, d, pkt, None if tree else every)
    try:
        link_layer(ctx, link)
    except Malformed:
        d.malformed = True
        d.protocol = d.protocol or "Frame"
        d.info = (d.info + " " if d.info else "") + "[Malformed Packet]"
        d.layers.append(Field("[Malformed Packet: " + (d.protocol or "Frame") + "]", "_ws.malformed",
                              0, 0))
        d.color = "error"
    if tree:
        names = protocol_path(d)
        frame.add(f"[Protocols in frame: {names}]", "frame.protocols", value=names)
        clamp_ranges(d, len(data))
    return d


def clamp_ranges(d: Dissection, size: int) -> None:
    """A header that claims more bytes than were captured: its fields cover what is there, as
    tshark's do."""
    todo = list(d.layers)  # a plain loop: this runs for every packet dissected
    while todo:
        f = todo.pop()
        if f.start + f.length > size:
            f.start = min(f.start, size)
            f.length = max(0, size - f.start)
        if f.children:
            todo.extend(f.children)


def frame_layer(index: PacketIndex, i: int, d: Dissection, caplen: int, link: int) -> Field:
    """The frame item with its pcapng interface (tshark shows one only for pcapng files)."""
    iface = int(index.cols.raw("iface")[i])
    name = format_text(index.cap.if_names.get(iface, "unknown").encode("utf-8", "surrogateescape"))
    title = (f"Frame {i + 1}: {d.length} bytes on wire ({d.length * 8} bits), "
             f"{caplen} bytes captured ({caplen * 8} bits)")
    if iface >= 0:
        title += f" on interface {name}, id {iface}"
    frame = d.layer(title, "frame", 0, caplen)
    if iface >= 0:
        frame.add(f"Interface id: {iface} ({name})", "frame.interface_id", value=iface).add(
            f"Interface name: {name}", "frame.interface_name", value=name)
    encap = WTAP_ENCAP.get(link, link)
    frame.add(f"Encapsulation type: {LINK_NAMES.get(link, link)} ({encap})", "frame.encap_type", value=encap)
    return frame


def frame_times(index: PacketIndex, i: int, frame: Field, ts: int, rel: int) -> None:
    """Arrival time, epoch and the deltas, all as tshark's generated items (ints in ns)."""
    frame.add(f"Arrival Time: {format_abs_time(ts)}", "frame.time", value=ts)
    frame.add("[Time shift for this packet: 0.000000000 seconds]", "frame.offset_shift", value=0)
    frame.add(f"Epoch Time: {format_time(ts, 9)} seconds", "frame.time_epoch", value=ts)
    delta = ts - previous_ts(index, i)
    frame.add(f"[Time delta from previous captured frame: {format_time(delta, 9)} seconds]", "frame.time_delta",
              value=delta)
    # tshark -Y filters in one pass, before any frame is "displayed": this delta is always 0 there
    frame.add("[Time delta from previous displayed frame: 0.000000000 seconds]", "frame.time_delta_displayed",
              value=0)
    frame.add(f"[Time since reference or first frame: {format_time(rel, 9)} seconds]", "frame.time_relative",
              value=rel)


def previous_ts(index: PacketIndex, i: int) -> int:
    """Timestamp of the previous captured frame (a frame's own for the first).  pcapng custom
    blocks do not count as frames here; a block without a time counts as time 0, as in tshark."""
    cols = index.cols
    k = i - 1
    while k >= 0 and int(cols.raw("link")[k]) == LINK_PCAPNG_CUSTOM:
        k -= 1
    return int(cols.raw("ts")[k if k >= 0 else i])


def protocol_path(d: Dissection) -> str:
    """frame.protocols: the layers' names joined by ':', as tshark lists the dissectors it called
    (with its "ethertype" dispatcher, and the data dissector under ICMP's echo data)."""
    names = []
    for layer in d.layers[1:]:
        if not layer.name or layer.name.startswith("_ws."):
            continue  # the malformed marker is not a dissector
        names.append(layer.name)
        if layer.name in ETHERTYPE_CARRIERS and not any(c.name == "eth.len" for c in layer.children):
            names.append("ethertype")
        names += [c.name for c in layer.children if c.name == "data"]
    return ":".join(names)


# Private Enterprise Numbers (IANA) worth naming; tshark knows them all, others show as Unknown.
ENTERPRISES = {0: "Reserved", 9: "ciscoSystems", 2636: "Juniper Networks, Inc.",
               32473: "Example Enterprise Number for Documentation Use"}


def custom_block(index: PacketIndex, i: int, d: Dissection, data: bytes) -> Dissection:
    """A pcapng Custom Block, which tshark lists as a frame of its own."""
    pen, copy = index.cap.custom_blocks.get(int(index.cols.raw("offset")[i]), (0, True))
    pen_text = f"{ENTERPRISES.get(pen, 'Unknown')} ({pen})"
    n = len(data)
    frame = d.layer(f"PCAPNG Custom Block {d.number}: {n} bytes ({n * 8} bits) of custom data and options, "
                    f"PEN {pen_text}, copying {'allowed' if copy else 'not allowed'}", "frame", 0, n)
    frame.add(f"Frame Number: {d.number}", "frame.number", value=d.number)
    frame.add(f"Frame Length: {n} bytes ({n * 8} bits)", "frame.len", value=n)
    frame.add(f"Capture Length: {n} bytes ({n * 8} bits)", "frame.cap_len", value=n)
    frame.add("[Frame is marked: False]", "frame.marked", value=False)
    frame.add("[Frame is ignored: False]", "frame.ignored", value=False)
    frame.add(f"Private Enterprise Number: {pen_text}", "frame.cb_pen", value=pen)
    frame.add(f"Copying: {'Allowed' if copy else 'Not Allowed'}", "frame.cb_copy", value=copy)
    frame.add("[Protocols in frame: data]", "frame.protocols", value="data")
    payload = d.layer(f"Data ({n} bytes)", "data", 0, n)
    payload.add(f"Data: {data.hex()}", "data.data", 0, n, data)
    payload.add(f"[Length: {n}]", "data.len", value=n)
    d.protocol = "PCAPNG"
    d.info = f"Custom Block: PEN = {pen_text}, will {'' if copy else 'not '}be copied"
    return d


def format_time(ns: int, digits: int) -> str:
    """Seconds with `digits` decimals, truncated as tshark truncates; "" when the packet has no
    timestamp (digits -1: a pcapng Simple Packet Block)."""
    if digits < 0:
        return ""
    sign = "-" if ns < 0 else ""
    secs, frac = divmod(abs(ns), 1_000_000_000)
    if digits == 0:
        return f"{sign}{secs}"
    return f"{sign}{secs}.{frac // 10 ** (9 - digits):0{digits}d}"


def dissect_payload(index: PacketIndex, i: int) -> Dissection:
    """Only the application layer of packet i: its TCP or UDP payload run through the same
    decoders `dissect` ends in, without building the link, IP and transport trees.  Filters on
    application fields (dns.*, http.*, ftp.*) use it on plain TCP/UDP packets: a third of the
    cost of a full dissection."""
    cols = index.cols
    data = index.packet_bytes(i)
    d = Dissection(number=i + 1, time="", length=int(cols.raw("origlen")[i]))
    ctx = Context(index, i, d, Packet(data))
    l4, proto = int(cols.raw("l4off")[i]), int(cols.raw("ipproto")[i])
    v6 = int(cols.raw("ethertype")[i]) == 0x86DD
    ctx.net_src = index.address(i, "src") if v6 else index.address(i, "src")[12:]
    ctx.net_dst = index.address(i, "dst") if v6 else index.address(i, "dst")[12:]
    sport, dport = int(cols.raw("sport")[i]), int(cols.raw("dport")[i])
    try:
        if proto == 6:
            p = l4 + (data[l4 + 12] >> 4) * 4
            paylen = int(cols.raw("paylen")[i])
            seq_ack = analysis.tcp_analysis(index, i)  # tshark hands retransmitted data to no application
            if paylen and (seq_ack is None or not seq_ack.flags & analysis.NO_SUBDISSECTOR):
                transport_payload_tcp(ctx, p, min(p + paylen, len(data)), paylen, sport, dport,
                                      int(cols.raw("stream")[i]))
        elif proto == 17:
            length = struct.unpack_from(">H", data, l4 + 4)[0]
            end = min(l4 + length, len(data)) if length >= 8 else len(data)
            if end > l4 + 8:
                transport_payload_udp(ctx, l4 + 8, end, sport, dport)
    except (Malformed, IndexError, struct.error):
        d.malformed = True
    return d


def link_layer(ctx: Context, link: int) -> None:
    """Wireshark's wtap_encap table: the link type picks the first decoder."""
    decode = LINK_TYPES.get(link)
    if decode is None:
        ctx.d.protocol = "Frame"
        ctx.d.info = f"Unsupported link type {link}"
        return
    decode(ctx, link)


ETHERNET_HEADER = struct.Struct(">6s6sH")  # destination, source, type or length


def _ethernet(ctx: Context, link: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    dst, src, et = pkt.unpack(ETHERNET_HEADER, 0)
    if et in (0x0800, 0x86DD) and not d.tree:
        # the IP layer names the columns; MAC names (a few us each) only if it stops before
        d.protocol = "Ethernet"
        try:
            ethertype(ctx, et, 14)
        finally:
            if not d.source:
                d.source, d.destination = resolve_mac(src), resolve_mac(dst)
        return
    d.source, d.destination = resolve_mac(src), resolve_mac(dst)
    d.protocol = "Ethernet"
    if d.tree:
        eth = d.layer(f"Ethernet II, Src: {_mac_label(src)}, Dst: {_mac_label(dst)}", "eth", 0, 14)
        _address_bits(eth.add(f"Destination: {_mac_label(dst)}", "eth.dst", 0, 6, dst), "eth.dst", 0, dst)
        _address_bits(eth.add(f"Source: {_mac_label(src)}", "eth.src", 6, 6, src), "eth.src", 6, src)
        if et <= 1500:
            eth.label = "IEEE 802.3 Ethernet "  # tshark names no addresses here
            eth.add(f"Length: {et}", "eth.len", 12, 2, et)
        else:
            eth.add(f"Type: {ETHERTYPES.get(et, 'Unknown')} (0x{et:04x})", "eth.type", 12, 2, et)
    if et <= 1500:
        app.llc(ctx, 14, dst)
        return
    off = 14
    while et in (0x8100, 0x88A8, 0x9100):
        tci, inner = pkt.u16(off), pkt.u16(off + 2)
        (provider_tag if et == 0x88A8 else vlan_tag)(d, off, tci, inner)
        d.protocol = "VLAN"
        et, off = inner, off + 4
    ethertype(ctx, et, off)


def _raw_ip(ctx: Context, link: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    ver = pkt.u8(0) >> 4
    if link == 228:
        ver = 4
    elif link == 229:
        ver = 6
    if link not in (228, 229):  # tshark shows no "Raw packet data" item for these two
        d.layer("Raw packet data", "raw", 0, len(pkt.data))
    ethertype(ctx, 0x0800 if ver == 4 else 0x86DD if ver == 6 else 0, 0)


def _sll(ctx: Context, link: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    ptype, hatype, alen = pkt.u16(0), pkt.u16(2), pkt.u16(4)
    addr = pkt.bytes(6, min(alen, 8))
    et = pkt.u16(14)
    s = d.layer("Linux cooked capture v1", "sll", 0, 16)
    s.add(f"Packet type: {ptype}", "sll.pkttype", 0, 2, ptype)
    s.add(f"Link-layer address type: {hatype}", "sll.hatype", 2, 2, hatype)
    s.add(f"Source: {mac(addr)}", "sll.src.eth", 6, len(addr), addr)
    s.add(f"Protocol: {ETHERTYPES.get(et, 'Unknown')} (0x{et:04x})", "sll.etype", 14, 2, et)
    if len(addr) == 6:
        d.source = resolve_mac(addr)
    d.protocol = "SLL"
    ethertype(ctx, et, 16)


def _sll2(ctx: Context, link: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    et, ifindex = pkt.u16(0), pkt.u32(4)
    hatype, ptype, alen = pkt.u16(8), pkt.u8(10), pkt.u8(11)
    addr = pkt.bytes(12, min(alen, 8))
    s = d.layer("Linux cooked capture v2", "sll", 0, 20)
    s.add(f"Protocol: {ETHERTYPES.get(et, 'Unknown')} (0x{et:04x})", "sll.etype", 0, 2, et)
    s.add(f"Interface index: {ifindex}", "sll.ifindex", 4, 4, ifindex)
    s.add(f"Link-layer address type: {hatype}", "sll.hatype", 8, 2, hatype)
    s.add(f"Packet type: {ptype}", "sll.pkttype", 10, 1, ptype)
    s.add(f"Source: {mac(addr)}", "sll.src.eth", 12, len(addr), addr)
    if len(addr) == 6:
        d.source = resolve_mac(addr)
    d.protocol = "SLL"
    ethertype(ctx, et, 20)


def _null(ctx: Context, link: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    raw = pkt.bytes(0, 4)
    fam = struct.unpack(">I" if link == 108 else "<I", raw)[0]
    if link == 0 and fam > 0xFFFF:
        fam = struct.unpack(">I", raw)[0]
    name = NULL_FAMILIES.get(fam)
    d.layer("Null/Loopback", "null", 0, 4).add(f"Family: {name} ({fam})" if name else f"Family: Unknown ({fam})",
                                              "null.family", 0, 4, fam)
    d.protocol = "NULL"
    ethertype(ctx, 0x0800 if fam == 2 else 0x86DD if fam in (10, 24, 28, 30) else 0, 4)


# link type -> first decoder (the links LINK_NAMES names)
LINK_TYPES: dict[int, Callable[[Context, int], None]] = {
    1: _ethernet, 101: _raw_ip, 12: _raw_ip, 14: _raw_ip, 228: _raw_ip, 229: _raw_ip,
    113: _sll, 276: _sll2, 0: _null, 108: _null,
}


def _address_bits(node: Field, name: str, off: int, addr: bytes) -> None:
    """The LG and IG bits of a MAC address, each over its first 3 bytes; eth.lg / eth.ig are
    tshark's hidden copies that a filter on either address finds."""
    oui = int.from_bytes(addr[:3], "big")
    lg, ig = bool(oui & 0x020000), bool(oui & 0x010000)
    lg_text = ("Locally administered address (this is NOT the factory default)" if lg
               else "Globally unique address (factory default)")
    ig_text = "Group address (multicast/broadcast)" if ig else "Individual address (unicast)"
    for bit, value, title, text in (("lg", lg, "LG", lg_text), ("ig", ig, "IG", ig_text)):
        label = f"{bits(oui, 0x020000 if bit == 'lg' else 0x010000, 24)} = {title} bit: {text}"
        node.add(label, f"{name}.{bit}", off, 3, value)
        node.add(label, f"eth.{bit}", off, 3, value, hidden=True)


VLAN_PRIORITIES = ("Best Effort (default)", "Background", "Excellent Effort", "Critical Applications",
                   "Video, < 100ms latency and jitter", "Voice, < 10ms latency and jitter", "Internetwork Control",
                   "Network Control")


def vlan_tag(d: Dissection, off: int, tci: int, inner: int) -> None:
    """An 802.1Q tag: every TCI part highlights both TCI bytes, as in tshark."""
    pri, dei, vid = tci >> 13, (tci >> 12) & 1, tci & 0xFFF
    v = d.layer(f"802.1Q Virtual LAN, PRI: {pri}, DEI: {dei}, ID: {vid}", "vlan", off, 4)
    v.add(f"{bits(tci, 0xE000, 16)} = Priority: {VLAN_PRIORITIES[pri]} ({pri})", "vlan.priority", off, 2, pri)
    v.add(f"{bits(tci, 0x1000, 16)} = DEI: {'Eligible' if dei else 'Ineligible'}", "vlan.dei", off, 2, bool(dei))
    v.add(f"{bits(tci, 0x0FFF, 16)} = ID: {vid}", "vlan.id", off, 2, vid)
    v.add(f"Type: {ETHERTYPES.get(inner, 'Unknown')} (0x{inner:04x})", "vlan.etype", off + 2, 2, inner)


def provider_tag(d: Dissection, off: int, tci: int, inner: int) -> None:
    """An 802.1ad S-tag (ethertype 0x88a8): its own protocol in tshark, not a second vlan.
    tshark highlights one byte for priority and DEI, and names the type ieee8021ah.etype."""
    pri, dei, vid = tci >> 13, (tci >> 12) & 1, tci & 0xFFF
    v = d.layer(f"IEEE 802.1ad, ID: {vid}", "ieee8021ad", off, 4)
    v.add(f"{bits(tci, 0xE000, 16)} = Priority: {pri}", "ieee8021ad.priority", off, 1, pri)
    v.add(f"{bits(tci, 0x1000, 16)} = DEI: {dei}", "ieee8021ad.dei", off, 1, dei)
    v.add(f"{bits(tci, 0x0FFF, 16)} = ID: {vid}", "ieee8021ad.id", off, 2, vid)
    v.add(f"Type: {ETHERTYPES.get(inner, 'Unknown')} (0x{inner:04x})", "ieee8021ah.etype", off + 2, 2, inner)


def _mac_label(b: bytes) -> str:
    name, plain = resolve_mac(b), mac(b)
    return plain if name == plain else f"{name} ({plain})"


def ethertype(ctx: Context, et: int, off: int) -> None:
    d = ctx.d
    if et == 0x0800:
        ip4(ctx, off)
    elif et == 0x86DD:
        ip6(ctx, off)
    elif et in (0x0806, 0x8035):
        arp(ctx, off, et)
    else:
        if et == 0x88CC:
            d.protocol = "LLDP"
        elif et:
            d.protocol = d.protocol or "Ethernet"
        if len(ctx.pkt.data) > off:
            d.layers.append(app.data_node(off, ctx.pkt.data[off:]))
        if not d.info:
            d.info = "Ethernet II" if d.protocol == "Ethernet" else d.info


def arp(ctx: Context, off: int, et: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    htype, ptype, hlen, plen, op = pkt.u16(off), pkt.u16(off + 2), pkt.u8(off + 4), pkt.u8(off + 5), pkt.u16(off + 6)
    p = off + 8
    sha, spa = pkt.bytes(p, hlen), pkt.bytes(p + hlen, plen)
    tha, tpa = pkt.bytes(p + hlen + plen, hlen), pkt.bytes(p + 2 * hlen + plen, plen)
    rarp = et == 0x8035 or op in (3, 4)
    d.protocol = "RARP" if rarp else "ARP"
    opnames = {1: "request", 2: "reply", 3: "reverse request", 4: "reverse reply"}
    size = 8 + 2 * (hlen + plen)
    title = "Address Resolution Protocol" if not rarp else "Reverse Address Resolution Protocol"
    layer = d.layer(f"{title} ({opnames.get(op, op)})", "arp", off, size)
    layer.add(f"Hardware type: {htype}", "arp.hw.type", off, 2, htype)
    layer.add(f"Protocol type: 0x{ptype:04x}", "arp.proto.type", off + 2, 2, ptype)
    layer.add(f"Hardware size: {hlen}", "arp.hw.size", off + 4, 1, hlen)
    layer.add(f"Protocol size: {plen}", "arp.proto.size", off + 5, 1, plen)
    layer.add(f"Opcode: {opnames.get(op, 'unknown')} ({op})", "arp.opcode", off + 6, 2, op)
    _arp_kind(layer, op, spa, tpa, tha)
    spa_s = ipv4(spa) if plen == 4 else spa.hex()
    tpa_s = ipv4(tpa) if plen == 4 else tpa.hex()
    layer.add(f"Sender MAC address: {_mac_label(sha)}", "arp.src.hw_mac", p, hlen, sha)
    layer.add(f"Sender IP address: {spa_s}", "arp.src.proto_ipv4", p + hlen, plen, spa)
    layer.add(f"Target MAC address: {_mac_label(tha)}", "arp.dst.hw_mac", p + hlen + plen, hlen, tha)
    layer.add(f"Target IP address: {tpa_s}", "arp.dst.proto_ipv4", p + 2 * hlen + plen, plen, tpa)
    if op == 1:
        if spa == tpa and any(spa):
            d.info = (f"ARP Announcement for {spa_s}" if not any(tha)
                      else f"Gratuitous ARP for {spa_s} (Request)")
        elif not any(spa):
            d.info = f"Who has {tpa_s}? (ARP Probe)"
        else:
            d.info = f"Who has {tpa_s}? Tell {spa_s}"
    elif op == 2:
        d.info = f"Gratuitous ARP for {spa_s} (Reply)" if spa == tpa else f"{spa_s} is at {mac(sha)}"
    elif op == 3:
        d.info = f"Who is {mac(tha)}? Tell {mac(sha)}"
    elif op == 4:
        d.info = f"{mac(tha)} is at {tpa_s}"
    else:
        d.info = f"Unknown ARP opcode 0x{op:04x}"


def _arp_kind(layer: Field, op: int, spa: bytes, tpa: bytes, tha: bytes) -> None:
    """tshark's generated flags, added only when true, and the title they give the layer."""
    probe = op == 1 and not any(spa)
    announcement = op == 1 and spa == tpa and any(spa) and not any(tha)
    gratuitous = spa == tpa and (op == 2 or (op == 1 and any(spa)))
    for flag, name, title in ((gratuitous, "isgratuitous", "Is gratuitous"), (probe, "isprobe", "Is probe"),
                              (announcement, "isannouncement", "Is announcement")):
        if flag:
            layer.add(f"[{title}: True]", f"arp.{name}", value=True)
    if announcement or probe:
        layer.label = layer.label.split(" (")[0] + (" (ARP Announcement)" if announcement else " (ARP Probe)")
    elif gratuitous:
        layer.label = layer.label[:-1] + "/gratuitous ARP)"


# version and header length, DS field, total length, identification, flags and fragment offset,
# TTL, protocol, checksum, addresses
IP4_HEADER = struct.Struct(">BBHHHBBH4s4s")


def ip4(ctx: Context, off: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    vihl, _, total, ident, fl, ttl, proto, _, src, dst = pkt.unpack(IP4_HEADER, off)
    ihl = (vihl & 0xF) * 4
    version = vihl >> 4
    if version == 6:  # tshark hands an IPv6 header behind ethertype IPv4 to its IPv6 dissector
        ip6(ctx, off)
        return
    # a bogus version or header length: tshark stops there, before the addresses
    bogus = (f"Bogus IPv4 version ({version}, must be 4)" if version != 4 else
             f"Bogus IP header length ({ihl}, must be at least 20)" if ihl < 20 else
             f"Bogus IP length ({total}, less than header length {ihl})" if 0 < total < ihl else None)
    if bogus:
        d.protocol, d.info = "IPv4", bogus
        layer = d.layer("Internet Protocol Version 4", "ip", off, 20 if version != 4 else ihl)
        layer.add(f"{version:04b} .... = Version: {version}", "ip.version", off, 1, version)
        if version == 4:
            layer.add(f".... {vihl & 0xF:04b} = Header Length: {ihl} bytes ({vihl & 0xF})", "ip.hdr_len", off, 1, ihl)
        if version == 4 and ihl >= 20:
            _dsfield(layer, off + 1, pkt.u8(off + 1))
            layer.add(f"Total Length: {total} bytes (bogus, less than header length {ihl})", "ip.len", off + 2, 2,
                      total)
        return
    d.source, d.destination, d.protocol = ipv4(src), ipv4(dst), "IPv4"
    ctx.net_src, ctx.net_dst, ctx.ttl = src, dst, ttl
    if d.tree:
        _ip4_tree(ctx, off, ihl)  # its layer even when the header is cut short (then Malformed)
    pkt.need(off, ihl)
    frag = (fl & 0x1FFF) * 8
    end = min(off + max(total, ihl), len(pkt.data)) if total else len(pkt.data)
    ctx.proto_end, ctx.cut = end, off + total > len(pkt.data)
    if frag or fl & 0x2000:
        d.info = (f"Fragmented IP protocol (proto={IP_PROTOS.get(proto, 'Unknown')} {proto}, "
                  f"off={frag}, ID={ident:04x})")
        if frag:
            return
    transport.dispatch(ctx, proto, off + ihl, end)


def _ip4_tree(ctx: Context, off: int, ihl: int) -> None:
    """The layer of a sound IPv4 header, and its items once all its bytes are known captured."""
    pkt, d = ctx.pkt, ctx.d
    layer = d.layer(f"Internet Protocol Version 4, Src: {d.source}, Dst: {d.destination}", "ip", off, ihl)
    pkt.need(off, ihl)
    vihl, total, ident, fl = pkt.u8(off), pkt.u16(off + 2), pkt.u16(off + 4), pkt.u16(off + 6)
    version, ihl, ttl, proto = vihl >> 4, (vihl & 0xF) * 4, pkt.u8(off + 8), pkt.u8(off + 9)
    src, dst = pkt.bytes(off + 12, 4), pkt.bytes(off + 16, 4)
    layer.add(f"{version:04b} .... = Version: {version}", "ip.version", off, 1, version)
    layer.add(f".... {vihl & 0xF:04b} = Header Length: {ihl} bytes ({vihl & 0xF})", "ip.hdr_len", off, 1, ihl)
    _dsfield(layer, off + 1, pkt.u8(off + 1))
    layer.add(f"Total Length: {total}", "ip.len", off + 2, 2, total)
    layer.add(f"Identification: 0x{ident:04x} ({ident})", "ip.id", off + 4, 2, ident)
    names = [n for bit, n in ((0x8000, "Reserved bit"), (0x4000, "Don't fragment"), (0x2000, "More fragments"))
             if fl & bit]
    flags = layer.add(f"{bits(fl >> 8, 0xE0, 8)} = Flags: 0x{fl >> 13:x}" + "".join(", " + n for n in names),
                      "ip.flags", off + 6, 1, fl >> 13)
    for mask, fname, title in ((0x8000, "rb", "Reserved bit"), (0x4000, "df", "Don't fragment"),
                               (0x2000, "mf", "More fragments")):
        flags.add(f"{bits(fl >> 8, mask >> 8, 8)} = {title}: {'Set' if fl & mask else 'Not set'}",
                  f"ip.flags.{fname}", off + 6, 1, bool(fl & mask))
    frag = (fl & 0x1FFF) * 8
    layer.add(f"{bits(fl, 0x1FFF, 16)} = Fragment Offset: {frag}", "ip.frag_offset", off + 6, 2, frag)
    layer.add(f"Time to Live: {ttl}", "ip.ttl", off + 8, 1, ttl)
    layer.add(f"Protocol: {IP_PROTOS.get(proto, 'Unknown')} ({proto})", "ip.proto", off + 9, 1, proto)
    csum = pkt.u16(off + 10)
    # tshark does not verify IPv4 checksums by default
    layer.add(f"Header Checksum: 0x{csum:04x} [validation disabled]", "ip.checksum", off + 10, 2, csum)
    layer.add("[Header checksum status: Unverified]", "ip.checksum.status", value=2)
    layer.add(f"Source Address: {ipv4(src)}", "ip.src", off + 12, 4, src)
    layer.add(f"Destination Address: {ipv4(dst)}", "ip.dst", off + 16, 4, dst)


def _dsfield(layer: Field, off: int, tos: int) -> None:
    dscp, ecn = tos >> 2, tos & 3
    short, long = _dscp_names(dscp)
    ds = layer.add(f"Differentiated Services Field: 0x{tos:02x} (DSCP: {short}, ECN: {ECN_SHORT[ecn]})",
                   "ip.dsfield", off, 1, tos)
    ds.add(f"{bits(tos, 0xFC, 8)} = Differentiated Services Codepoint: {long} ({dscp})", "ip.dsfield.dscp",
           off, 1, dscp)
    ds.add(f"{bits(tos, 0x03, 8)} = Explicit Congestion Notification: {ECN_NAMES[ecn]} ({ecn})",
           "ip.dsfield.ecn", off, 1, ecn)


ECN_SHORT = ("Not-ECT", "ECT(1)", "ECT(0)", "CE")
ECN_NAMES = ("Not ECN-Capable Transport", "ECN-Capable Transport codepoint '01'",
             "ECN-Capable Transport codepoint '10'", "Congestion Experienced")


def _dscp_names(dscp: int) -> tuple[str, str]:
    """tshark's short and long name of a DSCP value (CS0/Default, AF21/Assured Forwarding 21, ...)."""
    x, y = divmod(dscp, 8)
    if dscp == 0:
        return "CS0", "Default"
    if y == 0:
        return f"CS{x}", f"Class Selector {x}"
    if 1 <= x <= 4 and y in (2, 4, 6):
        return f"AF{x}{y // 2}", f"Assured Forwarding {x}{y // 2}"
    return {1: ("LE", "Lower Effort"), 44: ("VOICE-ADMIT", "Voice Admit"),
            46: ("EF PHB", "Expedited Forwarding")}.get(dscp, ("Unknown", "Unknown"))


def ip6(ctx: Context, off: int) -> None:
    pkt, d = ctx.pkt, ctx.d
    plen, nxt, hlim = pkt.u16(off + 4), pkt.u8(off + 6), pkt.u8(off + 7)
    src, dst = pkt.bytes(off + 8, 16), pkt.bytes(off + 24, 16)
    d.source, d.destination, d.protocol = ipv6(src), ipv6(dst), "IPv6"
    ctx.net_src, ctx.net_dst, ctx.ttl = src, dst, hlim
    layer = d.layer(f"Internet Protocol Version 6, Src: {d.source}, Dst: {d.destination}", "ipv6", off, 40)
    if d.tree:
        _ip6_items(layer, pkt, off)
    end = min(off + 40 + plen, len(pkt.data))
    ctx.proto_end, ctx.cut = end, off + 40 + plen > len(pkt.data)
    p = off + 40
    for _ in range(8):
        if nxt in (0, 43, 60):
            hlen = (pkt.u8(p + 1) + 1) * 8
            layer.add(f"{IP_PROTOS[nxt]}", "ipv6.opt" if nxt != 43 else "ipv6.routing", p, hlen)
            nxt = pkt.u8(p)
            p += hlen
        elif nxt == 44:
            fo = pkt.u16(p + 2)
            layer.add("Fragment Header for IPv6", "ipv6.fraghdr", p, 8)
            inner = pkt.u8(p)
            p += 8
            if fo >> 3:
                d.info = f"IPv6 fragment (off={(fo >> 3) * 8} more={'y' if fo & 1 else 'n'} ident=0x{pkt.u32(p - 4):08x} nxt={inner})"
                return
            nxt = inner
        else:
            break
    transport.dispatch(ctx, nxt, p, end)


def _ip6_items(layer: Field, pkt: Packet, off: int) -> None:
    """The items of the fixed IPv6 header (all 40 bytes captured)."""
    first = pkt.u32(off)
    plen, nxt, hlim = pkt.u16(off + 4), pkt.u8(off + 6), pkt.u8(off + 7)
    src, dst = pkt.bytes(off + 8, 16), pkt.bytes(off + 24, 16)
    layer.add(f"{first >> 28:04b} .... = Version: {first >> 28}", "ipv6.version", off, 1, first >> 28)
    layer.add(f"{first >> 28:04b} .... = Version: {first >> 28}", "ip.version", off, 1, first >> 28,
              hidden=True)  # tshark's, so that "ip.version == 6" matches
    # tshark reads the class and its parts from the whole first word, so they highlight all 4 bytes
    tclass, dscp, ecn = (first >> 20) & 0xFF, (first >> 22) & 0x3F, (first >> 20) & 3
    short, long = _dscp_names(dscp)
    tc = layer.add(f"{bits(first, 0x0FF00000, 32)} = Traffic Class: 0x{tclass:02x} (DSCP: {short}, "
                   f"ECN: {ECN_SHORT[ecn]})", "ipv6.tclass", off, 4, tclass)
    tc.add(f"{bits(first, 0x0FC00000, 32)} = Differentiated Services Codepoint: {long} ({dscp})",
           "ipv6.tclass.dscp", off, 4, dscp)
    tc.add(f"{bits(first, 0x00300000, 32)} = Explicit Congestion Notification: {ECN_NAMES[ecn]} ({ecn})",
           "ipv6.tclass.ecn", off, 4, ecn)
    layer.add(f"{bits(first, 0xFFFFF, 24)} = Flow Label: 0x{first & 0xFFFFF:05x}", "ipv6.flow", off + 1, 3,
              first & 0xFFFFF)
    layer.add(f"Payload Length: {plen}", "ipv6.plen", off + 4, 2, plen)
    layer.add(f"Next Header: {IP_PROTOS.get(nxt, 'Unknown')} ({nxt})", "ipv6.nxt", off + 6, 1, nxt)
    layer.add(f"Hop Limit: {hlim}", "ipv6.hlim", off + 7, 1, hlim)
    layer.add(f"Source Address: {ipv6(src)}", "ipv6.src", off + 8, 16, src)
    layer.add(f"Destination Address: {ipv6(dst)}", "ipv6.dst", off + 24, 16, dst)
