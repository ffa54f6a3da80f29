"""The FTP follower against independent ground truth: the seed's known file and credentials,
Zeek's baselines (ftp.log, files.log, file-analysis hashes) and Suricata's expected events for
the public captures (copied next to them in tests/data/ftp and tests/data/public)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from ftptui.capture import open_capture
from ftptui.ftp.analysis import analyse
from ftptui.ftp.extract import extract, safe_name
from ftptui.store.index import PacketIndex

DATA = Path(__file__).parent / "data"
DUMP = (DATA / "seed-ftp-active.dump.sql").read_bytes()


@lru_cache(maxsize=None)
def ftp(rel: str):
    index = PacketIndex(open_capture(str(DATA / rel)))
    index.build()
    return index, analyse(index)


def transfers(rel: str):
    return [t for _, t in ftp(rel)[1].transfers]


@pytest.mark.parametrize("rel, mode, setup", [("seed-ftp-active.pcap", "active", "PORT"),
                                              ("seed-ftp-passive.pcap", "passive", "PASV")])
def test_seed_sessions(rel, mode, setup):
    _, a = ftp(rel)
    (s,) = a.sessions
    assert (s.user, s.password, s.logged_in) == ("ftpuser", "%n?4Wz>R$tTF7", True)
    retr = [t for t in s.transfers if t.command == "RETR"]
    assert len(retr) == 1
    t = retr[0]
    assert (t.arg, t.mode, t.setup, t.direction, t.bytes) == ("dump.sql", mode, setup, "download", len(DUMP))
    assert t.sha256 == hashlib.sha256(DUMP).hexdigest() and t.complete
    assert [x.command for x in s.transfers] == (["LIST", "NLST", "RETR"] if mode == "active" else ["LIST", "RETR"])


def test_active_seed_frames_as_the_walkthrough_reads_them():
    """PORT 10,10,15,211,158,215 -> the connection from port 20 to 40663; RETR dump.sql -> three
    FTP-DATA segments (frames 67, 69, 71 in tshark's numbering)."""
    t = transfers("seed-ftp-active.pcap")[0]
    assert (t.command, t.data_client, t.data_server) == ("LIST", "10.10.10.187:20", "10.10.15.211:40663")
    retr = transfers("seed-ftp-active.pcap")[2]
    assert (retr.command_frame + 1, retr.first_data_frame + 1, retr.last_data_frame + 1) == (60, 67, 71)


def test_zeek_ipv4_data_channels():
    """ftp.log: PASV data ports 56666 and 56667, PORT data ports 33582 and 37835; robots.txt 77 B."""
    ts = transfers("public/zeek__ipv4.pcap")
    assert [(t.command, t.mode) for t in ts] == [("LIST", "passive"), ("RETR", "passive"),
                                                  ("LIST", "active"), ("RETR", "active")]
    ports = [int(t.data_server.rsplit(":", 1)[1]) for t in ts]
    assert ports == [56666, 56667, 33582, 37835]
    assert [t.bytes for t in ts if t.command == "RETR"] == [77, 77]


def test_zeek_ipv6_epsv_eprt():
    ts = transfers("public/zeek__ipv6.pcap")
    assert [(t.command, t.setup) for t in ts] == [("LIST", "EPSV"), ("NLST", "EPSV"), ("RETR", "EPSV"),
                                                   ("RETR", "EPRT"), ("LIST", "EPRT")]
    assert all(t.complete for t in ts)
    assert [t.bytes for t in ts if t.command == "RETR"] == [77, 77]
    assert ts[3].data_server.startswith("[2001:470:1f11:81f:c999:d94:aa7c:2e3e]:")  # the EPRT address


def test_zeek_retr_data_before_150():
    """file-analysis baseline: /README, 16557 bytes, SHA256 202674eb...; the data arrives before
    the 150 reply (tshark 4.0 mislabels it)."""
    (t,) = transfers("public/zeek__retr.pcap")
    assert (t.command, t.path, t.bytes, t.complete) == ("RETR", "/README", 16557, True)
    assert t.sha256 == "202674eba48e832690a4475113acf8b16a3f6c82c04c94b36bb2c7ce457ac8d2"


def test_zeek_bigtransfer_gaps_are_counted_not_papered_over():
    """files.log: RETR rand.txt seen 23822 bytes, missing 5416642848; LIST 270 bytes."""
    ls, retr = transfers("public/zeek__bigtransfer.pcap")
    assert (ls.bytes, ls.complete) == (270, True)
    assert (retr.bytes, retr.gaps, retr.expected_bytes, retr.complete) == (23822, 5416642848, 5416666670, False)


def test_suricata_bug_4877_hashes():
    """test.yaml: test.pdf 118196 B sha256 7d400735...b382, notepad.exe 69120 B sha256 fefeac4c...8093,
    each uploaded (STOR) and downloaded (RETR) over active-mode connections from port 20."""
    got = {(t.command, t.arg): (t.bytes, t.sha256) for t in transfers("ftp/suricata-verify__bug-4877.pcap")}
    pdf = (118196, "7d400735ff3054837da5d92a10ad2faa8b6825f100dc167a6b008e753015b382")
    exe = (69120, "fefeac4c10bbe237cc6c861229ecaacbd2a366ac4fbd04a3862b62bd7a778093")
    assert got == {("STOR", "test.pdf"): pdf, ("RETR", "test.pdf"): pdf,
                   ("STOR", "notepad.exe"): exe, ("RETR", "notepad.exe"): exe}


@pytest.mark.parametrize("rel, version", [("ftp/suricata-verify__firewall-116-ftp-all-data-ipv4.pcap", "ipv4"),
                                          ("public/suricata-verify__firewall-117-ftp-all-data-ipv6.pcap", "ipv6")])
def test_suricata_all_data_commands(rel, version):
    """test.yaml: APPE and STOU with their file names in passive and active sessions, LIST and
    MLSD twice; every data command of both sessions has its connection."""
    _, a = ftp(rel)
    assert len(a.sessions) == 2
    ts = transfers(rel)
    names = {(t.command, t.arg) for t in ts if t.command in ("APPE", "STOU")}
    assert names == {("APPE", f"all-data-{version}-passive-stor-appe.txt"),
                     ("APPE", f"all-data-{version}-active-stor-appe.txt"),
                     ("STOU", f"all-data-{version}-passive-stou.txt"), ("STOU", f"all-data-{version}-active-stou.txt")}
    assert sum(t.command == "LIST" for t in ts) == 2 and sum(t.command == "MLSD" for t in ts) == 2
    assert all(t.tcp_stream >= 0 and t.complete for t in ts)
    assert {t.mode for t in ts} == {"active", "passive"}


def test_loopback_passive_transfer():
    """Both ends on 127.0.0.1: the sending side is told by who connected, not by address."""
    (t,) = transfers("ftp/suricata-verify__filestore-ftp-passive-mode.pcap")
    assert (t.command, t.arg, t.bytes, t.complete) == ("RETR", "index.html", 39, True)


def test_pipelined_commands_pair_with_their_replies():
    """Zeek ftp.log of fake-server-delays-all: the client sends everything before the 220;
    USER anonymous -> 230 'Fake response USER anonymous', SYST -> 215 'Fake response SYST'."""
    (s,) = ftp("ftp/zeek__fake-server-delays-all.pcap")[1].sessions
    pairs = {c.verb: c.final.lines[0] for c in s.commands if c.final}
    assert pairs["USER"] == "230 Fake response USER anonymous"
    assert pairs["SYST"] == "215 Fake response SYST"
    assert (s.user, s.password) == ("anonymous", "anonymous@zeek.org")


def test_bruteforce_sessions_all_refused():
    """bruteforce: 30 control sessions of USER bro / PASS, every one refused (530)."""
    _, a = ftp("ftp/zeek__bruteforce.pcap")
    assert len(a.sessions) == 30
    assert all(s.logged_in is False and s.user == "bro" for s in a.sessions)
    assert all(c[2].code == 530 for s in a.sessions for c in s.credentials if c[1] is not None)


def test_credentials_with_refusal():
    """Zeek ftp.log: USER Admin -> 331, PASS qwerty -> 530 Login incorrect."""
    (s,) = ftp("ftp/zeek__ftp-password-pass-command.pcap")[1].sessions
    assert [(u, p, r.code) for u, p, r, _ in s.credentials if p is not None][0] == ("Admin", "qwerty", 530)
    assert s.logged_in is False


def test_auth_tls_marks_the_session_encrypted():
    """ftp-auth-tls: AUTH TLS -> 234, then TLS 1.3 on port 21: nothing after is parsed."""
    (s,) = ftp("public/zeek__ftp-auth-tls.pcap")[1].sessions
    assert s.tls and s.commands[-1].verb == "AUTH" and s.commands[-1].final.code == 234


def test_ftp_found_by_content_on_port_443():
    """wrongdissector: FileZilla on port 443 (tshark needs decode-as); admin/admin; PASV MLSD."""
    (s,) = ftp("public/chrissanders__wrongdissector.pcapng")[1].sessions
    assert s.server[1] == 443 and (s.user, s.password, s.logged_in) == ("admin", "admin", True)
    assert [(t.command, t.mode, t.complete) for t in s.transfers] == [("MLSD", "passive", True)]


def test_lowercase_verbs_and_upload():
    """tickedoffdeveloper: lower-case verbs; salesxfer / p@ssw0rd; STOR of a 19832-byte csv; three
    LIST connections that are not in the capture."""
    (s,) = ftp("public/chrissanders__tickedoffdeveloper.pcapng")[1].sessions
    assert (s.user, s.password) == ("salesxfer", "p@ssw0rd")
    stor = [t for t in s.transfers if t.command == "STOR"]
    assert [(t.arg, t.bytes, t.direction, t.complete) for t in stor] == [("store4829-03222010.csv", 19832, "upload", True)]
    assert [t.tcp_stream for t in s.transfers if t.command == "LIST"] == [-1, -1, -1]


def test_truncated_download_is_incomplete():
    """ppa1e ftp.pcap: 150 says 4980924 bytes, the capture ends after 5808."""
    (t,) = transfers("public/chrissanders__ppa1e__ftp.pcap")
    assert (t.arg, t.bytes, t.expected_bytes, t.complete) == ("Music.mp3", 5808, 4980924, False)


# --- extraction ------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd", "passwd"), ("/etc/shadow", "shadow"), ("..", "fallback"), (".", "fallback"),
    ("", "fallback"), ("a\x00b", "a_b"), ("evil\x1b[2Jname", "evil_[2Jname"), ("C:\\Windows\\x.dll", "x.dll"),
    ("name\nwith\rbreaks", "name_with_breaks"), ("x" * 500 + ".txt", "x" * 116 + ".txt"),
])
def test_safe_names(raw, expected):
    assert safe_name(raw, "fallback") == expected


