"""`claimgraph rules` (the catalogue) and `claimgraph rules check FILE` (a rules file, for its
author): thin layers over report/catalogue.py and rulecheck.py."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    TABLE_FORMATS,
    BomOpt,
    ForceOpt,
    OutputOpt,
    err,
    format_option,
    guarded,
    output_to,
    pick_format,
    print_rows,
)

rules_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@rules_app.callback(invoke_without_command=True)
@guarded
def rules(
    ctx: typer.Context,
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

    `claimgraph rules check FILE` checks a rules file.

    Example: claimgraph rules --topic oxygen --payer medicare
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..errors import ClaimgraphError
    from ..knowledge import Knowledge
    from ..report import rule_rows
    from ..validation import check_payer

    chosen = pick_format(fmt, output, TABLE_FORMATS, "table")
    kn = Knowledge.bundled().with_rules(shapes or ())
    if topic:
        topics = sorted({r.topic for r in kn.rulebook.rules.values()})
        if topic not in topics:
            raise ClaimgraphError(f"unknown topic {topic!r}; use one of {', '.join(topics)}")
    columns, rows = rule_rows(topic, check_payer(payer, kn) if payer else None, knowledge=kn)
    with output_to(output, force, inputs=shapes or ()) as out:
        print_rows(columns, rows, chosen, title="claimgraph rules", out=out, bom=bom)


@rules_app.command("check")
@guarded
def check(
    files: Annotated[
        list[str], typer.Argument(help="Rules files (SHACL shapes in Turtle).", show_default=False)
    ],
) -> None:
    """Check rules files as `validate --shapes` would use them, and more: the use checks,
    the shapes over the shapes, the QC queries and the fast engine's compiler. One line per
    problem; exit 1 when there is one (advice alone: 0), 2 when a file cannot be read.

    Example: claimgraph rules check my-rules.ttl
    """
    from ..rulecheck import check_file

    failed = False
    for path in files:
        report = check_file(path)
        for problem in report.problems:
            print(f"{report.path}: {problem}")
        ids = ", ".join(report.rules) or "no rules"
        if report.failed:
            failed = True
            err(f"{report.path}: {len(report.problems)} problem(s) ({ids})")
        elif report.problems:
            err(f"{report.path}: usable, {len(report.problems)} piece(s) of advice ({ids})")
        else:
            err(f"{report.path}: no problems ({ids})")
    if failed:
        raise typer.Exit(1)
