"""Shapes that misbehave are refused before they run.

pyshacl warns about a recursive shape and then reports `conforms: true`; a broken `sh:pattern`
or SPARQL text surfaces as re.error, a pyparsing error or a bare Exception in the middle of a
validation; a SPARQL constraint may ask for SERVICE (pyoxigraph would send it, from Rust, where
no Python audit hook sees it). `check_shapes` refuses all of these with one `ShapesError`:

- recursion: a shape reachable from itself through sh:node, sh:property, sh:not,
  sh:qualifiedValueShape or the members of sh:and / sh:or / sh:xone;
- every sh:pattern (with its sh:flags) compiles as a regular expression;
- every sh:select / sh:ask / sh:construct parses, with the prefixes its sh:prefixes declare,
  and passes `query.check` (read-only, no SERVICE, no FROM / FROM NAMED).

`meta_check` validates a shapes graph against the SHACL-SHACL shapes (pyshacl's meta-SHACL);
it costs seconds, so tests run it on the shipped shapes and tools on user-supplied ones.

`screen_user_rules` is what a user's rules file (`--shapes`) passes on top, before either
engine sees it: no regular expression that can backtrack catastrophically (in sh:pattern,
SPARQL REGEX and REPLACE: nested or ambiguous repetition such as `^(a+)+$`, `(a|a)*`, or a
pattern that is not a string literal), no SPARQL whose triple patterns fall apart into pieces
that share no variable (a cartesian product), and no message template that substitutes a value
from the data (`{?x}`, `{$this}`: a report must not carry patient values). The shipped rules
are written and reviewed with the code; their templates name codes only.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


class ShapesError(ClaimgraphError):
    """Shapes that cannot be used: recursive, a broken pattern or SPARQL, meta-SHACL defects."""


_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _name(node: Node) -> str:
    from rdflib import URIRef

    from .query import compact_iri

    return f"shape {compact_iri(str(node))}" if isinstance(node, URIRef) else "a blank-node shape"


def _members(g: Graph, head: Node) -> Iterator[Node]:
    from rdflib.collection import Collection

    try:
        yield from Collection(g, head)
    except Exception:  # a malformed list: meta-SHACL reports it
        return


def shape_links(g: Graph) -> dict[Node, set[Node]]:
    """shape -> the shapes it uses (the edges a recursive shape loops through)."""
    from .namespaces import SH

    edges: dict[Node, set[Node]] = {}
    for p in (SH.node, SH.property, SH["not"], SH.qualifiedValueShape):
        for s, o in g.subject_objects(p):
            edges.setdefault(s, set()).add(o)
    for p in (SH["and"], SH["or"], SH.xone):
        for s, head in g.subject_objects(p):
            edges.setdefault(s, set()).update(_members(g, head))
    return edges


def find_cycle(g: Graph) -> list[Node] | None:
    """A list of shapes [a, b, ..., a] that refer to each other in a loop, or None."""
    edges = shape_links(g)
    state: dict[Node, int] = {}  # 1 on the current path, 2 done
    for root in sorted(edges, key=str):
        if state.get(root):
            continue
        path: list[Node] = [root]
        stack: list[Iterator[Node]] = [iter(sorted(edges.get(root, ()), key=str))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()), key=str)))
    return None


def check_recursion(g: Graph) -> None:
    cycle = find_cycle(g)
    if cycle:
        raise ShapesError(
            f"{_name(cycle[0])} is recursive (it refers to itself through "
            f"{len(cycle) - 1} shape reference(s)); SHACL leaves recursive shapes undefined"
        )


def check_patterns(g: Graph) -> None:
    from .namespaces import SH

    for shape, pattern in sorted(g.subject_objects(SH.pattern), key=str):
        flags = 0
        for f in g.objects(shape, SH.flags):
            for ch in str(f):
                flags |= _FLAGS.get(ch, 0)
        try:
            re.compile(str(pattern), flags)
        except (re.error, RecursionError, OverflowError) as e:
            msg = getattr(e, "msg", type(e).__name__)
            raise ShapesError(
                f"{_name(shape)}: sh:pattern is not a valid regular expression ({msg})"
            ) from None


def _prefix_lines(g: Graph, node: Node) -> str:
    from .namespaces import SH

    lines = []
    for holder in g.objects(node, SH.prefixes):
        for decl in g.objects(holder, SH.declare):
            prefix, ns = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
            if prefix is not None and ns is not None:
                lines.append(f"PREFIX {prefix}: <{ns}>\n")
    return "".join(sorted(set(lines)))


def sparql_texts(g: Graph) -> Iterable[tuple[Node, str]]:
    """(node holding it, text with its declared prefixes) of every SPARQL text in the shapes."""
    from .namespaces import SH

    for p in (SH.select, SH.ask, SH.construct):
        for node, text in sorted(g.subject_objects(p), key=str):
            yield node, _prefix_lines(g, node) + str(text)


def check_sparql(g: Graph) -> None:
    from .namespaces import SH
    from .query import check

    for node, text in sparql_texts(g):
        owner = next(iter(sorted(g.subjects(SH.sparql, node), key=str)), node)
        try:
            check(text)
        except ClaimgraphError as e:
            where = f" near {e.position}" if e.position else ""
            raise ShapesError(
                f"{_name(owner)}: its SPARQL is refused: {e.message}{where}"
            ) from None
        except RecursionError:
            raise ShapesError(f"{_name(owner)}: its SPARQL is nested too deeply") from None


def check_shapes(g: Graph) -> None:
    """Refuse recursive shapes, broken patterns and unsafe or broken SPARQL (ShapesError)."""
    check_recursion(g)
    check_patterns(g)
    check_sparql(g)


# --------------------------------------------------------------------------------------------
# User rules: screening for unbounded work and data in messages


def regex_problem(pattern: str, flags: int = 0) -> str | None:
    """Why a regular expression could backtrack catastrophically, or None.

    Refused: a repetition (more than once) of something that matches a variable length
    (`(a+)+`, `(a|ab)*`, `(\\w+\\s?)+`) or of alternatives that can start with the same character
    (`(a|a)*`). A few safe patterns are refused too (`(ab*)+`); write them without nesting."""
    from re import _parser as sre  # type: ignore[attr-defined]  # Python 3.11+

    try:
        tree = sre.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError):
        return "it is not a valid regular expression"
    stack: list[tuple[object, bool]] = [(tree, False)]
    while stack:
        sub, in_loop = stack.pop()
        for op, av in getattr(sub, "data", ()):
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, body = av
                loops = high is sre.MAXREPEAT or high > 1
                if loops:
                    width = body.getwidth()
                    if width[0] != width[1]:
                        return "a repetition of something of variable length (nested quantifiers)"
                stack.append((body, in_loop or loops))
            elif name == "BRANCH":
                if in_loop and _branches_overlap(av[1]):
                    return "repeated alternatives that can match the same text"
                stack.extend((b, in_loop) for b in av[1])
            elif name == "SUBPATTERN":
                stack.append((av[-1], in_loop))
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append((av[1], in_loop))
            elif name == "ATOMIC_GROUP":
                stack.append((av, in_loop))
            elif name == "GROUPREF_EXISTS":
                stack.extend((b, in_loop) for b in av[1:] if b is not None)
            elif name in ("GROUPREF", "GROUPREF_IGNORE"):
                return "a back-reference"
    return None


def _first_chars(branch: object) -> set[int] | None:
    """The characters a branch can start with; None when that is not a small known set."""
    data = getattr(branch, "data", [])
    if not data:
        return None  # an empty branch: matches where the others do
    op, av = data[0]
    if str(op) == "LITERAL":
        return {av}
    if str(op) == "IN":
        chars: set[int] = set()
        for kind, value in av:
            if str(kind) == "LITERAL":
                chars.add(value)
            elif str(kind) == "RANGE" and value[1] - value[0] < 512:
                chars.update(range(value[0], value[1] + 1))
            else:
                return None
        return chars
    if str(op) == "SUBPATTERN":
        return _first_chars(av[-1])
    return None


def _branches_overlap(branches: list[object]) -> bool:
    seen: set[int] = set()
    for b in branches:
        chars = _first_chars(b)
        if chars is None or chars & seen:
            return True
        seen |= chars
    return False


def _algebra_parts(node: object, name: str) -> Iterator[object]:
    """Every CompValue called `name` anywhere in a parsed query (EXISTS and subqueries too)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            if item.name == name:
                yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)


