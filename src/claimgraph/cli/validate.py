"""`claimgraph validate` and `claimgraph rules`: thin layers over validate.py and report/."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from .common import (
    CLAIM_FILES_HELP,
    TABLE_FORMATS,
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
    print_rows,
)

REPORT_FORMATS = ("table", "json", "jsonl", "csv", "tsv", "turtle", "html", "xlsx")


class FailOn(StrEnum):
    violation = "violation"
    warning = "warning"
    info = "info"
    none = "none"


Severity = FailOn  # the name claimgraph 0.1 used


class Engine(StrEnum):
    fast = "fast"
    reference = "reference"


DEFAULT_ENGINE = Engine.fast  # same findings as reference (tests/test_engine_parity.py)
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
) -> None:
    """Check claims against the coverage rules and report what to fix.

    The report format follows --format, else the -o suffix (.json .jsonl .csv .tsv .ttl
    .html .xlsx), else table. With -o or --format jsonl the one-line summary goes to stderr
    (unless -q).

    Exit status: 0 no finding reaches --fail-on, 1 one does, 2 unreadable input or bad usage.

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
        from ..validate import validate_endpoint

        if files:
            raise ClaimgraphError("give claim files or --endpoint, not both")
        if shapes:
            raise ClaimgraphError("--shapes cannot be used with --endpoint")
        result = validate_endpoint(
            endpoint,
            graph,
            rules=rule or (),
            payer=payer,
            fail_on=fail_on.value,
            rules_profile=rules_profile,
            baseline=baseline,
            waivers=waivers,
        )
    else:
        if not files:
            raise ClaimgraphError("no claim files given (or use --endpoint URL --graph IRI)")
        from ..validate import validate_files

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
            profile=profile,
            include_preauthorization=include_preauthorization,
            input_format=input_format,
            default_payer=default_payer,
            strict=strict,
            rules_profile=rules_profile,
            baseline=baseline,
            waivers=waivers,
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


def rules(
    topic: Annotated[
        str | None,
        typer.Option("--topic", "-t", metavar="TOPIC", help="Only this topic, e.g. oxygen."),
    ] = None,
    payer: Annotated[
        str | None,
        typer.Option("--payer", metavar="PAYER", help="Only rules that check this payer's claims."),
    ] = None,
    fmt: Annotated[str | None, format_option(TABLE_FORMATS, "table")] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    bom: BomOpt = False,
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

    chosen = pick_format(fmt, output, TABLE_FORMATS, "table")
    with installed(load(shapes) if shapes else None):
        columns, rows = _rules(topic, payer)
    with output_to(output, force, inputs=shapes or ()) as out:
        print_rows(columns, rows, chosen, title="claimgraph rules", out=out, bom=bom)


def _rules(topic: str | None, payer: str | None) -> tuple[list[str], list[list[object]]]:
    from ..errors import ClaimgraphError
    from ..report import rule_rows
    from ..validate import check_payer

    if topic:
        from ..engine.common import rulebook

        topics = sorted({r.topic for r in rulebook().rules.values()})
        if topic not in topics:
            raise ClaimgraphError(f"unknown topic {topic!r}; use one of {', '.join(topics)}")
    return rule_rows(topic, check_payer(payer) if payer else None)
