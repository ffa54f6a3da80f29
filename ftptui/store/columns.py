"""Pull the few header fields the index needs out of a whole batch of packets at once.

Everything here works on numpy arrays of byte positions into the batch buffer, so a batch of
100k packets costs a few dozen vectorised gathers instead of 100k Python calls.  Fields that do
not fit inside a packet's captured bytes are left at their "absent" value, and the row's full
dissection later reports the packet as malformed.
"""
from __future__ import annotations

import numpy as np

# Link-layer header types (www.tcpdump.org/linktypes.html)
LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_LOOP = 0, 1, 101, 108
LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2 = 113, 228, 229, 276
RAW_LINKS = (12, 14, LINK_RAW)
VLAN_TYPES = (0x8100, 0x88A8, 0x9100)

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
NO_PROTO = 255
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20  # TCP flags (the tcpflags column)
FTP_DATA_PORT, FTP_PORT = 20, 21
IPV6_EXT_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options (fragment handled apart)

COLUMN_TYPES = {
    "ethertype": np.uint16, "l3off": np.int32, "ipproto": np.uint8, "l4off": np.int32,
    "sport": np.uint16, "dport": np.uint16, "tcpflags": np.uint16, "seq": np.uint32,
    "ack": np.uint32, "win": np.uint16, "paylen": np.int32,
}


class Gather:
    """Reads big-endian integers at per-packet positions, bounded by each packet's end."""

    def __init__(self, buf: bytes, end: np.ndarray):
        self.raw = np.frombuffer(buf, dtype=np.uint8)
        self.end = end  # absolute (in buf) end of each packet's captured bytes

    def u8(self, pos: np.ndarray) -> np.ndarray:
        # take(mode="clip") bounds the positions in the same pass as it reads (np.clip first
        # was a third of scanning a batch)
        return np.asarray(self.raw.take(pos, mode="clip").astype(np.uint32))

    def u16(self, pos: np.ndarray) -> np.ndarray:
        return np.asarray((self.u8(pos) << 8) | self.u8(pos + 1))

    def u32(self, pos: np.ndarray) -> np.ndarray:
        return np.asarray((self.u16(pos) << 16) | self.u16(pos + 2))

    def fits(self, pos: np.ndarray, size: int | np.ndarray, sel: np.ndarray | None = None) -> np.ndarray:
        end = self.end if sel is None else self.end[sel]
        return pos + size <= end


def extract(buf: bytes, rel: np.ndarray, caplen: np.ndarray, link: np.ndarray) -> dict[str, np.ndarray]:
    """Return the index columns for packets starting at positions `rel` in `buf`."""
    n = len(rel)
    cols: dict[str, np.ndarray]
    rel = rel.astype(np.int64)
    g = Gather(buf, rel + caplen.astype(np.int64))
    cols = {name: np.zeros(n, dtype=t) for name, t in COLUMN_TYPES.items()}
    cols["ipproto"][:] = NO_PROTO
    cols["l3off"][:] = -1
    cols["l4off"][:] = -1
    src = np.zeros((n, 16), dtype=np.uint8)
    dst = np.zeros((n, 16), dtype=np.uint8)

    ethertype = np.zeros(n, dtype=np.uint32)
    l3 = np.full(n, -1, dtype=np.int64)  # absolute position of the network header
    for lk in np.unique(link):
        sel = np.nonzero(link == lk)[0]
        p = rel[sel]
        et, pos = _link_layer(g, int(lk), p, sel)
        ethertype[sel] = et
        l3[sel] = pos

    ok = l3 >= 0
    _ipv4(g, cols, src, dst, ethertype, l3, ok)
    _ipv6(g, cols, src, dst, ethertype, l3, ok)
    _transport(g, cols)
    cols["ethertype"][:] = ethertype
    cols["l3off"][:] = np.where(ok, l3 - rel, -1)
    cols["l4off"][:] = np.where(cols["l4off"] >= 0, cols["l4off"] - rel, -1)
    cols["src"] = src
    cols["dst"] = dst
    return cols


