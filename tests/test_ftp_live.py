"""The FTP follower on real traffic: a pyftpdlib server and ftplib clients on loopback (IPv4 and
IPv6, passive and active, downloads, uploads, listings, an aborted and a resumed download, two
clients whose data connections overlap, and a session on port 21 when it can be bound), captured
while it happens (tests/ftp_traffic.py).  Every session, credential, transfer, data-connection
link and sha256 the follower finds must equal what the clients really did and the files really
hold; the JSON output and the extracted files too.

The traffic is made once per module (about 3 s).  It is captured with scapy (a PF_PACKET socket:
root or CAP_NET_RAW, no libpcap or tcpdump needed) and, when installed, with tcpdump at the same
time; the tests run on each capture.  With neither able to capture, the module is skipped.
FTPTUI_LIVE_CAPTURE=scapy (or tcpdump) picks the capture tools.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("pyftpdlib", reason="the live FTP tests need pyftpdlib (pip install -e '.[test]')")

sys.path.insert(0, str(Path(__file__).parent))
import ftp_traffic as ft  # noqa: E402

from ftptui.capture import open_capture  # noqa: E402
from ftptui.ftp.analysis import FtpAnalysis, analyse  # noqa: E402
from ftptui.ftp.extract import extract  # noqa: E402
from ftptui.store.index import PacketIndex  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# pyftpdlib is built on asyncore/asynchat (deprecated in 3.11, from PyPI from 3.12 on)
pytestmark = pytest.mark.filterwarnings("ignore:The (asyncore|asynchat) module is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def traffic(tmp_path_factory) -> ft.Traffic:
    try:
        return ft.run(tmp_path_factory.mktemp("ftp-live"))
    except ft.CaptureUnavailable as e:
        pytest.skip(f"cannot capture loopback traffic: {e}")


@dataclass
class Captured:
    backend: str
    path: Path
    index: PacketIndex
    analysis: FtpAnalysis


_analysed: dict[Path, Captured] = {}


def captured(traffic: ft.Traffic, backend: str) -> Captured:
    path = traffic.pcaps[backend]
    if path not in _analysed:
        index = PacketIndex(open_capture(str(path)))
        index.build()
        _analysed[path] = Captured(backend, path, index, analyse(index))
    return _analysed[path]


@pytest.fixture(scope="module", params=["scapy", "tcpdump"])
def cap(request, traffic) -> Captured:
    if request.param not in traffic.pcaps:
        pytest.skip(f"no {request.param} capture ({'; '.join(traffic.notes) or 'not asked for'})")
    return captured(traffic, request.param)


def pairs(cap: Captured, traffic: ft.Traffic):
    """(follower session, expected session), matched on the client's control endpoint."""
    by_client = {s.client: s for s in cap.analysis.sessions}
    return [(by_client[e.client], e) for e in traffic.sessions]


def transfer_pairs(cap: Captured, traffic: ft.Traffic):
    return [(s, t, e) for s, es in pairs(cap, traffic) for t, e in zip(s.transfers, es.transfers, strict=True)]


def expected_bytes_of(t, e: ft.Expected) -> bytes:
    """What the capture holds for a transfer: what the client saw, or for an aborted download the
    file's first t.bytes bytes (the kernel received more than the client read before closing)."""
    return e.data if e.complete else e.whole[:t.bytes]


def find(cap, traffic, **want):
    found = [(s, t, e) for s, t, e in transfer_pairs(cap, traffic)
             if all(getattr(e, k) == v for k, v in want.items())]
    assert found, f"no transfer with {want}"
    return found


def v6(traffic: ft.Traffic) -> bool:
    """Whether the run had an IPv6 session (not when ::1 cannot be bound)."""
    return any(":" in e.client[0] for e in traffic.sessions)


def disk(traffic: ft.Traffic, path: str) -> bytes:
    return (traffic.home / path.lstrip("/")).read_bytes()


# --- sessions


def test_one_session_per_client_connection(cap, traffic):
    sessions = cap.analysis.sessions
    assert len(sessions) == len(traffic.sessions)
    assert sorted(s.client for s in sessions) == sorted(e.client for e in traffic.sessions)
    for s, e in pairs(cap, traffic):
        assert s.server == e.server
        assert (s.user, s.password, s.logged_in, s.tls) == (e.user, e.password, True, False)
        assert [(u, p, r.code) for u, p, r, _ in s.credentials] == e.credentials
        assert len(s.transfers) == len(e.transfers), [f"{t.command} {t.arg}" for t in s.transfers]
        assert s.greeting and s.greeting[0].code == 220


