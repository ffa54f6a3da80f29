"""scapy as the fallback tree for protocols the fast decoders only summarise (HTTP, TLS, DHCP, ...).

Imported lazily by the UI when a packet is selected, never by the list or --print: scapy is slow
to import and to dissect, so it only ever sees one packet at a time.
"""
from __future__ import annotations

from ..text import safe
from .tree import Field

# Layers the fast decoders already show in full; scapy's layers above them are added.
OWN_LAYERS = {"Ether", "Dot1Q", "Dot1AD", "CookedLinux", "CookedLinuxV2", "Loopback", "IP", "IPv6", "TCP",
              "UDP", "ICMP", "ARP", "Raw", "Padding", "DNS"}
LINK_CLASSES = {1: "Ether", 113: "CookedLinux", 276: "CookedLinuxV2", 0: "Loopback", 101: "IP", 228: "IP",
                229: "IPv6", 12: "IP", 14: "IP"}


def scapy_layers(data: bytes, link: int) -> list[Field]:
    """Layers scapy finds above the transport, each with its byte range and its fields."""
    try:
        from scapy import all as scapy  # noqa: PLC0415 - deliberately lazy
    except Exception:  # noqa: BLE001 - scapy missing or broken: no fallback, not a crash
        return []
    for extra in ("http", "ntp", "netbios", "dhcp6"):
        try:
            scapy.load_layer(extra)
        except Exception:  # noqa: BLE001 - an optional scapy layer that fails to load
            pass
    name = LINK_CLASSES.get(link)
    if link == 101 and data[:1] and data[0] >> 4 == 6:
        name = "IPv6"
    cls = getattr(scapy, name, None) if name else None
    if cls is None:
        return []
    try:
        pkt = cls(data)
    except Exception:  # noqa: BLE001 - scapy raising on odd input is not our user's problem
        return []
    total = len(data)
    out = []
    layer = pkt
    while layer is not None and not isinstance(layer, scapy.NoPayload):
        lname = type(layer).__name__
        if lname not in OWN_LAYERS:
            try:
                start = total - len(bytes(layer))
                own = len(bytes(layer)) - len(bytes(layer.payload))
            except Exception:  # noqa: BLE001
                start, own = 0, 0
            node = Field(f"{safe(layer.name)} (scapy)", "", max(start, 0), max(own, 0))
            for fdesc in layer.fields_desc:
                try:
                    value = layer.getfieldval(fdesc.name)
                    text = fdesc.i2repr(layer, value)
                except Exception:  # noqa: BLE001
                    continue
                node.add(safe(f"{fdesc.name}: {text}")[:200])
            out.append(node)
        layer = layer.payload
    return out
