"""Loading Turtle into graphs: the ontology (model and facts) and the shapes (the rules).

The rules are part of the knowledge graph: queries such as "rules that apply to a code" read
them, and the SPARQL-based shapes read their own scope, dates and thresholds from it. Which
files, and what is built from them, is `knowledge.Knowledge`'s business: nothing is kept here.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph

from .errors import InputError
from .namespaces import PREFIXES

if TYPE_CHECKING:
    import pyoxigraph


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


def parse_turtle(
    graph: Graph, path: Path, *, data: bytes | None = None, base: str | None = None
) -> None:
    """Parse a Turtle file (or its `data`) into `graph`; a syntax error names the file and,
    when rdflib knows it, the line, never the text around it. An escape that names a surrogate
    (`\\uD800`, which no output could encode) and a number too long for Python are errors too."""
    from .unicodecheck import SURROGATE_ESCAPE, line_of, rdf_surrogate_escape

    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read the file ({type(e).__name__})", path=str(path)) from None
    text = data.decode("utf-8", "replace")
    bad = rdf_surrogate_escape(text)
    if bad is not None:
        raise InputError(SURROGATE_ESCAPE, path=str(path), position=str(line_of(text, bad)))
    try:
        graph.parse(data=data, format="turtle", publicID=base)
    except RecursionError:
        raise InputError("the Turtle is nested too deeply", path=str(path)) from None
    except Exception as e:  # rdflib raises several types for syntax errors
        lines = getattr(e, "lines", None)  # rdflib's BadSyntax: newlines before the error
        line = lines + 1 if isinstance(lines, int) else getattr(e, "line", None)
        why = "a number is too long" if "digits" in str(e) else type(e).__name__
        raise InputError(
            f"invalid Turtle ({why})",
            path=str(path),
            position=str(line) if line else None,
        ) from None


def load_graph(files: Iterable[Path]) -> Graph:
    """The Turtle `files` in one new graph (errors name the file and line)."""
    g = new_graph()
    for path in files:
        parse_turtle(g, path)
    return g


def load_knowledge_graph(files: Sequence[Path]) -> Graph:
    """`files` (ontology and shapes) as one graph: what queries, exports and the rules read.

    Parsing the Turtle is the slow part of a short command, so the merged graph is kept as a
    pickle in the user cache folder, keyed by the files (names, sizes, modification times)
    and the versions of claimgraph, rdflib and Python. CLAIMGRAPH_NO_CACHE=1 turns it off.
    """
    cache_file = _cache_file(list(files))
    cached = _read_cache(cache_file) if cache_file else None
    if isinstance(cached, Graph):
        return cached
    g = load_graph(files)
    if cache_file:
        _write_cache(cache_file, g)
    return g


def load_store(files: Sequence[Path], ntriples: bytes = b"") -> pyoxigraph.Store:
    """Turtle `files` (and `ntriples`) in a new in-memory pyoxigraph store (fast to load and
    to query: the code card reads it)."""
    import pyoxigraph

    store = pyoxigraph.Store()
    if ntriples:
        store.bulk_load(ntriples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    for path in files:
        try:
            store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None)
            raise InputError(
                f"invalid Turtle ({type(e).__name__})",
                path=str(path),
                position=str(line) if line else None,
            ) from None
    return store


# --------------------------------------------------------------------------- the cache


def _cache_file(files: list[Path]) -> Path | None:
    """Where the merged graph of `files` is cached, or None when caching is off."""
    import sys

    import rdflib

    from . import __version__, cache

    if not cache.enabled():
        return None
    h = hashlib.sha256()
    h.update(f"{__version__}|{rdflib.__version__}|{sys.version}".encode())
    for path in files:
        st = path.stat()
        h.update(f"|{path.as_posix()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache.cache_dir() / f"kg-{h.hexdigest()[:32]}.pickle"


def _read_cache(path: Path) -> Any:
    """The cached object, or None when absent, damaged or not safely ours."""
    from . import cache

    data = cache.read(path)
    try:
        return pickle.loads(data) if data else None
    except Exception:  # a damaged cache is rebuilt
        return None


def _write_cache(path: Path, obj: Any) -> None:
    """Cache `obj` privately and atomically; a cache that cannot be written only costs speed."""
    from . import cache

    with contextlib.suppress(Exception):
        cache.write(
            path,
            lambda f: pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL),
            replaces="kg-*.pickle",
        )
