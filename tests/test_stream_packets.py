"""PacketIndex.stream_packets, the one way frames are found by TCP stream: while a capture
grows (regrouping now and then, scanning the newest packets) it gives what a plain scan gives."""
from pathlib import Path

import numpy as np

from ftptui.capture import open_capture
from ftptui.store import index as store_index
from ftptui.store.index import PacketIndex

CAPTURE = Path(__file__).parent / "data" / "public" / "suricata-verify__firewall-117-ftp-all-data-ipv6.pcap"


def test_growing_index_finds_the_same_frames_as_a_scan(monkeypatch):
    monkeypatch.setattr(store_index, "GROUP_EVERY", 20)  # regroup often, scan tails in between
    cap = open_capture(str(CAPTURE))
    index = PacketIndex(cap)
    rng = np.random.default_rng(3)
    checked = 0
    try:
        for batch in cap.scan(chunk=1024):
            index.add_batch(batch)
            n = len(index)
            col = index.cols["stream"]
            for _ in range(5):
                stream = int(rng.integers(-1, index.tcp.count + 1))
                lo, hi = sorted(int(x) for x in rng.integers(0, n + 1, 2))
                want = np.nonzero(col[lo:hi] == stream)[0] + lo if stream >= 0 else np.zeros(0, np.int64)
                assert index.stream_packets(stream, lo, hi).tolist() == want.tolist(), (stream, lo, hi, n)
                checked += 1
        index.done = True
        for stream in range(index.tcp.count):
            assert index.stream_packets(stream).tolist() == np.nonzero(index.cols["stream"] == stream)[0].tolist()
    finally:
        cap.close()
    assert checked > 20 and index.tcp.count > 3
