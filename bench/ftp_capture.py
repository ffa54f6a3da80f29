#!/usr/bin/env python3
"""A deterministic FTP capture of about 12 MB, for benchmarks (and tests) of the FTP views.

    python bench/ftp_capture.py [OUT.pcap]      # default bench/out/ftp-big.pcap

Ethernet/IPv4/TCP written with struct, checksums included: every connection has its handshake,
exact seq/ack numbers, delayed ACKs and a FIN teardown.  SESSIONS FTP sessions run one after
the other, each with a distinct user (user00, user01, ...) so a screen shows which one it is:

* session LONG_SESSION: a RETR of LONG_SEGMENTS small data segments (its sequence diagram has
  about 9,500 steps);
* session BIG_SESSION: first a RETR of BIG_SIZE bytes (4 MiB), then smaller transfers;
* the others: two to four transfers (RETR, STOR, LIST) of a few KB to 150 KB.

Data connections are passive (PASV, EPSV) or active (PORT, the server connecting from port 20);
every transfer ends with its 226 reply.  The bytes come from random.Random(SEED): the same file
every time.
"""
from __future__ import annotations

import random
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20240613
SESSIONS = 14
LONG_SESSION, LONG_SEGMENTS, LONG_MSS = 4, 9000, 512
BIG_SESSION, BIG_SIZE = 5, 4 << 20
MSS = 1448
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
START = 1_700_000_000


def checksum(data: bytes) -> int:
    """The Internet checksum; the sum of 16-bit words is congruent to the number mod 0xFFFF."""
    if len(data) % 2:
        data += b"\0"
    total = int.from_bytes(data, "big") % 0xFFFF
    return ~(total or 0xFFFF) & 0xFFFF


def mac(ip: bytes) -> bytes:
    return b"\x02\x00" + ip


class Pcap:
    """Packets in order, each 100 µs after the last unless `pause` says otherwise."""

    def __init__(self):
        self.records: list[tuple[int, bytes]] = []
        self.clock = START * 1_000_000

    def add(self, frame: bytes, pause_us: int = 100) -> None:
        self.clock += pause_us
        self.records.append((self.clock, frame))

    def write(self, path: Path) -> None:
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # link type 1: Ethernet
            for usec, frame in self.records:
                f.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
                f.write(frame)