def _link_layer(g: Gather, lk: int, p: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (ethertype, absolute network-header position or -1) for one link type."""
    if lk == LINK_ETHERNET:
        et = g.u16(p + 12)
        pos = p + 14
        for _ in range(3):  # 802.1Q, QinQ (802.1ad) and one more level of tags
            tagged = np.isin(et, VLAN_TYPES)
            if not tagged.any():
                break
            et = np.where(tagged, g.u16(pos + 2), et)
            pos = np.where(tagged, pos + 4, pos)
        good = g.fits(pos, 0, sel) & (et > 1500)
        return et, np.where(good, pos, -1)
    if lk in RAW_LINKS or lk in (LINK_IPV4, LINK_IPV6):
        ver = g.u8(p) >> 4
        if lk == LINK_IPV4:
            ver = np.full(len(p), 4)
        elif lk == LINK_IPV6:
            ver = np.full(len(p), 6)
        et = np.where(ver == 4, ETH_IPV4, np.where(ver == 6, ETH_IPV6, 0))
        return et, np.where(et > 0, p, -1)
    if lk == LINK_SLL:
        return g.u16(p + 14), np.where(g.fits(p, 16, sel), p + 16, -1)
    if lk == LINK_SLL2:
        return g.u16(p), np.where(g.fits(p, 20, sel), p + 20, -1)
    if lk in (LINK_NULL, LINK_LOOP):
        fam = g.u32(p)
        if lk == LINK_NULL:  # host byte order: accept either
            swapped = ((fam & 0xFF) << 24) | ((fam & 0xFF00) << 8) | ((fam >> 8) & 0xFF00) | (fam >> 24)
            fam = np.where(fam > 0xFFFF, swapped, fam)
        et = np.where(fam == 2, ETH_IPV4, np.where(np.isin(fam, (10, 24, 28, 30)), ETH_IPV6, 0))
        return et, np.where((et > 0) & g.fits(p, 4, sel), p + 4, -1)
    return np.zeros(len(p), dtype=np.uint32), np.full(len(p), -1)


def _ipv4(g: Gather, cols: dict[str, np.ndarray], src: np.ndarray, dst: np.ndarray, ethertype: np.ndarray,
          l3: np.ndarray, ok: np.ndarray) -> None:
    idx = np.nonzero(ok & (ethertype == ETH_IPV4))[0]
    if not len(idx):
        return
    p = l3[idx]
    vihl = g.u8(p)
    ihl = (vihl & 0xF) * 4
    total = g.u16(p + 2)
    # the decoder stops at a bogus version, header length or total length (0 is TSO: fine)
    good = g.fits(p, 20, idx) & (vihl >> 4 == 4) & (ihl >= 20) & ((total == 0) | (total >= ihl))
    idx, p, ihl, total = idx[good], p[good], ihl[good], total[good]
    frag = g.u16(p + 6) & 0x1FFF
    cols["ipproto"][idx] = g.u8(p + 9)
    src[idx, 10:12] = 0xFF  # IPv4-mapped IPv6 form, so one column serves both families
    dst[idx, 10:12] = 0xFF
    for k in range(4):
        src[idx, 12 + k] = g.u8(p + 12 + k)
        dst[idx, 12 + k] = g.u8(p + 16 + k)
    first = frag == 0  # only the first fragment carries the transport header
    cols["l4off"][idx[first]] = (p + ihl)[first]
    cols["paylen"][idx] = total.astype(np.int64) - ihl


def _ipv6(g: Gather, cols: dict[str, np.ndarray], src: np.ndarray, dst: np.ndarray, ethertype: np.ndarray,
          l3: np.ndarray, ok: np.ndarray) -> None:
    idx = np.nonzero(ok & (ethertype == ETH_IPV6))[0]
    if not len(idx):
        return
    p = l3[idx]
    good = g.fits(p, 40, idx) & (g.u8(p) >> 4 == 6)
    idx, p = idx[good], p[good]
    nxt = g.u8(p + 6)
    plen = g.u16(p + 4).astype(np.int64)
    for k in range(16):
        src[idx, k] = g.u8(p + 8 + k)
        dst[idx, k] = g.u8(p + 24 + k)
    pos = p + 40
    for _ in range(4):  # walk a few extension headers
        ext = np.isin(nxt, IPV6_EXT_HEADERS)
        fragh = nxt == 44
        if not (ext.any() or fragh.any()):
            break
        hlen = np.where(fragh, 8, (g.u8(pos + 1) + 1) * 8)
        moving = ext | fragh
        nonfirst = fragh & ((g.u16(pos + 2) >> 3) != 0)
        newnxt = g.u8(pos)
        plen = np.where(moving, plen - hlen, plen)
        nxt = np.where(moving, np.where(nonfirst, 44 << 8, newnxt), nxt)  # 44<<8: stop, not L4
        pos = np.where(moving, pos + hlen, pos)
    l4 = nxt < 256
    cols["ipproto"][idx[l4]] = nxt[l4]
    cols["l4off"][idx[l4]] = pos[l4]
    cols["paylen"][idx] = plen - (pos - p - 40)


def _transport(g: Gather, cols: dict[str, np.ndarray]) -> None:
    l4 = cols["l4off"].astype(np.int64)
    proto = cols["ipproto"]
    ports = np.nonzero((l4 >= 0) & np.isin(proto, (PROTO_TCP, PROTO_UDP)))[0]
    p = l4[ports]
    good = g.fits(p, 4, ports)
    ports, p = ports[good], p[good]
    cols["sport"][ports] = g.u16(p)
    cols["dport"][ports] = g.u16(p + 2)
    tcp = ports[proto[ports] == PROTO_TCP]
    p = l4[tcp]
    good = g.fits(p, 20, tcp)
    tcp, p = tcp[good], p[good]
    cols["seq"][tcp] = g.u32(p + 4)
    cols["ack"][tcp] = g.u32(p + 8)
    off_flags = g.u16(p + 12)
    cols["tcpflags"][tcp] = off_flags & 0x0FFF
    cols["win"][tcp] = g.u16(p + 14)
    hdr = (off_flags >> 12) * 4
    cols["paylen"][tcp] = np.maximum(cols["paylen"][tcp] - hdr.astype(np.int64), 0)
    udp = ports[proto[ports] == PROTO_UDP]
    cols["paylen"][udp] = np.maximum(cols["paylen"][udp] - 8, 0)
    # a packet whose transport header is cut short keeps ipproto but no ports: flag it
    bad = np.nonzero((l4 >= 0) & (proto == PROTO_TCP))[0]
    bad = np.setdiff1d(bad, tcp, assume_unique=True)
    cols["tcpflags"][bad] = 0xF000
