#!/usr/bin/env python3
"""Write tests/data/icmp-errors.pcap: ICMP and ICMPv6 errors quoting a UDP, a TCP and an IPv6/UDP
packet, plus the quoted UDP packet itself and a ping, for the filter tests (tshark matches the
quoted addresses and ports: `ip.src`, `udp.port`, `ip.src#2`)."""
from pathlib import Path

from scapy.all import DNS, DNSQR, ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, IPv6, Raw, wrpcap

OUT = Path(__file__).resolve().parents[1] / "data" / "icmp-errors.pcap"
MAC = dict(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02")
inner = IP(src="10.0.0.208", dst="142.68.27.154") / UDP(sport=53124, dport=53) / DNS(qd=DNSQR(qname="example.com"))
inner6 = IPv6(src="2001:db8:10::5", dst="2001:4860:4860::8888") / UDP(sport=40000, dport=53) / (b"x" * 12)
quoted_syn = IP(src="10.0.0.9", dst="198.51.100.7") / TCP(sport=50000, dport=80, flags="S")
packets = [
    Ether(**MAC) / IP(src="142.68.27.154", dst="10.0.0.208") / ICMP(type=3, code=3) / Raw(bytes(inner)[:28]),
    Ether(**MAC) / IP(src="10.0.0.208", dst="142.68.27.154") / UDP(sport=53124, dport=53) / Raw(b"q"),
    Ether(**MAC) / IPv6(src="2001:4860:4860::8888", dst="2001:db8:10::5") / ICMPv6DestUnreach(code=4) / Raw(bytes(inner6)),
    Ether(**MAC) / IP(src="192.0.2.1", dst="10.0.0.9") / ICMP(type=11, code=0) / Raw(bytes(quoted_syn)[:28]),
    Ether(**MAC) / IP(src="10.0.0.9", dst="192.0.2.1") / ICMP(type=8) / Raw(b"ping"),
]
for k, p in enumerate(packets):
    p.time = 1700000000 + k
wrpcap(str(OUT), packets)
print(f"wrote {OUT}")
