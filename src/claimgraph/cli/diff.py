"""`claimgraph diff OLD NEW`: what changed between two validation reports."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    BomOpt,
    ForceOpt,
    OutputOpt,
    QuietOpt,
    err,
    format_option,
    output_to,
    pick_format,
)
from .validate import FailOn, FailOnOpt


def diff(
    old: Annotated[
        str, typer.Argument(metavar="OLD", help="The earlier report (JSON or JSON Lines).")
    ],
    new: Annotated[
        str, typer.Argument(metavar="NEW", help="The later report (JSON or JSON Lines).")
    ],
    fmt: Annotated[
        str | None, format_option(("table", "json", "jsonl", "csv", "tsv"), "table")
    ] = None,  # fmt: skip
    output: OutputOpt = "-",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    fail_on: FailOnOpt = FailOn.violation,
    bom: BomOpt = False,
) -> None:
    """Compare two reports by finding key: new, resolved and unchanged findings.

    Exit status: 1 when a new finding reaches --fail-on, else 0; 2 for an unreadable report.

    Example: claimgraph diff last-week.json today.json --fail-on warning
    """
    from ..report.diffout import FORMATS, summary_text, write_diff
    from ..validation import reaches
    from ..workflow.diff import diff_findings
    from ..workflow.reports import load_report

    chosen = pick_format(fmt, output, FORMATS, "table")
    before = load_report(old, what="old report")
    after = load_report(new, what="new report")
    d = diff_findings(before, after)
    with output_to(output, force, private=True, inputs=(old, new)) as out:
        write_diff(d, chosen, out, old, new, bom=bom)
    if not quiet and (output != "-" or chosen == "jsonl"):
        err(summary_text(d))
    if any(reaches(f.severity, fail_on.value) for f in d.new):
        raise typer.Exit(1)
