"""ICD-10-CM and ICD-9-CM diagnosis codes by date of service, from the bundled index.

The index (`_icd/icd.idx`, built by scripts/build_icd_index.py from the CDC/CMS release files,
public domain) holds, for every code of any release, its billable span and its header span
(the dates between which it could be reported, or existed only as a non-billable category or
subcategory), its titles, and each system's release table: ICD-10-CM FY2016-FY2026 with the
April/January updates, ICD-9-CM CMS versions 23-32 (FY2006-FY2015). It ships prebuilt and is
read through a memory map: a lookup bisects fixed-width sorted records (a few microseconds) and
decompresses one small block only when a title is asked for.

ICD-9-CM is the US diagnosis code set for services before 2015-10-01, ICD-10-CM from that date.
`status(code, on)` says what the release in force on a date says about a code;
`hierarchy(code)` gives its category, block and chapter (ICD-10-CM).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import mmap
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .errors import InternalError

INDEX = Path(__file__).resolve().parent / "_icd" / "icd.idx"
HIERARCHY = Path(__file__).resolve().parent / "_icd" / "icd10cm_hierarchy.tsv"
MAGIC = b"CGICD\n"
SYSTEMS = ("icd10cm", "icd9cm")
SYSTEM_NAMES = {"icd10cm": "ICD-10-CM", "icd9cm": "ICD-9-CM"}
ICD10_START = dt.date(2015, 10, 1)  # ICD-10-CM replaced ICD-9-CM for services from this day
_RECORD = 12
_NONE = 255

# what a status says (Status.state)
BILLABLE = "billable"
HEADER = "header"  # a category or subcategory with more specific codes, not billable itself
NOT_YET = "not yet valid"  # first appears in a later release
DELETED = "deleted"  # no longer in the release in force
UNKNOWN = "unknown"  # in no release of the system
WRONG_SYSTEM = "system not in force"  # ICD-10-CM before 2015-10-01, ICD-9-CM from that day


@dataclass(frozen=True)
class Release:
    """One release of a code system and the days it was in force."""

    system: str
    id: str  # FY2022, FY2022-Apr, v32
    effective: dt.date
    until: dt.date | None  # last day in force; None: the latest release bundled
    fiscal_year: int

    @property
    def label(self) -> str:
        """'ICD-10-CM FY2022-Apr', 'ICD-9-CM v32 (FY2015)'."""
        name = SYSTEM_NAMES[self.system]
        return f"{name} {self.id}" + (f" (FY{self.fiscal_year})" if self.id[0] == "v" else "")


@dataclass(frozen=True)
class Span:
    """Days during which a code had one status (billable, or header) in every release."""

    status: str  # BILLABLE or HEADER
    start: dt.date | None  # None: from the first release bundled or earlier (ICD-9-CM v23)
    end: dt.date | None  # last day, inclusive; None: still so in the latest release bundled
    first: Release  # the first release with this status
    ended_by: Release | None  # the release from which it no longer holds

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Code:
    """One code of the index: its spans and titles (from the latest release that has it)."""

    code: str  # dotted, upper case
    system: str
    spans: tuple[Span, ...]  # billable then header, each at most once (see the data README)
    record: int = field(default=-1, repr=False, compare=False)  # where its titles are

    @property
    def title(self) -> str:
        return _section(self.system).titles(self.record)[0]

    @property
    def short_title(self) -> str:
        return _section(self.system).titles(self.record)[1]

    def span(self, status: str) -> Span | None:
        return next((s for s in self.spans if s.status == status), None)

    @property
    def billable_now(self) -> bool:
        """Billable in the latest release bundled."""
        b = self.span(BILLABLE)
        return b is not None and b.end is None and self.system == "icd10cm"


@dataclass(frozen=True)
class Status:
    """What the release in force on a day says about a code."""

    code: str  # dotted, as looked up
    system: str
    on: dt.date
    state: str  # BILLABLE, HEADER, NOT_YET, DELETED, UNKNOWN, WRONG_SYSTEM
    release: Release | None  # the release of `system` in force on `on`
    entry: Code | None  # the code's index entry (None: UNKNOWN, or a code of no release)
    span: Span | None = None  # the span covering `on` (BILLABLE, HEADER)
    children: tuple[str, ...] = ()  # HEADER: the billable codes under it on `on`

    @property
    def billable(self) -> bool:
        return self.state == BILLABLE

    @property
    def added(self) -> dt.date | None:
        """The first day the code was valid (billable or header) in any release."""
        starts = [s.start for s in self.entry.spans if s.start] if self.entry else []
        return min(starts) if starts else None

    @property
    def billable_until(self) -> dt.date | None:
        """The last billable day, when it stopped being billable on or before `on`."""
        b = self.entry.span(BILLABLE) if self.entry else None
        return b.end if b is not None and b.end is not None and b.end < self.on else None

    def explain(self) -> str:
        """One sentence for people: 'M54.5 is not billable on 2022-01-05: it is a category
        header since 2021-10-01 (billable until 2021-09-30); use M54.50, M54.51 or M54.59.'"""
        if self.state == BILLABLE:
            assert self.release is not None
            name = SYSTEM_NAMES[self.system]
            return f"{self.code} is a billable {name} code on {self.on} ({self.release.label})."
        return f"{self.code} is not billable on {self.on}: {self.detail()}."

    def detail(self) -> str:
        """Why it is not billable, as rule CODE-02 words it (shapes/codes.ttl)."""
        name, day = SYSTEM_NAMES[self.system], self.on.isoformat()
        if self.state == WRONG_SYSTEM:
            if self.system == "icd10cm":
                return (
                    f"it is an {name} code, but services before {ICD10_START} (here {day}) "
                    "are coded in ICD-9-CM"
                )
            return (
                f"it is an {name} code, but {name} ended on 2015-09-30 (here {day}): "
                f"from {ICD10_START} diagnoses are ICD-10-CM codes"
            )
        if self.state == HEADER:
            assert self.span is not None
            since = f" since {self.span.start}" if self.span.start else ""
            until = f" (billable until {self.billable_until})" if self.billable_until else ""
            return f"it is a category header{since}{until}; use {children_phrase(self.children)}"
        if self.state == NOT_YET:
            return f"it was not yet valid on {day} (added {self.added})"
        if self.state == DELETED:
            ended = [sp for sp in self.entry.spans if sp.end] if self.entry else []
            last = max(ended, key=lambda sp: sp.end or dt.date.min)
            what = "billable" if last.status == BILLABLE else "a category header"
            return f"it was deleted on {_next_day(last.end)} ({what} until {last.end})"
        if self.state == BILLABLE:
            return "it is billable"
        return f"it is not a code of any {name} release ({first_last(self.system)})"


