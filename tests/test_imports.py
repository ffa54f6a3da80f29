"""Architecture rules: the core never imports the UI toolkit, and batch printing stays light."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
CORE = ["capture", "store", "dissect", "streams", "ftp", "render"]


def test_core_modules_do_not_import_textual_or_rich():
    for pkg in CORE:
        for path in (ROOT / "ftptui" / pkg).glob("*.py"):
            text = path.read_text()
            assert "import textual" not in text and "from textual" not in text, path
            assert "from rich" not in text and "import rich" not in text, path


def test_print_does_not_load_ui_or_scapy():
    code = ("import sys, io, contextlib\n"
            "from ftptui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main(['-r', {str(ROOT / 'tests/data/seed-ftp-active.pcap')!r}, '--print'])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'scapy')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
