#!/usr/bin/env python3
"""Write ftptui/data/fields.tsv: Wireshark 4.0's protocols and fields (from `tshark -G fields`)
for the protocols ftptui decodes, so the filter compiler, completion and the tree share one list
of names and types.

    python tests/tools/make_field_registry.py      # needs tshark 4.0 (reference 4.0.17)
"""
from __future__ import annotations

import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "ftptui" / "data" / "fields.tsv"
PROTOCOLS = {"frame", "eth", "vlan", "sll", "null", "raw", "arp", "ip", "ipv6", "icmp", "icmpv6", "igmp",
             "tcp", "udp", "dns", "mdns", "llmnr", "nbns", "http", "ftp", "ftp-data", "tls", "ssh", "dhcp",
             "ssdp", "stp", "ntp", "data", "_ws",
             "ieee8021ad", "ieee8021ah", "data-text-lines", "llc"}


def main() -> None:
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        p = line.split("\t")
        if p[0] == "P" and p[2] in PROTOCOLS:
            rows.append((p[2], "FT_PROTOCOL", p[2], p[1], "", ""))
        elif p[0] == "F" and p[2].split(".")[0] in PROTOCOLS and not p[2].startswith("_ws.expert"):
            # name, type, protocol, label, base, bitmask
            rows.append((p[2], p[3], p[2].split(".")[0], p[1], p[5], p[6]))
    rows.sort()
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(f"# from `tshark -G fields` ({version}); made by tests/tools/make_field_registry.py\n")
        f.write("name\ttype\tprotocol\tlabel\tbase\tbitmask\n")
        for r in rows:
            f.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
    print(f"{len(rows)} fields written to {OUT}")


if __name__ == "__main__":
    main()
