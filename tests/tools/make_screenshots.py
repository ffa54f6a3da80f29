"""Regenerate the README screenshots in screenshots/ (SVG always, PNG when a converter is at hand).

    python tests/tools/make_screenshots.py [--out screenshots] [--size 150x45]

The browser shot is the bundled sample with packet 60 (RETR dump.sql) selected and the FTP request
argument highlighted in the tree and the hex pane; the welcome shot is `ftptui` without a file.
PNG conversion uses the cairosvg module or its command, or rsvg-convert, whichever is found first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "ftptui/data/sample-ftp-active.pcap"  # relative, so the shots don't show a home directory


async def shoot_browser(out: Path, size: tuple[int, int]) -> Path:
    from ftptui.ui.app import FtptuiApp
    from ftptui.ui.detail_tree import DetailTree

    app = FtptuiApp(SAMPLE)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+g", "6", "0", "enter")
        await pilot.pause()
        tree = app.screen.query_one(DetailTree)
        target = None
        for node in _walk(tree.root):
            if node.data and node.data[0].name == "ftp.request.arg":
                target = node
        assert target is not None, "packet 60 has no ftp.request.arg"
        parent = target.parent
        while parent is not None and parent is not tree.root:
            parent.expand()
            parent = parent.parent
        await pilot.pause()
        tree.move_cursor(target)
        tree.focus()
        await pilot.pause()
        return Path(app.save_screenshot("ftptui-browser.svg", str(out)))


async def shoot_welcome(out: Path, size: tuple[int, int]) -> Path:
    from ftptui.ui.app import FtptuiApp

    app = FtptuiApp(None, sample=SAMPLE)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return Path(app.save_screenshot("ftptui-welcome.svg", str(out)))


async def shoot_follow(out: Path, size: tuple[int, int]) -> Path:
    """The RETR data connection (packet 67) followed: the transferred dump.sql, client/server colours."""
    from ftptui.ui.app import FtptuiApp

    app = FtptuiApp(SAMPLE)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+g", "6", "7", "enter", "F")
        await app.workers.wait_for_complete()
        await pilot.pause()
        return Path(app.save_screenshot("ftptui-follow.svg", str(out)))


async def shoot_ftp(out: Path, size: tuple[int, int]) -> Path:
    """The FTP view: the session, its transfers."""
    from textual.widgets import TabbedContent

    from ftptui.ui.app import FtptuiApp

    app = FtptuiApp(SAMPLE)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("T")
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.query_one(TabbedContent).active = "tab-transfers"
        await pilot.pause()
        return Path(app.save_screenshot("ftptui-ftp.svg", str(out)))


def _walk(node):
    for child in node.children:
        yield child
        yield from _walk(child)


def to_png(svg: Path) -> Path | None:
    """Rasterise a copy of the SVG whose font is a local monospace one (converters don't fetch the
    web font Textual names, and their fallback for it is proportional)."""
    png = svg.with_suffix(".png")
    local = Path(tempfile.mkdtemp(prefix="ftptui-shots-")) / svg.name
    local.write_text(svg.read_text().replace("Fira Code, monospace", "DejaVu Sans Mono, monospace"))
    svg = local
    try:
        import cairosvg  # type: ignore
    except ImportError:
        cairosvg = None
    if cairosvg is not None:
        cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=1800)
        return png
    if shutil.which("cairosvg"):
        subprocess.run(["cairosvg", str(svg), "-o", str(png), "--output-width", "1800"], check=True)
        return png
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-w", "1800", "-o", str(png), str(svg)], check=True)
        return png
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "screenshots"))
    p.add_argument("--size", default="150x45", help="terminal size COLSxROWS")
    args = p.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    for var in ("COLUMNS", "LINES"):
        os.environ.pop(var, None)
    shots = []
    for shoot in (shoot_welcome, shoot_browser, shoot_follow, shoot_ftp):
        # an empty recent list for each shot, and the user's own left alone
        os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="ftptui-shots-")
        shots.append(asyncio.run(shoot(out, (cols, rows))))
    for svg in shots:
        print(svg.relative_to(ROOT) if svg.is_relative_to(ROOT) else svg)
        png = to_png(svg)
        if png is None:
            print("  no SVG-to-PNG converter (pip install cairosvg, or rsvg-convert); SVG only", file=sys.stderr)
        else:
            print(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
