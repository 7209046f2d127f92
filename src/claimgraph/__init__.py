"""claimgraph: medical-billing coverage rules as data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Knowledge", "__version__"]

if TYPE_CHECKING:
    from .knowledge import Knowledge


def __getattr__(name: str) -> Any:
    # imported on first use: the command line starts without rdflib
    if name == "Knowledge":
        from .knowledge import Knowledge

        return Knowledge
    raise AttributeError(f"module 'claimgraph' has no attribute {name!r}")