def _triple_patterns(node: object) -> list[tuple[object, object, object]]:
    from rdflib.plugins.sparql.parserutils import CompValue

    out = []
    for part in [*_algebra_parts(node, "BGP"), *_algebra_parts(node, "TriplesBlock")]:
        assert isinstance(part, CompValue)
        for t in part.get("triples") or []:
            if isinstance(t, list | tuple) and len(t) == 3:
                out.append((t[0], t[1], t[2]))
    return out


PREBOUND = frozenset({"this", "currentShape", "shapesGraph", "value", "PATH"})


def cartesian_problem(translated: object) -> bool:
    """Whether a rule's query has triple patterns that share no variable, directly or through
    other patterns, with the patterns about `$this` (the focus node): each such piece is
    evaluated on its own and joined with everything else (a cartesian product). A piece whose
    subjects are all fixed (an IRI, `$currentShape`) is a lookup and allowed."""
    from rdflib.term import Variable

    def names(term: object) -> set[str]:  # a path holds no variable
        return {str(term)} if isinstance(term, Variable) else set()

    patterns = _triple_patterns(translated)
    parent: dict[int, int] = {i: i for i in range(len(patterns))}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, (s, p, o) in enumerate(patterns):
        for v in names(s) | names(p) | names(o):
            if v in PREBOUND:
                continue
            if v in owner:
                parent[root(i)] = root(owner[v])
            else:
                owner[v] = i
    pieces: dict[int, list[int]] = {}
    for i in range(len(patterns)):
        pieces.setdefault(root(i), []).append(i)
    for members in pieces.values():
        terms = [names(t) for i in members for t in patterns[i]]
        free = set().union(*terms) - PREBOUND
        if not free or any("this" in n for n in terms):
            continue  # no variable of its own, or anchored at the focus node
        if _lookups(members, patterns, names):
            continue
        return True
    return False


