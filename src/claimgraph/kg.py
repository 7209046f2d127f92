"""Loading the bundled knowledge graph: ontology (model and facts) and shapes (the rules).

The rules are part of the knowledge graph: queries such as "rules that apply to a code" read
them, and the SPARQL-based shapes read their own scope, dates and thresholds from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph

from .errors import InputError
from .namespaces import PREFIXES
from .resources import turtle_files

if TYPE_CHECKING:
    import pyoxigraph

# The user's rules for this run (`claimgraph validate --shapes`), checked by usershapes.py and
# installed with `usershapes.installed`; None: the bundled rules only.
_user_shapes: Graph | None = None


def user_shapes() -> Graph | None:
    """The user's rules added to the bundled shapes for this run, or None."""
    return _user_shapes


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


@cache
def ontology_graph() -> Graph:
    """ontology/**/*.ttl: the model and the curated facts."""
    g = new_graph()
    for path in turtle_files("ontology"):
        parse_turtle(g, path)
    return g


@cache
def shapes_graph() -> Graph:
    """shapes/*.ttl (without shapes/meta/): the rules, plus the user's rules of this run."""
    g = bundled_shapes_graph()
    if _user_shapes is None:
        return g
    merged = new_graph()
    for t in g:
        merged.add(t)
    for t in _user_shapes:
        merged.add(t)
    return merged


@cache
def bundled_shapes_graph() -> Graph:
    """shapes/*.ttl (without shapes/meta/): the bundled rules only. Do not modify."""
    g = new_graph()
    for path in turtle_files("shapes"):
        parse_turtle(g, path)
    return g


@cache
def knowledge_graph() -> Graph:
    """Ontology and shapes together: what queries and the code card read. Do not modify.

    Parsing the Turtle is the slow part of a short command, so the merged graph is kept as a
    pickle in the user cache folder, keyed by the bundled files (names, sizes, modification
    times) and the versions of claimgraph, rdflib and Python. CLAIMGRAPH_NO_CACHE=1 turns it off.
    With user rules (`--shapes`) the graph is built in memory and the cache is left alone.
    """
    files = turtle_files("ontology") + turtle_files("shapes")
    cache_file = _cache_file(files) if _user_shapes is None else None
    cached = _read_cache(cache_file) if cache_file else None
    if isinstance(cached, Graph):
        return cached
    g = new_graph()
    for t in ontology_graph():
        g.add(t)
    for t in shapes_graph():
        g.add(t)
    if cache_file:
        _write_cache(cache_file, g)
    return g


@cache
def knowledge_store() -> pyoxigraph.Store:
    """The same triples as knowledge_graph() in an in-memory pyoxigraph store (fast to load
    and to query: the code card reads it). Do not modify."""
    import pyoxigraph

    store = pyoxigraph.Store()
    if _user_shapes is not None:
        nt = knowledge_graph().serialize(format="nt", encoding="utf-8")
        store.bulk_load(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return store
    for path in turtle_files("ontology") + turtle_files("shapes"):
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
