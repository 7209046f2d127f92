"""`claimgraph queries` and `claimgraph query` (owned by the knowledge-graph issue)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from ..errors import ClaimgraphError
from .common import TableFormat, err, print_rows

FormatOption = Annotated[
    TableFormat, typer.Option("--format", "-f", help="Output format: table, csv, tsv or json.")
]


def queries(fmt: FormatOption = TableFormat.table) -> None:
    """List the named SPARQL queries with their titles and parameters.

    Optional parameters end in '?'.

    Example: claimgraph queries --format json
    """
    from ..query import named_queries

    rows = [
        (q.name, q.title, " ".join(p.name if p.required else f"{p.name}?" for p in q.params))
        for q in named_queries().values()
    ]
    print_rows(["name", "title", "params"], rows, fmt)


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
        typer.Option("--param", "-p", help="A parameter as name=value; repeat for more."),
    ] = None,
    fmt: FormatOption = TableFormat.table,
    endpoint: Annotated[
        str | None,
        typer.Option(help="Run on this SPARQL endpoint URL instead of the bundled graph."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds before the query is stopped.")
    ] = 30.0,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Most rows (or triples) a query may return.")
    ] = 10_000,
) -> None:
    """Run a named query or a .rq file against the knowledge graph (read-only).

    Parameters named code, diagnosis, modifier, payer, source and topic become IRIs
    (code=E1392, payer=medicare); others are plain values. SELECT prints rows, ASK prints
    true or false, CONSTRUCT and DESCRIBE print Turtle.

    Example: claimgraph query rules-for-code -p code=E1392 -p payer=medicare
    """
    from .. import query as q

    named = q.get_query(name)
    params = parse_params(param or [])
    declared = named.params or None
    try:
        if endpoint:
            result = q.run_remote(endpoint, named.text, params, declared)
        else:
            from ..sandbox import run_query  # a child process, killed at --timeout

            result = run_query(named.text, params, declared, timeout=timeout, max_rows=max_rows)
    except q.QueryError as e:
        if e.path == "query":  # a syntax error: name the file it is in
            e.path = name if name.endswith(".rq") else str(named.path)
        raise
    print_result(result, fmt)


def print_result(result: Any, fmt: TableFormat) -> None:
    from ..query import QueryResult, compact

    if isinstance(result, bool):
        result = QueryResult("ask", boolean=result)
    if isinstance(result, list):  # rows as dicts (remote endpoints)
        columns = list(result[0]) if result else []
        print_rows(columns, [[row.get(c) for c in columns] for row in result], fmt)
        return
    if not isinstance(result, QueryResult):
        sys.stdout.write(str(result).rstrip("\n") + "\n")
        return
    if result.kind == "ask":
        if fmt is TableFormat.json:
            json.dump({"boolean": result.boolean}, sys.stdout)
            sys.stdout.write("\n")
        else:
            print("true" if result.boolean else "false")
    elif result.kind == "graph":
        assert result.graph is not None
        sys.stdout.write(result.graph.serialize(format="turtle"))
    else:
        show = compact if fmt is TableFormat.table else (lambda t: "" if t is None else str(t))
        print_rows(result.columns, [[show(v) for v in row] for row in result.rows], fmt)
        if not result.rows:
            err("no rows")