def test_extraction_stays_in_the_directory(tmp_path):
    index, a = ftp("ftp/suricata-verify__bug-4877.pcap")
    session, t = a.transfers[1]
    t.arg = "../../../outside.txt"  # a hostile name, as a capture could carry it
    try:
        out = tmp_path / "out"
        (tmp_path / "outside.txt").write_text("untouched")
        p1 = extract(index, session, t, str(out), 1)
        os.symlink(tmp_path / "outside.txt", out / "outside-1.txt")  # a planted link where the next name goes
        p2 = extract(index, session, t, str(out), 2)
    finally:
        t.arg = "notepad.exe"
    assert Path(p1).parent == out and Path(p2).parent == out
    assert (tmp_path / "outside.txt").read_text() == "untouched"
    assert hashlib.sha256(Path(p1).read_bytes()).hexdigest().startswith("fefeac4c")
    assert sorted(x.name for x in out.iterdir()) == ["outside-1.txt", "outside-2.txt", "outside.txt"]


def test_incomplete_extraction_says_so(tmp_path):
    index, a = ftp("public/chrissanders__ppa1e__ftp.pcap")
    session, t = a.transfers[0]
    path = extract(index, session, t, str(tmp_path), 1)
    assert path.endswith("Music.mp3.incomplete") and os.path.getsize(path) == 5808


