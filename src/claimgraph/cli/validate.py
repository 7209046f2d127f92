"""`claimgraph validate`: a thin layer over validate.py and report/."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from .common import (
    CLAIM_FILES_HELP,
    BomOpt,
    DefaultPayerOpt,
    DocumentsOpt,
    ForceOpt,
    IncludePreauthorizationOpt,
    InputFormatOpt,
    OutputOpt,
    ProfileOpt,
    QuietOpt,
    StrictOpt,
    err,
    format_option,
    output_to,
    pick_format,
)

if TYPE_CHECKING:
    from ..knowledge import Knowledge

REPORT_FORMATS = (
    "table", "json", "jsonl", "csv", "tsv", "turtle", "html", "xlsx", "fhir", "parquet",
)  # fmt: skip


class FailOn(StrEnum):
    violation = "violation"
    warning = "warning"
    info = "info"
    none = "none"


Severity = FailOn  # the name claimgraph 0.1 used


class Engine(StrEnum):
    fast = "fast"
    reference = "reference"


DEFAULT_ENGINE = Engine.fast  # same findings as reference (tests/test_parity.py)
FailOnOpt = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 when a finding is this serious or worse: violation, warning, info, or "
        "none (never).",
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        "-e",
        metavar="URL",
        help="Check claims already in this SPARQL server instead of files (needs --graph).",
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Code-set store whose imported code sets and CMS tables the code checks read "
        "(default: $CLAIMGRAPH_STORE, else the user data folder).",
        metavar="DIR",
    ),
]


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
            metavar="FILE",
            help=CLAIM_FILES_HELP,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[str | None, format_option(REPORT_FORMATS, "table")] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    fail_on: FailOnOpt = FailOn.violation,
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
        Engine,
        typer.Option(
            "--engine", metavar="ENGINE", help="fast (compiled SPARQL) or reference (pyshacl)."
        ),
    ] = DEFAULT_ENGINE,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.", metavar="N")
    ] = None,
    documents: DocumentsOpt = None,
    profile: ProfileOpt = None,
    include_preauthorization: IncludePreauthorizationOpt = False,
    input_format: InputFormatOpt = None,
    default_payer: DefaultPayerOpt = None,
    strict: StrictOpt = False,
    shapes: Annotated[
        list[str] | None,
        typer.Option(
            "--shapes",
            help="Your own rules (SHACL shapes in Turtle), added to the bundled ones for this "
            "run (repeatable).",
            metavar="FILE",
        ),
    ] = None,
    rules_profile: Annotated[
        str | None,
        typer.Option(
            "--rules-profile",
            metavar="FILE",
            help="A rules profile (TOML) that changes rules' severities or turns rules off, per "
            "payer if wanted.",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="A previous JSON or JSONL report: report only findings it does not have.",
        ),
    ] = None,
    waivers: Annotated[
        str | None,
        typer.Option(
            "--waivers",
            metavar="FILE",
            help="Accepted findings (TOML: key or rule and claim pattern, reason, who, expiry).",
        ),
    ] = None,
    store: StoreOpt = None,
    bom: BomOpt = False,
    endpoint: EndpointOpt = None,
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph",
            "-g",
            help="With --endpoint: the named graph holding the claims.",
            metavar="IRI",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            help="Seconds the whole run may take (files: no limit by default, the fast engine"
            " only; --endpoint: 300); past it the run stops with exit 2.",
        ),
    ] = None,
) -> None:
    """Check claims against the coverage rules and report what to fix.

    The report format follows --format, else the -o suffix (.json .jsonl .csv .tsv .ttl
    .html .xlsx .parquet), else table. With -o or --format jsonl the one-line summary goes to stderr
    (unless -q).

    Exit status: 0 no finding reaches --fail-on, 1 one does, 2 unreadable input, bad usage
    or --timeout passed.

    Example: claimgraph validate examples/ -o report.html --baseline last.json
    """
    from ..errors import ClaimgraphError
    from ..fileio import check_output
    from ..report import BINARY_FORMATS, write
    from ..report.records import summary_line

    chosen = pick_format(fmt, output, REPORT_FORMATS, "table")
    named = (documents, profile, rules_profile, baseline, waivers)
    inputs = [*(files or []), *(shapes or []), *(x for x in named if x)]
    check_output(output, force=force, inputs=inputs)  # before a long run, not after it

    def warn(message: str) -> None:
        if not quiet:
            err(f"warning: {message}")

    if endpoint:
        from ..validation import validate_endpoint

        if files:
            raise ClaimgraphError("give claim files or --endpoint, not both")
        if shapes:
            raise ClaimgraphError("--shapes cannot be used with --endpoint")
        result = validate_endpoint(
            endpoint,
            graph,
            knowledge=run_knowledge(None, store),
            rules=rule or (),
            payer=payer,
            fail_on=fail_on.value,
            rules_profile=rules_profile,
            baseline=baseline,
            waivers=waivers,
            timeout=timeout,
            jobs=jobs,
        )
    else:
        if not files:
            raise ClaimgraphError("no claim files given (or use --endpoint URL --graph IRI)")
        from ..validation import validate_files

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
            profile=profile,
            include_preauthorization=include_preauthorization,
            input_format=input_format,
            default_payer=default_payer,
            strict=strict,
            rules_profile=rules_profile,
            baseline=baseline,
            waivers=waivers,
            timeout=timeout,
        )
    binary = chosen in BINARY_FORMATS
    if binary and output == "-" and sys.stdout.isatty():
        raise ClaimgraphError(f"{chosen} is a binary format; write it to a file with -o FILE")
    with output_to(output, force, private=True, binary=binary, inputs=inputs) as out:
        write(result, chosen, out, bom=bom)
    if not quiet and (output != "-" or chosen == "jsonl"):
        where = f" Wrote {output} ({chosen})." if output != "-" else ""
        err(summary_line(result) + where)
    if result.failed:
        raise typer.Exit(1)
