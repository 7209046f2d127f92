"""`claimgraph queries` and `claimgraph query` (owned by the knowledge-graph issue)."""

from __future__ import annotations

import json
import sys
from typing import IO, Annotated, Any

import typer

from ..errors import ClaimgraphError
from .common import (
    TABLE_FORMATS,
    BomOpt,
    ForceOpt,
    OutputOpt,
    QuietOpt,
    err,
    format_option,
    output_to,
    pick_format,
    print_rows,
)

GRAPH_FORMATS = ("turtle", "nt", "jsonld")  # CONSTRUCT and DESCRIBE answers
QUERY_FORMATS = (*TABLE_FORMATS, *GRAPH_FORMATS)


def queries(
    fmt: Annotated[str | None, format_option(TABLE_FORMATS, "table")] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    bom: BomOpt = False,
) -> None:
    """List the named SPARQL queries with their titles and parameters.

    Optional parameters end in '?'.

    Example: claimgraph queries --format json
    """
    from ..query import named_queries

    chosen = pick_format(fmt, output, TABLE_FORMATS)
    rows = [
        (q.name, q.title, " ".join(p.name if p.required else f"{p.name}?" for p in q.params))
        for q in named_queries().values()
    ]
    with output_to(output, force) as out:
        print_rows(["name", "title", "params"], rows, chosen, out=out, bom=bom)


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ClaimgraphError("a parameter reads -p name=value, e.g. -p code=E1392")
        if name in params:
            raise ClaimgraphError(f"parameter '{name}' is given twice")
        params[name] = value.strip()
    return params


def query(
    name: Annotated[
        str, typer.Argument(help="A named query (see `claimgraph queries`) or a .rq file.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", metavar="NAME=VALUE", help="A parameter; repeat for more."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            show_default=False,
            help="Output format: table, csv, tsv, json, jsonl for rows; turtle, nt, jsonld for "
            "CONSTRUCT and DESCRIBE (default: from the -o suffix, else table or turtle).",
        ),
    ] = None,
    output: OutputOpt = "-",
    force: ForceOpt = False,
    bom: BomOpt = False,
    quiet: QuietOpt = False,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            "-e",
            metavar="URL",
            help="Run on this SPARQL endpoint URL instead of the bundled graph.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=0.1, metavar="SECONDS", help="Seconds before the query is stopped."
        ),
    ] = 30.0,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows", min=1, metavar="N", help="Most rows (or triples) a query may return."
        ),
    ] = 10_000,
) -> None:
    """Run a named query or a .rq file against the knowledge graph (read-only).

    Parameters named code, diagnosis, modifier, payer, source and topic become IRIs
    (code=E1392, payer=medicare); others are plain values. SELECT prints rows, ASK prints
    true or false, CONSTRUCT and DESCRIBE print Turtle.

    Example: claimgraph query rules-for-code -p code=E1392 -p payer=medicare
    """
    from .. import query as q

    chosen = pick_format(fmt, output, QUERY_FORMATS, "table") if fmt or output != "-" else None
    named = q.get_query(name)
    params = parse_params(param or [])
    declared = named.params or None
    try:
        from ..sandbox import run_query, run_remote_query  # a child process, killed at --timeout

        if endpoint:
            result = run_remote_query(
                endpoint, named.text, params, declared, timeout=timeout, max_rows=max_rows
            )
        else:
            result = run_query(named.text, params, declared, timeout=timeout, max_rows=max_rows)
    except q.QueryError as e:
        if e.path == "query":  # a syntax error: name the file it is in
            e.path = name if name.endswith(".rq") else str(named.path)
        raise
    with output_to(output, force) as out:
        print_result(result, chosen, out, bom=bom, quiet=quiet)


def print_result(
    result: Any,
    fmt: str | None,
    out: IO[str] | None = None,
    *,
    bom: bool = False,
    quiet: bool = False,
) -> None:
    """A query's answer: rows as `fmt` (default table), a graph as Turtle (or nt, jsonld)."""
    from ..query import QueryResult, compact

    stream = out if out is not None else sys.stdout
    if isinstance(result, bool):
        result = QueryResult("ask", boolean=result)
    is_graph = isinstance(result, QueryResult) and result.kind == "graph"
    if fmt in GRAPH_FORMATS and not is_graph:
        raise ClaimgraphError(f"{fmt} is for CONSTRUCT and DESCRIBE; rows are table, csv, tsv, "
                              "json or jsonl")  # fmt: skip
    if is_graph and fmt not in (None, *GRAPH_FORMATS):
        raise ClaimgraphError("a CONSTRUCT or DESCRIBE answer is a graph: use turtle, nt or jsonld")
    rows_fmt = fmt or "table"
    if isinstance(result, list):  # rows as dicts (remote endpoints)
        columns = list(result[0]) if result else []
        print_rows(columns, [[row.get(c) for c in columns] for row in result], rows_fmt,
                   out=stream, bom=bom)  # fmt: skip
        return
    if not isinstance(result, QueryResult):
        stream.write(str(result).rstrip("\n") + "\n")
        return
    if result.kind == "ask":
        if rows_fmt in ("json", "jsonl"):
            json.dump({"boolean": result.boolean}, stream)
            stream.write("\n")
        else:
            stream.write("true\n" if result.boolean else "false\n")
    elif is_graph:
        assert result.graph is not None
        syntax = {"nt": "nt", "jsonld": "json-ld"}.get(fmt or "turtle", "turtle")
        stream.write(result.graph.serialize(format=syntax).rstrip("\n") + "\n")
    else:
        show = compact if rows_fmt == "table" else (lambda t: "" if t is None else str(t))
        print_rows(result.columns, [[show(v) for v in row] for row in result.rows], rows_fmt,
                   out=stream, bom=bom)  # fmt: skip
        if not result.rows and not quiet:
            err("no rows")
