"""Patients whose claims come together: validated while the input is still read.

Claim files often hold each patient's claims together (an X12 837 nests claims under the
subscriber loop, FHIR bundles and extracts are often written per patient). A *run* is such a
stretch of consecutive claims of one patient. When a run ends (the next claim is another
patient's), the patient's claims are all known unless the patient comes back later, so the run
is validated at once, packed with other ended runs into a batch; the workers then work while
the input is read instead of waiting for the partitions (spill.py). A patient that does come
back is *redone*: the findings its early run gave are dropped and all its claims are validated
together from the partitions, as are runs longer than a batch (date windows, batches.py). When
patients keep coming back (an input in another order), early runs stop, so the work repeated
stays small. The findings are the same either way; only when the work is done changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fast import Record

SETTLE = 200  # ended runs before deciding whether the input comes grouped by patient
RETURNS = 0.1  # share of returning patients above which early runs stop


class Runs:
    """Runs of one input, in order; `add` returns a batch of ended runs when one is full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.key: int | None = None  # the current run's patient (hash of the patient key)
        self.current: list[Record] = []
        self.early: dict[int, bool] = {}  # patient -> its run was validated early
        self.redo: set[int] = set()  # patients validated from the partitions
        self.ready: list[Record] = []  # ended runs waiting for a full batch
        self.ended = self.returned = 0
        self.on = True

    def add(self, record: Record) -> list[Record] | None:
        key = hash(record.group)
        if key == self.key:
            self.current.append(record)
            return None
        out = self._end()
        if key in self.early:  # the patient comes back
            self.returned += 1
            self.redo.add(key)
        self.key, self.current = key, [record]
        return out

    def finish(self) -> list[Record] | None:
        """The last batch of ended runs once the input has ended."""
        out = self._end()
        rest, self.ready = self.ready, []
        return [*(out or []), *rest] or None

    def needs_partition(self, record: Record) -> bool:
        """Whether `record` is validated from the partitions (its patient was not done early)."""
        return hash(record.group) in self.redo

    def dropped(self, record: Record) -> bool:
        """Whether the findings of `record`'s early run are dropped (the patient came back)."""
        return self.early.get(hash(record.group), False)

    def _end(self) -> list[Record] | None:
        run, key = self.current, self.key
        self.current, self.key = [], None
        if key is None or key in self.redo:
            return None
        self.ended += 1
        if self.on and self.ended >= SETTLE and self.returned > RETURNS * self.ended:
            self.on = False
        if not self.on or len(run) > self.size:
            self.early[key] = False
            self.redo.add(key)
            return None
        self.early[key] = True
        out = None
        if self.ready and len(self.ready) + len(run) > self.size:
            out, self.ready = self.ready, []
        self.ready.extend(run)
        return out
