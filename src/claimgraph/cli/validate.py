"""`claimgraph validate` and `claimgraph rules`: thin layers over validate.py and report.py."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from .common import TableFormat, err, print_rows


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    turtle = "turtle"


class Severity(StrEnum):
    violation = "violation"
    warning = "warning"
    info = "info"


class Engine(StrEnum):
    fast = "fast"
    reference = "reference"


DEFAULT_ENGINE = Engine.fast  # same findings as reference (tests/test_engine_parity.py)


def validate(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Claim files or folders (read whole; formats told by content): JSON, JSON Lines, "
            "CSV, Turtle, N-Triples, JSON-LD, FHIR R4, X12 837P, also gzipped; '-' reads "
            "standard input.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = (
        ReportFormat.table
    ),
    fail_on: Annotated[
        Severity,
        typer.Option("--fail-on", help="Exit 1 when a finding is this serious or worse."),
    ] = Severity.violation,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", "-r", help="Report only this rule id (repeatable).", metavar="ID"),
    ] = None,
    payer: Annotated[
        str | None,
        typer.Option(
            "--payer",
            help="Check only claims of this payer (a category such as commercial includes "
            "its payers).",
            metavar="PAYER",
        ),
    ] = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="fast (compiled SPARQL) or reference (pyshacl).")
    ] = DEFAULT_ENGINE,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.", metavar="N")
    ] = None,
    documents: Annotated[
        str | None,
        typer.Option(
            "--documents",
            help="Documents CSV attached to the claims of any format by claim id and line.",
            metavar="FILE",
        ),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help="Read every input as this format (json, jsonl, csv, turtle, nt, json-ld, fhir, "
            "x12) instead of telling it by content; for '-' (standard input) too.",
            metavar="FORMAT",
        ),
    ] = None,
    default_payer: Annotated[
        str | None,
        typer.Option(
            "--default-payer",
            help="Payer of the claims whose input names none (e.g. medicare).",
            metavar="PAYER",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="X12 envelope defects (STRUCT-04) are errors (exit 2), not findings."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No warnings or progress on stderr.")
    ] = False,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write; '-' for stdout.", metavar="FILE")
    ] = "-",
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output file.")
    ] = False,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="Check claims already in this SPARQL server instead of files (needs --graph).",
            metavar="URL",
        ),
    ] = None,
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph", help="With --endpoint: the named graph holding the claims.", metavar="IRI"
        ),
    ] = None,
    shapes: Annotated[
        list[str] | None,
        typer.Option(
            "--shapes",
            help="Your own rules (SHACL shapes in Turtle), added to the bundled ones for this "
            "run (repeatable).",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Check claims against the coverage rules and report what to fix.

    Exit status: 0 no finding reaches --fail-on, 1 one does, 2 unreadable input or bad usage.

    Example: claimgraph validate examples/oxygen.json --format json --fail-on warning
    """
    from ..errors import ClaimgraphError
    from ..fileio import atomic_writer
    from ..report import write
    from ..validate import validate_files

    def warn(message: str) -> None:
        if not quiet:
            err(f"warning: {message}")

    if endpoint:
        from ..validate import validate_endpoint

        if files:
            raise ClaimgraphError("give claim files or --endpoint, not both")
        if shapes:
            raise ClaimgraphError("--shapes cannot be used with --endpoint")
        result = validate_endpoint(
            endpoint, graph, rules=rule or (), payer=payer, fail_on=fail_on.value
        )
        with atomic_writer(output, force=force, private=True) as out:
            write(result, fmt.value, out)
        if result.failed:
            raise typer.Exit(1)
        return
    if not files:
        raise ClaimgraphError("no claim files given (or use --endpoint URL --graph IRI)")
    result = validate_files(
        files,
        engine=engine.value,
        jobs=jobs,
        rules=rule or (),
        payer=payer,
        fail_on=fail_on.value,
        warn=warn,
        progress=not quiet and sys.stderr.isatty(),
        documents=documents,
        shapes=shapes or (),
        input_format=input_format,
        default_payer=default_payer,
        strict=strict,
    )
    with atomic_writer(output, force=force, private=True) as out:
        write(result, fmt.value, out)
    if result.failed:
        raise typer.Exit(1)


def rules(
    topic: Annotated[
        str | None, typer.Option("--topic", "-t", help="Only this topic, e.g. oxygen.")
    ] = None,
    payer: Annotated[
        str | None, typer.Option("--payer", help="Only rules that check this payer's claims.")
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = (
        TableFormat.table
    ),
    shapes: Annotated[
        list[str] | None,
        typer.Option(
            "--shapes", help="Also list the rules of this file (repeatable).", metavar="FILE"
        ),
    ] = None,
) -> None:
    """List the rule catalogue: id, severity, topic, scope, message, source and dates.

    Example: claimgraph rules --topic oxygen --payer medicare
    """
    from ..usershapes import installed, load

    with installed(load(shapes) if shapes else None):
        _rules(topic, payer, fmt)


def _rules(topic: str | None, payer: str | None, fmt: TableFormat) -> None:
    from ..errors import ClaimgraphError
    from ..report import rule_rows
    from ..validate import check_payer

    if topic:
        from ..engine.common import rulebook

        topics = sorted({r.topic for r in rulebook().rules.values()})
        if topic not in topics:
            raise ClaimgraphError(f"unknown topic {topic!r}; use one of {', '.join(topics)}")
    columns, rows = rule_rows(topic, check_payer(payer) if payer else None)
    print_rows(columns, rows, fmt, title="claimgraph rules")
