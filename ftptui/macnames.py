"""MAC address names as Wireshark 4.0 (``tshark -r FILE``) prints them.

``resolve_mac(b"\\xff" * 6)`` -> ``"Broadcast"``,
``resolve_mac(bytes.fromhex("00000c4f8ef2"))`` -> ``"Cisco_4f:8e:f2"``,
unknown addresses come back in the plain ``8e:36:06:44:ac:af`` form.

The lookup mirrors ``eth_name_lookup()``/``eth_addr_resolve()`` in
Wireshark 4.0's ``epan/addr_resolv.c``:

1. complete well-known addresses (wka entries without a mask);
2. well-known ranges, tried with masks 47..40, then 39..32, then 31..24
   (this is also where manuf's MA-M ``/28`` and MA-S ``/36`` blocks live);
   the name gets ``_`` plus the bytes not fully covered by the mask, the
   first of them reduced to its uncovered bits;
3. the 24-bit OUI table (retried with the group bit cleared);
4. ranges with masks 23..16, 15..8, 7..1;
5. the plain colon form.

Range entries are keyed by their masked address only (not by the mask),
exactly like Wireshark's ``wka_hashtable``; this is why
01:00:5e:00:00:fb shows as ``IPv4mcast_fb`` but 01:00:5e:7f:ff:fa as
``IPv4mcast_7f:ff:fa``.

The table (``ftptui/data/macnames.tsv.gz``, made by
``tests/tools/make_macnames_data.py`` from Wireshark's manuf and wka files)
is loaded lazily on the first lookup.
"""

import functools
import os
import threading

__all__ = ["resolve_mac", "format_mac"]

_DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "data", "macnames.tsv.gz")
_MAXNAMELEN = 64  # Wireshark's buffer size, names are at most 63 bytes

Tables = tuple[dict[int, str], dict[int, str], dict[int, str], frozenset[int]]
_tables: Tables | None = None
_lock = threading.Lock()


def _load() -> Tables:
    """Return (exact, ranges, oui, range_ouis) keyed by int addresses."""
    global _tables
    if _tables is not None:
        return _tables
    with _lock:
        if _tables is not None:
            return _tables
        import gzip

        exact: dict[int, str] = {}
        ranges: dict[int, str] = {}
        oui: dict[int, str] = {}
        with gzip.open(_DATA_FILE, "rt", encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                addr, mask_text, name = line.rstrip("\n").split("\t", 2)
                mask = int(mask_text)
                value = int(addr, 16)
                if mask >= 48:
                    exact[value] = name
                elif mask == 0:
                    oui[value >> 24] = name
                else:
                    ranges[value] = name
        # top 24 bits of every range key: an address whose OUI is not here
        # cannot match a range at masks 47..24
        range_ouis = frozenset(k >> 24 for k in ranges)
        _tables = (exact, ranges, oui, range_ouis)
        return _tables


def format_mac(mac: bytes) -> str:
    """Plain lowercase colon form, e.g. ``8e:36:06:44:ac:af``."""
    return ":".join("%02x" % b for b in bytes(mac))


def _truncate(text: str) -> str:
    raw = text.encode("utf-8")
    if len(raw) < _MAXNAMELEN:
        return text
    return raw[:_MAXNAMELEN - 1].decode("utf-8", "ignore")


_FULL = (1 << 48) - 1


def _range_lookup(ranges: dict[int, str], value: int, bits: int) -> str | None:
    """Mimic wka_name_lookup(addr, bits): look up the address masked to bits."""
    return ranges.get(value & (_FULL ^ ((1 << (48 - bits)) - 1)))


def _suffix(mac: bytes, bits: int) -> str:
    """Bytes not fully covered by a ``bits``-bit prefix, the first one masked."""
    first = bits // 8
    keep = 8 - (bits - first * 8)
    parts = ["%02x" % (mac[first] & ((1 << keep) - 1))]
    parts.extend("%02x" % b for b in mac[first + 1:])
    return ":".join(parts)


@functools.lru_cache(maxsize=65536)
def _resolve(mac: bytes) -> str:
    exact, ranges, oui, range_ouis = _load()
    value = int.from_bytes(mac, "big")

    name = exact.get(value)
    if name is not None:
        return name

    # Ranges covering more than the OUI: masks 47..40, 39..32, 31..24.
    key = value >> 24
    if key in range_ouis:
        for bits in range(47, 23, -1):
            name = _range_lookup(ranges, value, bits)
            if name is not None:
                return _truncate("%s_%s" % (name, _suffix(mac, bits)))

    name = oui.get(key)
    if name is None and key & 0x010000:
        name = oui.get(key & 0xFEFFFF)  # retry without the group bit
    if name is not None:
        return _truncate("%s_%02x:%02x:%02x" % (name, mac[3], mac[4], mac[5]))

    # Wider ranges: masks 23..16, 15..8, 7..1.
    for bits in range(23, 0, -1):
        name = _range_lookup(ranges, value, bits)
        if name is not None:
            return _truncate("%s_%s" % (name, _suffix(mac, bits)))

    return format_mac(mac)


def resolve_mac(mac: bytes | bytearray | memoryview) -> str:
    """Name of a 6-byte MAC address as tshark 4.0 shows it (eth.src_resolved).  Hardware
    addresses of other lengths (ARP says how long they are) have no name: plain hex."""
    raw = bytes(mac)
    if len(raw) != 6:
        return format_mac(raw)
    return _resolve(raw)
