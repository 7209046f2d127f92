"""`claimgraph validate` and `claimgraph rules`."""

from __future__ import annotations

from ..errors import ClaimgraphError


def validate() -> None:
    """Validate claim files against the coverage rules.

    Example: claimgraph validate examples/clean.json
    """
    raise ClaimgraphError("not implemented yet")


def rules() -> None:
    """List the rule catalogue.

    Example: claimgraph rules --topic oxygen
    """
    raise ClaimgraphError("not implemented yet")
