"""`claimgraph queries` and `claimgraph query` (owned by the knowledge-graph issue)."""

from __future__ import annotations

from ..errors import ClaimgraphError


def queries() -> None:
    """List the named SPARQL queries with their titles and parameters.

    Example: claimgraph queries
    """
    raise ClaimgraphError("not implemented yet")


def query() -> None:
    """Run a named query or a .rq file against the knowledge graph.

    Example: claimgraph query code-card -p code=E1392
    """
    raise ClaimgraphError("not implemented yet")
