"""Validation engines: `reference` (pyshacl, the SHACL semantics) and `fast` (compiled SPARQL).

Both take `ClaimData` and return the same `Finding`s; `common` holds what they share.
"""