def _lookups(members: list[int], patterns: list[tuple[object, object, object]], names: Any) -> bool:
    """Whether the patterns form chains of lookups from fixed subjects (an IRI, $currentShape):
    each subject is fixed or a variable an earlier lookup of the chain binds."""
    bound: set[str] = set()
    left = list(members)
    while left:
        ready = [i for i in left if not (names(patterns[i][0]) - PREBOUND - bound)]
        if not ready:
            return False
        for i in ready:
            left.remove(i)
            bound |= names(patterns[i][1]) | names(patterns[i][2])
    return True


def _regex_literals(translated: object) -> Iterator[tuple[object, object]]:
    """(pattern, flags) of every REGEX and REPLACE call in a parsed query."""
    for name in ("Builtin_REGEX", "Builtin_REPLACE"):
        for call in _algebra_parts(translated, name):
            assert isinstance(call, dict)  # a CompValue (its .get() is not dict.get)
            yield dict.get(call, "pattern"), dict.get(call, "flags")


_DATA_TEMPLATE = re.compile(r"\{[?$][A-Za-z_][A-Za-z0-9_]*\}")


def screen_user_rules(g: Graph, *, templates: bool = True) -> None:
    """Refuse, with one ShapesError naming the shape, what a user's rules may not do (see the
    module docstring). `g` holds the user's rules (and the prefixes their SPARQL declares).
    `templates=False` skips the message check (bundled rules may name codes in messages)."""
    from rdflib import Literal

    from .namespaces import SH
    from .query import check

    for node, message in sorted(g.subject_objects(SH.message), key=str):
        if templates and _DATA_TEMPLATE.search(str(message)):
            owner = next(iter(sorted(g.subjects(SH.sparql, node), key=str)), node)
            raise ShapesError(
                f"{_name(owner)}: its sh:message substitutes a value from the data "
                "({?var} or {$this}); a user rule's message must be fixed text (reports must "
                "not carry patient values)"
            )
    for shape, pattern in sorted(g.subject_objects(SH.pattern), key=str):
        flags = 0
        for f in g.objects(shape, SH.flags):
            for ch in str(f):
                flags |= _FLAGS.get(ch, 0)
        problem = regex_problem(str(pattern), flags)
        if problem:
            raise ShapesError(
                f"{_name(shape)}: sh:pattern could take exponential time ({problem}); "
                "rewrite it without nested or ambiguous repetition"
            )
    for node, text in sparql_texts(g):
        owner = next(iter(sorted(g.subjects(SH.sparql, node), key=str)), node)
        translated = check(text).algebra
        for rx, rx_flags in _regex_literals(translated):
            if not isinstance(rx, Literal) or not (
                rx_flags is None or isinstance(rx_flags, Literal)
            ):
                raise ShapesError(
                    f"{_name(owner)}: REGEX and REPLACE in a user rule need a string literal "
                    "pattern and flags (a pattern from the data is not checked)"
                )
            bits = sum(_FLAGS.get(ch, 0) for ch in set(str(rx_flags or "")))
            problem = regex_problem(str(rx), bits)
            if problem:
                raise ShapesError(
                    f"{_name(owner)}: a REGEX in its SPARQL could take exponential time "
                    f"({problem}); rewrite it without nested or ambiguous repetition"
                )
        if cartesian_problem(translated):
            raise ShapesError(
                f"{_name(owner)}: its SPARQL has triple patterns that share no variable with "
                "the patterns about $this (a cartesian product); join them through a variable"
            )


