"""Command line: tshark/termshark-style flags; the UI is imported only when it is needed."""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys

from ..capture import sample_path
from ..errors import FtptuiError, print_error
from .batch import batch_command
from .browser import start_browser
from .live import handles_live, run_live


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
                   help="only packets matching this Wireshark display filter (with --print; in the "
                        "browser it is applied when the capture opens)")
    p.add_argument("--follow", metavar="tcp,N|udp,N",
                   help="print TCP or UDP stream N (tcp.stream / udp.stream) and exit")
    p.add_argument("--format", choices=("ascii", "hex", "raw", "json"),
                   help="layout for --follow: tshark's -z follow ascii/hex/raw (default ascii), or JSON")
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
    p.add_argument("--version", action=PrintVersion, help="print ftptui's version (and its main libraries') and exit")
    p.add_argument("file", nargs="?", help="capture file (same as -r)")
    return p.parse_args(argv)


class PrintVersion(argparse.Action):
    """--version: the versions are looked up only when asked for (a few ms at every start else)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def version_text() -> str:
    """The line --version prints, e.g. ftptui 0.1.0 (Python 3.11.7, textual 8.2.8, scapy 2.6.1,
    numpy 2.4.6): what a bug report needs."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"
    libraries = ", ".join(f"{name} {of(name)}" for name in ("textual", "scapy", "numpy"))
    return f"ftptui {of('ftptui')} (Python {sys.version.split()[0]}, {libraries})"


def lone_options(args) -> str | None:
    """The one-line complaint about an option given without the one it works with, or None
    (each entry: the option given, its partner given, the complaint)."""
    for given, partner, message in (
            (args.json, args.ftp, "--json works with --ftp (a stream as JSON: --follow tcp,N --format json)"),
            (args.fold, args.diagram, "--fold works with --diagram"),
            (args.format, args.follow, "--format works with --follow"),
            (args.diagram and not args.diagram.startswith("tcp,"), args.ftp,
             "--diagram N draws FTP session N: add --ftp (or draw a TCP stream: --diagram tcp,N)"),
            (args.tshark_ftp_data, args.print_list, "--tshark-ftp-data works with --print")):
        if given and not partner:
            return message
    return None


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
        from ..store.index import PacketIndex
        PacketIndex.max_packets = args.max_packets
    lone = lone_options(args)
    if lone:
        print_error(lone)
        return 2
    try:
        if handles_live(args, path):
            return run_live(args, path)
        chosen = batch_command(args)
        if chosen is not None:
            needs, command = chosen
            if not path:
                raise FtptuiError(f"{needs} a capture file (-r FILE)")
            return command(path, args)
        return start_browser(path, display_filter=args.display_filter)
    except FtptuiError as e:
        print_error(str(e))
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
