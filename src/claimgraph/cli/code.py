"""`claimgraph code CODE`: one card per code (and `code search TEXT`)."""

from __future__ import annotations

from ..errors import ClaimgraphError


def code() -> None:
    """Show one code's card: descriptor, modifiers, documentation, rules, sources.

    Example: claimgraph code E1392 --payer medicare
    """
    raise ClaimgraphError("not implemented yet")
