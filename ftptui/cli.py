"""Command line: tshark/termshark-style flags; the UI is imported only when it is needed."""
from __future__ import annotations

import argparse
import os
import sys
from importlib import resources

from .errors import FtptuiError

SAMPLE = "sample-ftp-active.pcap"


def sample_path() -> str:
    return str(resources.files("ftptui") / "data" / SAMPLE)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="ftptui", description="Keyboard-driven terminal packet browser "
                                "with an FTP session follower.")
    p.add_argument("-r", "--read", metavar="FILE", help="read packets from a pcap/pcapng file (gzip ok)")
    p.add_argument("--print", "-P", dest="print_list", action="store_true",
                   help="print the packet list as tshark does and exit")
    p.add_argument("--tshark-ftp-data", action="store_true",
                   help="with --print: label FTP data connections by tshark 4.0's own rules (to diff with "
                        "tshark), not by ftptui's FTP follower")
    p.add_argument("-Y", "--display-filter", metavar="FILTER",
                   help="with --print: only packets matching this Wireshark display filter")
    p.add_argument("--follow", metavar="tcp,N|udp,N",
                   help="print TCP or UDP stream N (tcp.stream / udp.stream) and exit")
    p.add_argument("--format", default="ascii", choices=("ascii", "hex", "raw", "json"),
                   help="layout for --follow: tshark's -z follow ascii/hex/raw, or JSON")
    p.add_argument("--conv", metavar="KIND", choices=("eth", "ip", "ipv6", "tcp", "udp"),
                   help="print the conversations table (eth, ip, ipv6, tcp, udp) as tshark -z conv does")
    p.add_argument("--ftp", action="store_true", help="print FTP sessions, credentials and transfers and exit")
    p.add_argument("--json", action="store_true", help="with --ftp: print them as JSON")
    p.add_argument("--diagram", metavar="SESSION|tcp,N",
                   help="print FTP session SESSION (with --ftp) or TCP stream N (tcp,N) as a Mermaid "
                        "sequence diagram")
    p.add_argument("--fold", action="store_true",
                   help="with --diagram: fold each connection's handshake and teardown into a note")
    p.add_argument("--export-objects", metavar="ftp-data,DIR",
                   help="extract every FTP transfer into DIR (tshark's flag)")
    p.add_argument("--demo", action="store_true", help="open the bundled sample capture (an active FTP session)")
    live = p.add_argument_group("live capture, pipes and growing files (-r - reads standard input)")
    live.add_argument("-D", "--list-interfaces", action="store_true",
                      help="list the interfaces to capture on, as tshark -D does, and exit")
    live.add_argument("-i", "--interface", metavar="IFACE", action="append",
                      help="capture on this interface (a name or its number in -D; repeat for more)")
    live.add_argument("-f", "--capture-filter", metavar="BPF",
                      help='capture filter in libpcap syntax, e.g. "tcp port 21" (checked with libpcap)')
    live.add_argument("-c", "--count", metavar="COUNT", type=int,
                      help="stop after COUNT packets (captured, or read from -r - / --follow-file)")
    live.add_argument("-w", "--write", metavar="FILE",
                      help="save what is captured (-i) or read from standard input (-r -) to FILE")
    live.add_argument("--follow-file", action="store_true",
                      help="with -r FILE: keep reading as another program appends to FILE (tail -f), until Ctrl-C")
    p.add_argument("file", nargs="?", help="capture file (same as -r)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = args.read or args.file
    if args.demo:
        path = sample_path()
    try:
        from .capture import commands as capture_commands
        if capture_commands.wants(args, path):
            return capture_commands.run(args, path)
        if args.diagram and args.diagram.startswith("tcp,"):
            if not path:
                print("ftptui: --diagram needs a capture file (-r FILE)", file=sys.stderr)
                return 2
            return print_stream_diagram(path, args.diagram, args.fold)
        if args.ftp or args.export_objects:
            if not path:
                print("ftptui: --ftp and --export-objects need a capture file (-r FILE)", file=sys.stderr)
                return 2
            return print_ftp(path, args)
        if args.conv:
            if not path:
                print("ftptui: --conv needs a capture file (-r FILE)", file=sys.stderr)
                return 2
            return print_conversations(path, args.conv)
        if args.follow:
            if not path:
                print("ftptui: --follow needs a capture file (-r FILE)", file=sys.stderr)
                return 2
            return print_follow(path, args.follow, args.format)
        if args.print_list:
            if not path:
                print("ftptui: --print needs a capture file (-r FILE)", file=sys.stderr)
                return 2
            return print_list(path, args.display_filter, follow_ftp=not args.tshark_ftp_data)
        return run_ui(path)
    except FtptuiError as e:
        print(f"ftptui: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def print_list(path: str, display_filter: str | None = None, follow_ftp: bool = True) -> int:
    from .capture import open_capture
    from .dissect.packet import dissect
    from .ftp.analysis import analyse
    from .render.tshark import tshark_line
    from .store.index import PacketIndex

    run = None
    if display_filter:
        from .dfilter.apply import FilterRun
        from .dfilter.compile import compile_filter
        from .dfilter.errors import FilterError
        try:
            flt = compile_filter(display_filter)
        except FilterError as e:
            raise FtptuiError(f"invalid display filter: {e.describe(display_filter)}") from None
    cap = open_capture(path)
    index = PacketIndex(cap)
    if display_filter:
        run = FilterRun(index, flt)
    out = sys.stdout
    # Index everything and follow the FTP sessions first: data connections are then labelled
    # by ftptui's own linking, which is right where tshark's one-pass port rules are not.
    index.build()
    if follow_ftp:
        analyse(index)
    rows = range(len(index)) if run is None else run.rows().tolist()
    for i in rows:
        out.write(tshark_line(run.dissection(i) if run else dissect(index, i)) + "\n")
    out.flush()
    for w in cap.warnings:
        print(f"ftptui: {w}", file=sys.stderr)
    cap.close()
    return 2 if cap.warnings else 0


def print_ftp(path: str, args) -> int:
    from .capture import open_capture
    from .ftp.analysis import analyse
    from .render import ftp as render
    from .store.index import PacketIndex

    index = PacketIndex(open_capture(path))
    index.build()
    analysis = analyse(index)
    if args.export_objects:
        kind, _, directory = args.export_objects.partition(",")
        if kind != "ftp-data" or not directory:
            raise FtptuiError(f"--export-objects wants ftp-data,DIR, not {args.export_objects!r}")
        from .ftp.extract import extract
        for k, (session, t) in enumerate(analysis.transfers, 1):
            if t.tcp_stream >= 0:
                print(extract(index, session, t, directory, k))
        return 0
    if args.diagram is not None:
        if not args.diagram.isdigit():
            raise FtptuiError(f"--diagram wants an FTP session number or tcp,N, not {args.diagram!r}")
        session = next((s for s in analysis.sessions if s.id == int(args.diagram)), None)
        if session is None:
            raise FtptuiError(f"{path}: no FTP session {args.diagram} (sessions: 1..{len(analysis.sessions)})")
        sys.stdout.write(render.mermaid(index, session, fold=args.fold))
    elif args.json:
        sys.stdout.write(render.to_json(index, analysis) + "\n")
    else:
        sys.stdout.write(render.tables(index, analysis))
    return 0


def print_stream_diagram(path: str, spec: str, fold: bool) -> int:
    from .capture import open_capture
    from .render.sequence import mermaid, steps
    from .store.index import PacketIndex
    from .streams.follow import endpoints

    number = spec.partition(",")[2]
    index = PacketIndex(open_capture(path))
    index.build()
    if not number.isdigit() or int(number) >= index.tcp.count:
        raise FtptuiError(f"{path}: no tcp stream {number!r} (the capture has {index.tcp.count}: 0..{index.tcp.count - 1})")
    frames = index.stream_packets(int(number))
    a, b = endpoints(index, int(frames[0]))
    sys.stdout.write(mermaid(steps(index, frames, {tuple(a)}, fold), f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}"))
    return 0


def print_conversations(path: str, kind: str) -> int:
    from .capture import open_capture
    from .render.conversations import table
    from .store.index import PacketIndex
    from .streams.conversations import conversations

    index = PacketIndex(open_capture(path))
    index.build()
    sys.stdout.write(table(kind, conversations(index, kind)))
    return 0


def print_follow(path: str, spec: str, fmt: str) -> int:
    from .capture import open_capture
    from .render.follow import to_json, tshark_text
    from .store.index import PacketIndex
    from .streams.follow import follow_tcp, follow_udp

    proto, _, number = spec.partition(",")
    if proto not in ("tcp", "udp") or not number.isdigit():
        raise FtptuiError(f"--follow wants tcp,N or udp,N (a stream number), not {spec!r}")
    cap = open_capture(path)
    index = PacketIndex(cap)
    index.build()
    count = index.tcp.count if proto == "tcp" else index.udp.count
    if int(number) >= count:
        raise FtptuiError(f"{path}: no {proto} stream {number} (the capture has {count}: 0..{count - 1})")
    stream = (follow_tcp if proto == "tcp" else follow_udp)(index, int(number))
    text = to_json(stream) + "\n" if fmt == "json" else tshark_text(stream, fmt, terminal=sys.stdout.isatty())
    sys.stdout.write(text)
    sys.stdout.flush()
    cap.close()
    return 0


def run_ui(path: str | None) -> int:
    from .ui.app import FtptuiApp

    app = FtptuiApp(path)
    app.run()
    return app.return_code or 0
