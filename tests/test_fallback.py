"""scapy fills the tree for protocols the fast decoders only summarise."""
from pathlib import Path

from ftptui.capture import open_capture
from ftptui.dissect.fallback import scapy_layers
from ftptui.store.index import PacketIndex

WIKI = Path(__file__).parent / "data" / "public" / "zeek__wikipedia.pcap"


def _index():
    index = PacketIndex(open_capture(str(WIKI)))
    index.build()
    return index


def test_http_request_layer_covers_the_tcp_payload():
    index = _index()
    layers = {f.label: f for f in scapy_layers(index.packet_bytes(5), 1)}  # frame 6: GET / HTTP/1.1
    req = layers["HTTP Request (scapy)"]
    # tshark: frame 6 is 529 bytes; Ethernet 14 + IPv4 20 + TCP 32 = 66 header bytes
    assert (req.start, req.length) == (66, 529 - 66)
    assert "Method: GET" in [c.label for c in req.children]


def test_stp_fields_from_scapy():
    index = _index()
    labels = [f.label for f in scapy_layers(index.packet_bytes(3), 1)]
    assert "Spanning Tree Protocol (scapy)" in labels
