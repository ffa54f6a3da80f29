"""TCP conversations: tshark-compatible stream numbers and the state relative numbers need.

Streams are numbered in order of first appearance, as `tcp.stream` is.  For each stream and
direction we keep the base sequence number (tshark's rule: the ISN from a SYN, or seq-1 of the
first segment, or ack-1 of the first ACK seen from the other side, whichever comes first) and
the frame of the direction's SYN, whose window-scale option is parsed only when needed.  A SYN
with a new ISN on known ports starts a new stream, as tshark's "port numbers reused" does.
Everything is updated batch by batch with vectorised numpy, so a live capture can grow.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .columns import ACK, SYN
from .grow import Columns

_MIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
        0xA0761D6478BD642F, 0xE7037ED1A0B428DB)  # odd 64-bit constants for KeyGroups' hash


def conversation_keys(cols: dict[str, np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A key per packet naming its conversation whatever the direction (both endpoints as
    address+port, lower endpoint first), and whether the packet goes from the higher endpoint."""
    src, dst = cols["src"][rows], cols["dst"][rows]
    sport, dport = cols["sport"][rows], cols["dport"][rows]
    ska = np.concatenate([src, sport.astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    dka = np.concatenate([dst, dport.astype(">u2").view(np.uint8).reshape(-1, 2)], axis=1)
    diff = ska != dka
    first_diff = np.argmax(diff, axis=1)
    idx = np.arange(len(rows))
    swapped = diff.any(axis=1) & (ska[idx, first_diff] > dka[idx, first_diff])
    lo = np.where(swapped[:, None], dka, ska)
    hi = np.where(swapped[:, None], ska, dka)
    return np.ascontiguousarray(np.concatenate([lo, hi], axis=1)).view("V36").ravel(), swapped


@dataclass
class KeyGroups:
    """Some rows of a batch grouped by conversation key (np.unique's answer) with the side each
    goes from: made where the batch is scanned (no state needed), numbered where it is indexed."""
    rows: np.ndarray     # the batch rows
    uniq: np.ndarray     # their distinct keys (V36, as conversation_keys makes them)
    first: np.ndarray    # position (in rows) of each key's first row
    inverse: np.ndarray  # per row, its key's position in uniq
    swapped: np.ndarray  # per row, whether it goes from the higher endpoint

    @classmethod
    def of(cls, cols: dict[str, np.ndarray], rows: np.ndarray) -> KeyGroups:
        """conversation_keys grouped, without sorting 36-byte keys (slow in numpy): the keys'
        parts as numbers, grouped by a 64-bit hash of them, checked (a collision, however
        unlikely, falls back to the exact grouping); the bytes are made for distinct keys only."""
        src, dst = cols["src"][rows], cols["dst"][rows]
        sport, dport = cols["sport"][rows], cols["dport"][rows]
        s, d = src.view(">u8"), dst.view(">u8")  # each address as two big-endian halves
        s_hi, s_lo, d_hi, d_lo = s[:, 0], s[:, 1], d[:, 0], d[:, 1]
        # address+port compared as conversation_keys compares their bytes
        swapped = (s_hi > d_hi) | ((s_hi == d_hi) & ((s_lo > d_lo) | ((s_lo == d_lo) & (sport > dport))))
        parts = [np.where(swapped, b, a).astype(np.uint64)
                 for a, b in ((s_hi, d_hi), (s_lo, d_lo), (sport, dport), (d_hi, s_hi), (d_lo, s_lo), (dport, sport))]
        h = np.zeros(len(rows), np.uint64)
        for k, part in enumerate(parts):  # multiply-xorshift mixing, wrapping in uint64
            h = (h ^ part) * np.uint64(_MIX[k])
            h ^= h >> np.uint64(29)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        if not all(np.array_equal(part, part[first][inverse]) for part in parts):
            keys, swapped = conversation_keys(cols, rows)
            uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            return cls(rows, uniq, first, inverse.ravel().astype(np.int32), swapped)
        uniq, _ = conversation_keys(cols, rows[first])
        return cls(rows, uniq, first, inverse.astype(np.int32), swapped)

    def head(self, n: int) -> KeyGroups:
        """The groups of the batch's first n rows."""
        m = int(np.searchsorted(self.rows, n))
        used = np.unique(self.inverse[:m])
        return KeyGroups(self.rows[:m], self.uniq[used], self.first[used],
                         np.searchsorted(used, self.inverse[:m]).astype(np.int32), self.swapped[:m])

    def key(self, j: int) -> bytes:
        """Row j's key (j: a position in rows)."""
        return bytes(self.uniq[self.inverse[j]].tobytes())


def assign_ids(ids: dict[bytes, int], count: int, keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Stream ids for keys, numbering unseen keys in order of first appearance; returns the ids
    and the new count."""
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return number(ids, count, uniq, first, inverse.ravel())


def number(ids: dict[bytes, int], count: int, uniq: np.ndarray, first: np.ndarray,
           inverse: np.ndarray) -> tuple[np.ndarray, int]:
    """assign_ids on keys already grouped by np.unique."""
    local_ids = np.empty(len(uniq), dtype=np.int32)
    for u in np.argsort(first, kind="stable"):
        k = uniq[u].tobytes()
        sid = ids.get(k)
        if sid is None:
            sid = ids[k] = count
            count += 1
        local_ids[u] = sid
    return local_ids[inverse], count


class TcpStreams:
    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        # per slot (2*stream + direction); direction 0 = from the canonical-first endpoint
        self.slots = Columns({"base": (np.int64, ()), "syn": (np.int64, ()), "first": (np.int64, ())})
        self.count = 0
        self.reused: set[int] = set()  # frames whose SYN started a new stream on reused ports

    @staticmethod
    def groups(cols: dict[str, np.ndarray]) -> KeyGroups:
        """The batch's TCP packets grouped by conversation (update's input)."""
        return KeyGroups.of(cols, np.nonzero((cols["ipproto"] == 6) & (cols["tcpflags"] < 0x1000))[0])

    def update(self, first_index: int, cols: dict[str, np.ndarray],
               groups: KeyGroups) -> tuple[np.ndarray, np.ndarray]:
        """Assign stream ids and directions to one batch; returns (stream, direction) per packet."""
        n = len(cols["ipproto"])
        stream = np.full(n, -1, dtype=np.int32)
        direction = np.zeros(n, dtype=np.uint8)
        tcp = groups.rows
        if not len(tcp):
            return stream, direction
        known = self.count
        sids, self.count = number(self.ids, self.count, groups.uniq, groups.first, groups.inverse)
        dirs = groups.swapped.astype(np.uint8)
        self._split_reused(first_index, tcp, sids, dirs, groups, known, cols)
        stream[tcp] = sids
        direction[tcp] = dirs
        self._grow_slots()
        self._update_slots(first_index, tcp, sids, dirs, cols)
        return stream, direction

    def _split_reused(self, first_index: int, tcp: np.ndarray, sids: np.ndarray, dirs: np.ndarray,
                      groups: KeyGroups, known: int, cols: dict[str, np.ndarray]) -> None:
        """tshark starts a new conversation (and stream number) at a SYN whose sequence number
        differs from the base sequence number its side already has: the ports were reused.
        Only SYNs of streams seen before them (`known`: ids below it predate the batch) are
        checked, one by one: they are rare."""
        flags = cols["tcpflags"][tcp]
        syn = np.nonzero((flags & (SYN | ACK)) == SYN)[0]
        if not len(syn):
            return
        # new streams are numbered in order of appearance: a first packet is a new running maximum
        first = sids > np.maximum.accumulate(np.concatenate([[known - 1], sids[:-1]]))
        syn = syn[(sids[syn] < known) | ~first[syn]]
        if not len(syn):
            return
        seq, ack = cols["seq"][tcp], cols["ack"][tcp]
        orig = sids.copy()
        if len(syn) > 16:  # many to check: group the batch's positions by stream once
            by_sid = np.argsort(orig, kind="stable")
            sorted_sids = orig[by_sid]

        def same_stream(j: int) -> np.ndarray:  # batch positions of packet j's stream (as first numbered), ascending
            if len(syn) <= 16:
                return np.flatnonzero(orig == orig[j])
            lo, hi = np.searchsorted(sorted_sids, [orig[j], orig[j] + 1])
            return by_sid[lo:hi]

        base_raw = self.slots.raw("base")
        split = False
        for j in syn.tolist():
            sid, d = int(sids[j]), int(dirs[j])
            base = int(base_raw[2 * sid + d]) if 2 * sid + d < self.slots.n else -1
            if base < 0:  # the side's base from the stream's earlier packets in this batch
                for p in same_stream(j).tolist():
                    if p >= j:
                        break
                    if sids[p] != sid:
                        continue
                    if dirs[p] == d:
                        base = int(seq[p]) if flags[p] & SYN else (int(seq[p]) - 1) & 0xFFFFFFFF
                        break
                    if flags[p] & ACK:
                        base = (int(ack[p]) - 1) & 0xFFFFFFFF
                        break
            if base < 0 or base == int(seq[j]):
                continue
            new = self.ids[groups.key(j)] = self.count
            self.count += 1
            later = same_stream(j)
            sids[later[later >= j]] = new
            self.reused.add(first_index + int(tcp[j]))
            split = True
        if split:  # number this batch's new streams in order of first appearance again
            new_ids, first_at = np.unique(sids[sids >= known], return_index=True)
            remap = np.empty(len(new_ids), np.int32)
            remap[np.argsort(np.nonzero(sids >= known)[0][first_at], kind="stable")] = np.arange(len(new_ids)) + known
            sids[sids >= known] = remap[np.searchsorted(new_ids, sids[sids >= known])]
            for k, v in self.ids.items():
                if v >= known:
                    self.ids[k] = int(remap[np.searchsorted(new_ids, v)])

    def _grow_slots(self) -> None:
        need = 2 * self.count - self.slots.n
        if need > 0:
            self.slots.append({"base": np.full(need, -1, np.int64), "syn": np.full(need, -1, np.int64),
                               "first": np.full(need, -1, np.int64)})

    def _update_slots(self, first_index: int, tcp: np.ndarray, sids: np.ndarray, dirs: np.ndarray,
                      cols: dict[str, np.ndarray]) -> None:
        flags = cols["tcpflags"][tcp]
        seq = cols["seq"][tcp].astype(np.int64)
        ack = cols["ack"][tcp].astype(np.int64)
        frame = tcp.astype(np.int64) + first_index
        slot = sids.astype(np.int64) * 2 + dirs
        is_syn = (flags & SYN) != 0
        has_ack = (flags & ACK) != 0
        base_raw = self.slots.raw("base")
        first_raw = self.slots.raw("first")
        syn_raw = self.slots.raw("syn")
        # candidates for a slot's base: own segments (seq or seq-1), and ACKs from the other side
        cand_slot = np.concatenate([slot, (slot ^ 1)[has_ack]])
        cand_val = np.concatenate([np.where(is_syn, seq, seq - 1) & 0xFFFFFFFF, (ack[has_ack] - 1) & 0xFFFFFFFF])
        cand_pos = np.concatenate([frame * 2, frame[has_ack] * 2 + 1])
        _set_first(base_raw, cand_slot, cand_pos, cand_val)
        # first frame and first SYN frame of each slot
        _set_first(first_raw, slot, frame, frame)
        syn_idx = np.nonzero(is_syn)[0]
        if len(syn_idx):
            _set_first(syn_raw, slot[syn_idx], frame[syn_idx], frame[syn_idx])

    def base(self, stream: int, direction: int) -> int:
        return int(self.slots.raw("base")[2 * stream + direction])

    def syn_frame(self, stream: int, direction: int) -> int:
        return int(self.slots.raw("syn")[2 * stream + direction])

    def first_frame(self, stream: int) -> int:
        f = self.slots.raw("first")
        return int(min(x for x in (f[2 * stream], f[2 * stream + 1]) if x >= 0))


def _set_first(target: np.ndarray, slots: np.ndarray, positions: np.ndarray, values: np.ndarray) -> None:
    """For each slot not set yet in `target` (< 0), the value of its entry at the lowest position."""
    order = np.lexsort((positions, slots))
    s_sorted = slots[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = s_sorted[1:] != s_sorted[:-1]
    win_slot, win_val = s_sorted[keep], values[order][keep]
    unset = target[win_slot] < 0
    target[win_slot[unset]] = win_val[unset]
