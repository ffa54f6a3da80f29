"""The field registry: Wireshark 4.0's names and types for the protocols ftptui decodes.

One list (ftptui/data/fields.tsv, made from `tshark -G fields`) serves the filter compiler, field
completion and the detail tree, so every field the tree shows can be filtered on by the name
Wireshark users know.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Fields that Wireshark adds once per address/port of the packet (hidden in its tree): a filter
# on them looks at every one of the listed fields.
ALIASES = {
    "ip.addr": ("ip.src", "ip.dst"), "ipv6.addr": ("ipv6.src", "ipv6.dst"), "eth.addr": ("eth.src", "eth.dst"),
    "tcp.port": ("tcp.srcport", "tcp.dstport"), "udp.port": ("udp.srcport", "udp.dstport"),
}
INTEGER_TYPES = {"FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32", "FT_UINT40", "FT_UINT48", "FT_UINT56",
                 "FT_UINT64", "FT_INT8", "FT_INT16", "FT_INT24", "FT_INT32", "FT_INT40", "FT_INT48",
                 "FT_INT56", "FT_INT64", "FT_FRAMENUM", "FT_CHAR"}
STRING_TYPES = {"FT_STRING", "FT_STRINGZ", "FT_UINT_STRING", "FT_STRINGZPAD", "FT_STRINGZTRUNC"}
BYTES_TYPES = {"FT_BYTES", "FT_UINT_BYTES", "FT_NONE", "FT_PROTOCOL", "FT_EUI64", "FT_OID", "FT_REL_OID",
               "FT_GUID", "FT_SYSTEM_ID", "FT_AX25", "FT_VINES", "FT_IPXNET"}
FLOAT_TYPES = {"FT_DOUBLE", "FT_FLOAT", "FT_IEEE_11073_SFLOAT", "FT_IEEE_11073_FLOAT"}


@dataclass(frozen=True)
class FieldDef:
    name: str
    ftype: str       # Wireshark's FT_* type
    protocol: str
    label: str
    bitmask: int = 0

    @property
    def kind(self) -> str:
        """The value family a filter compares: int, bool, ipv4, ipv6, ether, string, bytes, time, float."""
        t = self.ftype
        if t in INTEGER_TYPES:
            return "int"
        if t == "FT_BOOLEAN":
            return "bool"
        if t in STRING_TYPES:
            return "string"
        if t in FLOAT_TYPES:
            return "float"
        return {"FT_IPv4": "ipv4", "FT_IPv6": "ipv6", "FT_ETHER": "ether", "FT_RELATIVE_TIME": "time",
                "FT_ABSOLUTE_TIME": "abstime"}.get(t, "bytes")

    @property
    def is_protocol(self) -> bool:
        return self.ftype == "FT_PROTOCOL"


@lru_cache(maxsize=1)
def registry() -> dict[str, FieldDef]:
    fields = {}
    text = resources.files("ftptui").joinpath("data/fields.tsv").read_text(encoding="utf-8")
    for line in text.splitlines()[2:]:
        name, ftype, proto, label, _base, mask = line.split("\t")
        fields[name] = FieldDef(name, ftype, proto, label, int(mask, 16) if mask.startswith("0x") else 0)
    return fields


# Old names Wireshark 4.0 still accepts for a protocol or field (in the filter text only).
RENAMED = {"ssl": "tls"}


def canonical(name: str) -> str:
    """The field name a filter's word stands for ("ssl" -> "tls", "ssl.record" -> "tls.record")."""
    head, dot, rest = name.partition(".")
    return RENAMED[head] + dot + rest if head in RENAMED else name


def lookup(name: str) -> FieldDef | None:
    return registry().get(canonical(name))


def complete(prefix: str, limit: int = 50) -> list[str]:
    """Field and protocol names that start with prefix, protocols first, then shortest."""
    names = [n for n in registry() if n.startswith(prefix)]
    names.sort(key=lambda n: (n.count("."), len(n), n))
    return names[:limit]
