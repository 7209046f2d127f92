"""`claimgraph convert FILE`: show the claim RDF any input format becomes."""

from __future__ import annotations

from enum import StrEnum
from typing import IO, Annotated

import typer

from .common import (
    CLAIM_FILES_HELP,
    DefaultPayerOpt,
    DocumentsOpt,
    ForceOpt,
    IncludePreauthorizationOpt,
    InputFormatOpt,
    OutputOpt,
    ProfileOpt,
    QuietOpt,
    err,
    format_option,
    pick_format,
)


class RdfFormat(StrEnum):
    turtle = "turtle"
    nt = "nt"
    jsonld = "jsonld"
    ntriples = "nt"  # the name of claimgraph 0.1 (an alias of nt)


RDF_FORMATS = ("turtle", "nt", "jsonld")




def convert(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE", help=CLAIM_FILES_HELP, show_default=False),
    ],
    fmt: Annotated[str | None, format_option(RDF_FORMATS, "turtle")] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    documents: DocumentsOpt = None,
    to: Annotated[
        str | None, typer.Option("--to", "-t", hidden=True, help="Old name of --format.")
    ] = None,
    profile: ProfileOpt = None,
    include_preauthorization: IncludePreauthorizationOpt = False,
    input_format: InputFormatOpt = None,
    default_payer: DefaultPayerOpt = None,
) -> None:
    """Convert claim files to the claim RDF that validation reads (docs/claim-rdf.md).

    The output holds claim data: files are written whole or not at all, readable only by you.

    Example: claimgraph convert examples/clean.json -f turtle -o claims.ttl
    """
    from ..errors import ClaimgraphError
    from ..fileio import atomic_writer, check_output
    from ..ingest import read_claims

    if fmt and to:
        raise ClaimgraphError("give --format (or its old name --to) once")
    chosen = RdfFormat(pick_format(fmt or to, output, RDF_FORMATS))
    inputs = [*files, *([documents] if documents else [])]
    check_output(output, force=force, inputs=inputs)

    def warn(message: str) -> None:
        if not quiet:
            err(f"warning: {message}")

    claims = read_claims(
        files, warn, documents=documents, profile=profile,
        include_preauthorization=include_preauthorization, input_format=input_format,
        default_payer=default_payer,
    )  # fmt: skip
    # stdout too gets nothing until every claim was read and written (spooled)
    with atomic_writer(output, force=force, private=True, inputs=inputs, spool=True) as out:
        count = write_rdf(claims, chosen, out)
    if output != "-" and not quiet:
        err(f"wrote {count} claims to {output} ({chosen.value})")


def write_rdf(claims: object, to: RdfFormat, out: IO[str]) -> int:
    """Write claims as RDF; returns the number of claims. N-Triples is streamed claim by
    claim (each claim's lines sorted)."""
    from ..ingest.model import to_graph
    from ..namespaces import PREFIXES

    count = 0
    if to is RdfFormat.nt:  # the fast engine's own writer: the same triples, no rdflib terms
        from ..engine.ntriples import claim_ntriples

        for claim in claims:  # type: ignore[attr-defined]
            out.write("".join(sorted(set(claim_ntriples(claim).splitlines(keepends=True)))))
            count += 1
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
