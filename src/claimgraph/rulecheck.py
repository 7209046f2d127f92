"""`claimgraph rules check FILE`: what a rule author needs to know about a rules file.

Everything `validate --shapes` would refuse, and more, collected instead of stopping at the
first problem:
- the use checks (usershapes.py): owl:imports, rule ids and subjects the bundled rules
  already have, recursive shapes, broken sh:pattern, SPARQL that is not read-only and local,
  SHACL-SHACL;
- the shapes over the shapes (shapes/meta/): every result, not only the first;
- the QC queries (queries/qc/): rows the file adds to those of the bundled graph;
- the compiler of the fast engine: every shape compiles and its queries parse in Oxigraph.

A bundled shapes file (shapes/oxygen.ttl) is checked against the bundled rules without it, so
the command also serves the people who edit the installed rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ClaimgraphError

if TYPE_CHECKING:
    from rdflib import Graph

    from .knowledge import Knowledge


@dataclass(frozen=True)
class Problem:
    check: str  # "use", "meta", "qc <query>", "compile"
    subject: str  # the rule or node concerned, compact ("rule:OXY-02"), or ""
    message: str
    advice: bool = False  # worth fixing, but the file can be used as it is

    def __str__(self) -> str:
        where = f"{self.subject}: " if self.subject else ""
        return f"{where}{self.message} [{self.check}{', advice' if self.advice else ''}]"


@dataclass(frozen=True)
class Report:
    path: str
    rules: tuple[str, ...]  # the rule ids the file defines
    problems: tuple[Problem, ...]

    @property
    def failed(self) -> bool:
        return any(not p.advice for p in self.problems)


def _base(path: Path) -> tuple[Knowledge, bool]:
    """The rules the file is checked against: the bundled ones, without the file itself
    when it is one of them (then True)."""
    from .knowledge import Knowledge
    from .resources import turtle_files

    shapes = turtle_files("shapes")
    resolved = path.resolve()
    if resolved not in {p.resolve() for p in shapes}:
        return Knowledge.bundled(), False
    others = [p for p in shapes if p.resolve() != resolved]
    return Knowledge.from_files(turtle_files("ontology"), others), True


def check_file(path: str | Path) -> Report:
    """Every problem of the rules file `path` (InputError when it cannot be read as Turtle)."""
    from .engine.common import Rulebook
    from .query import compact_iri
    from .shapecheck import ShapesError
    from .usershapes import check_file as use_checks
    from .usershapes import meta_results, read

    path = Path(path)
    g, _data = read(path)
    base, bundled = _base(path)
    problems: list[Problem] = []
    try:
        use_checks(g, set(), base, bundled=bundled, meta=False)  # all meta results come next
    except ShapesError as e:  # the first defect that stops `validate --shapes`
        problems.append(Problem("use", "", e.message))
    for focus, message in meta_results(g, base.ontology):
        problems.append(Problem("meta", compact_iri(focus), message))
    problems.extend(_qc(g, base, bundled))
    problems.extend(_compile(g, base))
    unique = tuple(dict.fromkeys(problems))  # the use checks and meta-SHACL may say one thing twice
    return Report(str(path), tuple(sorted(Rulebook(g).rules)), unique)


def _with(base: Graph, g: Graph) -> Graph:
    from .kg import new_graph

    out = new_graph()
    for t in base:
        out.add(t)
    for t in g:
        out.add(t)
    return out


_ADVICE = re.compile(r"^# rules-files: advice\b", re.M)


def _qc(g: Graph, base: Knowledge, bundled: bool) -> list[Problem]:
    """Rows of the QC queries on the bundled graph plus the file, that the bundled graph alone
    does not give. A query whose header says `# rules-files: advice` checks what the curated
    facts need: advice for a user's file, a problem for a bundled one."""
    import pyoxigraph as ox

    from .query import read_query_file
    from .resources import data_dir

    def store(graph: Graph) -> ox.Store:
        s = ox.Store()
        s.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        return s

    before, after = store(base.graph), store(_with(base.graph, g))
    out = []
    for rq in sorted((data_dir("queries") / "qc").glob("*.rq")):
        q = read_query_file(rq)

        def rows(s: ox.Store, text: str = q.text) -> set[tuple[str, ...]]:
            found = s.query(text)
            names = [v.value for v in found.variables]  # type: ignore[union-attr]
            return {tuple(_shown(r[n]) for n in names) for r in found}  # type: ignore[union-attr]

        advice = not bundled and bool(_ADVICE.search(q.text))
        for row in sorted(rows(after) - rows(before)):
            message = f"{q.title}: {' '.join(row[1:])}".strip()
            out.append(Problem(f"qc {rq.stem}", row[0], message, advice))
    return out


def _shown(value: object) -> str:
    """A pyoxigraph term for people; blank nodes alike (their labels differ between stores)."""
    from .query import compact_iri

    kind = type(value).__name__
    if value is None:
        return ""
    if kind == "BlankNode":
        return "_:blank"
    text = str(getattr(value, "value", value))
    return compact_iri(text) if kind == "NamedNode" else text


def _compile(g: Graph, base: Knowledge) -> list[Problem]:
    """The fast engine's compiler on the file's shapes (with the bundled prefixes and data)."""
    from .engine.compile import CompileError, compile_shape, rule_shapes, validate_queries
    from .engine.oxigraph import lateral_exists
    from .query import compact_iri

    kg, sg = _with(base.graph, g), _with(base.shapes, g)
    out = []
    try:
        shapes = [s for s in rule_shapes(sg) if (s, None, None) in g]
    except CompileError as e:
        return [Problem("compile", "", e.message)]
    for shape in shapes:
        try:
            checks = compile_shape(kg, sg, shape)
            validate_queries(checks)
            validate_queries(
                type(c)(c.rule, c.shape, c.severity, c.component, lateral_exists(c.query))
                for c in checks
            )
        except (CompileError, ValueError) as e:
            message = str(e.message if isinstance(e, ClaimgraphError) else e)
            out.append(Problem("compile", compact_iri(str(shape)), message))
    return out
