"""Tabular claims by a column mapping: CSV, TSV or pipe-delimited, one row per claim line.

A mapping (a TOML file, docs/formats.md "Tabular claims") names the column of each claim
field: claim id, patient, payer, billing provider, line number, procedure code, modifiers 1-4,
units, service date, place of service, diagnoses 1-12 with their code-system columns, and the
date formats. Built-in profiles are data files shipped in `ingest/profiles/` (`rif-carrier`,
`rif-dme`: CMS RIF claim extracts), recognised by their header or chosen with `--profile`.

Rows of one claim are consecutive (they share the claim id); claim-level cells come from the
claim's first row; lines are ordered by their line number. Every row must have as many cells
as the header (a profile may allow one trailing delimiter); an error names the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fileio import MAX_MAPPING_BYTES, read_text_file
from ..namespaces import icd9cm_dotted, icd10cm_dotted
from .csv_claims import number_or_text
from .model import ClaimData, LineData, whole_units
from .source import Input, Source

Warn = Callable[[str], None] | None

PROFILES = Path(__file__).parent / "profiles"
CLAIM_FIELDS = ("id", "patient", "payer", "provider", "diagnoses", "diagnosis_versions")
LINE_FIELDS = ("number", "code", "modifiers", "units", "service_date", "place_of_service",
               "body_site", "description", "diagnoses", "diagnosis_versions")  # fmt: skip
LIST_FIELDS = {"diagnoses": 25, "diagnosis_versions": 25, "modifiers": 4}  # 25: RIF institutional
DELIMITERS = (",", "\t", "|", ";")
DIAGNOSIS_SYSTEMS = frozenset({"icd10cm", "icd9cm"})
_KEYS = {"name", "description", "format", "delimiter", "trailing_delimiter", "date_formats",
         "default_payer", "detect", "claim", "line", "diagnosis_systems"}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """A column mapping: which column holds which claim field (column names as in the header,
    compared without case), read from a TOML file."""

    name: str
    source: str  # the file it was read from
    format: str = "tabular"
    description: str = ""
    delimiter: str | None = None  # None: the most frequent of , tab | ; in the header
    trailing_delimiter: bool = False
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    default_payer: str | None = None
    detect: tuple[str, ...] = ()
    claim: dict[str, tuple[str, ...]] = field(default_factory=dict)
    line: dict[str, tuple[str, ...]] = field(default_factory=dict)
    diagnosis_systems: dict[str, str] = field(default_factory=lambda: {"": "icd10cm"})

    def columns(self) -> set[str]:
        return {c for cols in (*self.claim.values(), *self.line.values()) for c in cols}


def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped with claimgraph, by name."""
    return {p.name: p for p in (_load(f) for f in sorted(PROFILES.glob("*.toml")))}


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name (`rif-carrier`), or a mapping file (TOML) by path."""
    builtin = builtin_profiles()
    if name_or_path in builtin:
        return builtin[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        names = ", ".join(sorted(builtin))
        raise InputError(f"no such profile or mapping file (built-in profiles: {names})",
                         path=name_or_path)  # fmt: skip
    return _load(path)


@cache
def _load(path: Path) -> Profile:
    where = str(path)
    try:
        data = tomllib.loads(read_text_file(path, max_bytes=MAX_MAPPING_BYTES, what="mapping file"))
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"invalid TOML ({str(e).split(' (')[0]})", path=where) from None
    except OSError:
        raise InputError("cannot read the mapping file", path=where) from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InputError(f"unknown keys in the mapping: {', '.join(unknown)}", path=where)
    claim = _columns(data.get("claim", {}), CLAIM_FIELDS, "claim", where)
    line = _columns(data.get("line", {}), LINE_FIELDS, "line", where)
    if "id" not in claim:
        raise InputError("the mapping names no claim id column ([claim] id = ...)", path=where)
    systems = data.get("diagnosis_systems", {"": "icd10cm"})
    if not isinstance(systems, dict) or not set(systems.values()) <= DIAGNOSIS_SYSTEMS:
        raise InputError("diagnosis_systems maps version codes to icd10cm or icd9cm", path=where)
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InputError("delimiter is one character", path=where)
    formats = data.get("date_formats", ["%Y-%m-%d"])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise InputError("date_formats is a list of strftime patterns", path=where)
    return Profile(
        name=str(data.get("name") or path.stem),
        source=where,
        format=str(data.get("format") or "tabular"),
        description=str(data.get("description") or ""),
        delimiter=delimiter,
        trailing_delimiter=bool(data.get("trailing_delimiter", False)),
        date_formats=tuple(formats),
        default_payer=data.get("default_payer") or None,
        detect=tuple(str(c).lower() for c in data.get("detect", [])),
        claim=claim,
        line=line,
        diagnosis_systems={str(k): str(v) for k, v in systems.items()},
    )


def _columns(
    table: Any, fields: tuple[str, ...], section: str, where: str
) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise InputError(f"[{section}] is a table of field = column", path=where)
    out: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key not in fields:
            raise InputError(f"[{section}] has no field {key!r} (fields: {', '.join(fields)})",
                             path=where)  # fmt: skip
        cols = [value] if isinstance(value, str) else value
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise InputError(f"[{section}] {key} is a column name or a list of them", path=where)
        if len(cols) > LIST_FIELDS.get(key, 4):
            raise InputError(f"[{section}] {key} names too many columns", path=where)
        out[key] = tuple(c.strip().lower() for c in cols)
    return out


# ------------------------------------------------------------------------------- detection


def _split_header(first_line: str) -> list[str]:
    delimiter = max(DELIMITERS, key=first_line.count)
    return [c.strip().strip('"').lower() for c in first_line.split(delimiter)]


def sniff(head: str) -> str | None:
    """The name of the built-in profile whose columns the header (first line) has, or None."""
    first = head.lstrip("\ufeff").partition("\n")[0].rstrip("\r")
    if not any(d in first for d in DELIMITERS):
        return None
    header = set(_split_header(first))
    for profile in builtin_profiles().values():
        if profile.detect and set(profile.detect) <= header:
            return profile.name
    return None


# ------------------------------------------------------------------------------- reading


class _Row:
    """Cells of one row by lower-case column name."""

    def __init__(self, cells: dict[str, str]) -> None:
        self.cells = cells

    def first(self, cols: tuple[str, ...] | None) -> str | None:
        for c in cols or ():
            value = self.cells.get(c, "").strip()
            if value:
                return value
        return None

    def each(self, cols: tuple[str, ...] | None) -> list[str]:
        return [self.cells.get(c, "").strip() for c in cols or ()]


def _date(value: str | None, formats: tuple[str, ...]) -> str | None:
    """A date in one of the profile's formats as YYYY-MM-DD; other text as given."""
    if value is None:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return value


