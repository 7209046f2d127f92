"""`claimgraph diff` output: the new, resolved and unchanged findings of two reports, in the
report formats (table, json, jsonl, csv, tsv)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from ..findings import Finding
from ..tabular import DELIMITERS, write_delimited
from ..workflow.diff import ReportDiff
from .delimited import CSV_COLUMNS, _row
from .records import finding_record

FORMATS = ("table", "json", "jsonl", "csv", "tsv")
COLUMNS = ("change", *CSV_COLUMNS[:-2])  # the report's columns without status and waiver


def counts(d: ReportDiff) -> dict[str, int]:
    return {"new": len(d.new), "resolved": len(d.resolved), "unchanged": len(d.unchanged)}


def _changes(d: ReportDiff) -> Iterator[tuple[str, Finding]]:
    for name in ("new", "resolved", "unchanged"):
        for f in getattr(d, name):
            yield name, f


def as_json(d: ReportDiff, old: str, new: str) -> dict[str, Any]:
    return {
        "old": old,
        "new": new,
        "summary": counts(d),
        "new_findings": [finding_record(f) for f in d.new],
        "resolved_findings": [finding_record(f) for f in d.resolved],
        "unchanged_findings": [finding_record(f) for f in d.unchanged],
    }


def summary_text(d: ReportDiff) -> str:
    c = counts(d)
    return f"{c['new']} new, {c['resolved']} resolved, {c['unchanged']} unchanged finding(s)."


def _table(d: ReportDiff, out: IO[str]) -> None:
    from rich.text import Text

    from ..console import printing

    with printing(out) as console:
        for title, items in (("New", d.new), ("Resolved", d.resolved)):
            console.print(Text(f"{title} ({len(items)})", style="bold"))
            for f in items:
                where = "claim" if f.line is None else f"line {f.line}"
                head = f"  {f.severity:<9} {f.rule:<11} claim {f.claim} {where}"
                console.print(head + (f" {f.code}" if f.code else "") + f"  key {f.key}")
                console.print(Text("    " + (f.rule_name or f.message), style="dim"))
            console.print()
        console.print(f"Unchanged: {len(d.unchanged)}")
        console.print(summary_text(d))


def write_diff(
    d: ReportDiff, fmt: str, out: IO[str], old: str, new: str, bom: bool = False
) -> None:
    if fmt == "json":
        json.dump(as_json(d, old, new), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "jsonl":
        for change, f in _changes(d):
            out.write(json.dumps({"change": change, **finding_record(f)}, ensure_ascii=False))
            out.write("\n")
    elif fmt in DELIMITERS:
        rows = ([change, *_row(f)[:-2]] for change, f in _changes(d))
        write_delimited(out, COLUMNS, rows, delimiter=DELIMITERS[fmt], bom=bom)
    else:
        _table(d, out)


__all__ = ["COLUMNS", "FORMATS", "as_json", "counts", "summary_text", "write_diff"]
