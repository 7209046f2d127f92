"""The CMS NCCI procedure-to-procedure (PTP) edit tables: practitioner (`ccipra-vNNNr0-f1..f4`)
and outpatient hospital (`ccioph-...`), tab-delimited text, or the .zip CMS distributes each
part in. Several files or parts of one setting and quarter form one release.

Layout (NCCI_FILE_LAYOUTS.md): a preamble (`CPT only copyright <year> American Medical
Association...`, blank lines), the header `Column 1<TAB>Column 2<TAB>*=in existence prior to
1996<TAB>Effective Date<TAB>Deletion Date *=no data<TAB>Modifier 0=not allowed 1=allowed 9=not
applicable<TAB>PTP Edit Rationale`, then one edit a line: column-1 code, column-2 code, `*` or
blank, CCYYMMDD effective date, CCYYMMDD deletion date or `*`, modifier indicator, rationale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from ..errors import InputError
from .tables import (
    _CODE,
    Part,
    Quarter,
    Row,
    TableRelease,
    decode,
    parse_quarter,
    parts,
    quarter_in_name,
)

MAX_PREAMBLE_LINES = 30
_VERSION = re.compile(r"(?<![a-z0-9])v(\d{3})r(\d)", re.IGNORECASE)
_SETTING_WORDS = (
    ("ccipra", "practitioner"),
    ("practitioner", "practitioner"),
    ("ccioph", "hospital"),
    ("hospital", "hospital"),
)
_INDICATORS = {"0": 0, "1": 1, "9": 9}
_DATE_IN = re.compile(r"(?<!\d)(19|20)\d{6}(?!\d)")


def read(
    paths: list[Path], release: str | None = None, setting: str | None = None
) -> list[TableRelease]:
    """The releases the files form (one per setting and quarter), names and headers checked."""
    groups: dict[tuple[str, Quarter], list[Part]] = {}
    versions: dict[tuple[str, Quarter], set[str]] = {}
    for path in paths:
        for part in parts(path):
            names = f"{path.name} {part.member or ''}"
            where = setting or _setting_in(names)
            if where is None:
                raise InputError(
                    "cannot tell practitioner from hospital by the file name; pass --setting",
                    path=part.name,
                )
            quarter = parse_quarter(release) if release else quarter_in_name(names)
            if quarter is None:
                raise InputError(
                    "cannot tell the quarter from the file name; pass --release 2026Q1",
                    path=part.name,
                )
            _check_header(part)
            key = (where, quarter)
            groups.setdefault(key, []).append(part)
            m = _VERSION.search(names)
            versions.setdefault(key, set()).update([f"v{m[1]}r{m[2]}"] if m else [])
    out = []
    for (where, quarter), members in groups.items():
        found = versions[(where, quarter)]
        if len(found) > 1:
            raise InputError(
                f"the files of one release have different versions ({', '.join(sorted(found))})",
                path=members[0].name,
            )
        out.append(
            TableRelease(
                kind="ptp",
                setting=where,
                quarter=quarter,
                files=[p.file_name for p in members],
                paths=[p.name for p in members],
                rows=_reader(members),
                version=next(iter(found), None),
            )
        )
    return out


def _setting_in(names: str) -> str | None:
    lower = names.lower()
    found = {setting for word, setting in _SETTING_WORDS if word in lower}
    return found.pop() if len(found) == 1 else None


def _lines(part: Part) -> Iterator[tuple[int, str]]:
    text = decode(part.read(), part.name)
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line[:-1] if line.endswith("\r") else line


def _check_header(part: Part) -> None:
    """The PTP header must come within the first lines (before any edit)."""
    head = decode(part.read()[:16384], part.name).split("\n")[:MAX_PREAMBLE_LINES]
    for number, line in enumerate(head, start=1):
        fields = line.rstrip("\r").split("\t")
        if fields[0].strip().lower() == "column 1":
            if len(fields) < 7 or "column 2" not in fields[1].lower():
                raise InputError(
                    "PTP header has not the 7 columns Column 1 .. PTP Edit Rationale",
                    path=part.name,
                    position=f"line {number}",
                )
            return
        if _CODE.match(fields[0].strip()):
            break
    raise InputError(
        "no PTP header (Column 1<TAB>Column 2<TAB>...) at the start; is this an NCCI PTP file?",
        path=part.name,
    )


def _reader(members: list[Part]) -> Callable[[], Iterator[Row]]:
    def rows() -> Iterator[Row]:
        for part in members:
            yield from _rows(part)

    return rows


def _rows(part: Part) -> Iterator[Row]:
    """(column 1, column 2, effective, deletion or None, modifier indicator, rationale, file,
    line) for each edit; InputError naming the line on any defect."""
    name = part.name
    started = False
    dates: dict[str, int] = {}
    code = _CODE.match
    data = False  # a data row was seen: from here on every line is an edit
    for number, line in _lines(part):
        if not started:
            started = line.split("\t", 1)[0].strip().lower() == "column 1"
            continue
        if not line.strip():
            continue
        f = line.split("\t")
        if not data:
            if not code(f[0].strip()) and not _DATE_IN.search(line):
                continue  # the header's second line, where a distribution splits it in two
            data = True
        if len(f) < 7:
            _fail(name, number, f"{len(f)} tab-separated fields, expected 7")
        col1, col2 = f[0].strip(), f[1].strip()
        if not code(col1):
            _fail(name, number, "column 1 is not a 5-character HCPCS/CPT code")
        if not code(col2):
            _fail(name, number, "column 2 is not a 5-character HCPCS/CPT code")
        eff = dates.get(f[3]) or _date(f[3], dates, name, number, "effective date")
        raw_del = f[4].strip()
        deleted = (
            None
            if raw_del in ("*", "")
            else dates.get(f[4])
            or _date(f[4], dates, name, number, "deletion date (or * for none)")
        )
        indicator = _INDICATORS.get(f[5].strip())
        if indicator is None:
            _fail(name, number, "modifier indicator is not 0, 1 or 9")
        if f[2].strip() not in ("", "*"):
            _fail(name, number, "the prior-to-1996 column is neither * nor blank")
        yield (col1, col2, eff, deleted, indicator, "\t".join(f[6:]).strip(), name, number)


def _date(text: str, cache: dict[str, int], path: str, line: int, what: str) -> int:
    value = text.strip()
    if len(value) == 8 and value.isdigit():
        month, day = int(value[4:6]), int(value[6:])
        if 1 <= month <= 12 and 1 <= day <= 31 and value[:2] in ("19", "20"):
            cache[text] = int(value)
            return cache[text]
    _fail(path, line, f"{what} is not a date in CCYYMMDD form")


def _fail(path: str, line: int, message: str) -> NoReturn:
    raise InputError(message, path=path, position=f"line {line}")
