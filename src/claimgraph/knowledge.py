"""`Knowledge`: one immutable value holding everything a validation, a query or a card reads.

- the ontology (model and curated facts) and the shapes (the rules), as rdflib graphs and as
  a pyoxigraph store, built on first use;
- the rulebook (rule ids, severities, messages, scope, topic order) and the payer categories;
- the compiled checks of the fast engine (cached on disk under the rule set's fingerprint);
- the user's rules (`validate --shapes`), checked before they are added;
- the code-set facts source: an imported code-set store (its folder and the releases it
  holds when the value was made: HCPCS/CPT code sets and CMS tables), or none;
- `fingerprint`: a hash of the rule set (the ontology and shapes files, the user's rules
  files), which reports name beside the code-set releases.

`Knowledge.bundled()` (one value per content of the installed files), then `.with_rules(paths)`
and `.with_codesets(store)`, each a new value; nothing is module state, so two values with
different rules validate side by side in one process. Worker processes receive `payload()`
(compressed: compiled checks, knowledge graph N-Triples, the user's rules) once and rebuild the
value with `Knowledge.from_payload`.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph

    from .engine.common import Rulebook
    from .engine.fast import Engine
    from .patients import Placeholders

PAYLOAD_FORMAT = 2


@dataclass(frozen=True)
class CodeSets:
    """An imported code-set store: its folder and the releases it held when read (code-set
    releases and CMS table releases alike), with their titles."""

    path: str
    releases: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()  # one per release ('' when it has none)


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()


class _RuleSet:
    """The rules part of a Knowledge value: files, user rules, and what is derived from them
    (built on first use, then kept; never changed). Shared by values that differ only in
    their code sets."""

    def __init__(
        self,
        ontology_files: tuple[Path, ...],
        shape_files: tuple[Path, ...],
        base_digest: str,
        *,
        base: _RuleSet | None = None,
        user: Graph | None = None,
        rules_files: tuple[str, ...] = (),
        rules_digest: str = "",
    ):
        self.ontology_files = ontology_files
        self.shape_files = shape_files
        self.base_digest = base_digest  # of the ontology and shapes files
        self.base = base  # the value without user rules (shares its graphs)
        self.user = user  # the user's rules (checked), or None
        self.rules_files = rules_files
        self.rules_digest = rules_digest  # of the user's rules files' bytes
        self.fingerprint = _digest([base_digest.encode(), rules_digest.encode()])[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _RuleSet) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    @property
    def _key(self) -> tuple[object, ...]:
        return (self.fingerprint, self.ontology_files, self.shape_files)

    # ----------------------------------------------------------------- graphs

    @cached_property
    def ontology(self) -> Graph:
        if self.base is not None:
            return self.base.ontology
        from .kg import load_graph

        return load_graph(self.ontology_files)

    @cached_property
    def bundled_shapes(self) -> Graph:
        if self.base is not None:
            return self.base.bundled_shapes
        from .kg import load_graph

        return load_graph(self.shape_files)

    @cached_property
    def shapes(self) -> Graph:
        if self.user is None:
            return self.bundled_shapes
        return _merged(self.bundled_shapes, self.user)

    @cached_property
    def graph(self) -> Graph:
        if self.user is not None:
            assert self.base is not None
            return _merged(self.base.graph, self.user)
        from .kg import load_knowledge_graph

        return load_knowledge_graph(self.ontology_files + self.shape_files)

    @cached_property
    def store(self) -> pyoxigraph.Store:
        from .kg import load_store

        if self.user is None:
            return load_store(self.ontology_files + self.shape_files)
        return load_store((), self.graph.serialize(format="nt", encoding="utf-8"))

    @cached_property
    def user_ntriples(self) -> bytes:
        if self.user is None:
            return b""
        return self.user.serialize(format="nt", encoding="utf-8")

    # ----------------------------------------------------------------- derived

    @cached_property
    def rulebook(self) -> Rulebook:
        from .engine.common import Rulebook

        return Rulebook(self.graph)

    @cached_property
    def payer_categories(self) -> dict[str, frozenset[str]]:
        from .engine.common import payer_categories

        return payer_categories(self.graph)

    @cached_property
    def placeholder_patients(self) -> Placeholders:
        from .patients import placeholders

        return placeholders(self.graph)

    @cached_property
    def checked_shapes(self) -> Graph:
        """The shapes graph after the cheap structural checks (recursion, patterns)."""
        from .shapecheck import check_patterns, check_recursion

        check_recursion(self.shapes)
        check_patterns(self.shapes)
        return self.shapes

    @cached_property
    def checks(self) -> Engine:
        from .engine.fast import load_engine

        return load_engine(Knowledge(self))


def _merged(a: Graph, b: Graph) -> Graph:
    from .kg import new_graph

    out = new_graph()
    for t in a:
        out.add(t)
    for t in b:
        out.add(t)
    return out


def _files_digest(files: Sequence[Path], root_names: Sequence[str]) -> str:
    parts: list[bytes] = []
    for name, path in zip(root_names, files, strict=True):
        parts.append(name.encode())
        parts.append(path.read_bytes())
    return _digest(parts)


# One value per content of the installed files (their names, sizes and modification times
# pick the entry; the fingerprint hashes their bytes).
_BUNDLED: dict[tuple[object, ...], Knowledge] = {}


@dataclass(frozen=True)
class Knowledge:
    """The rules, facts and code sets one run uses (see the module documentation)."""

    _rules: _RuleSet = field(repr=False)
    codesets: CodeSets | None = None

    # ----------------------------------------------------------------- building

    @classmethod
    def bundled(cls) -> Knowledge:
        """The installed ontology and rules, no user rules, no code sets (cached)."""
        from .resources import turtle_files

        ontology, shapes = tuple(turtle_files("ontology")), tuple(turtle_files("shapes"))
        key: tuple[object, ...] = tuple(
            (str(p), st.st_size, st.st_mtime_ns) for p in ontology + shapes for st in (p.stat(),)
        )
        found = _BUNDLED.get(key)
        if found is None:
            if len(_BUNDLED) > 4:  # files edited in a long-lived process: keep a few
                _BUNDLED.clear()
            found = _BUNDLED[key] = cls.from_files(ontology, shapes)
        return found

    @classmethod
    def from_files(cls, ontology: Sequence[Path], shapes: Sequence[Path]) -> Knowledge:
        """A value from other ontology and shapes files than the installed ones (tests, the
        rule-author check of a bundled file)."""
        onto, shp = tuple(Path(p) for p in ontology), tuple(Path(p) for p in shapes)
        names = [f"ontology/{p.name}" for p in onto] + [f"shapes/{p.name}" for p in shp]
        digest = _files_digest(onto + shp, names)
        return cls(_RuleSet(onto, shp, digest))

    def with_rules(self, paths: Sequence[str | os.PathLike[str]]) -> Knowledge:
        """This value plus the user's rules files, each checked first (ShapesError/InputError
        naming the file); no paths: this value."""
        if not paths:
            return self
        from .usershapes import load

        user, digest = load([Path(p) for p in paths], self)
        rs = self._rules
        base = rs.base or rs
        if rs.user is not None:
            user = _merged(rs.user, user)
            digest = _digest([rs.rules_digest.encode(), digest.encode()])
        rules = _RuleSet(
            rs.ontology_files, rs.shape_files, rs.base_digest, base=base, user=user,
            rules_files=rs.rules_files + tuple(str(p) for p in paths), rules_digest=digest,
        )  # fmt: skip
        return Knowledge(rules, self.codesets)

    def with_codesets(self, store: str | os.PathLike[str] | None) -> Knowledge:
        """This value reading the imported code sets and CMS tables of `store` (a folder; None
        or a folder without a store: no code sets)."""
        if store is None:
            return Knowledge(self._rules, None)
        from . import codestore

        root = Path(store).expanduser()
        if not (root / codestore.POINTER).is_file():
            return Knowledge(self._rules, None)
        found = codestore.info(root)["releases"]
        releases = tuple(str(r["release"]) for r in found)
        titles = tuple(str(r.get("title") or "") for r in found)
        return Knowledge(self._rules, CodeSets(str(root), releases, titles))

    # ----------------------------------------------------------------- what it holds

    @property
    def fingerprint(self) -> str:
        """A hash of the rule set: the ontology and shapes files and the user's rules."""
        return self._rules.fingerprint

    @property
    def rules_files(self) -> tuple[str, ...]:
        """The user's rules files, as given (empty: the bundled rules only)."""
        return self._rules.rules_files

    @property
    def has_user_rules(self) -> bool:
        return self._rules.user is not None

    @property
    def releases(self) -> tuple[str, ...]:
        """The imported code-set and CMS table releases the checks read (empty: none)."""
        return self.codesets.releases if self.codesets else ()

    @property
    def ontology(self) -> Graph:
        """The ontology graph (model and curated facts). Do not modify."""
        return self._rules.ontology

    @property
    def shapes(self) -> Graph:
        """The shapes graph: the bundled rules and the user's. Do not modify."""
        return self._rules.shapes

    @property
    def user_shapes(self) -> Graph | None:
        """The user's rules only, or None. Do not modify."""
        return self._rules.user

    @property
    def graph(self) -> Graph:
        """Ontology and shapes together: what queries, exports and the rules read."""
        return self._rules.graph

    @property
    def store(self) -> pyoxigraph.Store:
        """The same triples as `graph` in an in-memory pyoxigraph store. Do not modify."""
        return self._rules.store

    @property
    def rulebook(self) -> Rulebook:
        return self._rules.rulebook

    @property
    def payer_categories(self) -> dict[str, frozenset[str]]:
        """Payer local name -> itself and every category it is in (aetna -> aetna, commercial)."""
        return self._rules.payer_categories

    @property
    def placeholder_patients(self) -> Placeholders:
        """The patient ids that stand for no patient (ontology/patients.ttl)."""
        return self._rules.placeholder_patients

    @property
    def checks(self) -> Engine:
        """The fast engine's compiled checks and the knowledge graph as N-Triples."""
        return self._rules.checks

    @property
    def checked_shapes(self) -> Graph:
        return self._rules.checked_shapes

    def payers_in(self, name: str) -> set[str]:
        """The payers a claim may name to count as `name` (itself, or a category's members)."""
        return {p for p, c in self.payer_categories.items() if name in c} or {name}

    # ----------------------------------------------------------------- worker processes

    def payload(self, *, checks: bool = True) -> bytes:
        """Everything a worker process needs, as compact bytes: the compiled checks with the
        knowledge graph's N-Triples (`checks`; the reference engine needs none), the user's
        rules, the code-set source."""
        return self._state(with_checks=checks)

    @classmethod
    def from_payload(cls, data: bytes) -> Knowledge:
        """The value `payload()` describes (in a worker process)."""
        from .errors import InternalError

        try:
            state = json.loads(zlib.decompress(data))
            if state["format"] != PAYLOAD_FORMAT:
                raise ValueError("format")
        except (ValueError, KeyError, TypeError, zlib.error):
            raise InternalError("damaged knowledge payload") from None
        base = cls.from_files(
            [Path(p) for p in state["ontology"]], [Path(p) for p in state["shapes"]]
        )._rules
        if base.base_digest != state["base"]:
            raise InternalError("the installed rules changed while claimgraph was running")
        rules = base
        if state["user"]:
            from .kg import new_graph

            user = new_graph()
            user.parse(data=state["user"], format="nt")
            rules = _RuleSet(
                base.ontology_files, base.shape_files, base.base_digest, base=base, user=user,
                rules_files=tuple(state["rules_files"]), rules_digest=state["rules_digest"],
            )  # fmt: skip
        if state.get("checks") is not None:
            from .engine.fast import Engine

            rules.__dict__["checks"] = Engine.from_json(state["checks"])
        codesets = None
        if state["codesets"]:
            path, releases, titles = state["codesets"]
            codesets = CodeSets(path, tuple(releases), tuple(titles))
        return cls(rules, codesets)

    def _state(self, *, with_checks: bool) -> bytes:
        rs = self._rules
        checks = self.checks.to_json() if with_checks else None
        state = {
            "format": PAYLOAD_FORMAT,
            "base": rs.base_digest,
            "ontology": [str(p) for p in rs.ontology_files],
            "shapes": [str(p) for p in rs.shape_files],
            "user": rs.user_ntriples.decode("utf-8"),
            "rules_files": list(rs.rules_files),
            "rules_digest": rs.rules_digest,
            "codesets": [
                self.codesets.path,
                list(self.codesets.releases),
                list(self.codesets.titles),
            ]
            if self.codesets
            else None,
            "checks": checks,
        }
        return zlib.compress(json.dumps(state).encode("utf-8"), 6)

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # pickled (a process pool's argument): the compiled checks when already built
        return (
            Knowledge.from_payload,
            (self._state(with_checks="checks" in self._rules.__dict__),),
        )


__all__ = ["CodeSets", "Knowledge"]
