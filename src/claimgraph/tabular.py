"""The one CSV/TSV writer of claimgraph: spreadsheet-safe cells, optional byte-order mark.

Every CSV or TSV output (validation reports, `print_rows` tables of queries, code search and
store info, exports) goes through `write_delimited`, so a cell a spreadsheet would run as a
formula is always neutralised (OWASP "CSV Injection"): a text cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text.
Numbers (int, float) are written as they are: they cannot carry a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel reads a UTF-8 CSV as UTF-8 only when it starts with this


def safe_cell(value: Any) -> str | int | float:
    """The cell as written: '' for None, numbers unchanged, text neutralised when it could run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_delimited(
    out: IO[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> int:
    """Write a header and rows as CSV (`delimiter` ',') or TSV ('\\t'); returns the row count."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count


DELIMITERS = {"csv": ",", "tsv": "\t"}

__all__ = ["BOM", "DELIMITERS", "FORMULA_START", "safe_cell", "write_delimited"]
