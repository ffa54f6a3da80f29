"""Capture sources: pcap/pcapng readers (gzip too), pipes, growing files, live capture and
interface listing; and the bundled sample capture."""
from importlib import resources

from .reader import CaptureFile, open_capture

SAMPLE = "sample-ftp-active.pcap"


def sample_path() -> str:
    """The bundled sample capture (an active FTP session), for --demo and the welcome screen."""
    return str(resources.files("ftptui") / "data" / SAMPLE)


__all__ = ["CaptureFile", "open_capture", "sample_path"]
