"""`claimgraph import hcpcs|cpt FILE` and `claimgraph store info|reset`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import (
    TABLE_FORMATS,
    BomOpt,
    ForceOpt,
    OutputOpt,
    QuietOpt,
    err,
    format_option,
    guarded,
    output_to,
    pick_format,
    print_rows,
)

import_app = typer.Typer(
    help="Import official code sets into the local store.\n\n"
    "Example: claimgraph import hcpcs HCPC2020_ANWEB_w_disclaimer.txt",
    no_args_is_help=True,
    rich_markup_mode=None,
)
store_app = typer.Typer(
    help="Inspect or clear the local code-set store.\n\nExample: claimgraph store info",
    no_args_is_help=True,
    rich_markup_mode=None,
)

STORE_HELP = "Store folder (default: $CLAIMGRAPH_STORE, else the user data folder)."
StoreOpt = Annotated[Path | None, typer.Option("--store", help=STORE_HELP, metavar="PATH")]
FormatOpt = Annotated[str | None, format_option(TABLE_FORMATS, "table")]
_release_help = "Release to record, e.g. 2020-01 (default: from the file name or its dates)."


def _cell(release: dict[str, Any], column: str) -> Any:
    if column == "schemes":
        return " ".join(s.rsplit("/", 1)[-1] for s in release["schemes"])
    return release.get(column)


def _report(summary: dict[str, Any], what: str, quiet: bool = False) -> None:
    if quiet:
        return
    verb = "replaced" if summary["replaced"] else "imported"
    err(f"{verb} release {summary['release']}: {what} into {summary['store']}")


@import_app.command("hcpcs")
@guarded
def import_hcpcs(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="CMS HCPCS file: the fixed-width .txt or its .csv form."
        ),
    ],
    release: Annotated[
        str | None, typer.Option("--release", help=_release_help, metavar="YYYY-MM")
    ] = None,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a CMS HCPCS Level II release (codes and modifiers) into the local store.

    The whole file is checked first: a defect stops the import and leaves the store as it was.
    Importing a newer release keeps the older ones, so the history stays queryable.

    Example: claimgraph import hcpcs HCPC2020_ANWEB_w_disclaimer.txt
    """
    from .. import codestore
    from ..importers import hcpcs

    data = hcpcs.read(file, release)
    summary = codestore.import_release(data, store)
    _report(
        summary, f"{summary['codes']} procedure codes and {summary['modifiers']} modifiers", quiet
    )


@import_app.command("cpt")
@guarded
def import_cpt(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV of code,descriptor rows you are licensed to use."),
    ],
    release: Annotated[
        str | None,
        typer.Option("--release", help="Release, e.g. 2025 (default: today).", metavar="YYYY"),
    ] = None,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a CPT code list (two columns: code, descriptor) into the local store.

    CPT descriptors are licensed by the AMA; claimgraph ships none and keeps yours locally.

    Example: claimgraph import cpt my-cpt-2025.csv --release 2025
    """
    from .. import codestore
    from ..importers import cpt

    data = cpt.read(file, release)
    summary = codestore.import_release(data, store)
    _report(summary, f"{summary['codes']} CPT codes", quiet)


@store_app.command("info")
@guarded
def store_info(
    fmt: FormatOpt = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    bom: BomOpt = False,
    quiet: QuietOpt = False,
    store: StoreOpt = None,
) -> None:
    """Show where the store is and which releases it holds (dates, counts).

    Example: claimgraph store info --format json
    """
    from .. import codestore

    chosen = pick_format(fmt, output, TABLE_FORMATS)
    data = codestore.info(store)
    if not data["exists"] and not quiet:
        err(f"no code sets imported (store {data['store']}); run `claimgraph import hcpcs FILE`")
    columns = ["release", "issued", "codes", "modifiers", "schemes", "file", "imported", "title"]
    if chosen == "table":  # people: the essentials, so the table fits a terminal
        columns = columns[:6]
        if data["exists"] and not quiet:
            err(f"store: {data['store']}")
    rows = [[_cell(r, c) for c in columns] for r in data["releases"]]
    with output_to(output, force) as out:
        print_rows(columns, rows, chosen, title="Imported code-set releases", out=out, bom=bom)


@store_app.command("reset")
@guarded
def store_reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Delete every imported release (the curated knowledge graph is not affected).

    Example: claimgraph store reset --yes
    """
    from .. import codestore
    from ..errors import ClaimgraphError

    root = codestore.store_path(store)
    if not yes:
        if not sys.stdin.isatty():
            raise ClaimgraphError("refusing to reset without confirmation; pass --yes")
        typer.confirm(f"Delete the code-set store {root}?", abort=True)
    removed = codestore.reset(store)
    if quiet:
        return
    if removed:
        err(f"removed the code-set store {root}")
    else:
        err(f"no code-set store at {root}; nothing to do")
