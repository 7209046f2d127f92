"""Findings as an Arrow table and as Parquet (needs the `arrow` extra: pyarrow).

One row per finding, the columns of the report record (`records.FIELDS`, in that order) with
their types: `line` an integer, `not_in_input` a boolean, `hints`, `facts` and `sources` lists
of structs (as in the JSON report), dates ISO text as in every other format. A result's table
ends with `status` (`open`, `waived`) and `waiver` (reason, who, expires) as the CSV does; the
findings Spark returns have the same columns without those two (`FINDING_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any

from ..findings import Finding
from .records import FIELDS, finding_record, from_record

if TYPE_CHECKING:
    from ..validation import ValidationResult
    from ..workflow.waivers import Waiver

_STRUCTS = {
    "hints": ("action", "value"),
    "facts": ("name", "value"),
    "sources": ("id", "title", "version", "url", "effective"),
}
FINDING_COLUMNS = FIELDS
RESULT_COLUMNS = (*FIELDS, "status", "waiver")
WAIVER_FIELDS = ("reason", "who", "expires")


def _pa() -> Any:
    """pyarrow (imported here: the CLI starts without it), or a one-line error."""
    from ..ingest.parquet import require_pyarrow

    return require_pyarrow("Arrow and Parquet findings")


def column_types() -> dict[str, Any]:
    """Each column's Arrow type."""
    pa = _pa()
    types: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS, pa.string())
    types["line"] = pa.int32()
    types["not_in_input"] = pa.bool_()
    for name, fields in _STRUCTS.items():
        types[name] = pa.list_(pa.struct([(f, pa.string()) for f in fields]))
    types["waiver"] = pa.struct([(f, pa.string()) for f in WAIVER_FIELDS])
    return types


def schema(columns: Iterable[str] = FINDING_COLUMNS) -> Any:
    pa = _pa()
    types = column_types()
    return pa.schema([(c, types[c]) for c in columns])


def finding_rows(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [finding_record(f) for f in findings]


def findings_table(findings: Iterable[Finding]) -> Any:
    """The findings as a pyarrow Table of FINDING_COLUMNS."""
    return _pa().Table.from_pylist(finding_rows(findings), schema=schema())


def result_rows(result: ValidationResult) -> list[dict[str, Any]]:
    """Open findings, then the waived ones, as records of RESULT_COLUMNS (no pyarrow needed)."""
    rows = [{**finding_record(f), "status": "open", "waiver": None} for f in result.findings]
    rows += [
        {**finding_record(w.finding), "status": "waived", "waiver": _waiver(w.waiver)}
        for w in result.waived
    ]
    return rows


def result_table(result: ValidationResult) -> Any:
    """`result_rows` as a pyarrow Table of RESULT_COLUMNS."""
    return _pa().Table.from_pylist(result_rows(result), schema=schema(RESULT_COLUMNS))


def _waiver(w: Waiver) -> dict[str, str]:
    return {"reason": w.reason, "who": w.who, "expires": w.expires.isoformat()}


def findings_from_table(table: Any) -> list[Finding]:
    """Findings read back from a table of these columns (Arrow, or rows as mappings)."""
    rows: Iterable[Mapping[str, Any]] = table.to_pylist() if hasattr(table, "to_pylist") else table
    return [from_record(r, "table") for r in rows]


def write_parquet(result: ValidationResult, out: IO[bytes]) -> None:
    """The report as one Parquet file (open and waived findings; `status` says which)."""
    _pa()
    import pyarrow.parquet as pq

    pq.write_table(result_table(result), out, compression="zstd")


__all__ = [
    "FINDING_COLUMNS",
    "RESULT_COLUMNS",
    "column_types",
    "finding_rows",
    "findings_from_table",
    "findings_table",
    "result_rows",
    "result_table",
    "schema",
    "write_parquet",
]
