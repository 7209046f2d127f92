"""The `claimgraph` command line: a thin layer over the library (one module a command group).

Usage errors (an unknown option, a bad value) are one line on stderr and exit 2, like every
other error (`common.guarded`); help shows words (FILE, CODE, FORMAT) where a value goes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from .. import __version__
from . import code, codesets, convert, diff, export, query, rules, validate
from .common import guarded


def _placeholders(command: Any) -> None:
    """Words, not Python types, in help: flags show none, other values their name."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        elif param.metavar is None and getattr(param, "name", None):
            param.metavar = param.name.upper()
        if getattr(param, "param_type_name", "") == "argument":  # typer shows <list[str]>
            param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        _placeholders(sub)


class Group(TyperGroup):
    """The root group: placeholders as words, usage errors as one line (exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _placeholders(self)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        call = {"args": args, "prog_name": prog_name, "complete_var": complete_var,
                "windows_expand_args": windows_expand_args, **extra}  # fmt: skip
        if not standalone_mode:
            return super().main(standalone_mode=False, **call)
        from typer._click import exceptions as ce  # typer bundles click 8 here (typer 0.24+)

        try:
            rv = super().main(standalone_mode=False, **call)
        except ce.NoArgsIsHelpError as e:  # `claimgraph` or `claimgraph store` alone: the help
            print(e.ctx.get_help())
            sys.exit(2)
        except ce.UsageError as e:
            message = " ".join(e.format_message().split())
            command = e.ctx.command_path if e.ctx is not None else "claimgraph"
            print(f"claimgraph: usage error: {message} (see '{command} --help')", file=sys.stderr)
            sys.exit(e.exit_code)
        except typer.Abort:
            print("claimgraph: aborted", file=sys.stderr)
            sys.exit(1)
        except ce.ClickException as e:
            print(f"claimgraph: error: {' '.join(e.format_message().split())}", file=sys.stderr)
            sys.exit(e.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    name="claimgraph",
    cls=Group,
    rich_markup_mode=None,  # plain help (click's): words for values, no boxes
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
app.command("diff")(guarded(diff.diff))
app.command("convert")(guarded(convert.convert))
app.command("export")(guarded(export.export))
app.command("publish")(guarded(export.publish))
app.add_typer(rules.rules_app, name="rules")
app.add_typer(codesets.import_app, name="import")
app.add_typer(codesets.store_app, name="store")


def main() -> None:
    app()