# --- command line ---------------------------------------------------------------------------------
def cli(*args):
    p = subprocess.run([sys.executable, "-m", "ftptui", *args], capture_output=True, text=True)
    return p.stdout, p.stderr, p.returncode


def test_ftp_json():
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--ftp", "--json")
    assert rc == 0 and err == ""
    (s,) = json.loads(out)["sessions"]
    assert (s["client"], s["server"], s["user"], s["password"]) == ("10.10.15.211:47050", "10.10.10.187:21",
                                                                    "ftpuser", "%n?4Wz>R$tTF7")
    retr = s["transfers"][2]
    assert {k: retr[k] for k in ("command", "arg", "mode", "setup", "direction", "data_client", "data_server",
                                 "tcp_stream", "bytes", "complete", "final_reply", "command_frame",
                                 "first_data_frame", "last_data_frame")} == {
        "command": "RETR", "arg": "dump.sql", "mode": "active", "setup": "PORT", "direction": "download",
        "data_client": "10.10.10.187:20", "data_server": "10.10.15.211:38545", "tcp_stream": 3, "bytes": 3405,
        "complete": True, "final_reply": 226, "command_frame": 60, "first_data_frame": 67, "last_data_frame": 71}
    assert retr["sha256"] == hashlib.sha256(DUMP).hexdigest()


