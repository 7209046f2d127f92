"""`claimgraph export` and `claimgraph publish`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..export import Format, Kind
from .common import err


def export(
    what: Annotated[
        Kind,
        typer.Argument(
            help="relations (code relationships), graph (the whole knowledge graph) or rules."
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="relations: csv, json, graphml, jsonld, turtle, nt; graph: turtle, nt, jsonld; "
            "rules: csv, json. Default: from the -o suffix, else csv (turtle for graph).",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write; '-' for stdout.")
    ] = "-",
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output file.")
    ] = False,
) -> None:
    """Export the code relationships, the rule catalogue or the whole graph.

    Outputs are sorted and stable (small diffs); a file appears whole or not at all.

    Example: claimgraph export relations --format csv -o relations.csv
    """
    from ..export import choose_format, write_export
    from ..fileio import atomic_writer

    chosen = choose_format(what, fmt, output)
    with atomic_writer(output, force=force, private=False) as out:
        count = write_export(what, chosen, out)
    if output != "-":
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
            help="SPARQL server: its query URL, or an Oxigraph server root (http://host:7878).",
        ),
    ],
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph", "-g", help="Named graph IRI to replace (default: the default graph)."
        ),
    ] = None,
    gsp: Annotated[
        str | None,
        typer.Option(
            "--gsp",
            help="Graph Store Protocol URL when it is not Oxigraph's /store (Fuseki: "
            ".../DS/data; GraphDB: .../repositories/REPO/rdf-graphs/service).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the server.")
    ] = 60.0,
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
    err(f"published {len(kg)} triples to {target} at {shown}")