def meta_check(g: Graph) -> None:
    """Validate the shapes graph against SHACL-SHACL; ShapesError naming the first defect."""
    import pyshacl

    from .namespaces import SH
    from .privacy import quiet_libraries

    quiet_libraries()
    try:
        conforms, report, _ = pyshacl.validate(g, meta_shacl=True, shacl_graph=g, inference="none")
    except pyshacl.errors.ReportableRuntimeError as e:  # meta-SHACL itself refused the shapes
        raise ShapesError(f"the shapes do not conform to SHACL ({type(e).__name__})") from None
    if not conforms:
        focus = sorted(str(f) for f in report.objects(None, SH.focusNode))
        first = focus[0] if focus else "?"
        raise ShapesError(f"the shapes do not conform to SHACL (first defect at {first})")


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    """Errors of pyshacl / rdflib while evaluating shapes (re.error, pyparsing errors, bare
    Exception ...) become one ShapesError naming the type only."""
    try:
        yield
    except (ClaimgraphError, RecursionError, MemoryError):
        raise
    except Exception as e:
        raise ShapesError(
            f"the rules cannot be evaluated ({type(e).__name__}); a shape has a defect "
            "(check the shapes with meta-SHACL)"
        ) from None


def check_report(report: object) -> None:
    """pyshacl.validate gives a ValidationFailure (not a graph) when it could not run a shape."""
    from rdflib import Graph

    if not isinstance(report, Graph):
        raise ShapesError(
            f"the rules cannot be evaluated ({type(report).__name__}); a shape has a defect "
            "(check the shapes with meta-SHACL)"
        )
