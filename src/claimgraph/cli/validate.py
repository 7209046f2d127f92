"""`claimgraph validate`: a thin layer over validate.py and report.py."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from .common import err

if TYPE_CHECKING:
    from ..knowledge import Knowledge


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


DEFAULT_ENGINE = Engine.fast  # same findings as reference (tests/test_parity.py)


def run_knowledge(shapes: list[str] | None, store: str | None) -> Knowledge:
    """The run's Knowledge: the bundled rules, the user's rules files, the code-set store
    (`store`, else $CLAIMGRAPH_STORE, else the user data folder: read here, at the edge)."""
    from ..codestore import store_path
    from ..knowledge import Knowledge

    return Knowledge.bundled().with_rules(shapes or ()).with_codesets(store_path(store))


def validate(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Claim files or folders: JSON, JSON Lines, CSV, Turtle, N-Triples, JSON-LD, "
            "FHIR R4, X12 837P.",
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
        typer.Option("--documents", help="Documents CSV for a claims CSV.", metavar="FILE"),
    ] = None,
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
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Code-set store whose imported releases the code checks read (default: "
            "$CLAIMGRAPH_STORE, else the user data folder).",
            metavar="DIR",
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
            endpoint, graph, knowledge=run_knowledge(None, store), rules=rule or (), payer=payer,
            fail_on=fail_on.value,
        )  # fmt: skip
        with atomic_writer(output, force=force, private=True) as out:
            write(result, fmt.value, out)
        if result.failed:
            raise typer.Exit(1)
        return
    if not files:
        raise ClaimgraphError("no claim files given (or use --endpoint URL --graph IRI)")
    result = validate_files(
        files,
        knowledge=run_knowledge(shapes, store),
        engine=engine.value,
        jobs=jobs,
        rules=rule or (),
        payer=payer,
        fail_on=fail_on.value,
        warn=warn,
        progress=not quiet and sys.stderr.isatty(),
        documents=documents,
    )
    with atomic_writer(output, force=force, private=True) as out:
        write(result, fmt.value, out)
    if result.failed:
        raise typer.Exit(1)
