"""Claim ids seen in a run, to flag repeats (STRUCT-03) with little memory.

A claim id is unique only per billing provider, so the key is (provider, id), hashed to 64 bits
(blake2b) and kept in an open-addressing table of 8-byte slots (`array('Q')`, at most half
full): about 32 MB at 2 million claims, where a Python set of the same hashes takes about 156
MB (benchmarks/realistic_scale.py measures it). Two different keys share a hash with
probability about n^2 / 2^65 (1 in 10 million at 2 million claims).
"""

from __future__ import annotations

import hashlib
from array import array

_START = 1 << 12


def claim_key(provider: str | None, claim_id: str) -> int:
    digest = hashlib.blake2b(f"{provider or ''}\0{claim_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1  # 0 marks an empty slot


class SeenIds:
    """`add(provider, id)` is True when that pair was added before."""

    def __init__(self) -> None:
        self._slots = array("Q", [0]) * _START
        self._mask = _START - 1
        self._used = 0

    def __len__(self) -> int:
        return self._used

    @property
    def table_bytes(self) -> int:
        return self._slots.itemsize * len(self._slots)

    def add(self, provider: str | None, claim_id: str) -> bool:
        key = claim_key(provider, claim_id)
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            value = slots[i]
            if value == 0:
                break
            if value == key:
                return True
            i = (i + 1) & mask
        slots[i] = key
        self._used += 1
        if self._used * 2 > len(slots):
            self._grow()
        return False

    def _grow(self) -> None:
        old = self._slots
        size = len(old) * 2
        self._slots = slots = array("Q", [0]) * size
        self._mask = mask = size - 1
        for key in old:
            if key:
                i = key & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = key
