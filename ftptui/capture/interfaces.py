"""List network interfaces the way ``ip addr`` shows them.

We talk rtnetlink directly (standard library only) because a fresh machine
may lack iproute2, libpcap and tcpdump.  Where netlink does not exist
(non-Linux) we fall back to ``socket.if_nameindex()`` without addresses.
"""
from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Address", "Interface", "list_interfaces", "describe"]


@dataclass(frozen=True)
class Address:
    family: str  # "inet" | "inet6"
    address: str
    prefixlen: int
    scope: str  # "global", "link", "host", ...


@dataclass(frozen=True)
class Interface:
    index: int
    name: str
    state: str  # operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, ...
    flags: tuple[str, ...]  # as ip prints them between <...>
    mtu: int
    link_type: str  # "ether", "loopback", "none", ...
    mac: str  # lower-case aa:bb:.. or ""
    addresses: tuple[Address, ...] = ()


# --- netlink constants (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h)
NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 16, 18, 20, 22
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK = 1, 3, 4, 5
IFLA_OPERSTATE, IFLA_LINK_NETNSID = 16, 37
IFA_ADDRESS, IFA_LOCAL = 1, 2

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTATTR = struct.Struct("=HH")  # len, type

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
              "TESTING", "DORMANT", "UP")
# Same names and order as iproute2's print_link_flags(); IFF_RUNNING is
# never printed itself, it only suppresses "NO-CARRIER".
IFF_UP, IFF_RUNNING = 0x1, 0x40
_IFF_NAMES = (("LOOPBACK", 0x8), ("BROADCAST", 0x2), ("POINTOPOINT", 0x10),
              ("MULTICAST", 0x1000), ("NOARP", 0x80), ("ALLMULTI", 0x200),
              ("PROMISC", 0x100), ("MASTER", 0x400), ("SLAVE", 0x800),
              ("DEBUG", 0x4), ("DYNAMIC", 0x8000), ("AUTOMEDIA", 0x4000),
              ("PORTSEL", 0x2000), ("NOTRAILERS", 0x20), ("UP", 0x1),
              ("LOWER_UP", 0x10000), ("DORMANT", 0x20000), ("ECHO", 0x40000))
# ARPHRD_* -> iproute2 link type names (the common ones; others print "[n]").
LINK_TYPES = {0: "netrom", 1: "ether", 24: "ieee1394", 32: "infiniband",
              256: "slip", 280: "can", 512: "ppp", 513: "hdlc", 519: "rawip",
              768: "ipip", 769: "tunnel6", 772: "loopback", 776: "sit",
              778: "gre", 801: "ieee802.11", 803: "ieee802.11/radiotap",
              804: "ieee802.15.4", 823: "gre6", 824: "netlink",
              825: "6lowpan", 826: "vsockmon", 0xFFFE: "none", 0xFFFF: "void"}
# Tunnels whose link "address" is an IP address, not a MAC.
_IP_LINK_TYPES = {768, 769, 776, 778, 823}
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


def _dump(sock: socket.socket, msg_type: int, body: bytes, seq: int) -> Iterator[tuple[int, bytes]]:
    """Send one dump request; yield (type, payload) of every reply message."""
    hdr = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), msg_type,
                         NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    sock.send(hdr + body)
    while True:
        data = sock.recv(1 << 16)  # a dump arrives in several datagrams
        pos = 0
        while pos + _NLMSGHDR.size <= len(data):
            length, mtype, _flags, mseq, _pid = _NLMSGHDR.unpack_from(data, pos)
            if length < _NLMSGHDR.size:
                raise OSError("malformed netlink message")
            payload = data[pos + _NLMSGHDR.size:pos + length]
            pos += (length + 3) & ~3  # NLMSG_ALIGN
            if mseq != seq:
                continue  # stale reply to someone else's request
            if mtype == NLMSG_DONE:
                return
            if mtype == NLMSG_ERROR:
                errno = -struct.unpack_from("=i", payload)[0]
                if errno:
                    raise OSError(errno, "netlink: " + os.strerror(errno))
                continue
            yield mtype, payload


def _attrs(data: bytes, pos: int) -> dict[int, bytes]:
    """Parse a run of rtattrs (type -> value; first occurrence wins)."""
    out: dict[int, bytes] = {}
    while pos + _RTATTR.size <= len(data):
        length, atype = _RTATTR.unpack_from(data, pos)
        if length < _RTATTR.size:
            break
        out.setdefault(atype & 0x3FFF, data[pos + _RTATTR.size:pos + length])
        pos += (length + 3) & ~3  # RTA_ALIGN
    return out


