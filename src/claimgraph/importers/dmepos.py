"""The CMS quarterly DMEPOS fee schedule CSV (`DMEPOS25_JAN.csv`, ...): for each HCPCS code
and pricing-modifier combination its payment category (CATG) and fees per state.

Layout: a few title rows (`January 2025 Fee Schedule`), the header `HCPCS,Mod,Mod2,JURIS,CATG,
Ceiling,Floor,<state> (NR),<state> (R),...,Description`, one row per code and modifiers. What
is stored per code and quarter: each payment category it is priced under and the modifiers
(Mod, Mod2) it is priced with there. Fees and descriptions are not stored. The payment
categories are the individuals of ontology/cms-tables.ttl (a category not there is an error).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from ..errors import InputError
from .tables import Quarter, Row, TableRelease, check_code, decode, parse_quarter, parts

MAX_PREAMBLE_ROWS = 20
_MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10}  # the quarterly files' months
_NAME = re.compile(r"DMEPOS_?(\d{2}|\d{4})_?(JAN|APR|JUL|OCT)", re.IGNORECASE)
_TITLE = re.compile(r"(January|April|July|October)\s+(\d{4})\s+Fee\s+Schedule", re.IGNORECASE)
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_REQUIRED = ("HCPCS", "MOD", "MOD2", "CATG")


@cache
def payment_categories() -> dict[str, str]:
    """CATG notation -> IRI of each cg:DMEPOSPaymentCategory in the bundled ontology."""
    import pyoxigraph as ox

    from ..namespaces import CG, SKOS
    from ..resources import data_dir

    store = ox.Store()
    store.load(path=str(data_dir("ontology") / "cms-tables.ttl"), format=ox.RdfFormat.TURTLE)
    query = f"SELECT ?c ?n WHERE {{ ?c a <{CG.DMEPOSPaymentCategory}> ; <{SKOS.notation}> ?n }}"
    return {str(s["n"].value): str(s["c"].value) for s in store.query(query)}  # type: ignore[union-attr]


def read(path: Path, release: str | None = None) -> TableRelease:
    """The fee schedule's release (quarter from --release, the file name or its title row),
    header checked; its rows() are (code, category, mod, mod2, file, line)."""
    [part] = parts(path, (".csv",))
    name = part.name
    text = decode(part.read(), name)
    rows = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    title_quarter: Quarter | None = None
    try:
        for number, row in enumerate(rows, start=1):
            if number > MAX_PREAMBLE_ROWS:
                break
            cells = [c.strip().upper() for c in row]
            if cells and cells[0] == "HCPCS":
                header = cells
                break
            m = _TITLE.search(" ".join(row))
            if m:
                title_quarter = Quarter.of_month(int(m[2]), _MONTHS[m[1][:3].upper()])
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=name, position=f"line {rows.line_num}"
        ) from None
    if header is None:
        raise InputError(
            "no header row (HCPCS,Mod,Mod2,JURIS,CATG,...) in the first rows; "
            "is this the CMS DMEPOS fee schedule CSV?",
            path=name,
        )
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"the header has no {', '.join(missing)} column", path=name,
            position=f"line {rows.line_num}",
        )  # fmt: skip
    columns = tuple(header.index(c) for c in _REQUIRED)
    header_line = rows.line_num
    if release:
        quarter = parse_quarter(release)
    else:
        m = _NAME.search(part.file_name)
        if m:
            year = int(m[1]) + (2000 if len(m[1]) == 2 else 0)
            quarter = Quarter.of_month(year, _MONTHS[m[2].upper()])
        elif title_quarter is not None:
            quarter = title_quarter
        else:
            raise InputError(
                "cannot tell the quarter from the file name (DMEPOS25_JAN...) or its title; "
                "pass --release 2025Q1",
                path=name,
            )
    return TableRelease(
        kind="dmepos",
        setting=None,
        quarter=quarter,
        files=[part.file_name],
        paths=[part.name],
        rows=_reader(name, text, header_line, len(header), columns),
    )


def _reader(
    name: str, text: str, header_line: int, width: int, columns: tuple[int, ...]
) -> Callable[[], Iterator[Row]]:
    def rows() -> Iterator[Row]:
        return _rows(name, text, header_line, width, columns)

    return rows


def _rows(
    name: str, text: str, header_line: int, width: int, columns: tuple[int, ...]
) -> Iterator[Row]:
    known = payment_categories()
    code_at, mod_at, mod2_at, cat_at = columns
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in rows:
            if rows.line_num <= header_line or not any(c.strip() for c in row):
                continue
            line = rows.line_num
            where = f"line {line}"
            if len(row) != width:
                raise InputError(
                    f"{len(row)} fields, the header has {width}", path=name, position=where
                )
            code = check_code(row[code_at], path=name, position=where, what="HCPCS")
            mods = []
            for i in (mod_at, mod2_at):
                mod = row[i].strip().upper()
                if mod and not _MODIFIER.match(mod):
                    raise InputError(
                        "Mod/Mod2 is not a 2-character modifier", path=name, position=where
                    )
                mods.append(mod)
            category = row[cat_at].strip().upper()
            if category not in known:
                raise InputError(
                    f"payment category (CATG) {_shown(category)} is not one of "
                    f"{', '.join(sorted(known))} (ontology/cms-tables.ttl)",
                    path=name,
                    position=where,
                )
            yield (code, category, mods[0], mods[1], name, line)
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=name, position=f"line {rows.line_num}"
        ) from None


def _shown(value: str) -> str:
    """A CATG cell for a message: a short code as it is, anything else not quoted."""
    if not value:
        return "blank"
    return value if re.fullmatch(r"[A-Z0-9]{1,4}", value) else "value"
