"""`claimgraph convert FILE`: show the claim RDF any input format becomes."""

from __future__ import annotations

from ..errors import ClaimgraphError


def convert() -> None:
    """Convert a claim file to claim RDF.

    Example: claimgraph convert examples/clean.json --to turtle
    """
    raise ClaimgraphError("not implemented yet")
