"""The batch commands on a capture file: --print, --ftp, --export-objects, --diagram, --conv,
--follow.  Each indexes the whole file, prints, and returns tshark's exit status."""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from ..errors import FtptuiError, print_error
from ..text import safe
from .fanout import in_child, write_in_order

PRINT_CHUNK = 2000  # packets a --print worker formats at a time (about 200 kB of text)


@contextmanager
def indexed(path: str):
    """The capture at `path`, wholly indexed.  Afterwards it is closed and the reader's warnings
    (a truncated or damaged capture, packets left out) go to stderr."""
    from ..capture import open_capture
    from ..store.index import PacketIndex
    from ..store.scan_process import ScanProcess

    cap = open_capture(path)
    try:
        index = PacketIndex(cap)
        scanner = ScanProcess.start(cap)  # reads and scans the file while this process indexes
        index.build(scanned=scanner.batches() if scanner is not None else None)
        yield index
    finally:
        cap.close()
        for w in cap.warnings:
            print_error(w)


def status(index) -> int:
    """The exit status, as tshark's: 2 when the capture could not be read whole."""
    return 2 if index.cap.warnings else 0


def print_list(path: str, args) -> int:
    from ..dissect.packet import dissect
    from ..dissect.plain_tcp import plain_tcp_columns
    from ..ftp.analysis import analyse
    from ..render.tshark import tshark_columns, tshark_line
    from ..streams.analysis import TcpAnalysis

    flt = compile_display_filter(args.display_filter)
    with indexed(path) as index:
        # TCP analysis flags: the whole capture's pass (two halves in other processes) costs a
        # few us a packet, the per-stream cache tens of us a row printed, so the pass pays
        # unless a filter keeps few rows
        tcp = index.derived(TcpAnalysis)
        halves = [in_child(partial(tcp.part, k, 2)) for k in range(2)] if flt is None else []
        # Follow the FTP sessions: data connections are then labelled by ftptui's own linking,
        # which is right where tshark's one-pass port rules are not
        if not args.tshark_ftp_data:
            analyse(index, contents=False)
        rows: Sequence[int] = range(len(index))
        if flt is not None:
            from ..dfilter.apply import FilterRun
            rows = FilterRun(index, flt).rows().tolist()
        if halves:
            warm_up(index, rows)  # while the halves are made: what every worker would load again
        every = (halves[0]() + halves[1]() if halves else
                 tcp.all() if len(rows) * 4 > len(index) else None)

        origlen = index.cols.raw("origlen")

        def lines(chunk: Sequence[int]) -> str:  # the columns only: no tree is built
            lo, hi = chunk[0], chunk[-1] + 1
            plain = plain_tcp_columns(index, lo, hi, every) if every is not None and hi - lo < 4 * len(chunk) else {}
            out = []
            for i in chunk:
                c = plain.get(i)
                out.append(tshark_line(dissect(index, i, tree=False, every=every)) if c is None else
                           tshark_columns(i + 1, c[0], c[1], c[2], "TCP", int(origlen[i]), c[3]))
            out.append("")
            return "\n".join(out)

        chunks = [rows[k:k + PRINT_CHUNK] for k in range(0, len(rows), PRINT_CHUNK)]
        write_in_order(chunks, lines, sys.stdout)  # over the cores, in order
        sys.stdout.flush()
    return status(index)


WARM_UP_ROWS = 300


def warm_up(index, rows: Sequence[int]) -> None:
    """Load what dissecting rows loads on first use (decoders' modules and tables, the MAC
    vendor names), in this process before it forks the workers that inherit it."""
    from ..dissect.packet import dissect
    from ..macnames import resolve_mac

    resolve_mac(b"\0" * 6)
    for i in rows[:WARM_UP_ROWS]:
        dissect(index, i, tree=False)


def compile_display_filter(text: str | None):
    """The -Y filter compiled, None without one; a bad one is one FtptuiError line with its column."""
    if not text:
        return None
    from ..dfilter.compile import compile_filter
    from ..dfilter.errors import FilterError
    try:
        return compile_filter(text)
    except FilterError as e:
        raise FtptuiError(f"invalid display filter: {e.describe(text)}") from None


def print_ftp(path: str, args) -> int:
    from ..ftp.analysis import analyse
    from ..render import ftp as render

    if args.export_objects:
        kind, _, directory = args.export_objects.partition(",")
        if kind != "ftp-data" or not directory:
            raise FtptuiError(f"--export-objects wants ftp-data,DIR, not {args.export_objects!r}")
    if args.diagram is not None and not args.diagram.isdigit():
        raise FtptuiError(f"--diagram wants an FTP session number or tcp,N, not {args.diagram!r}")
    with indexed(path) as index:
        analysis = analyse(index)
        if args.export_objects:
            from ..ftp.extract import export_all
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
    from ..render.sequence import mermaid, steps
    from ..streams.follow import endpoints

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
    from ..render.conversations import table
    from ..streams.conversations import conversations

    with indexed(path) as index:
        sys.stdout.write(table(args.conv, conversations(index, args.conv)))
    return status(index)


def print_follow(path: str, args) -> int:
    from ..render.follow import to_json, tshark_text
    from ..streams.follow import follow_tcp, follow_udp

    proto, _, number = args.follow.partition(",")
    if proto not in ("tcp", "udp") or not number.isdigit():
        raise FtptuiError(f"--follow wants tcp,N or udp,N (a stream number), not {args.follow!r}")
    with indexed(path) as index:
        count = index.tcp.count if proto == "tcp" else index.udp.count
        if int(number) >= count:
            raise FtptuiError(f"{path}: no {proto} stream {number} (the capture has {count}: 0..{count - 1})")
        stream = (follow_tcp if proto == "tcp" else follow_udp)(index, int(number))
        layout = args.format or "ascii"
        text = to_json(stream) + "\n" if layout == "json" else tshark_text(stream, layout,
                                                                              terminal=sys.stdout.isatty())
        sys.stdout.write(text)
        sys.stdout.flush()
    return status(index)


def batch_command(args) -> tuple[str, Callable[[str, Any], int]] | None:
    """The batch command the options ask for (the first of them, in this order), with what its
    complaint says it needs; None: the browser."""
    for wanted, needs, command in (
            (args.diagram and args.diagram.startswith("tcp,"), "--diagram needs", print_stream_diagram),
            (args.ftp or args.export_objects, "--ftp and --export-objects need", print_ftp),
            (args.conv, "--conv needs", print_conversations),
            (args.follow, "--follow needs", print_follow),
            (args.print_list, "--print needs", print_list)):
        if wanted:
            return needs, command
    return None