@dataclass
class Tcp:
    """One TCP connection: side 0 opened it (the client), side 1 accepted it."""
    pcap: Pcap
    ends: tuple[tuple[bytes, int], tuple[bytes, int]]  # ((ip, port), (ip, port))
    isn: tuple[int, int]

    def __post_init__(self):
        self.seq = [self.isn[0], self.isn[1]]
        self.ip_id = [1, 1]

    def segment(self, side: int, flags: int, payload: bytes = b"", pause_us: int = 100) -> None:
        (sip, sport), (dip, dport) = self.ends[side], self.ends[1 - side]
        ack = self.seq[1 - side] if flags & ACK else 0
        tcp = struct.pack("!HHIIBBHHH", sport, dport, self.seq[side], ack, 5 << 4, flags, 65535, 0, 0) + payload
        pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ip_id[side], 0x4000, 64, 6, 0, sip, dip)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        self.ip_id[side] += 1
        self.pcap.add(mac(dip) + mac(sip) + b"\x08\x00" + ip + tcp, pause_us)
        self.seq[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def open(self) -> None:
        self.segment(0, SYN, pause_us=2000)
        self.segment(1, SYN | ACK, pause_us=300)
        self.segment(0, ACK)

    def line(self, side: int, text: str) -> None:
        """One line of the control connection, acknowledged by the other side."""
        self.segment(side, PSH | ACK, text.encode() + b"\r\n", pause_us=1500)
        self.segment(1 - side, ACK)

    def send(self, side: int, data: bytes, mss: int = MSS, ack_every: int = 2) -> None:
        """`data` from `side` in segments of `mss`, the receiver ACKing every `ack_every`."""
        chunks = [data[k:k + mss] for k in range(0, len(data), mss)]
        for k, chunk in enumerate(chunks):
            last = k == len(chunks) - 1
            self.segment(side, (PSH | ACK) if last else ACK, chunk, pause_us=40)
            if last or (k + 1) % ack_every == 0:
                self.segment(1 - side, ACK, pause_us=20)

    def close(self, side: int) -> None:
        self.segment(side, FIN | ACK)
        self.segment(1 - side, FIN | ACK, pause_us=200)
        self.segment(side, ACK)


@dataclass
class Transfer:
    command: str   # RETR, STOR or LIST
    name: str
    data: bytes
    setup: str     # PASV, EPSV or PORT
    mss: int = MSS
    ack_every: int = 2


class Session:
    def __init__(self, pcap: Pcap, number: int, client: bytes, server: bytes):
        self.pcap, self.number, self.client, self.server = pcap, number, client, server
        self.next_port = 41000 + number * 40  # the client's data ports
        self.ctl = Tcp(pcap, ((client, 40000 + number), (server, 21)), (1000 + number, 500_000 + number))

    def run(self, transfers: list[Transfer]) -> None:
        c = self.ctl
        c.open()
        c.line(1, "220 (vsFTPd 3.0.3)")
        user = f"user{self.number:02d}"
        for side, text in ((0, f"USER {user}"), (1, "331 Please specify the password."),
                           (0, f"PASS pw-{self.number:02d}-secret"), (1, "230 Login successful."),
                           (0, "SYST"), (1, "215 UNIX Type: L8"), (0, "TYPE I"), (1, "200 Switching to Binary mode.")):
            c.line(side, text)
        for t in transfers:
            self.transfer(t)
        c.line(0, "QUIT")
        c.line(1, "221 Goodbye.")
        c.close(1)

    def transfer(self, t: Transfer) -> None:
        c, port = self.ctl, self.next_port
        self.next_port += 1
        if t.setup == "PORT":
            a = ",".join(str(b) for b in self.client)
            c.line(0, f"PORT {a},{port >> 8},{port & 255}")
            c.line(1, "200 PORT command successful. Consider using PASV.")
            c.line(0, f"{t.command} {t.name}".strip())
            data = Tcp(self.pcap, ((self.server, 20), (self.client, port)), (7_000_000 + port, 9_000_000 + port))
            data.open()
            sender = 1 if t.command == "STOR" else 0  # side 0 is the server here
        else:
            sport = 50000 + port % 1000
            if t.setup == "PASV":
                a = ",".join(str(b) for b in self.server)
                c.line(0, "PASV")
                c.line(1, f"227 Entering Passive Mode ({a},{sport >> 8},{sport & 255}).")
            else:
                c.line(0, "EPSV")
                c.line(1, f"229 Entering Extended Passive Mode (|||{sport}|)")
            data = Tcp(self.pcap, ((self.client, port), (self.server, sport)), (7_000_000 + port, 9_000_000 + port))
            data.open()
            c.line(0, f"{t.command} {t.name}".strip())
            sender = 0 if t.command == "STOR" else 1
        if t.command == "LIST":
            c.line(1, "150 Here comes the directory listing.")
        else:
            c.line(1, f"150 Opening BINARY mode data connection for {t.name} ({len(t.data)} bytes).")
        data.send(sender, t.data, t.mss, t.ack_every)
        data.close(sender)
        c.line(1, "226 Transfer complete." if t.command != "LIST" else "226 Directory send OK.")


def listing(rng: random.Random, names: list[str]) -> bytes:
    return b"".join(b"-rw-r--r--    1 1000     1000     %8d Nov 14 22:13 %s\r\n" % (rng.randrange(1, 10**7), n.encode())
                    for n in names)


def plan(rng: random.Random, number: int) -> list[Transfer]:
    """The transfers of session `number`."""
    setups = ("PASV", "EPSV", "PORT")
    if number == LONG_SESSION:
        return [Transfer("RETR", "long-trace.log", rng.randbytes(LONG_SEGMENTS * LONG_MSS), "PASV", LONG_MSS, 20)]
    out = []
    if number == BIG_SESSION:
        out.append(Transfer("RETR", "big-4MiB.bin", rng.randbytes(BIG_SIZE), "PORT"))
    names = [f"file-{number:02d}-{k}.{ext}" for k, ext in enumerate(("txt", "bin", "csv", "tar"))]
    for k in range(rng.randrange(2, 5)):
        command = rng.choice(("RETR", "RETR", "STOR", "LIST"))
        if command == "LIST":
            data = listing(rng, names)
        elif k % 2:
            data = rng.randbytes(rng.randrange(2_000, 150_000))
        else:
            data = b"".join(b"line %06d of %s\r\n" % (i, names[k].encode()) for i in range(rng.randrange(100, 4000)))
        out.append(Transfer(command, "" if command == "LIST" else names[k], data, setups[(number + k) % 3]))
    return out


def write_capture(path: Path) -> Path:
    rng = random.Random(SEED)
    pcap = Pcap()
    for n in range(SESSIONS):
        pcap.clock += 1_000_000  # a second between sessions
        Session(pcap, n, bytes((10, 20, 0, 10 + n)), bytes((192, 0, 2, 21 + n % 3))).run(plan(rng, n))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pcap.write(tmp)
    tmp.replace(path)  # never a half-written capture under the final name
    return path


def ensure(path: Path) -> Path:
    """The capture at `path`, written first if it is missing."""
    return path if path.exists() else write_capture(path)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "out" / "ftp-big.pcap"
    write_capture(out)
    print(f"{out}: {out.stat().st_size:,} bytes")
