"""`claimgraph code CODE`: one card per code (and `code search TEXT`)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ClaimgraphError
from .common import TableFormat, print_rows

if TYPE_CHECKING:
    from ..knowledge import Knowledge


class System(StrEnum):
    hcpcs = "hcpcs"
    cpt = "cpt"
    icd10cm = "icd10cm"
    modifier = "modifier"


def code(
    code: Annotated[str, typer.Argument(help="A code (E1392, 97112, M54.59), or 'search'.")],
    text: Annotated[
        str | None, typer.Argument(help="With 'search': the words to look for.")
    ] = None,
    payer: Annotated[
        str | None,
        typer.Option(help="Only this payer's rules: medicare, medicaid, commercial, aetna, bcbs."),
    ] = None,
    fmt: Annotated[
        TableFormat,
        typer.Option("--format", "-f", help="table or json (search: also csv and tsv)."),
    ] = TableFormat.table,
    system: Annotated[
        System | None, typer.Option(help="With 'search': look in one code system only.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="With 'search': the most matches to show.")
    ] = 10,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            metavar="PATH",
            help="Code-set store to read (default: $CLAIMGRAPH_STORE, else the user data folder).",
        ),
    ] = None,
) -> None:
    """Show one code's card: descriptor, what articles get wrong, modifiers, documentation,
    denial reasons, related codes, diagnoses, the rules that apply and their sources.

    With imported code sets (`claimgraph import hcpcs`), the card also shows each imported
    release's descriptor and dates next to the curated one, and a code only the imports know
    gets a card of its own.

    `claimgraph code search TEXT` finds codes by the words of their descriptors.

    Example: claimgraph code E1392 --payer medicare
    """
    if code == "search":
        if not text:
            raise ClaimgraphError(
                "usage: claimgraph code search TEXT [--system hcpcs|cpt|icd10cm|modifier]"
            )
        search(text, system, limit, fmt, _knowledge(store))
        return
    if text is not None:
        raise ClaimgraphError("give one code (or: claimgraph code search TEXT)")
    if fmt not in (TableFormat.table, TableFormat.json):
        raise ClaimgraphError("a code card is printed as --format table or json")
    from ..card import build_card, render

    card = build_card(code, payer, knowledge=_knowledge(store))
    if fmt is TableFormat.json:
        json.dump(card.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render(card)


def search(
    text: str, system: System | None, limit: int, fmt: TableFormat, knowledge: Knowledge
) -> None:
    """Find codes by words with `claimgraph.codesearch`."""
    from ..codesearch import search as find

    hits = find(text, system=system.value if system else None, limit=limit, knowledge=knowledge)
    columns = ["code", "system", "label", "score"]
    print_rows(columns, [[h.get(c) for c in columns] for h in hits], fmt)


def _knowledge(store: Path | None) -> Knowledge:
    """The bundled knowledge with the code-set store of `--store`, else $CLAIMGRAPH_STORE,
    else the user data folder (read here, at the edge)."""
    from ..codestore import store_path
    from ..knowledge import Knowledge

    return Knowledge.bundled().with_codesets(store_path(store))
