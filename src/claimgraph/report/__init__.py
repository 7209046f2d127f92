"""Validation reports: one writer per output kind, all reading the same findings.

- table (people; rich, the terminal's width, colour only on a terminal): `table.py`
- json, jsonl (tools, pipelines): `jsonout.py`
- csv, tsv (spreadsheets; formula-safe cells, optional BOM): `delimited.py`
- turtle (a SHACL validation report): `turtle.py`
- html (one self-contained page to hand on): `html.py` and `templates/`
- xlsx (a findings sheet and a summary sheet; needs the `xlsx` extra): `xlsx.py`
- fhir (a FHIR R4 Bundle of ClaimResponses with X12 CARC/RARC reasons, for payer-side tools):
  `fhirout.py`
- parquet (typed columns for data tools; needs the `arrow` extra): `arrow.py`

`context.py` fills each finding's rule context and stable key; `records.py` is the record every
format shows. Only claim ids, line numbers, codes, payers, dates, file positions and rule data
appear: never a patient id, a description or any other free text of a claim.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

from ..errors import ClaimgraphError
from ..findings import Finding
from .catalogue import rule_rows, scope_text
from .delimited import CSV_COLUMNS
from .jsonout import as_json

if TYPE_CHECKING:
    from ..validation import ValidationResult

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "turtle", "html", "xlsx", "fhir", "parquet")
BINARY_FORMATS = frozenset({"xlsx", "parquet"})
ALIASES = {"ttl": "turtle", "ndjson": "jsonl", "htm": "html", "text": "table"}
SUFFIXES = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".ttl": "turtle",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".txt": "table",
}


def choose_format(fmt: str | None, output: str = "-") -> str:
    """`fmt` (or an alias of it), else the format the output file's suffix names, else table."""
    if fmt is None:
        if output == "-":
            return "table"
        return SUFFIXES.get(PurePath(output).suffix.lower(), "table")
    name = ALIASES.get(fmt.lower(), fmt.lower())
    if name not in FORMATS:
        raise ClaimgraphError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return name


def write(result: ValidationResult, fmt: str, out: IO[Any], *, bom: bool = False) -> None:
    """Write the report in `fmt` to `out` (a binary stream for xlsx and parquet, text
    otherwise)."""
    fmt = choose_format(fmt)
    if fmt == "table":
        from .table import write_table

        write_table(result, out)
    elif fmt == "json":
        from .jsonout import write_json

        write_json(result, out)
    elif fmt == "jsonl":
        from .jsonout import write_jsonl

        write_jsonl(result, out)
    elif fmt in ("csv", "tsv"):
        from .delimited import write_csv, write_tsv

        (write_csv if fmt == "csv" else write_tsv)(result, out, bom=bom)
    elif fmt == "turtle":
        from .turtle import write_turtle

        write_turtle(result, out)
    elif fmt == "html":
        from .html import write_html

        write_html(result, out)
    elif fmt == "fhir":
        from .fhirout import write_fhir

        write_fhir(result, out)
    elif fmt == "parquet":
        from .arrow import write_parquet

        write_parquet(result, out)
    else:
        from .xlsx import write_xlsx

        write_xlsx(result, out)


def report_graph(result: ValidationResult) -> Any:
    from .turtle import report_graph as build

    return build(result)


__all__ = [
    "ALIASES",
    "BINARY_FORMATS",
    "CSV_COLUMNS",
    "FORMATS",
    "SUFFIXES",
    "Finding",
    "as_json",
    "choose_format",
    "report_graph",
    "rule_rows",
    "scope_text",
    "write",
]
