"""Full garbage collections wait for a quiet moment (ui/idle_gc.py): none while keys come in,
one once the user is quiet, and Python's own thresholds back afterwards."""
from __future__ import annotations

import gc

from ftptui.ui.idle_gc import GAP, OVERDUE, QUIET, IdleCollector


def test_full_collections_wait_for_a_quiet_moment():
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**6
        for _ in range(before[2] + 1):
            gc.collect(1)  # each counts towards the next full collection
        assert gc.get_count()[2] >= before[2]
        collector.input_seen()
        assert not collector.tick(), "a full collection ran right after a key"
        collector.last_input -= QUIET + 0.1
        assert collector.tick()
        assert gc.get_count()[2] == 0
        assert not collector.tick(), "nothing to do right after a full collection"
        for _ in range(before[2] + 1):
            gc.collect(1)
        assert not collector.tick(), "a second full collection within GAP seconds"
        collector.last_full -= GAP
        collector.input_seen()
        for _ in range(OVERDUE * before[2]):
            gc.collect(1)
        assert collector.tick(), "never a full collection while keys keep coming"
    finally:
        collector.stop()
    assert gc.get_threshold() == before


def test_settled_objects_are_frozen_until_released():
    """After settle() the next full collection freezes what survives it (later ones walk only
    newer objects); release() (the capture closed) lets them be collected again."""
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        collector.settle()
        for _ in range(before[2] + 1):
            gc.collect(1)
        collector.last_input -= QUIET + 0.1
        assert collector.tick()
        assert gc.get_freeze_count() > 0
        collector.release()
        assert gc.get_freeze_count() == 0
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0
