"""The command line: tshark/termshark-style flags (main), the batch commands on a file (batch),
live captures, pipes and growing files (live), and starting the browser (browser)."""
from .main import main

__all__ = ["main"]
