"""`claimgraph export` and `claimgraph publish`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..export import Format, Kind
from .common import (
    FORMAT_ALIASES,
    BomOpt,
    ForceOpt,
    OutputOpt,
    QuietOpt,
    err,
    one_of,
    output_to,
)


def export(
    what: Annotated[
        Kind,
        typer.Argument(
            metavar="WHAT",
            help="relations (code relationships), graph (the whole knowledge graph) or rules.",
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            show_default=False,
            help="relations: csv, json, graphml, jsonld, turtle, nt; graph: turtle, nt, jsonld; "
            "rules: csv, json. Default: from the -o suffix, else csv (turtle for graph).",
        ),
    ] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    bom: BomOpt = False,
    yed: Annotated[bool, typer.Option("--yed", help="GraphML: add yFiles labels for yEd.")] = False,
) -> None:
    """Export the code relationships, the rule catalogue or the whole graph.

    Outputs are sorted and stable (small diffs); a file appears whole or not at all.

    Example: claimgraph export relations --format csv -o relations.csv
    """
    from ..errors import ClaimgraphError
    from ..export import FORMATS, choose_format, write_export

    allowed = [f.value for f in FORMATS[what]]
    name = FORMAT_ALIASES.get(fmt.strip().lower(), fmt.strip().lower()) if fmt else None
    if name is not None and name not in [f.value for f in Format]:
        raise ClaimgraphError(f"unknown format {fmt!r}; use {one_of(allowed)}")
    chosen = choose_format(what, Format(name) if name else None, output)
    if yed and chosen is not Format.graphml:
        raise ClaimgraphError("--yed goes with the graphml format")
    with output_to(output, force) as out:
        count = write_export(what, chosen, out, bom=bom, yed=yed)
    if output != "-" and not quiet:
        err(f"wrote {count} {_unit(what, chosen)} to {output} ({chosen.value})")


def _unit(what: Kind, fmt: Format) -> str:
    if fmt in (Format.turtle, Format.nt, Format.jsonld):
        return "triples"
    return "rules" if what is Kind.rules else "relationships"


def publish(
    endpoint: Annotated[
        str,
        typer.Option(
            "--endpoint",
            "-e",
            metavar="URL",
            help="SPARQL server: its query URL, or an Oxigraph server root (http://host:7878).",
        ),
    ],
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph",
            "-g",
            metavar="IRI",
            help="Named graph IRI to replace (default: the default graph).",
        ),
    ] = None,
    gsp: Annotated[
        str | None,
        typer.Option(
            "--gsp",
            metavar="URL",
            help="Graph Store Protocol URL when it is not Oxigraph's /store (Fuseki: "
            ".../DS/data; GraphDB: .../repositories/REPO/rdf-graphs/service).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=0.1, metavar="SECONDS", help="Seconds to wait for the server."
        ),
    ] = 60.0,
    quiet: QuietOpt = False,
) -> None:
    """Load the bundled graph into a SPARQL server (Graph Store Protocol).

    Replaces the target graph with the ontology, the code facts and the rules (HTTP PUT).

    Example: claimgraph publish --endpoint http://localhost:7878
    """
    from ..knowledge import Knowledge
    from ..remote import put_graph

    kg = Knowledge.bundled().graph
    data = kg.serialize(format="nt", encoding="utf-8")
    shown = put_graph(endpoint, graph, data, gsp=gsp, timeout=timeout)
    target = f"graph <{graph}>" if graph else "the default graph"
    if not quiet:
        err(f"published {len(kg)} triples to {target} at {shown}")
