"""`claimgraph export` and `claimgraph publish`."""

from __future__ import annotations

from ..errors import ClaimgraphError


def export() -> None:
    """Export the code relationships, the rule catalogue or the whole graph.

    Example: claimgraph export relations --format csv -o relations.csv
    """
    raise ClaimgraphError("not implemented yet")


def publish() -> None:
    """Load the bundled graph into a SPARQL server (Graph Store Protocol).

    Example: claimgraph publish --endpoint http://localhost:7878
    """
    raise ClaimgraphError("not implemented yet")