def test_ipv6_and_well_known_port(cap, traffic):
    servers = {s.server for s in cap.analysis.sessions}
    if v6(traffic):
        assert ("::1", traffic.ports.control) in servers
    if 21 not in traffic.ports.extra_control:
        pytest.skip("port 21 could not be bound: no session on the well-known port")
    (s,) = [s for s in cap.analysis.sessions if s.server[1] == 21]
    assert s.user == "anonymous" and s.logged_in
    assert [(t.mode, t.setup, t.path, t.complete) for t in s.transfers] == [
        ("passive", "PASV", "/text.txt", True), ("active", "PORT", "/sub/inner.bin", True)]


def test_control_dialogue(cap, traffic):
    s4, e4 = pairs(cap, traffic)[0]
    finals = [(c.verb, c.arg, c.final.code if c.final else None) for c in s4.commands]
    assert ("PWD", "", 257) in finals
    assert ("SIZE", "binary.bin", 213) in finals
    assert ("REST", str(ft.RESUME_AT), 350) in finals
    assert ("CWD", "sub", 250) in finals
    assert finals[-1] == ("QUIT", "", 221)
    assert s4.cwd == "/sub"
    if v6(traffic):
        s6 = next(s for s, e in pairs(cap, traffic) if ":" in e.client[0])
        abor = [c for c in s6.commands if c.verb == "ABOR"]
        assert len(abor) == 1 and abor[0].final.code == 226
        retr = s6.commands[s6.commands.index(abor[0]) - 1]
        assert retr.verb == "RETR" and [r.code // 100 for r in retr.replies] == [1, 4]
        assert retr.replies[-1].code == 426   # pyftpdlib: "426 Transfer aborted via ABOR."
        assert s6.cwd == "/sub"


# --- transfers


def test_every_transfer_as_the_client_saw_it(cap, traffic):
    streams = set()
    control = {s.stream for s in cap.analysis.sessions}
    for s, t, e in transfer_pairs(cap, traffic):
        what = f"session {s.id} {t.command} {t.arg} ({e.mode})"
        assert (t.command, t.arg, t.path, t.type, t.rest) == (e.command, e.arg, e.path, e.type, e.rest), what
        assert (t.mode, t.setup, t.direction) == (e.mode, e.setup, e.direction), what
        # linked to the very connection the client used (TCP initiator and responder)
        assert t.tcp_stream >= 0 and t.tcp_stream not in control, what
        for got, want in ((t.data_client, e.data_client), (t.data_server, e.data_server)):
            assert want is None or got == want, what
        assert t.final_reply is not None and t.final_reply.code == e.reply, what
        assert t.gaps == 0, what
        data = expected_bytes_of(t, e)
        assert (t.bytes, t.sha256) == (len(data), ft.sha256(data)), what
        assert t.complete == e.complete, what
        streams.add(t.tcp_stream)
    assert len(streams) == sum(len(e.transfers) for e in traffic.sessions)   # one stream per transfer


def test_downloads_hash_as_the_real_files(cap, traffic):
    binary = disk(traffic, "/binary.bin")
    full = find(cap, traffic, command="RETR", arg="binary.bin", rest=None, complete=True)
    assert {(t.mode, t.setup) for _, t, _ in full} >= {("passive", "PASV"), ("active", "PORT")}
    if v6(traffic):
        assert {(t.mode, t.setup) for _, t, _ in full} >= {("passive", "EPSV"), ("active", "EPRT")}
    for _, t, _ in full:
        assert (t.bytes, t.sha256, t.complete) == (len(binary), ft.sha256(binary), True)
    inner = disk(traffic, "/sub/inner.bin")
    for _, t, _ in find(cap, traffic, path="/sub/inner.bin"):
        assert t.sha256 == ft.sha256(inner) and t.complete
    # the text file: TYPE I carries the file as it is, TYPE A with every line ending in CRLF
    text = disk(traffic, "/text.txt")
    assert b"\r\n" in text and b"\n" in text.replace(b"\r\n", b"")
    for _, t, _ in find(cap, traffic, arg="text.txt", type="I"):
        assert t.sha256 == ft.sha256(text) and t.bytes == len(text)
    for _, t, _ in find(cap, traffic, arg="text.txt", type="A"):
        assert t.sha256 == ft.sha256(ft.to_crlf(text)) and t.bytes == len(ft.to_crlf(text))


def test_resumed_download(cap, traffic):
    binary = disk(traffic, "/binary.bin")
    resumed = find(cap, traffic, command="RETR", rest=ft.RESUME_AT)
    assert len(resumed) == (2 if v6(traffic) else 1)
    for _s, t, _ in resumed:
        assert t.rest == ft.RESUME_AT and t.complete
        assert (t.bytes, t.sha256) == (len(binary) - ft.RESUME_AT, ft.sha256(binary[ft.RESUME_AT:]))
    s4, t4, _ = resumed[0]
    assert t4.expected_bytes == len(binary)   # from SIZE: complete because bytes == size - REST
    # shown as the part of the file it carried: its first and last byte's offsets
    from ftptui.render.ftp import bytes_text
    assert bytes_text(t4) == f"{ft.RESUME_AT:,}–{len(binary) - 1:,}"
    done = run_cli("-r", str(cap.path), "--ftp")
    assert f" {ft.RESUME_AT:,}–{len(binary) - 1:,} " in done.stdout


def test_uploads_hash_as_sent(cap, traffic):
    ((_, t, e),) = find(cap, traffic, command="STOR", arg="upload.txt")
    sent = ft.to_crlf(ft.ASCII_TEXT)                      # storlines sends CRLF lines
    assert e.data == sent and t.direction == "upload" and t.type == "A"
    assert (t.bytes, t.sha256, t.complete) == (len(sent), ft.sha256(sent), True)
    assert disk(traffic, "/upload.txt") == sent.replace(b"\r\n", b"\n")   # the server stored LF lines
    if v6(traffic):
        ((_, stor, _),) = find(cap, traffic, command="STOR", arg="up.bin")
        ((_, appe, _),) = find(cap, traffic, command="APPE", arg="up.bin")
        inner = disk(traffic, "/sub/inner.bin")
        assert stor.sha256 == ft.sha256(inner) and appe.sha256 == ft.sha256(ft.ASCII_TEXT)
        assert disk(traffic, "/up.bin") == inner + ft.ASCII_TEXT


def test_listings(cap, traffic):
    listings = [(t, e) for _, t, e in transfer_pairs(cap, traffic) if e.direction == "listing"]
    assert {t.command for t, _ in listings} == {"LIST", "NLST", "MLSD"}
    for t, e in listings:
        assert t.direction == "listing" and t.bytes > 0 and t.complete
        assert t.sha256 == ft.sha256(e.data)
    (nlst,) = [e for t, e in listings if t.command == "NLST" and t.path == "/"]
    assert {n.decode() for n in nlst.data.split(b"\r\n") if n} == {"binary.bin", "text.txt", "sub", "upload.txt"}


def test_aborted_downloads(cap, traffic, tmp_path):
    binary = disk(traffic, "/binary.bin")
    aborted = [(s, t, e) for s, t, e in transfer_pairs(cap, traffic) if e.reply == 426]
    assert len(aborted) == (2 if v6(traffic) else 1)
    assert {t.mode for _, t, _ in aborted} == ({"passive", "active"} if v6(traffic) else {"passive"})
    for k, (s, t, e) in enumerate(aborted, 1):
        assert not t.complete and t.final_reply.code == 426
        assert len(e.data) == ft.ABORT_AFTER <= t.bytes < len(binary)
        assert t.sha256 == ft.sha256(binary[:t.bytes])   # what crossed the wire is the file's start
        out = Path(extract(cap.index, s, t, str(tmp_path), k))
        assert out.parent == tmp_path and out.name.startswith("binary") and out.name.endswith(".bin.incomplete")
        assert out.read_bytes() == binary[:t.bytes]


def test_refused_downloads(cap, traffic):
    """RETR of a missing file: 550 before anything began, so a refused command, not a transfer
    (none listed, hashed or extracted for it); the announced data connection was made all the
    same and belongs to it (not to the next transfer, which has its own)."""
    refused = [(s, t, e) for s, es in pairs(cap, traffic) for t, e in zip(s.refused, es.refused, strict=True)]
    assert [(t.command, t.arg, t.mode, t.final_reply.code) for _, t, _ in refused] == [
        (e.command, e.arg, e.mode, e.reply) for es in traffic.sessions for e in es.refused] == [
        ("RETR", "missing.bin", "active", 550), ("RETR", "missing.bin", "passive", 550)]
    for s, t, _e in refused:
        assert (t.bytes, t.path, t.started) == (0, "/missing.bin", False)
        assert t.tcp_stream >= 0 and t.tcp_stream not in {x.tcp_stream for x in s.transfers}
    assert not any(t.arg == "missing.bin" for _, t in cap.analysis.transfers)


def test_extraction(cap, traffic, tmp_path):
    real_downloads = 0
    for k, (s, t, e) in enumerate(transfer_pairs_in_analysis_order(cap, traffic), 1):
        out = Path(extract(cap.index, s, t, str(tmp_path), k))
        assert out.parent == tmp_path
        got = out.read_bytes()
        assert got == expected_bytes_of(t, e), f"{t.command} {t.arg}"
        assert out.name.endswith(".incomplete") == (not t.complete)
        if t.direction != "listing":
            assert out.name.startswith(Path(t.arg).stem), out.name
        if t.command == "RETR" and t.type == "I" and t.complete:   # the real file (from REST on)
            assert got == disk(traffic, e.path or "/" + e.arg)[t.rest or 0:]
            real_downloads += 1
    assert real_downloads >= 8


# --- the command line


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_cli_json(cap, traffic):
    done = run_cli("-r", str(cap.path), "--ftp", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["sessions"]) == len(traffic.sessions)
    by_client = {tuple(s["client"].rsplit(":", 1)): s for s in doc["sessions"]}
    for e in traffic.sessions:
        js = by_client[(ft.endpoint(e.client).rsplit(":", 1)[0], str(e.client[1]))]
        assert (js["user"], js["password"], js["logged_in"]) == (e.user, e.password, True)
        assert js["server"] == ft.endpoint(e.server)
        assert len(js["transfers"]) == len(e.transfers)
        assert [(r["command"], r["arg"], r["reply"]) for r in js["refused"]] == [
            (r.command, r.arg, r.reply) for r in e.refused]
        for jt, et in zip(js["transfers"], e.transfers):
            want = {"command": et.command, "arg": et.arg, "path": et.path, "type": et.type, "rest": et.rest,
                    "mode": et.mode, "setup": et.setup, "direction": et.direction, "data_client": et.data_client,
                    "data_server": et.data_server, "final_reply": et.reply, "complete": et.complete,
                    "missing_bytes": 0}
            want = {k: v for k, v in want.items() if v is not None or k not in ("data_client", "data_server")}
            assert {k: jt[k] for k in want} == want
            assert isinstance(jt["tcp_stream"], int)
            data = et.data if et.complete else et.whole[:jt["bytes"]]
            assert (jt["bytes"], jt["sha256"]) == (len(data), ft.sha256(data))


def test_cli_export_objects(cap, traffic, tmp_path):
    done = run_cli("-r", str(cap.path), "--export-objects", f"ftp-data,{tmp_path}")
    assert done.returncode == 0, done.stderr
    written = [Path(p) for p in done.stdout.splitlines()]
    assert len(written) == sum(len(e.transfers) for e in traffic.sessions)
    for (_s, t, e), path in zip(transfer_pairs_in_analysis_order(cap, traffic), written):
        assert path.parent == tmp_path and path.read_bytes() == expected_bytes_of(t, e), path.name


def transfer_pairs_in_analysis_order(cap, traffic):
    expected = {id(t): (s, t, e) for s, t, e in transfer_pairs(cap, traffic)}
    return [expected[id(t)] for _, t in cap.analysis.transfers]


def test_captures_agree(traffic):
    """scapy and tcpdump saw the same packets: the analyses are the same."""
    if len(traffic.pcaps) < 2:
        pytest.skip(f"only one capture tool ({', '.join(traffic.pcaps)})")
    def summary(c: Captured):
        return [(s.id, s.client, t.command, t.arg, t.path, t.mode, t.tcp_stream, t.bytes, t.sha256, t.complete)
                for s, t in c.analysis.transfers]
    first, *rest = (captured(traffic, b) for b in traffic.pcaps)
    for other in rest:
        assert len(other.index) == len(first.index)
        assert summary(other) == summary(first)


def test_refused_commands_shown_as_refused(cap, traffic):
    """In the FTP view's dialogue the refused command is marked, and `--ftp` lists it under
    Refused with its reply, not under Transfers."""
    from ftptui.ui.ftp_view import dialogue_lines
    for s, es in pairs(cap, traffic):
        marked = [text for text, _ in dialogue_lines(s) if text.endswith("[refused: not a transfer]")]
        assert marked == [f"> RETR {e.arg}   [refused: not a transfer]" for e in es.refused]
    done = run_cli("-r", str(cap.path), "--ftp")
    assert done.returncode == 0, done.stderr
    transfers, _, refused = done.stdout.partition("\nRefused\n")
    assert "missing.bin" not in transfers
    rows = [line.split() for line in refused.splitlines()[2:]]
    assert [(r[1], r[2], r[4]) for r in rows] == [("RETR", "missing.bin", "550")] * 2
