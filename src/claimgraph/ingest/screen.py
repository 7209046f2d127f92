"""What a warning may say about an input's structure: positions, and names that look like names.

Warnings go to stderr, and the structure of an input can hold data: a CSV header that lost its
newline holds the first row (a patient id), a JSON key or an RDF property IRI can be anything.
So warnings name structure by position (column 3, key number 5 of claim 12) and show a name
only when it has the shape of a field name: lower-case ASCII letters and underscores, at most
`MAX_NAME` characters (no digits, capitals, spaces or punctuation: not an id or a person).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_NAME = 30
MAX_LISTED = 10
_FIELD_NAME = re.compile(rf"^[a-z][a-z_]{{0,{MAX_NAME - 1}}}$")


def shown(name: object) -> str | None:
    """`name` when it may be shown in a warning, else None."""
    return name if isinstance(name, str) and _FIELD_NAME.match(name) else None


def listed(items: Iterable[object]) -> str:
    """The first `MAX_LISTED` items, comma-separated, with '...' when there are more."""
    values = [str(i) for i in items]
    more = ", ..." if len(values) > MAX_LISTED else ""
    return ", ".join(values[:MAX_LISTED]) + more
