"""The report as CSV or TSV: one row per finding, every field, spreadsheet-safe cells
(claimgraph.tabular). Open findings first, then the waived ones (`status` says which); `about`
says whether a finding is about the file itself (its claim cell empty), a claim or a line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ..findings import Finding
from ..tabular import write_delimited

if TYPE_CHECKING:
    from ..validation import ValidationResult
    from ..workflow.waivers import Waiver

# The first seven are the columns of claimgraph 0.1, in their order.
CSV_COLUMNS = (
    "claim",
    "line",
    "code",
    "rule",
    "severity",
    "message",
    "source",
    "key",
    "rule_name",
    "topic",
    "fix",
    "hints",
    "payer",
    "service_date",
    "file",
    "position",
    "facts",
    "sources",
    "source_urls",
    "effective_from",
    "effective_until",
    "carc",
    "rarc",
    "group_code",
    "not_in_input",
    "about",
    "status",
    "waiver",
)


def _row(f: Finding, waiver: Waiver | None = None) -> list[Any]:
    return [
        f.claim,
        f.line,
        f.code,
        f.rule,
        f.severity,
        f.message,
        f.source or "; ".join(s.title for s in f.sources),
        f.key,
        f.rule_name,
        f.topic,
        f.fix,
        "; ".join(f"{a}={v}" for a, v in f.hints),
        f.payer,
        f.service_date,
        f.file,
        f.position,
        "; ".join(f"{n}={v}" for n, v in f.facts),
        " ".join(s.id for s in f.sources),
        " ".join(s.url for s in f.sources if s.url),
        f.effective_from,
        f.effective_until,
        f.carc,
        f.rarc,
        f.group_code,
        "true" if f.not_in_input else "",
        about(f),
        "waived" if waiver else "open",
        f"{waiver.reason} ({waiver.who}, until {waiver.expires.isoformat()})" if waiver else "",
    ]


def about(f: Finding) -> str:
    """What a finding is about: the whole run (no claim, no file: a table not loaded), the file
    itself (claim None: an X12 envelope), a claim or a line."""
    if f.claim is None:
        return "file" if f.file else "run"
    return "claim" if f.line is None else "line"


def rows(result: ValidationResult) -> Iterator[list[Any]]:
    for f in result.findings:
        yield _row(f)
    for w in result.waived:
        yield _row(w.finding, w.waiver)


def write_csv(result: ValidationResult, out: IO[str], *, bom: bool = False) -> None:
    write_delimited(out, CSV_COLUMNS, rows(result), delimiter=",", bom=bom)


def write_tsv(result: ValidationResult, out: IO[str], *, bom: bool = False) -> None:
    write_delimited(out, CSV_COLUMNS, rows(result), delimiter="\t", bom=bom)


__all__ = ["CSV_COLUMNS", "about", "rows", "write_csv", "write_tsv"]
