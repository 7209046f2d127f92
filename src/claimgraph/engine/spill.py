"""Hash partitions of records on disk, encrypted: what waits until the input ends.

The fast engine sends the claims of patients to `Partitions` as it reads them: each record goes
to partition `hash(patient key) % parts`, so all the claims of one patient land in the same
partition, which the engine then validates whole (memory: one partition, not the input).
Records are buffered per partition and written in chunks: pickled, zlib-compressed and sealed
with AES-GCM (`cryptography`) under a key made for the run and held only in memory, in files of
a private temporary folder (mode 0700, removed by `close`, also on error or interrupt). So no
readable patient value reaches the disk, and a chunk that was changed or reordered is refused.
A partition that turns out larger than `MAX_RECORDS` is split again with a new hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

PARTS = 64  # partitions of a run (a nested split adds SUBPARTS each)
SUBPARTS = 16
MAX_RECORDS = 40_000  # records a partition may hold before it is split again
MAX_DEPTH = 3  # nested splits (one patient's claims cannot be split by hashing)
CHUNK_BYTES = 48_000  # buffered N-Triples bytes a partition writes at once
_HEADER = struct.Struct(">I")


class Partitions:
    """Records (with `.group`, the patient key, and `.nt`, their N-Triples) by partition."""

    def __init__(self, parts: int | None = None, *, depth: int = 0,
                 run: _Run | None = None) -> None:  # fmt: skip
        self.parts = parts or PARTS
        self.depth = depth
        self.owner = run is None
        self.run = run or _Run()
        self.name = next(self.run.names)
        self.buffers: list[list[Any]] = [[] for _ in range(self.parts)]
        self.sizes = [0] * self.parts
        self.counts = [0] * self.parts
        self.files: dict[int, BinaryIO] = {}

    def part_of(self, group: str) -> int:
        digest = hashlib.blake2b(f"{self.depth}/{group}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.parts

    def add(self, record: Any) -> None:
        k = self.part_of(record.group)
        self.buffers[k].append(record)
        self.counts[k] += 1
        self.sizes[k] += len(record.nt)
        if self.sizes[k] >= CHUNK_BYTES:
            self._flush(k)

    def __len__(self) -> int:
        return sum(self.counts)

    def _path(self, k: int) -> str:
        return os.path.join(self.run.folder, f"{self.name}-{k}.part")

    def _flush(self, k: int) -> None:
        records, self.buffers[k], self.sizes[k] = self.buffers[k], [], 0
        if not records:
            return
        f = self.files.get(k)
        if f is None:
            fd = os.open(self._path(k), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            f = self.files[k] = os.fdopen(fd, "wb")
        nonce = struct.pack(">4xQ", next(self.run.nonces))  # never reused under the run's key
        plain = zlib.compress(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL), 1)
        sealed = self.run.aead.encrypt(nonce, plain, self._aad(k))
        f.write(_HEADER.pack(len(sealed)) + nonce + sealed)

    def _aad(self, k: int) -> bytes:
        return f"{self.name}/{k}".encode()

    def _read(self, k: int) -> Iterator[list[Any]]:
        """The chunks of partition `k`, in the order written (the file is removed after)."""
        path = self._path(k)
        try:
            with open(path, "rb") as f:
                while head := f.read(_HEADER.size):
                    (size,) = _HEADER.unpack(head)
                    nonce = f.read(12)
                    sealed = f.read(size)
                    plain = self.run.aead.decrypt(nonce, sealed, self._aad(k))
                    yield pickle.loads(zlib.decompress(plain))  # noqa: S301 (sealed by us)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def partitions(self) -> Iterator[list[Any]]:
        """Each partition's records in input order, one partition at a time; a partition over
        `MAX_RECORDS` records is split again (the patients stay whole)."""
        for k in range(self.parts):
            if self.counts[k] == 0:
                continue
            pending = self.buffers[k]
            self.buffers[k] = []
            written = k in self.files
            if written:
                self.files.pop(k).close()
            if self.counts[k] > MAX_RECORDS and self.depth < MAX_DEPTH:
                sub = Partitions(SUBPARTS, depth=self.depth + 1, run=self.run)
                try:
                    for chunk in self._read(k) if written else ():
                        for r in chunk:
                            sub.add(r)
                    for r in pending:
                        sub.add(r)
                    yield from sub.partitions()
                finally:
                    sub.close()
                continue
            records: list[Any] = []
            for chunk in self._read(k) if written else ():
                records.extend(chunk)
            records.extend(pending)
            yield records

    def close(self) -> None:
        """Close and remove every file (the folder too when it is ours)."""
        for f in self.files.values():
            with contextlib.suppress(OSError):
                f.close()
        self.files.clear()
        for k in range(self.parts):
            with contextlib.suppress(OSError):
                os.unlink(self._path(k))
        if self.owner:
            self.run.close()


class _Run:
    """What the partitions of one run share: the folder, the key, the nonce counter."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from ..privacy import private_tempdir

        self._folder = private_tempdir("claimgraph-spill-")  # mode 0700, removed by close
        self.folder = str(self._folder.__enter__())
        self.aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.nonces = itertools.count(1)
        self.names = itertools.count(1)

    def close(self) -> None:
        self._folder.__exit__(None, None, None)