def _u32(raw: bytes) -> int:
    return int(struct.unpack_from("=I", raw)[0])


def _link_addr(arphrd: int, raw: bytes | None) -> str:
    if not raw or (arphrd in _IP_LINK_TYPES and len(raw) in (4, 16)):
        return ""  # no hardware address (tun) or a tunnel endpoint IP
    return ":".join(f"{b:02x}" for b in raw)


def _flag_names(flags: int) -> list[str]:
    names = ["NO-CARRIER"] if flags & IFF_UP and not flags & IFF_RUNNING else []
    flags &= ~IFF_RUNNING
    for name, bit in _IFF_NAMES:
        if flags & bit:
            names.append(name)
            flags &= ~bit
    if flags:
        names.append(f"{flags:x}")  # unknown bits, printed in hex like ip
    return names


def _netlink_interfaces() -> list[Interface]:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as s:
        s.settimeout(5)  # never hang the UI on a misbehaving kernel
        s.bind((0, 0))
        links = []
        for mtype, p in _dump(s, RTM_GETLINK, _IFINFOMSG.pack(0, 0, 0, 0, 0), 1):
            if mtype == RTM_NEWLINK:
                _fam, arphrd, index, flags, _chg = _IFINFOMSG.unpack_from(p)
                links.append((index, arphrd, flags, _attrs(p, _IFINFOMSG.size)))
        addrs: dict[int, list[Address]] = {}
        for mtype, p in _dump(s, RTM_GETADDR, _IFADDRMSG.pack(0, 0, 0, 0, 0), 2):
            fam, plen, _fl, scope, index = _IFADDRMSG.unpack_from(p)
            if mtype != RTM_NEWADDR or fam not in (socket.AF_INET, socket.AF_INET6):
                continue
            a = _attrs(p, _IFADDRMSG.size)
            raw = a.get(IFA_LOCAL) or a.get(IFA_ADDRESS)  # LOCAL differs on p2p
            if raw is None:
                continue
            addrs.setdefault(index, []).append(Address(
                "inet" if fam == socket.AF_INET else "inet6",
                socket.inet_ntop(fam, raw), plen, SCOPES.get(scope, str(scope))))
    up = {index: flags & IFF_UP for index, _t, flags, _a in links}
    result = []
    for index, arphrd, flags, a in links:
        names = _flag_names(flags)
        # ip adds M-DOWN when the lower device (same namespace) is down.
        lower = _u32(a[IFLA_LINK]) if IFLA_LINK in a else 0
        if lower and IFLA_LINK_NETNSID not in a and not up.get(lower):
            names.append("M-DOWN")
        oper = a[IFLA_OPERSTATE][0] if IFLA_OPERSTATE in a else 0
        result.append(Interface(
            index=index,
            name=a.get(IFLA_IFNAME, b"").split(b"\0", 1)[0].decode(errors="replace"),
            state=OPERSTATES[oper] if oper < len(OPERSTATES) else str(oper),
            flags=tuple(names),
            mtu=_u32(a[IFLA_MTU]) if IFLA_MTU in a else 0,
            link_type=LINK_TYPES.get(arphrd, f"[{arphrd}]"),
            mac=_link_addr(arphrd, a.get(IFLA_ADDRESS)),
            addresses=tuple(addrs.get(index, ())),
        ))
    return sorted(result, key=lambda i: i.index)


def _fallback_interfaces() -> list[Interface]:
    return sorted((Interface(index, name, "UNKNOWN", (), 0, "", "")
                   for index, name in socket.if_nameindex()),
                  key=lambda i: i.index)


def list_interfaces() -> list[Interface]:
    """All interfaces ordered by index, with state and addresses."""
    if hasattr(socket, "AF_NETLINK"):
        try:
            return _netlink_interfaces()
        except OSError:
            pass  # e.g. netlink blocked by a sandbox; degrade gracefully
    try:
        return _fallback_interfaces()
    except OSError:
        return []


def describe(iface: Interface) -> str:
    """One line for the UI: ``2: eth0 UP ether 02:42:.. inet 172.17.0.2/16``."""
    parts = [f"{iface.index}: {iface.name}", iface.state]
    parts += [p for p in (iface.link_type, iface.mac) if p]
    parts += [f"{a.family} {a.address}/{a.prefixlen}" for a in iface.addresses]
    return " ".join(parts)
