"""The `claimgraph` command line: a thin layer over the library (one module a command group)."""

from __future__ import annotations

import typer

from .. import __version__
from . import code, codesets, convert, export, query, rules, validate
from .common import guarded

app = typer.Typer(
    name="claimgraph",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"claimgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Medical-billing coverage rules as data: query the knowledge graph, validate claims.

    Example: claimgraph validate examples/ --format table
    """
    from ..netguard import guard_click_context
    from ..privacy import quiet_libraries

    guard_click_context(ctx)  # no network during the run (SECURITY.md)
    quiet_libraries()  # library loggers may quote claim content


app.command("queries")(guarded(query.queries))
app.command("query")(guarded(query.query))
app.command("code")(guarded(code.code))
app.command("validate")(guarded(validate.validate))
app.command("convert")(guarded(convert.convert))
app.command("export")(guarded(export.export))
app.command("publish")(guarded(export.publish))
app.add_typer(rules.rules_app, name="rules")
app.add_typer(codesets.import_app, name="import")
app.add_typer(codesets.store_app, name="store")


def main() -> None:
    app()
