"""Shared by the live-capture tests: whether this machine can capture, and a TCP server on
127.0.0.1 that makes one short, complete connection per exchange."""
from __future__ import annotations

import socket
import sys


def capture_unavailable() -> str | None:
    """Why packets cannot be captured here (a skip reason), or None when they can."""
    if not sys.platform.startswith("linux"):
        return "live capture is Linux only (AF_PACKET)"
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except PermissionError:
        return "capturing needs root or CAP_NET_RAW"
    return None


class Server:
    """A TCP server on 127.0.0.1 (a free port); each exchange is one short connection."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(timeout)
        self.port = self.sock.getsockname()[1]

    def exchange(self, payload: bytes) -> None:
        """One connection: the client sends payload, the server answers, both close."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as c:
            conn, _ = self.sock.accept()
            with conn:
                c.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    got += conn.recv(65536)
                conn.sendall(b"ok")
                assert c.recv(2) == b"ok"

    def close(self):
        self.sock.close()
