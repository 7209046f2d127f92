"""claimgraph: medical-billing coverage rules as data.

The Python API (docs/api.md): `validate(source)` checks claims (paths, claim dicts, FHIR
resources, a pandas DataFrame or a pyarrow Table of claim lines) and returns a
`ValidationResult` of `Finding` values; `read_claims(source)` reads them into `ClaimData`.
`claimgraph.spark.validate(df)` runs the same checks on a PySpark DataFrame. Names are
imported on first use, so `import claimgraph` (and the command line) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Knowledge": "knowledge",
    "validate": "api",
    "read_claims": "api",
    "ClaimgraphWarning": "api",
    "ValidationResult": "validation",
    "Finding": "findings",
    "SourceRef": "findings",
    "SEVERITIES": "findings",
    "ClaimData": "ingest.model",
    "LineData": "ingest.model",
    "DocumentData": "ingest.model",
    "ClaimgraphError": "errors",
    "InputError": "errors",
}

__all__ = [
    "SEVERITIES",
    "ClaimData",
    "ClaimgraphError",
    "ClaimgraphWarning",
    "DocumentData",
    "Finding",
    "InputError",
    "Knowledge",
    "LineData",
    "SourceRef",
    "ValidationResult",
    "__version__",
    "read_claims",
    "validate",
]

if TYPE_CHECKING:
    from .api import ClaimgraphWarning, read_claims, validate
    from .errors import ClaimgraphError, InputError
    from .findings import SEVERITIES, Finding, SourceRef
    from .ingest.model import ClaimData, DocumentData, LineData
    from .knowledge import Knowledge
    from .validation import ValidationResult


def __getattr__(name: str) -> Any:
    # imported on first use: the command line starts without rdflib
    if name == "spark":  # claimgraph.spark.validate(df): the module, on first use
        return importlib.import_module(".spark", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'claimgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