def children_phrase(children: tuple[str, ...]) -> str:
    """'M54.50, M54.51 or M54.59'; 'one of its 120 billable codes, such as A, B, C'."""
    if not children:
        return "a more specific code"
    if len(children) == 1:
        return children[0]
    if len(children) <= 5:
        return f"{', '.join(children[:-1])} or {children[-1]}"
    return f"one of its {len(children)} billable codes, such as {', '.join(children[:3])}"


def first_last(system: str) -> str:
    """'FY2016 to FY2026': the releases bundled."""
    rel = releases(system)
    return f"{rel[0].id} to {rel[-1].id}"


def _next_day(day: dt.date | None) -> dt.date | None:
    return day + dt.timedelta(days=1) if day else None


# ---------------------------------------------------------------------------------------------
# The index file


class _Section:
    """One system's records, title blocks and releases inside the memory-mapped index."""

    def __init__(self, data: mmap.mmap | bytes, base: int, system: str, meta: dict[str, Any]):
        self.data = data
        self.system = system
        rec_off, rec_len = meta["records"]
        blk_off, blk_len = meta["blocks"]
        self.titles_at: int = base + meta["titles"][0]
        self.records_at: int = base + rec_off
        self.count = rec_len // _RECORD
        self.blocks = struct.unpack_from(f"<{blk_len // 4}I", data, base + blk_off)
        self.end = dt.date.fromisoformat(str(meta["end"])) if meta.get("end") else None
        rows = meta["releases"]
        dates = [dt.date.fromisoformat(r[1]) for r in rows]
        self.releases = tuple(
            Release(
                system,
                str(r[0]),
                dates[i],
                dates[i + 1] - dt.timedelta(days=1) if i + 1 < len(rows) else self.end,
                int(r[2]),
            )
            for i, r in enumerate(rows)
        )
        self.effective = tuple(dates)

    def key(self, i: int) -> bytes:
        at = self.records_at + i * _RECORD
        return self.data[at : at + 8]

    def find(self, code: str) -> int | None:
        """Record number of `code` (dotted), by bisection; None when absent."""
        target = self.padded(code)
        if target is None:
            return None
        i = self.bisect(target)
        return i if i < self.count and self.key(i) == target else None

    @staticmethod
    def padded(code: str) -> bytes | None:
        raw = code.encode("ascii", "replace")
        return raw.ljust(8, b"\0") if 0 < len(raw) <= 8 else None

    def bisect(self, target: bytes) -> int:
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def code_at(self, i: int) -> str:
        return self.key(i).rstrip(b"\0").decode("ascii")

    def spans_at(self, i: int) -> tuple[Span, ...]:
        at = self.records_at + i * _RECORD + 8
        b0, b1, h0, h1 = self.data[at : at + 4]
        out = []
        for status, first, end in ((BILLABLE, b0, b1), (HEADER, h0, h1)):
            if first != _NONE:
                out.append(self.span(status, first, end))
        return tuple(out)

    def span(self, status: str, first: int, end: int) -> Span:
        rel = self.releases
        start = None if first == 0 and self.system == "icd9cm" else rel[first].effective
        if end < len(rel):
            return Span(status, start, rel[end].effective - dt.timedelta(days=1), rel[first],
                        rel[end])  # fmt: skip
        return Span(status, start, self.end, rel[first], None)

    def billable_on(self, i: int, day: dt.date) -> bool:
        at = self.records_at + i * _RECORD + 8
        first, end = self.data[at], self.data[at + 1]
        return first != _NONE and self.span(BILLABLE, first, end).covers(day)

    def titles(self, i: int) -> tuple[str, str]:
        long, short = _block(self, i // 64)[i % 64].split("\t")
        return long, short or long

    def entry(self, i: int) -> Code:
        return Code(self.code_at(i), self.system, self.spans_at(i), i)


@lru_cache(maxsize=64)
def _block(section: _Section, n: int) -> list[str]:
    a, b = section.blocks[n], section.blocks[n + 1]
    raw = zlib.decompress(section.data[section.titles_at + a : section.titles_at + b])
    return raw.decode("utf-8").split("\n")


@cache
def _sections() -> dict[str, _Section]:
    try:
        with INDEX.open("rb") as f:
            data: mmap.mmap | bytes = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as e:
        raise InternalError(f"the bundled ICD index {INDEX} cannot be read ({e})") from None
    end = data.find(b"\n", len(MAGIC))
    if data[: len(MAGIC)] != MAGIC or end < 0:
        raise InternalError(f"the bundled ICD index {INDEX} is damaged; reinstall claimgraph")
    header = json.loads(data[len(MAGIC) : end])
    base = end + 1
    return {s: _Section(data, base, s, header["systems"][s]) for s in SYSTEMS}


def _section(system: str) -> _Section:
    if system not in SYSTEMS:
        raise ValueError(f"unknown diagnosis code system {system!r}")
    return _sections()[system]


# ---------------------------------------------------------------------------------------------
# The API

_SHAPE = re.compile(r"^[A-Z0-9]{1,7}$")


def icd10cm_dotted(code: str) -> str:
    """ICD-10-CM code with its dot (M5459 -> M54.59), upper case."""
    code = code.strip().upper().replace(".", "")
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def icd9cm_dotted(code: str) -> str:
    """ICD-9-CM code with its dot (51881 -> 518.81, E8888 -> E888.8, V7389 -> V73.89)."""
    code = code.strip().upper().replace(".", "")
    head = 4 if code.startswith("E") else 3
    return code if len(code) <= head else f"{code[:head]}.{code[head:]}"


def normalize(code: str, system: str = "icd10cm") -> str:
    """The dotted, upper-case form: M5459 -> M54.59, 25000 -> 250.00 (ICD-9-CM)."""
    return icd9cm_dotted(code) if system == "icd9cm" else icd10cm_dotted(code)


def system_on(day: dt.date | str) -> str:
    """The diagnosis code set in force on a day: icd9cm before 2015-10-01, else icd10cm."""
    return "icd9cm" if _date(day) < ICD10_START else "icd10cm"


def releases(system: str = "icd10cm") -> tuple[Release, ...]:
    return _section(system).releases


def release_on(day: dt.date | str, system: str | None = None) -> Release | None:
    """The release of `system` (default: the one in force then) in force on `day`; None
    before its first release bundled (ICD-9-CM: v23 stands for FY2006 and earlier)."""
    day = _date(day)
    section = _section(system or system_on(day))
    rel = section.releases
    i = bisect.bisect_right(section.effective, day)
    if i:
        return rel[i - 1]
    return rel[0] if rel[0].system == "icd9cm" else None


def find(code: str, system: str = "icd10cm") -> Code | None:
    """The index entry of a code (with or without its dot, any case); None when absent."""
    dotted = normalize(code, system)
    if not _SHAPE.match(dotted.replace(".", "")):
        return None
    section = _section(system)
    i = section.find(dotted)
    return section.entry(i) if i is not None else None


def _spans(code: str, system: str) -> tuple[Span, ...] | None:
    dotted = normalize(code, system)
    section = _section(system)
    i = section.find(dotted) if _SHAPE.match(dotted.replace(".", "")) else None
    return section.spans_at(i) if i is not None else None


def children(code: str, on: dt.date | str, system: str = "icd10cm") -> tuple[str, ...]:
    """The billable codes under `code` on a day (its descendants, in code order)."""
    day = _date(on)
    dotted = normalize(code, system)
    prefix = dotted if "." in dotted else dotted + "."
    section = _section(system)
    target = section.padded(prefix)
    if target is None:
        return ()
    raw_prefix = prefix.encode("ascii", "replace")
    out = []
    i = section.bisect(target)
    while i < section.count and section.key(i).startswith(raw_prefix):
        if section.key(i) != target and section.billable_on(i, day):
            out.append(section.code_at(i))
        i += 1
    return tuple(out)


def status(code: str, on: dt.date | str, system: str | None = None) -> Status:
    """What the release in force on `on` says about `code` in `system` (default: the system in
    force on that day): billable, header, not yet valid, deleted, unknown, or the wrong system
    for that day (ICD-10-CM before 2015-10-01, ICD-9-CM from that day)."""
    day = _date(on)
    system = system or system_on(day)
    dotted = normalize(code, system)
    entry = find(dotted, system)
    release = release_on(day, system)
    if entry is None:
        return Status(dotted, system, day, UNKNOWN, release, None)
    if system != system_on(day):  # a code of the other code set's era
        return Status(dotted, system, day, WRONG_SYSTEM, release, entry)
    for span in entry.spans:
        if span.covers(day):
            kids = children(dotted, day, system) if span.status == HEADER else ()
            return Status(dotted, system, day, span.status, release, entry, span, kids)
    if all(s.start is not None and day < s.start for s in entry.spans):
        return Status(dotted, system, day, NOT_YET, release, entry)
    return Status(dotted, system, day, DELETED, release, entry)


def lookup(code: str) -> tuple[bool, str] | None:
    """(billable in the latest release, title) of an ICD-10-CM code; None if in no release."""
    entry = find(code)
    return (entry.billable_now, entry.title) if entry is not None else None


def entries(system: str = "icd10cm") -> Iterator[tuple[str, bool, str]]:
    """Every code of a system as (dotted code, billable in the latest release, title)."""
    section = _section(system)
    last = len(section.releases)
    for i in range(section.count):
        at = section.records_at + i * _RECORD + 8
        billable = section.data[at] != _NONE and section.data[at + 1] == last
        yield section.code_at(i), billable and system == "icd10cm", section.titles(i)[0]


# ---------------------------------------------------------------------------------------------
# Hierarchy (ICD-10-CM): category, block, chapter


@dataclass(frozen=True)
class Group:
    """A node above a code: a subcategory or category (its code), a block or a chapter."""

    kind: str  # "subcategory", "category", "block", "chapter"
    id: str  # M54.5, M54, M50-M54, 13
    title: str
    range: str = ""  # blocks and chapters: A00-B99


@dataclass(frozen=True)
class Hierarchy:
    code: str
    ancestors: tuple[Group, ...]  # nearest first: subcategories, then the category
    block: Group | None
    chapter: Group | None

    @property
    def category(self) -> Group | None:
        return next((g for g in self.ancestors if g.kind == "category"), None)


@cache
def _hierarchy_table() -> tuple[dict[str, Group], dict[str, tuple[str, str]]]:
    """(block or chapter id -> Group, category -> (block range, chapter number))."""
    groups: dict[str, Group] = {}
    blocks: dict[str, str] = {}
    cats: dict[str, str] = {}
    for line in HIERARCHY.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        kind, *rest = line.split("\t")
        if kind == "chapter":
            number, rng, title = rest
            groups["chapter:" + number] = Group("chapter", number, title, rng)
        elif kind == "block":
            rng, number, title = rest
            groups["block:" + rng] = Group("block", rng, title, rng)
            blocks[rng] = number
        elif kind == "category":
            cats[rest[0]] = rest[1]
    return groups, {c: (b, blocks[b]) for c, b in cats.items()}


def hierarchy(code: str) -> Hierarchy | None:
    """The ICD-10-CM code's subcategories, category, block and chapter; None when the code is
    in no release. Blocks and chapters are those of the FY2026 tabular (icd10cm_hierarchy.tsv)."""
    entry = find(code)
    if entry is None:
        return None
    ancestors = []
    compact = entry.code.replace(".", "")
    for n in range(len(compact) - 1, 3, -1):
        parent = find(compact[:n])
        if parent is not None:
            ancestors.append(Group("subcategory", parent.code, parent.title))
    category = find(compact[:3])
    if category is not None and category.code != entry.code:
        ancestors.append(Group("category", category.code, category.title))
    groups, cats = _hierarchy_table()
    block = chapter = None
    if compact[:3] in cats:
        b, ch = cats[compact[:3]]
        block, chapter = groups["block:" + b], groups["chapter:" + ch]
    return Hierarchy(entry.code, tuple(ancestors), block, chapter)


def _date(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
