"""Command line: tshark/termshark-style flags; the UI is imported only when it is needed."""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from contextlib import contextmanager
from importlib import resources

from .dissect.text import safe
from .errors import FtptuiError, print_error

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
    p.add_argument("--max-packets", metavar="N", type=int,
                   help="read at most N packets of a capture (default 5,000,000: under 1 GB of memory "
                        "with everything open); the rest is left out with a warning")
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


M_MMAP_THRESHOLD = -3  # mallopt(3)


def give_back_freed_memory() -> None:
    """glibc keeps freed blocks of up to 32 MB in its heap (its mmap threshold rises with each
    big block freed), so after a few filters or views a process's memory only grows.  A fixed
    1 MB threshold hands every big numpy array back to the system when it is freed, which keeps
    the peak of a 5,000,000-packet session under 1 GB.  Not glibc: nothing to do."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass


def main(argv=None) -> int:
    give_back_freed_memory()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = args.read or args.file
    if args.demo:
        path = sample_path()
    if args.max_packets is not None:
        if args.max_packets < 1:
            print_error("--max-packets wants a positive number")
            return 2
        from .store.index import PacketIndex
        PacketIndex.max_packets = args.max_packets
    try:
        from .capture import commands as capture_commands
        if capture_commands.wants(args, path):
            return capture_commands.run(args, path)
        batch = [(args.diagram and args.diagram.startswith("tcp,"), "--diagram needs", print_stream_diagram),
                 (args.ftp or args.export_objects, "--ftp and --export-objects need", print_ftp),
                 (args.conv, "--conv needs", print_conversations),
                 (args.follow, "--follow needs", print_follow),
                 (args.print_list, "--print needs", print_list)]
        for wanted, needs, command in batch:
            if wanted:
                if not path:
                    raise FtptuiError(f"{needs} a capture file (-r FILE)")
                return command(path, args)
        return run_ui(path)
    except FtptuiError as e:
        print_error(e)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        # the terminal went away under a batch command: nothing can be said any more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
        return 128 + signal.SIGHUP


@contextmanager
def indexed(path: str):
    """The capture at `path`, wholly indexed.  Afterwards it is closed and the reader's warnings
    (a truncated or damaged capture, packets left out) go to stderr."""
    from .capture import open_capture
    from .store.index import PacketIndex

    cap = open_capture(path)
    try:
        index = PacketIndex(cap)
        index.build()
        yield index
    finally:
        cap.close()
        for w in cap.warnings:
            print_error(w)


def status(index) -> int:
    """The exit status, as tshark's: 2 when the capture could not be read whole."""
    return 2 if index.cap.warnings else 0


def print_list(path: str, args) -> int:
    from .dissect.packet import dissect
    from .ftp.analysis import analyse
    from .render.tshark import tshark_line

    flt = compile_display_filter(args.display_filter)
    with indexed(path) as index:
        # Follow the FTP sessions first: data connections are then labelled by ftptui's own
        # linking, which is right where tshark's one-pass port rules are not.
        if not args.tshark_ftp_data:
            analyse(index)
        out = sys.stdout
        if flt is None:
            for i in range(len(index)):
                out.write(tshark_line(dissect(index, i)) + "\n")
        else:
            from .dfilter.apply import FilterRun
            run = FilterRun(index, flt)
            for i in run.rows().tolist():
                out.write(tshark_line(run.dissection(i)) + "\n")
        out.flush()
    return status(index)


def compile_display_filter(text: str | None):
    """The -Y filter compiled, None without one; a bad one is one FtptuiError line with its column."""
    if not text:
        return None
    from .dfilter.compile import compile_filter
    from .dfilter.errors import FilterError
    try:
        return compile_filter(text)
    except FilterError as e:
        raise FtptuiError(f"invalid display filter: {e.describe(text)}") from None


def print_ftp(path: str, args) -> int:
    from .ftp.analysis import analyse
    from .render import ftp as render

    if args.export_objects:
        kind, _, directory = args.export_objects.partition(",")
        if kind != "ftp-data" or not directory:
            raise FtptuiError(f"--export-objects wants ftp-data,DIR, not {args.export_objects!r}")
    if args.diagram is not None and not args.diagram.isdigit():
        raise FtptuiError(f"--diagram wants an FTP session number or tcp,N, not {args.diagram!r}")
    with indexed(path) as index:
        analysis = analyse(index)
        if args.export_objects:
            from .ftp.extract import export_all
            for line in export_all(index, analysis, directory):
                print(safe(line))
        elif args.diagram is not None:
            session = next((s for s in analysis.sessions if s.id == int(args.diagram)), None)
            if session is None:
                raise FtptuiError(f"{path}: no FTP session {args.diagram} (sessions: 1..{len(analysis.sessions)})")
            sys.stdout.write(render.mermaid(index, session, fold=args.fold))
        elif args.json:
            sys.stdout.write(render.to_json(index, analysis) + "\n")
        else:
            sys.stdout.write(render.tables(index, analysis))
    return status(index)


def print_stream_diagram(path: str, args) -> int:
    from .render.sequence import mermaid, steps
    from .streams.follow import endpoints

    number = args.diagram.partition(",")[2]
    with indexed(path) as index:
        if not number.isdigit() or int(number) >= index.tcp.count:
            raise FtptuiError(f"{path}: no tcp stream {number!r} (the capture has {index.tcp.count}: "
                              f"0..{index.tcp.count - 1})")
        frames = index.stream_packets(int(number))
        a, b = endpoints(index, int(frames[0]))
        sys.stdout.write(mermaid(steps(index, frames, {tuple(a)}, args.fold), f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}"))
    return status(index)


def print_conversations(path: str, args) -> int:
    from .render.conversations import table
    from .streams.conversations import conversations

    with indexed(path) as index:
        sys.stdout.write(table(args.conv, conversations(index, args.conv)))
    return status(index)


def print_follow(path: str, args) -> int:
    from .render.follow import to_json, tshark_text
    from .streams.follow import follow_tcp, follow_udp

    proto, _, number = args.follow.partition(",")
    if proto not in ("tcp", "udp") or not number.isdigit():
        raise FtptuiError(f"--follow wants tcp,N or udp,N (a stream number), not {args.follow!r}")
    with indexed(path) as index:
        count = index.tcp.count if proto == "tcp" else index.udp.count
        if int(number) >= count:
            raise FtptuiError(f"{path}: no {proto} stream {number} (the capture has {count}: 0..{count - 1})")
        stream = (follow_tcp if proto == "tcp" else follow_udp)(index, int(number))
        text = to_json(stream) + "\n" if args.format == "json" else tshark_text(stream, args.format,
                                                                              terminal=sys.stdout.isatty())
        sys.stdout.write(text)
        sys.stdout.flush()
    return status(index)


def run_ui(path: str | None) -> int:
    from .ui.app import FtptuiApp
    from .ui.hangup import run_app

    return run_app(FtptuiApp(path))
