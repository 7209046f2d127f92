"""`claimgraph convert FILE`: show the claim RDF any input format becomes."""

from __future__ import annotations

from enum import StrEnum
from typing import IO, Optional

import typer

from .common import err


class RdfFormat(StrEnum):
    turtle = "turtle"
    jsonld = "jsonld"
    ntriples = "ntriples"


_BATCH = 1000  # claims per N-Triples chunk: N-Triples output is written as claims are read


def convert(
    files: list[str] = typer.Argument(  # noqa: B008 (typer's idiom)
        ...,
        help="Claim files or folders (formats told by content): JSON, JSON Lines, CSV, Turtle, "
        "N-Triples, JSON-LD, FHIR R4 Claim/Bundle, X12 837P, also gzipped; '-' reads standard "
        "input.",
        show_default=False,
    ),
    to: RdfFormat = typer.Option(  # noqa: B008
        RdfFormat.turtle, "--to", "-t", help="RDF syntax to write."
    ),
    output: str = typer.Option("-", "--output", "-o", help="File to write; '-' for stdout."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    documents: Optional[str] = typer.Option(  # noqa: UP045, B008 (typer needs Optional on 3.11)
        None,
        "--documents",
        help="Documents CSV attached to the claims by claim id and line (a claims CSV also "
        "reads NAME.documents.csv next to it).",
    ),
    input_format: Optional[str] = typer.Option(  # noqa: UP045, B008
        None, "--input-format", help="Read every input as this format instead of by content."
    ),
    default_payer: Optional[str] = typer.Option(  # noqa: UP045, B008
        None, "--default-payer", help="Payer of the claims whose input names none."
    ),
) -> None:
    """Convert claim files to the claim RDF that validation reads (docs/claim-rdf.md).

    The output holds claim data: files are written whole or not at all, readable only by you.

    Example: claimgraph convert examples/clean.json --to turtle
    """
    from ..fileio import atomic_writer
    from ..ingest import read_claims

    def warn(message: str) -> None:
        err(f"warning: {message}")

    claims = read_claims(
        files, warn, documents=documents, input_format=input_format, default_payer=default_payer
    )
    with atomic_writer(output, force=force, private=True) as out:
        count = write_rdf(claims, to, out)
    if output != "-":
        err(f"wrote {count} claims to {output} ({to.value})")


def write_rdf(claims: object, to: RdfFormat, out: IO[str]) -> int:
    """Write claims as RDF; returns the number of claims. N-Triples is streamed in batches."""
    from rdflib import Graph

    from ..ingest.model import to_graph
    from ..namespaces import PREFIXES

    count = 0
    if to is RdfFormat.ntriples:
        batch = []
        for claim in claims:  # type: ignore[attr-defined]
            batch.append(claim)
            count += 1
            if len(batch) >= _BATCH:
                _write_nt(to_graph(batch, Graph()), out)
                batch = []
        _write_nt(to_graph(batch, Graph()), out)
        return count

    def counted() -> object:
        nonlocal count
        for claim in claims:  # type: ignore[attr-defined]
            count += 1
            yield claim

    graph = to_graph(counted())  # type: ignore[arg-type]
    if to is RdfFormat.jsonld:
        context = {k: v for k, v in PREFIXES.items() if k not in ("sh", "owl", "rdfs", "dct")}
        out.write(graph.serialize(format="json-ld", context=context, auto_compact=True))
    else:
        out.write(graph.serialize(format="turtle"))
    out.write("\n")
    return count


def _write_nt(graph: object, out: IO[str]) -> None:
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")  # type: ignore[attr-defined]
    lines = sorted(line for line in text.splitlines() if line.strip())
    if lines:
        out.write("\n".join(lines) + "\n")
