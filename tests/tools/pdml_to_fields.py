#!/usr/bin/env python3
"""Convert tshark PDML (``tshark -r F -T pdml``) on stdin to a compact TSV on stdout.

Columns: frame_number, field_name, pos, size, show
  * one row per named <proto> and <field> element, in document (tree) order;
  * skipped: elements without a name, hidden fields (hide="yes", not shown in the
    detail tree), the whole ``geninfo`` pseudo protocol, and ``frame.*`` fields with
    size 0 (generated metadata whose pos/size are meaningless).  The ``frame`` proto
    row itself is kept (pos 0, size = captured length);
  * ``show`` is the PDML show attribute with \\ \t \n \r backslash-escaped;
  * pos is relative to the data source the item belongs to (the frame for almost all
    rows; a reassembled/decompressed buffer for items inside reassembled PDUs --
    PDML does not name the source).

Options: --max-frames N  keep only frames 1..N.
"""
import argparse
import sys
import xml.etree.ElementTree as ET


def esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-frames", type=int, default=0)
    a = ap.parse_args()
    out = sys.stdout
    out.write("frame_number\tfield_name\tpos\tsize\tshow\n")
    for _ev, pkt in ET.iterparse(sys.stdin.buffer, events=("end",)):
        if pkt.tag != "packet":
            continue
        num = None
        for p in pkt.findall("proto"):
            if p.get("name") == "geninfo":
                for f in p.findall("field"):
                    if f.get("name") == "num":
                        num = f.get("show")
        if a.max_frames and int(num) > a.max_frames:
            break
        rows = []

        def walk(el, top, rows=rows, num=num):
            for child in el:
                if child.tag not in ("proto", "field"):
                    continue
                name = child.get("name") or ""
                if top and name == "geninfo":
                    continue
                keep = bool(name) and child.get("hide") != "yes"
                if keep and name.startswith("frame.") and child.get("size", "0") == "0":
                    keep = False
                if keep:
                    rows.append("\t".join([num, name, child.get("pos", ""), child.get("size", ""),
                                           esc(child.get("show", ""))]))
                walk(child, False, rows, num)

        walk(pkt, True)
        out.write("\n".join(rows) + "\n")
        pkt.clear()


if __name__ == "__main__":
    main()
