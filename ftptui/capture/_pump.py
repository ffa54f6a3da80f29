"""The capture pump: a small child process that drains TPACKET_V3 rings into the spool file.

The parent (live.py) opens the packet sockets, attaches the BPF filter, sets up the rings and
binds them, so every error is reported there; this process only inherits the sockets, maps their
rings, and appends each packet to the spool (pcap, or pcapng when several interfaces are captured)
as raw bytes with its timestamp.  Running in its own process it uses the second core and never
waits for the interpreter lock of a busy UI or printer.

Protocol: argv[1] is a JSON configuration; every write to the spool is reported on stdout as a
line "PACKETS BYTES" (totals: packets written, spool size); any byte or end-of-file on stdin asks
it to stop: it waits for the kernel to hand over the packets already captured (at most one block
timeout), writes them and exits.  With a packet count it exits by itself after that many.
"""
from __future__ import annotations

import json
import mmap
import os
import select
import signal
import struct
import sys
import time
from typing import Any

TP_STATUS_KERNEL, TP_STATUS_USER = 0, 1
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
PACKET_OUTGOING = 4
# tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac, net, rxhash, vlan_tci, vlan_tpid
HDR = struct.Struct("<IIIIIIHHIIH")
PKTTYPE_AT = 48 + 10  # sockaddr_ll follows the 48-byte header; sll_pkttype is its 11th byte
BLOCK = struct.Struct("<III")  # block_status, num_pkts, offset_to_first_pkt (at byte 8)
PCAP_REC = struct.Struct("<IIII")
EPB = struct.Struct("<IIIIIII")


class Ring:
    def __init__(self, spec: dict[str, Any]):
        self.fd = spec["fd"]
        self.bsize, self.nr = spec["block_size"], spec["block_nr"]
        self.mm = mmap.mmap(self.fd, self.bsize * self.nr, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE)
        self.loopback = spec["loopback"]  # drop the outgoing copy of each looped packet, as libpcap
        self.ethernet = spec["link"] == 1  # VLAN tags the kernel took off are put back
        self.iface_id = spec["iface_id"]
        self.cur = 0

    def pending(self) -> bool:
        """Does the block the kernel is filling hold packets it has not handed over yet?"""
        base = self.cur * self.bsize
        status, num, _ = BLOCK.unpack_from(self.mm, base + 8)
        return not status & TP_STATUS_USER and num > 0

    def drain(self, out: bytearray, pcapng: bool, snaplen: int, limit: int) -> int:
        """Append the packets of every block handed over to `out`; returns how many (at most
        `limit` when it is not 0: the rest of that block is dropped, the capture is ending)."""
        mm, n = self.mm, 0
        unpack, rec, epb = HDR.unpack_from, PCAP_REC.pack, EPB.pack
        while True:
            base = self.cur * self.bsize
            status, num, first = BLOCK.unpack_from(mm, base + 8)
            if not status & TP_STATUS_USER:
                return n
            off = base + first
            for _ in range(num):
                nxt, sec, nsec, snap, length, st, mac, _net, _h, tci, tpid = unpack(mm, off)
                if not (self.loopback and mm[off + PKTTYPE_AT] == PACKET_OUTGOING):
                    data = mm[off + mac:off + mac + snap]
                    if self.ethernet and st & TP_STATUS_VLAN_VALID and snap >= 12:
                        tag = struct.pack(">HH", tpid if st & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
                        data = data[:12] + tag + data[12:]
                        length += 4
                    if len(data) > snaplen:
                        data = data[:snaplen]
                    cl = len(data)
                    if pcapng:
                        pad = -cl % 4
                        us = sec * 1_000_000 + nsec // 1000
                        out += epb(6, 32 + cl + pad, self.iface_id, us >> 32, us & 0xFFFFFFFF, cl, length)
                        out += data
                        out += b"\0" * pad + struct.pack("<I", 32 + cl + pad)
                    else:
                        out += rec(sec, nsec // 1000, cl, length)
                        out += data
                    n += 1
                    if limit and n >= limit:
                        break
                off += nxt
            mm[base + 8:base + 12] = b"\0\0\0\0"  # TP_STATUS_KERNEL: hand the block back
            self.cur = (self.cur + 1) % self.nr
            if limit and n >= limit:
                return n


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    cfg = json.loads(sys.argv[1])
    rings = [Ring(spec) for spec in cfg["rings"]]
    out = os.open(cfg["out"], os.O_WRONLY | os.O_APPEND)
    pcapng, snaplen, count = cfg["format"] == "pcapng", cfg["snaplen"], cfg["count"]
    tov = cfg["timeout_ms"] / 1000
    total, size = cfg["already"], os.fstat(out).st_size
    report = sys.stdout
    poller = select.poll()
    for r in rings:
        poller.register(r.fd, select.POLLIN | select.POLLERR)
    poller.register(0, select.POLLIN | select.POLLHUP)
    stop_at = None  # when stopping: the time by which pending blocks must have been handed over
    while True:
        buf = bytearray()
        got = 0
        for r in rings:
            got += r.drain(buf, pcapng, snaplen, count - total - got if count else 0)
        if buf:
            os.write(out, buf)
            total += got
            size += len(buf)
            report.write(f"{total} {size}\n")
            report.flush()
        if count and total >= count:
            return 0
        now = time.monotonic()
        if stop_at is not None and (now >= stop_at or not any(r.pending() for r in rings)):
            return 0
        wait = -1 if stop_at is None else max(1, int((stop_at - now) * 1000))
        for fd, _ev in poller.poll(wait):
            if fd == 0 and stop_at is None:
                try:
                    os.read(0, 4096)
                except OSError:
                    pass
                poller.unregister(0)
                stop_at = time.monotonic() + 2 * tov + 0.1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
