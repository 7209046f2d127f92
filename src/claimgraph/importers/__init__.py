"""Readers of official code-set files. Each returns a whole, validated `Release` or raises
`InputError` naming the file and the record: nothing is written until a file has been read
completely (codestore writes it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fileio import read_input

MAX_FILE_BYTES = 200 * 1024 * 1024  # a HCPCS file is ~3 MB; anything this large is not one


@dataclass
class CodeRecord:
    """One code or modifier of a release, with what the file says about it."""

    notation: str
    kind: str  # "procedure" | "modifier"
    long: str
    short: str = ""
    pricing: tuple[str, ...] = ()
    coverage: str = ""
    betos: str = ""
    added: dt.date | None = None
    action_effective: dt.date | None = None
    terminated: dt.date | None = None
    action: str = ""
    position: str = ""  # where in the file (for messages)


@dataclass
class Release:
    """One code-set file, read and checked: `codestore.import_release` stores it as a graph."""

    system: str  # "hcpcs" | "cpt"
    release_id: str  # e.g. cms-hcpcs-2020-01 (the IRI is .../source/<release_id>)
    issued: dt.date
    title: str
    file_name: str
    records: list[CodeRecord] = field(default_factory=list)

    @property
    def procedure_count(self) -> int:
        return sum(1 for r in self.records if r.kind == "procedure")

    @property
    def modifier_count(self) -> int:
        return sum(1 for r in self.records if r.kind == "modifier")


def read_bytes(path: Path) -> bytes:
    """The file's bytes; an unreadable, empty, huge or binary file is a one-line InputError."""
    name = str(path)
    if not path.exists():
        raise InputError("no such file (give the path of a code-set file)", path=name)
    data = read_input(path, what="code-set file", max_bytes=MAX_FILE_BYTES)
    if not data.strip():
        raise InputError("file is empty", path=name)
    if b"\x00" in data[:65536] or (data[:4] == b"PK\x03\x04" and path.suffix.lower() != ".xlsx"):
        raise InputError("file is binary, not a text code-set file", path=name)
    return data


def parse_date(text: str, *, path: str, position: str, what: str) -> dt.date | None:
    """CCYYMMDD (or YYYY-MM-DD) to a date; blank is None; anything else is an InputError."""
    text = text.strip()
    if not text:
        return None
    digits = text.replace("-", "")
    if len(digits) == 8 and digits.isdigit():
        try:
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            pass
    raise InputError(f"{what} is not a date in CCYYMMDD form", path=path, position=position)


def check_unique(records: list[CodeRecord], path: str) -> None:
    seen: set[tuple[str, str]] = set()
    for r in records:
        key = (r.kind, r.notation)
        if key in seen:
            raise InputError(f"{r.kind} {r.notation} appears twice", path=path, position=r.position)
        seen.add(key)


def decode_csv_text(data: bytes, path: str) -> str:
    """A CSV export's text: UTF-8 (with or without BOM), else cp1252 as CMS files are."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError("neither UTF-8 nor cp1252 text", path=path) from None
