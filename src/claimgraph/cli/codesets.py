"""`claimgraph import hcpcs|cpt|dmepos|ncci-ptp|mue|aoc FILE` and `claimgraph store info|reset`."""

from __future__ import annotations

import sys
from enum import Enum
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


TableRelease = Annotated[
    str | None,
    typer.Option(
        "--release",
        help="Quarter to record, e.g. 2026Q1 (default: from the file names).",
        metavar="YYYYQN",
    ),
]


class Setting(str, Enum):
    practitioner = "practitioner"
    hospital = "hospital"


def _import_tables(releases: list[Any], store: Path | None, unit: str) -> None:
    """Store the releases in one atomic import and say what each holds."""
    from .. import tablestore

    for summary in tablestore.import_tables(releases, store):
        deleted = f" ({summary['deleted']:,} deleted)" if summary["deleted"] else ""
        _report(summary, f"{summary['rows']:,} {unit}{deleted}, {summary['codes']:,} codes")


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


@import_app.command("dmepos")
@guarded
def import_dmepos(
    file: Annotated[Path, typer.Argument(help="CMS DMEPOS fee schedule CSV (DMEPOS25_JAN...).")],
    release: TableRelease = None,
    store: StoreOpt = None,
) -> None:
    """Import a CMS DMEPOS fee schedule: each code's payment category and pricing modifiers.

    The quarter comes from the file name (DMEPOS25_JAN is 2025Q1) or its title row. Fees and
    descriptions are not stored. Each quarter is kept; importing one again replaces it.

    Example: claimgraph import dmepos DMEPOS25_JAN.csv
    """
    from ..importers import dmepos

    _import_tables([dmepos.read(file, release)], store, "rows")


@import_app.command("ncci-ptp")
@guarded
def import_ncci_ptp(
    files: Annotated[
        list[Path],
        typer.Argument(help="PTP parts: ccipra/ccioph-vNNNr0-f1..f4 .txt files or their .zip."),
    ],
    release: TableRelease = None,
    setting: Annotated[
        Setting | None,
        typer.Option("--setting", help="Table setting (default: from the file names)."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Import NCCI procedure-to-procedure edits (practitioner or outpatient hospital).

    The parts of one setting and quarter form one release; every row is checked before the
    store changes. The files contain CPT codes: claimgraph ships none and keeps yours locally.

    Example: claimgraph import ncci-ptp medicare-ncci-2026q1-practitioner-ptp-*-v320r0-f*.zip
    """
    from ..importers import ptp

    releases = ptp.read(files, release, setting.value if setting else None)
    _import_tables(releases, store, "edits")


@import_app.command("mue")
@guarded
def import_mue(
    files: Annotated[
        list[Path],
        typer.Argument(help="MCR_MUE_<Setting>Services_Eff_MM-DD-YYYY.csv files (or .zip)."),
    ],
    release: TableRelease = None,
    store: StoreOpt = None,
) -> None:
    """Import NCCI medically unlikely edits: practitioner, outpatient hospital, DME supplier.

    Each file is one release: the setting from its header, the date from its name.

    Example: claimgraph import mue MCR_MUE_PractitionerServices_Eff_01-01-2026.csv
    """
    from ..importers import mue

    _import_tables(mue.read(files, release), store, "codes with an MUE")


@import_app.command("aoc")
@guarded
def import_aoc(
    files: Annotated[
        list[Path],
        typer.Argument(help="AOC_V2025Q4_01-MCR.txt (tab-delimited), its .zip, or .xlsx."),
    ],
    release: TableRelease = None,
    store: StoreOpt = None,
) -> None:
    """Import NCCI add-on code edits: each add-on code with its eligible primary codes.

    Reading .xlsx needs the optional extra: pip install 'claimgraph[xlsx]'.

    Example: claimgraph import aoc AOC_V2025Q4_01-MCR.txt
    """
    from ..importers import aoc

    _import_tables(aoc.read(files, release), store, "add-on/primary pairs")


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
    """Show where the store is and which releases it holds (kind, dates, counts).

    Example: claimgraph store info --format json
    """
    from .. import codestore

    chosen = pick_format(fmt, output, TABLE_FORMATS)
    data = codestore.info(store)
    if not data["exists"] and not quiet:
        err(f"no code sets imported (store {data['store']}); run `claimgraph import hcpcs FILE`")
    columns = [
        "release", "kind", "issued", "codes", "modifiers", "rows", "schemes", "file",
        "setting", "quarter", "version", "deleted", "imported", "title",
    ]  # fmt: skip
    if chosen == "table":  # people: the essentials, so the table fits a terminal
        columns = ["release", "kind", "issued", "quarter", "codes", "modifiers", "rows", "version"]
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
