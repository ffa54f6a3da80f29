"""Random TCP conversations (odd sequence numbers, ACKs, windows, flags, SACK and window-scale
options, timings, port reuse), compared frame by frame with tshark's tcp.analysis fields.
Needs tshark:

    python tests/tools/fuzz_tcp_analysis.py [FIRST_SEED] [COUNT] [CONNECTIONS] [PACKETS_PER_CONNECTION]

Prints the differing fields of the first mismatching frames of each failing seed; exit status 1
if any seed differs.  Used to check ftptui/streams/analysis.py against tshark 4.0.17.
"""
import random
import struct
import sys


def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def tcp_pkt(src, dst, sport, dport, seq, ack, flags, win, payload=b"", opts=b""):
    while len(opts) % 4: opts += b"\x01"
    hl = 20 + len(opts)
    th = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (hl//4) << 4, flags, win, 0, 0) + opts
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, hl + len(payload))
    c = csum(pseudo + th + payload)
    th = th[:16] + struct.pack("!H", c) + th[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + hl + len(payload), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + th + payload

def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))
        for t, data in pkts:
            sec, ns = divmod(t, 1_000_000_000)
            f.write(struct.pack("<IIII", sec, ns, len(data), len(data)) + data)

def sack_opt(blocks):
    o = b"\x01\x01" + bytes([5, 2 + 8 * len(blocks)])
    for l, r in blocks:
        o += struct.pack("!II", l & 0xFFFFFFFF, r & 0xFFFFFFFF)
    return o

def gen(seed, conns=3, npk=60):
    R = random.Random(seed)
    pkts = []
    t = 1_600_000_000 * 10**9
    cs = []
    for c in range(conns):
        A = bytes([10, 0, 0, 1]); B = bytes([10, 0, 1, 1 + c % 2])
        pa, pb = R.choice([21, 20, 80, 5000 + c]), 40000 + c
        cs.append(dict(ep=[(A, pa), (B, pb)], nxt=[R.randrange(2**32), R.randrange(2**32)], acked=[0, 0],
                       win=[R.choice([0, 1000, 65535, 512]), R.choice([1000, 65535, 2000])], ws=[None, None], started=False))
    for _step in range(conns * npk):
        c = R.choice(cs)
        d = R.randrange(2)
        (src, sp), (dst, dp) = c["ep"][d], c["ep"][d ^ 1]
        r = R.random()
        dt = R.choice([50_000, 500_000, 1_000_000, 2_500_000, 4_000_000, 15_000_000, 25_000_000, 300_000_000, 2_000_000_000])
        t += dt
        opts = b""
        if not c["started"] and R.random() < 0.8 or r < 0.03:
            # a SYN or SYN/ACK: new connections, retransmitted SYNs, reused ports (new ISN)
            c["started"] = True
            synack = R.random() < 0.4
            flags = 0x12 if synack else 0x02
            if not (R.random() < 0.3 and r >= 0.03):
                c["nxt"][d] = R.randrange(2**32) if R.random() < 0.5 else c["nxt"][d]
            seq = c["nxt"][d]
            ack = c["nxt"][d ^ 1] if synack else R.choice([0, 0, R.randrange(2**32)])
            if R.random() < 0.7:
                opts += b"\x01\x03\x03" + bytes([R.choice([0, 2, 7, 14, 15])])
            if R.random() < 0.5:
                opts += b"\x04\x02"
            pkts.append((t, tcp_pkt(src, dst, sp, dp, seq, ack, flags, R.choice([0, 1000, 65535, 5000]), opts=opts)))
            c["nxt"][d] = (seq + 1) & 0xFFFFFFFF
            continue
        seglen = R.choice([0, 0, 0, 1, 1, 10, 100, 1448, 1448])
        kind = R.random()
        seq = c["nxt"][d]
        if kind < 0.12: seq = (seq - R.choice([1, 10, 100, 1448, 2896])) & 0xFFFFFFFF     # old data
        elif kind < 0.2: seq = (seq + R.choice([1, 100, 1448, 5000])) & 0xFFFFFFFF        # gap
        elif kind < 0.25: seq = (seq - 1) & 0xFFFFFFFF                                     # keepalive-ish
        elif kind < 0.27: seq = R.randrange(2**32)
        ackv = c["nxt"][d ^ 1]
        ka = R.random()
        if ka < 0.2: ackv = c["acked"][d]                                # repeat
        elif ka < 0.28: ackv = (ackv - R.choice([1, 100, 1448])) & 0xFFFFFFFF
        elif ka < 0.33: ackv = (ackv + R.choice([1, 100, 1448, 10000])) & 0xFFFFFFFF
        elif ka < 0.35: ackv = R.randrange(2**32)
        fl = 0x10
        fr = R.random()
        if fr < 0.3 and seglen: fl |= 0x08
        elif fr < 0.34: fl |= 0x01
        elif fr < 0.36: fl = 0x04 | (0x10 if R.random() < 0.5 else 0)
        elif fr < 0.38: fl = 0x08 if seglen else 0
        w = R.random()
        if w < 0.6: win = c["win"][d]
        elif w < 0.75: win = 0
        else: win = R.choice([1000, 65535, 512, 2000, 3])
        c["win"][d] = win
        if R.random() < 0.4:
            opts += b"\x01\x01\x08\x0a" + struct.pack("!II", R.randrange(2**32), R.randrange(2**32))
        if R.random() < 0.2:
            nb = R.choice([1, 2, 3, 4])
            base = c["nxt"][d ^ 1]
            blocks = []
            for k in range(nb):
                l = (base + R.choice([-3000, -100, 0, 100, 1448, 3000]) + k * 3000) & 0xFFFFFFFF
                blocks.append((l, (l + R.choice([1, 100, 1448, 2896])) & 0xFFFFFFFF))
            o = sack_opt(blocks)
            if len(opts) + len(o) <= 40: opts += o
        if R.random() < 0.03 and not (fl & 0x02) and len(opts) <= 36:
            opts += b"\x01\x03\x03" + bytes([R.choice([1, 3])])
        payload = bytes(R.randrange(256) for _ in range(min(seglen, 8))) + bytes(max(0, seglen - 8))
        pkts.append((t, tcp_pkt(src, dst, sp, dp, seq, ackv, fl, win, payload, opts)))
        if fl & 0x10: c["acked"][d] = ackv
        end = (seq + seglen + (1 if fl & 0x01 else 0)) & 0xFFFFFFFF
        if 0 < ((end - c["nxt"][d]) & 0xFFFFFFFF) < 2**31 and R.random() < 0.9:
            c["nxt"][d] = end
    return pkts

def main(argv):
    import os
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tcp_analysis_table import FIELDS, ftptui_table, tshark_table
    first, count = (int(argv[0]) if argv else 1), (int(argv[1]) if len(argv) > 1 else 20)
    conns, npk = (int(argv[2]) if len(argv) > 2 else 3), (int(argv[3]) if len(argv) > 3 else 60)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fuzz.pcap")
        for seed in range(first, first + count):
            write_pcap(path, gen(seed, conns, npk))
            bad = [(t, f) for t, f in zip(tshark_table(path), ftptui_table(path)) if t != f]
            failed += bool(bad)
            for t, f in bad[:5]:
                ts, fs = t.split("\t"), f.split("\t")
                print(f"seed {seed} frame {ts[0]}:",
                      ", ".join(f"{FIELDS[k]} tshark {ts[k]!r} ftptui {fs[k]!r}" for k in range(len(FIELDS))
                                if ts[k] != fs[k]))
    print(f"{count - failed}/{count} seeds identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
