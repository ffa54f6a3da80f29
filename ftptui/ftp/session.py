"""One FTP control connection followed as the server sees it: who logged in, where they are,
which data connections were announced, and which transfers they asked for.

Replies are paired with commands in order (a client may send several commands before the first
reply comes back); 1xx replies are preliminary and the command waits for its final reply.
After AUTH TLS/SSL is accepted (234) the rest of the connection is encrypted and nothing after
it is guessed.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from .control import Command, Reply
from .tshark_parse import eprt, epsv_port, six_numbers

DATA_COMMANDS = {"RETR": "download", "LIST": "listing", "NLST": "listing", "MLSD": "listing",
                 "STOR": "upload", "STOU": "upload", "APPE": "upload"}
SIZE_IN_150 = re.compile(r"\((\d+) bytes?\)", re.IGNORECASE)


@dataclass
class Expectation:
    """A data connection announced on the control connection: someone will connect to addr:port."""
    mode: str          # "active" (PORT/EPRT: the server connects to the client) or "passive"
    setup: str         # PORT, EPRT, PASV, EPSV
    addr: str
    port: int
    frame: int         # where it was announced (the command, or the PASV/EPSV reply)


@dataclass
class Transfer:
    command: str
    arg: str
    path: str | None             # working directory + argument, when both are known
    type: str | None
    rest: int | None
    command_frame: int
    expectation: Expectation | None
    direction: str
    expected_bytes: int | None = None
    final_reply: Reply | None = None
    started: bool = False        # a preliminary (1xx) reply came: the server began it
    # filled in by the data-connection linker
    tcp_stream: int = -1
    data_client: str = ""
    data_server: str = ""
    bytes: int = 0
    sha256: str = ""
    gaps: int = 0                # bytes missing from the capture
    first_data_frame: int = -1
    last_data_frame: int = -1

    @property
    def mode(self) -> str | None:
        return self.expectation.mode if self.expectation else None

    @property
    def setup(self) -> str | None:
        return self.expectation.setup if self.expectation else None

    @property
    def refused(self) -> bool:
        """Answered with a failure before the server began it (no 1xx reply) and nothing carried
        (a RETR of a missing file: 550): a command the server refused, not a transfer."""
        code = self.final_reply.code if self.final_reply is not None else None
        return code is not None and code >= 400 and not self.started and not self.bytes and not self.gaps

    @property
    def complete(self) -> bool:
        """A success reply, no gaps, and the announced size where one was given."""
        ok = self.final_reply is not None and self.final_reply.code in (226, 250)
        if not ok or self.gaps or self.tcp_stream < 0:
            return False
        if self.expected_bytes is not None:
            return self.bytes in (self.expected_bytes, self.expected_bytes - (self.rest or 0))
        return True


@dataclass
class Session:
    id: int
    stream: int
    client: tuple[str, int]
    server: tuple[str, int]
    start_frame: int
    user: str | None = None
    password: str | None = None
    logged_in: bool | None = None
    tls: bool = False
    cwd: str | None = None
    type: str | None = None
    mode: str | None = None
    commands: list[Command] = field(default_factory=list)
    greeting: list[Reply] = field(default_factory=list)   # replies before any command (220)
    transfers: list[Transfer] = field(default_factory=list)
    refused: list[Transfer] = field(default_factory=list)  # data commands refused: not transfers
    credentials: list[tuple[str, str | None, Reply | None, int]] = field(default_factory=list)
    _pending: list[Command] = field(default_factory=list)
    _expect: Expectation | None = None
    _rest: int | None = None
    _sizes: dict[str, int] = field(default_factory=dict)
    _transfer_of: dict[int, Transfer] = field(default_factory=dict)  # id(command) -> transfer

    # --- input
    def command(self, cmd: Command) -> None:
        if self.tls:
            return
        self.commands.append(cmd)
        self._pending.append(cmd)
        verb = cmd.verb
        if verb == "USER":
            self.user = cmd.arg
        elif verb == "PASS":
            self.password = cmd.arg
        elif verb == "PORT":
            six = six_numbers(_raw(cmd.arg))
            if six:
                self._expect = Expectation("active", "PORT", str(IPv4Address(six[0])), six[1], cmd.frame)
        elif verb == "EPRT":
            found = eprt(_raw(cmd.arg))
            if found:
                self._expect = Expectation("active", "EPRT", str(found[2]), found[3], cmd.frame)
        elif verb in DATA_COMMANDS:
            path = self._path(cmd.arg) if verb not in ("LIST", "NLST", "MLSD") or cmd.arg else self.cwd
            t = Transfer(verb, cmd.arg, path, self.type, self._rest, cmd.frame, self._expect, DATA_COMMANDS[verb],
                         expected_bytes=self._sizes.get(path) if path else None)
            self._rest = None
            self._expect = None  # one announced connection serves one transfer
            self.transfers.append(t)
            self._transfer_of[id(cmd)] = t

    def reply(self, reply: Reply) -> None:
        if self.tls:
            return
        first = not self.greeting and not any(c.replies for c in self.commands)
        if not self._pending or (first and reply.code == 220):
            # the server's greeting, even when an eager client sent commands before it came
            (self.greeting if first or not self.commands else self.commands[-1].replies).append(reply)
            return
        cmd = self._pending[0]
        cmd.replies.append(reply)
        transfer = self._transfer_of.get(id(cmd))
        if reply.code is not None and 100 <= reply.code < 200:
            if transfer is not None:
                transfer.started = True
            if transfer is not None and transfer.expected_bytes is None:
                m = SIZE_IN_150.search(reply.lines[0])
                if m:
                    transfer.expected_bytes = int(m.group(1))
            return
        self._pending.pop(0)
        if transfer is not None:
            transfer.final_reply = reply
        self._final(cmd, reply)

    # --- what a final reply means
    def _final(self, cmd: Command, reply: Reply) -> None:
        code, verb = reply.code, cmd.verb
        ok = code is not None and 200 <= code < 400
        if verb in ("USER", "PASS"):
            if code == 230:
                self.logged_in = True
            elif code is not None and code >= 500 and code != 502:
                self.logged_in = False
            if verb == "PASS" or code in (230, 530):
                self.credentials.append((self.user or "", cmd.arg if verb == "PASS" else None, reply, cmd.frame))
        elif verb in ("PWD", "XPWD") and code == 257:
            m = re.search(r'"((?:[^"]|"")*)"', reply.lines[0])
            if m:
                self.cwd = m.group(1).replace('""', '"')
        elif verb in ("CWD", "XCWD") and ok:
            self.cwd = self._path(cmd.arg)
        elif verb in ("CDUP", "XCUP") and ok:
            self.cwd = posixpath.dirname(self.cwd.rstrip("/")) or "/" if self.cwd else None
        elif verb == "TYPE" and ok:
            self.type = cmd.arg.upper()
        elif verb == "MODE" and ok:
            self.mode = cmd.arg.upper()
        elif verb == "REST" and code == 350 and cmd.arg.isdigit():
            self._rest = int(cmd.arg)
        elif verb == "SIZE" and code == 213 and reply.lines[0][4:].strip().isdigit():
            path = self._path(cmd.arg)
            if path:
                self._sizes[path] = int(reply.lines[0][4:].strip())
        elif verb == "PASV" and code == 227:
            six = six_numbers(_raw(reply.lines[0]))
            if six:
                self._expect = Expectation("passive", "PASV", str(IPv4Address(six[0])), six[1], reply.frame)
        elif verb == "EPSV" and code == 229:
            epsv = epsv_port(_raw(reply.lines[0]))
            if epsv:
                self._expect = Expectation("passive", "EPSV", self.server[0], epsv[0], reply.frame)
        elif verb in ("PORT", "EPRT") and not ok:
            self._expect = None
        elif verb in ("AUTH",) and code == 234:
            self.tls = True

    def _path(self, arg: str) -> str | None:
        """Working directory + argument; an absolute argument stands alone; None if unknown."""
        if not arg:
            return self.cwd
        if arg.startswith("/"):
            return posixpath.normpath(arg)
        if self.cwd is None:
            return None
        return posixpath.normpath(posixpath.join(self.cwd, arg))


def _raw(text: str) -> bytes:
    """Control text back to its bytes (control.decode made it), for the address parsers."""
    return text.encode("utf-8", "surrogateescape")