def test_export_objects(tmp_path):
    out, err, rc = cli("-r", str(DATA / "seed-ftp-passive.pcap"), "--export-objects", f"ftp-data,{tmp_path}")
    assert rc == 0 and err == ""
    assert (tmp_path / "dump.sql").read_bytes() == DUMP


def test_mermaid_diagram():
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--ftp", "--diagram", "1")
    assert rc == 0 and out.startswith("sequenceDiagram\n")
    assert "    participant A as Client 10.10.15.211:47050\n    participant F as FTP Server 10.10.10.187:21\n" in out
    assert out.count("A->>F: FTP [Request: PORT]") == 3 and out.count("F-->>A: FTP-DATA") == 5


# --- sequence diagrams, checked against the seed walkthrough's hand-drawn ones -------------------
def _arrows(text: str) -> list[str]:
    """The arrows of a Mermaid diagram in order (notes and participants left out), normalised."""
    import re
    body = text.replace("\n", " ")
    found = re.findall(r"(A->>F|F-->>A):\s*(.*?)(?=\s+(?:A->>F|F-->>A|Note over|$))", body)
    return [f"{a}: {m.strip()}" for a, m in found]


def test_session_diagram_matches_the_walkthrough():
    """tests/data/seed-walkthrough-diagrams.txt: the walkthrough's own diagrams (its lines 95,
    111 and 123: handshake + banner, USER/PASS, SYST); ours draws the same arrows in order."""
    seed = (DATA / "seed-walkthrough-diagrams.txt").read_text().splitlines()
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--ftp", "--diagram", "1")
    mine = _arrows(out)
    expected = _arrows(seed[0]) + _arrows(seed[1]) + _arrows(seed[2])
    assert mine[:len(expected)] == expected


def test_folded_diagram_notes_connections():
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--ftp", "--diagram", "1", "--fold")
    assert rc == 0
    assert out.count("Note over A,F: Connection established") == 4  # control + 3 data connections
    assert out.count("Note over A,F: Connection closed") == 4
    assert "TCP [SYN]" not in out


def test_data_connection_diagram_matches_the_walkthrough():
    """The walkthrough draws the LIST data connection (its line 158) with A as the FTP client;
    `--diagram tcp,1` names A the connection's opener (the server, port 20), so the arrows are
    the same with the two ends swapped."""
    seed = (DATA / "seed-walkthrough-diagrams.txt").read_text().splitlines()[4]
    out, err, rc = cli("-r", str(DATA / "seed-ftp-active.pcap"), "--diagram", "tcp,1")
    assert rc == 0
    swapped = [a.replace("A->>F", "X").replace("F-->>A", "A->>F").replace("X", "F-->>A") for a in _arrows(out)]
    assert swapped == _arrows(seed)


@pytest.mark.parametrize("rel, verb, text", [
    ("ftp/zeek__ftp-invalid-reply-code.pcap", "PASV", "99 PASV invalid"),
    ("ftp/zeek__ftp-missing-reply-code.pcap", "SYST", "SYST not supported"),
    ("ftp/zeek__ftp-missing-space-after-reply-code.pcap", "RETR", "230_no_space"),
])
def test_odd_reply_codes_are_kept_without_a_code(rel, verb, text):
    """Zeek's synthetic servers answer with a 2-digit code, no code, or no space after it; the
    reply is kept as the server sent it (no code), and the next command still pairs with its own
    reply (QUIT -> 221)."""
    (s,) = ftp(rel)[1].sessions
    by_verb = {c.verb: c for c in s.commands}
    assert [(r.code, r.lines[0]) for r in by_verb[verb].replies] == [(None, text)]
    assert by_verb["QUIT"].final.code == 221 and (s.user, s.logged_in) == ("zeek", True)


FTP_CAPTURES = sorted(str(p.relative_to(DATA)) for p in (DATA / "public").glob("*ftp*.pcap"))


@pytest.mark.parametrize("rel", ["seed-ftp-active.pcap", "seed-ftp-passive.pcap", *FTP_CAPTURES])
def test_links_only_analysis_links_the_same_connections(rel):
    """--print asks only for the links (contents=False, no data read): every transfer gets the
    same data connection as in the full analysis, and a later full analysis is made anew."""
    full = [(t.command, t.arg, t.tcp_stream) for t in transfers(rel)]
    index = PacketIndex(open_capture(str(DATA / rel)))
    index.build()
    links = analyse(index, contents=False)
    assert [(t.command, t.arg, t.tcp_stream) for _, t in links.transfers] == full
    assert analyse(index, contents=False) is links
    again = analyse(index)
    assert again is not links and again.contents
    assert [t.bytes for _, t in again.transfers] == [t.bytes for t in transfers(rel)]
