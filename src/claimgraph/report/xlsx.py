"""The report as an Excel workbook (openpyxl, the optional `xlsx` extra): a Findings sheet (the
CSV columns, open findings then waived ones, filterable), a Summary sheet (counts by severity,
rule, payer, file and topic; the run's facts; notices). Text cells are stored as text, never as
formulas, whatever they start with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ..errors import ClaimgraphError
from .delimited import CSV_COLUMNS, rows
from .records import summary

if TYPE_CHECKING:
    from ..validation import ValidationResult

WIDTHS = {"message": 60, "fix": 40, "source": 40, "waiver": 40, "rule_name": 30, "file": 24}


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise ClaimgraphError(
            "the xlsx format needs openpyxl: pip install 'claimgraph[xlsx]'"
        ) from None
    return openpyxl


def _cells(ws: Any, values: Sequence[Any], bold: bool = False) -> list[Any]:
    """A row for a write-only sheet: plain values, except text openpyxl would take for a
    formula (it starts with '='), which becomes a cell typed as text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    out: list[Any] = []
    for v in values:
        if bold or (isinstance(v, str) and v.startswith("=")):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # "=1+1" stays text: never a formula
            if bold:
                cell.font = Font(bold=True)
            out.append(cell)
        else:
            out.append("" if v is None else v)
    return out


def _table(ws: Any, title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    ws.append(_cells(ws, [title], bold=True))
    for k, v in pairs:
        ws.append(_cells(ws, [k, v]))
    ws.append([])


def run_facts(run: dict[str, Any]) -> list[tuple[str, Any]]:
    """The run's facts as (name, value) rows."""
    facts: list[tuple[str, Any]] = [
        (k, run[k]) for k in ("claimgraph", "date", "engine", "rules_fingerprint") if k in run
    ]
    facts += [("code set", c.get("title") or c.get("id")) for c in run.get("code_sets", [])]
    if "profile" in run:
        p = run["profile"]
        facts.append(("profile", f"{p['name']} ({p['file']})"))
        for e in p["entries"]:
            who = f" for {e['payer']}" if e["payer"] else ""
            facts.append(("profile entry", f"{e['rule']}: {e['severity']}{who}"))
    if "baseline" in run:
        b = run["baseline"]
        facts.append(("baseline", f"{b['file']}: {b['suppressed']} suppressed"))
    if "waivers" in run:
        w = run["waivers"]
        facts.append(("waivers", f"{w['file']}: {w['waived']} waived, {w['expired']} expired"))
    return facts


def write_xlsx(result: ValidationResult, out: IO[bytes]) -> None:
    openpyxl = _openpyxl()
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Findings")
    for i, name in enumerate(CSV_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(name, 14)
    ws.freeze_panes = "A2"
    count = 0
    ws.append(_cells(ws, CSV_COLUMNS, bold=True))
    for row in rows(result):
        ws.append(_cells(ws, row))
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(CSV_COLUMNS))}{count + 1}"

    s = summary(result)
    sheet = wb.create_sheet("Summary")
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 60
    verdict = "FAILED" if result.failed else "passed"
    _table(
        sheet,
        "Summary",
        [
            ("claims checked", s["claims"]),
            ("claims with findings", s["claims_with_findings"]),
            ("claims with violations", s["claims_with_violations"]),
            *((f"{k} findings", n) for k, n in s["by_severity"].items()),
            ("resting on documentation not in this input", s["not_in_input"]),
            ("suppressed by the baseline", s["suppressed_by_baseline"]),
            ("waived", s["waived"]),
            ("result", f"{verdict} (fails on {result.fail_on})"),
        ],
    )
    for key, title in (("by_rule", "By rule"), ("by_payer", "By payer"),
                       ("by_file", "By file"), ("by_topic", "By topic")):  # fmt: skip
        if s[key]:
            _table(sheet, title, s[key].items())
    _table(sheet, "About this run", run_facts(result.run))
    if result.notices:
        _table(sheet, "Notices", (("", n) for n in result.notices))
    wb.save(out)


__all__ = ["write_xlsx"]
