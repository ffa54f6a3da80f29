"""Capture sources: pcap/pcapng readers (gzip too) and interface listing."""
from .reader import CaptureFile, open_capture

__all__ = ["CaptureFile", "open_capture"]
