"""`claimgraph code CODE`: one card per code (and `code search TEXT`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from ..errors import ClaimgraphError
from .common import (
    TABLE_FORMATS,
    BomOpt,
    ForceOpt,
    OutputOpt,
    output_to,
    pick_format,
    print_rows,
)

if TYPE_CHECKING:
    from ..knowledge import Knowledge


class System(StrEnum):
    hcpcs = "hcpcs"
    cpt = "cpt"
    icd10cm = "icd10cm"
    modifier = "modifier"


def code(
    code: Annotated[
        str,
        typer.Argument(metavar="CODE", help="A code (E1392, 97112, M54.59), or 'search'."),
    ],
    text: Annotated[
        list[str] | None,
        typer.Argument(metavar="WORDS", help="With 'search': the words to look for."),
    ] = None,
    payer: Annotated[
        str | None,
        typer.Option(
            "--payer",
            metavar="PAYER",
            help="Only this payer's rules: medicare, medicaid, commercial, aetna, bcbs.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            show_default=False,
            help="A card: table or json; search: table, csv, tsv, json, jsonl (default: from "
            "the -o suffix, else table).",
        ),
    ] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    bom: BomOpt = False,
    system: Annotated[
        System | None,
        typer.Option(
            "--system", metavar="SYSTEM", help="With 'search': hcpcs, cpt, icd10cm or modifier."
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, metavar="N", help="With 'search': the most matches."),
    ] = 10,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="PATH",
            help="Code-set store to read (default: $CLAIMGRAPH_STORE, else the user data folder).",
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="Show the code as of this service date (YYYY-MM-DD): billable or not, and "
            "the release in force.",
        ),
    ] = None,
) -> None:
    """Show one code's card: descriptor, what articles get wrong, modifiers, documentation,
    denial reasons, related codes, diagnoses, the rules that apply and their sources.

    With imported code sets (`claimgraph import hcpcs`), the card also shows each imported
    release's descriptor and dates next to the curated one, and a code only the imports know
    gets a card of its own.

    A diagnosis code (ICD-10-CM, or ICD-9-CM before 2015-10-01) shows its history: the days
    it was billable or a category header, from the bundled CDC/CMS releases, and its category,
    block and chapter. `--on DATE` says what the release in force on that day says.

    `claimgraph code search WORDS...` finds codes by the words of their descriptors.

    Example: claimgraph code E1392 --payer medicare; claimgraph code M54.5 --on 2021-06-01
    """
    if code == "search":
        words = " ".join(" ".join(text or []).split())
        if not words:
            raise ClaimgraphError(
                "usage: claimgraph code search WORDS... [--system hcpcs|cpt|icd10cm|modifier]"
            )
        chosen = pick_format(fmt, output, TABLE_FORMATS)
        with output_to(output, force) as out:
            search(words, system, limit, chosen, _knowledge(store), out, bom)
        return
    if text:
        raise ClaimgraphError("give one code (or: claimgraph code search WORDS...)")
    chosen = pick_format(fmt, output, ("table", "json"))
    from ..card import build_card, render

    day = _date(on) if on is not None else None
    card = build_card(code, payer, knowledge=_knowledge(store), on=day)
    if chosen == "json":
        with output_to(output, force) as out:
            json.dump(card.as_dict(), out, indent=2)
            out.write("\n")
    elif output != "-":
        import io

        from ..fileio import atomic_writer

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            render(card)
        with atomic_writer(output, force=force, private=False) as out:
            out.write(buffer.getvalue())
    else:
        render(card)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ClaimgraphError(f"--on takes a date as YYYY-MM-DD, not {text!r}") from None


def search(
    text: str,
    system: System | None,
    limit: int,
    fmt: str,
    knowledge: Knowledge,
    out: IO[str] | None = None,
    bom: bool = False,
) -> None:
    """Find codes by words with `claimgraph.codesearch`."""
    from ..codesearch import search as find

    hits = find(text, system=system.value if system else None, limit=limit, knowledge=knowledge)
    columns = ["code", "system", "label", "score"]
    print_rows(columns, [[h.get(c) for c in columns] for h in hits], fmt, out=out, bom=bom)


def _knowledge(store: Path | None) -> Knowledge:
    """The bundled knowledge with the code-set store of `--store`, else $CLAIMGRAPH_STORE,
    else the user data folder (read here, at the edge)."""
    from ..codestore import store_path
    from ..knowledge import Knowledge

    return Knowledge.bundled().with_codesets(store_path(store))
