"""Batches of the claims of patients: each patient whole, or in date windows when it has more
claims than a batch holds.

A patient with more than `size` claims is cut into windows of `size // 2` claims in date order
(the *core* of a batch, which it reports on), each loaded with the patient's other claims
within `days` of the core's dates (context, reported by their own batch). The cross-claim rules
relate claims of a patient at most `days` apart (`patients.window_days`: the rules'
`cg:windowDays`, NMR-02's 42), so every check sees what it would see with all the claims loaded
and the work stays linear in the patient's claims. Claims without a valid service date relate
to no other claim by date; they are batched among themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .common import pack

if TYPE_CHECKING:
    from .fast import Record

Batch = tuple[list["Record"], int]  # (records, how many of the first ones are core)


def patient_jobs(records: list[Record], size: int, days: int) -> Iterator[Batch]:
    """The batches of `records` (claims of patients, in input order), grouped by patient."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r.group, []).append(r)
    small = [g for g in groups.values() if len(g) <= size]
    for batch in pack(small, size):
        yield batch, len(batch)
    for g in groups.values():
        if len(g) > size:
            yield from windows(g, size, days)


def _span(r: Record) -> tuple[dt.date, dt.date] | None:
    dates = []
    for d in r.ctx.dates:
        if d:
            try:
                dates.append(dt.date.fromisoformat(d))
            except ValueError:
                continue
    return (min(dates), max(dates)) if dates else None


def windows(claims: list[Record], size: int, days: int) -> Iterator[Batch]:
    """One patient's claims in windows of dates (module doc)."""
    dated: list[tuple[dt.date, dt.date, Record]] = []
    dateless: list[Record] = []
    for r in claims:
        span = _span(r)
        if span is None:
            dateless.append(r)
        else:
            dated.append((span[0], span[1], r))
    dated.sort(key=lambda x: x[0])
    step = max(1, size // 2)
    reach = dt.timedelta(days=days)
    longest = max((hi - lo for lo, hi, _r in dated), default=dt.timedelta(0))
    for i in range(0, len(dated), step):
        core = dated[i : i + step]
        first = core[0][0] - reach
        last = max(hi for _lo, hi, _r in core) + reach
        context = []
        j = i - 1
        while j >= 0 and dated[j][0] >= first - longest:  # earlier claims reaching `first`
            if dated[j][1] >= first:
                context.append(dated[j][2])
            j -= 1
        j = i + step
        while j < len(dated) and dated[j][0] <= last:
            context.append(dated[j][2])
            j += 1
        yield [r for _lo, _hi, r in core] + context, len(core)
    for k in range(0, len(dateless), size):
        chunk = dateless[k : k + size]
        yield chunk, len(chunk)
