"""The dissector tables: dispatch by port, by content and by conversation, and the display
filter's candidate rows derived from them, which must hold every packet a decoder fills."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ftptui.capture import open_capture
from ftptui.dfilter import vector
from ftptui.dfilter.prefilter import APPLICATION, MAY_HAVE
from ftptui.dissect.app import TCP, UDP
from ftptui.dissect.packet import dissect
from ftptui.dissect.table import Dissector, DissectorTable, Payload
from ftptui.ftp.analysis import analyse
from ftptui.store.index import PacketIndex

DATA = Path(__file__).parent / "data"
CAPTURES = sorted([*DATA.glob("seed-*.pcap"), *(p for p in (DATA / "public").glob("*.pcap*")
                                                  if not p.name.endswith(".txt"))])


def index_of(path: Path) -> PacketIndex:
    index = PacketIndex(open_capture(str(path)))
    index.build()
    return index


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_candidates_hold_every_packet_a_decoder_fills(path):
    """For each application protocol, the rows the filter shortcut keeps include every packet
    whose tree has a field of it: before and after the FTP follower has linked connections."""
    index = index_of(path)
    try:
        for follower in (False, True):
            if follower:
                analyse(index)
            having: dict[str, set[int]] = {}
            for i in range(len(index)):
                for f in dissect(index, i).fields():
                    proto = f.name.split(".", 1)[0]
                    if proto in APPLICATION:
                        having.setdefault(proto, set()).add(i)
            rows = np.arange(len(index))
            for proto, frames in having.items():
                mask = MAY_HAVE[proto](vector.Columns(index, rows))
                missed = sorted(f + 1 for f in frames if not mask[f])
                assert not missed, f"{proto}: frames {missed[:10]} are outside its candidates"
    finally:
        index.cap.close()


def test_first_claim_wins_in_table_order():
    calls = []

    def decoder(name, result=None):
        return lambda pl: calls.append(name) or result

    table = DissectorTable("udp", lambda pl: calls.append("data"))
    table.add(Dissector("b", decoder("b"), ports=frozenset({5353})))
    table.add(Dissector("a", decoder("a"), ports=frozenset({53})))
    table.add(Dissector("h", decoder("h", False), heuristic=lambda data: data.startswith(b"X")))
    assert table.dispatch(Payload(None, 0, 4, b"abcd", 53, 5353)) == "b"  # earlier entry, either port
    assert table.dispatch(Payload(None, 0, 4, b"abcd", 40000, 53)) == "a"
    # a heuristic entry that declines (False) passes the payload on: here to the fallback
    assert table.dispatch(Payload(None, 0, 4, b"Xbcd", 1, 2)) is None
    assert calls == ["b", "a", "h", "data"]


def test_tables_name_what_tshark_dispatches():
    """The ports the tables register are tshark's for these protocols (udp.port / tcp.port)."""
    udp = {e.name: set(e.ports) for e in UDP.entries}
    tcp = {e.name: set(e.ports) for e in TCP.entries}
    assert udp["dns"] == {53} and udp["mdns"] == {5353} and udp["llmnr"] == {5355}
    assert udp["dhcp"] == {67, 68} and udp["ntp"] == {123}
    assert tcp["ftp"] == {21} and tcp["ssh"] == {22} and tcp["dns"] == {53}
    assert [e.name for e in TCP.entries][:2] == ["ftp", "ftp-data"]  # before any content heuristic