def _diagnoses(
    row: _Row, codes: tuple[str, ...] | None, versions: tuple[str, ...] | None, p: Profile
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    kinds = row.each(versions)
    for i, code in enumerate(row.each(codes)):
        if not code:
            continue
        version = kinds[i] if i < len(kinds) else ""
        system = p.diagnosis_systems.get(version) or p.diagnosis_systems.get("", "icd10cm")
        out.append((system, _dotted(code, system)))
    return out


def _dotted(code: str, system: str) -> str:
    return icd10cm_dotted(code) if system == "icd10cm" else icd9cm_dotted(code)


def _rows(path: Input, p: Profile) -> Iterator[tuple[int, _Row]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            if not first.strip():
                raise InputError("empty file: expected a header row", path=str(path))
            delimiter = p.delimiter or max(DELIMITERS, key=first.count)
            header = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter))]
            missing = sorted(p.columns() - set(header))
            if missing:
                raise InputError(
                    f"the header lacks columns the mapping {p.name!r} names: "
                    + ", ".join(c.upper() for c in missing[:6]),
                    path=str(path),
                    position="1",
                )
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            for cells in reader:
                lineno = reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                if p.trailing_delimiter and len(cells) == len(header) + 1 and not cells[-1]:
                    cells = cells[:-1]
                if len(cells) != len(header):
                    raise InputError(
                        f"a row has {len(cells)} cells but the header has {len(header)}",
                        path=str(path),
                        position=str(lineno),
                    )
                yield lineno, _Row(dict(zip(header, cells, strict=True)))
    except csv.Error:
        raise InputError("not valid delimited text", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None


def read_table_input(source: Source, ctx: Any) -> Iterator[ClaimData]:
    """The reader of the format registry: the run's --profile, else the built-in profile the
    format is named after (rif-carrier, told by the header)."""
    profile = ctx.run.options.profile
    if profile is None:
        if ctx.format.name not in builtin_profiles():
            raise InputError("tabular claims need a column mapping: give --profile NAME|FILE",
                             path=str(source))  # fmt: skip
        profile = load_profile(ctx.format.name)
    ctx.log.formats[str(source)] = profile.format  # what it can carry: the mapping's format
    yield from read_table(source, profile, ctx)


def has_columns(head: str, profile: Profile) -> bool:
    """Whether the header (first line) names a column of `profile` (so reading it with the
    mapping says which columns are missing, if any)."""
    first = head.lstrip("\ufeff").partition("\n")[0].rstrip("\r")
    if not any(d in first for d in DELIMITERS):
        return False
    return bool(set(_split_header(first)) & profile.columns())


def read_table(path: Input, profile: Profile, warn: Warn = None) -> Iterator[ClaimData]:
    """Claims of a delimited file read with `profile`, in file order."""
    p = profile
    seen: dict[str, int] = {}
    claim: ClaimData | None = None
    numbers: list[Any] = []
    index = 0
    for lineno, row in _rows(path, p):
        cid = row.first(p.claim.get("id"))
        if claim is None or cid != claim.id or cid is None:
            if claim is not None:
                yield _finish(claim, numbers)
            if cid is not None:
                if cid in seen:
                    raise InputError(
                        f"rows of one claim must be consecutive (claim first seen on line "
                        f"{seen[cid]})",
                        path=str(path),
                        position=str(lineno),
                    )
                seen[cid] = lineno
            index += 1
            claim = _claim(row, p, index, lineno)
            numbers = []
        line = _line(row, p)
        claim.lines.append(line)
        numbers.append(integer(row.first(p.line.get("number"))))
        for dx in _diagnoses(row, p.line.get("diagnoses"), p.line.get("diagnosis_versions"), p):
            if dx not in claim.diagnoses:
                claim.diagnoses.append(dx)
    if claim is not None:
        yield _finish(claim, numbers)


def _claim(row: _Row, p: Profile, index: int, lineno: int) -> ClaimData:
    claim = ClaimData(index=index, position=f"line {lineno}", format=p.format)
    claim.id = row.first(p.claim.get("id"))
    claim.patient = row.first(p.claim.get("patient"))
    claim.provider = row.first(p.claim.get("provider"))
    claim.payer_name = row.first(p.claim.get("payer"))
    if claim.payer_name is None and p.default_payer:
        claim.payer = p.default_payer
    for dx in _diagnoses(row, p.claim.get("diagnoses"), p.claim.get("diagnosis_versions"), p):
        if dx not in claim.diagnoses:
            claim.diagnoses.append(dx)
    return claim


def _line(row: _Row, p: Profile) -> LineData:
    units = row.first(p.line.get("units"))
    return LineData(
        code=row.first(p.line.get("code")),
        modifiers=[m for m in row.each(p.line.get("modifiers")) if m],
        units=whole_units(number_or_text(units)) if units is not None else None,
        service_date=_date(row.first(p.line.get("service_date")), p.date_formats),
        place_of_service=row.first(p.line.get("place_of_service")),
        body_site=row.first(p.line.get("body_site")),
        description=row.first(p.line.get("description")),
    )


def integer(value: str | None) -> int | None:
    return int(value) if value is not None and re.fullmatch(r"[0-9]{1,9}", value) else None


def _finish(claim: ClaimData, numbers: list[int | None]) -> ClaimData:
    """Lines in the order of their line numbers (file order when a number is missing)."""
    if numbers and all(n is not None for n in numbers):
        order = sorted(range(len(numbers)), key=lambda i: numbers[i])  # type: ignore[arg-type,return-value]
        claim.lines = [claim.lines[i] for i in order]
    return claim
