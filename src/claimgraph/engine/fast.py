"""The fast engine: the compiled checks (compile.py) over pyoxigraph, batch by batch.

- The knowledge graph (ontology + shapes) as N-Triples, the compiled checks and the rulebook
  entries are `Knowledge.checks`: a cache built on first use (user cache folder, keyed by the
  rule set's fingerprint and the engine's code), so a run parses no Turtle.
- Claims become N-Triples text straight from `ClaimData` (ntriples.py), never through rdflib.
- One pass: a claim without a patient (or with a placeholder id, patients.py) goes to the next
  batch as it is read; the claims of patients go to hash partitions by patient key, spilled to
  encrypted private temp files (spill.py), and once the input ends each partition is validated
  with each patient's claims whole in a batch (batches.py: date windows for a patient with more
  claims than a batch), so cross-claim rules (NMR-02, ENS-06, NCCI pairs, MUE) need no
  second load. A patient whose claims come together in the input is validated as soon as they
  end, while the input is still read (runs.py); the partitions then hold only the patients that
  came back later. Memory: the batches in flight and one partition, not the input.
- Each batch is loaded into a store that already holds the knowledge graph, every check runs
  once over the batch, and the focus nodes map to findings through an index built from the
  ClaimData (claim key, line number, code). `jobs` worker processes do this in parallel
  (dispatch.py), killed when `timeout` passes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..findings import Finding
from ..ingest.model import ClaimData
from .common import ClaimContext, claim_context, with_uids
from .ntriples import claim_ntriples

if TYPE_CHECKING:
    from ..knowledge import CodeSets, Knowledge

BATCH = 300  # claims per batch (some rules cost more with more claims of one date in a batch)
CACHE_FORMAT = "4"  # 4: Entry.per_run
USER_CACHES = 8  # compiled user rule sets (validate --shapes) kept in the cache


# --------------------------------------------------------------------------------------------
# The engine state: knowledge graph, checks, rulebook entries (cached)


@dataclass(frozen=True)
class Entry:
    """What a finding of one shape says (from the rulebook)."""

    rule: str
    severity: str
    message: str
    source: str
    per_run: bool = False  # cg:reportedPerRun: one finding for the run (common.run_finding)


@dataclass(frozen=True)
class Engine:
    kg_nt: bytes  # ontology + shapes, N-Triples
    # (source shape IRI, query, cross-claim, message-template variables the query returns)
    queries: tuple[tuple[str, str, bool, tuple[str, ...]], ...]
    entries: dict[str, Entry]  # source shape IRI -> what its findings say
    standard: tuple[tuple[str, str], ...] = ()  # the same checks in standard SPARQL 1.1

    def to_json(self) -> dict[str, Any]:
        return {
            "queries": [list(q) for q in self.queries],
            "standard": [list(q) for q in self.standard],
            "entries": {
                k: [e.rule, e.severity, e.message, e.source, e.per_run]
                for k, e in self.entries.items()
            },
            "kg_nt": self.kg_nt.decode("utf-8"),
        }

    @classmethod
    def from_json(cls, data: Any) -> Engine:
        """The engine `to_json` gave; ValueError/KeyError/TypeError when it is not one."""
        return cls(
            data["kg_nt"].encode("utf-8"),
            tuple((str(s), str(q), bool(x), tuple(map(str, v))) for s, q, x, v in data["queries"]),
            {str(k): _entry(v) for k, v in data["entries"].items()},
            tuple((str(s), str(q)) for s, q in data["standard"]),
        )


def _entry(v: Any) -> Entry:
    rule, severity, message, source, per_run = v
    return Entry(str(rule), str(severity), str(message), str(source), per_run is True)


def _code_digest() -> str:
    """The engine's own code: a new compiler makes new checks from the same rules."""
    h = hashlib.sha256(f"{__version__}/{CACHE_FORMAT}".encode())
    here = Path(__file__).resolve().parent
    for code in sorted(here.glob("*.py")):
        with contextlib.suppress(OSError):
            h.update(code.name.encode() + b"\0" + code.read_bytes())
    return h.hexdigest()


def build_engine(knowledge: Knowledge) -> Engine:
    """Compile the shapes and serialise the knowledge graph (rdflib; what the cache saves)."""
    from ..shapecheck import check_shapes
    from .compile import compile_shapes, validate_queries
    from .oxigraph import lateral_exists

    kg, shapes = knowledge.graph, knowledge.shapes
    check_shapes(shapes)  # no recursion, broken patterns, SERVICE/FROM (pyoxigraph obeys)
    checks = compile_shapes(kg, shapes)
    validate_queries(checks)
    entries = {}
    for iri, e in knowledge.rulebook.shapes.items():
        entries[str(iri)] = Entry(e.rule.id, e.severity, e.message, e.rule.source, e.per_run)
    # pyshacl reports a finding under the shape it comes from; the reference keeps only shapes
    # of the rulebook (rules and their named parts), so do the same.
    kept = [c for c in checks if c.shape in entries]
    queries = tuple((c.shape, lateral_exists(c.query), c.cross_claim, c.project) for c in kept)
    standard = tuple((c.shape, c.query) for c in kept)
    kg_nt = kg.serialize(format="nt", encoding="utf-8")
    return Engine(kg_nt, queries, entries, standard)  # type: ignore[arg-type]


def cache_path(knowledge: Knowledge) -> Path:
    """Where the compiled checks of `knowledge`'s rule set are cached: `engine-*.json` for
    the bundled rules, `rules-*.json` for bundled plus user rules (keyed by their files)."""
    from .. import cache

    key = hashlib.sha256(f"{knowledge.fingerprint}/{_code_digest()}".encode()).hexdigest()[:20]
    kind = "rules" if knowledge.has_user_rules else "engine"
    return cache.cache_dir() / f"{kind}-{key}.json"


def _write_cache(path: Path, engine: Engine) -> None:
    from .. import cache

    data = json.dumps(engine.to_json()).encode("utf-8")
    bundled = path.name.startswith("engine-")
    cache.write(path, lambda f: f.write(data), replaces="engine-*.json" if bundled else None)
    if not bundled:  # the most recent user rule sets only
        older = sorted(path.parent.glob("rules-*.json"), key=_mtime, reverse=True)
        for old in older[USER_CACHES:]:
            with contextlib.suppress(OSError):
                old.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def load_engine(knowledge: Knowledge) -> Engine:
    """The compiled checks from the cache (only a file that is safely ours), building and
    caching them on first use. Use `knowledge.checks`, which keeps them."""
    from .. import cache as cachefiles

    path = cache_path(knowledge) if cachefiles.enabled() else None
    raw = cachefiles.read(path) if path else None
    if raw:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return Engine.from_json(json.loads(raw))
    engine = build_engine(knowledge)
    if path:
        with contextlib.suppress(OSError):  # a read-only cache folder only costs speed
            _write_cache(path, engine)
    return engine


# --------------------------------------------------------------------------------------------
# Claims as compact records, batches


@dataclass(slots=True)
class Record:
    """One claim, ready to load: its N-Triples and what its findings
    say about it (identity, origin, payer, line codes and dates)."""

    ctx: ClaimContext
    terms: tuple[str, ...]  # "p<iri>", "m<iri>", "d<iri>": codes used (enrichment facts)
    nt: bytes
    patient: bool  # has a patient: validated with the patient's other claims
    # The codes of one group are billed together (CMS table pairs, Enricher._tables): a hash of
    # the patient, or the claim's uid for a claim without one (never the patient id itself).
    group: str = ""


def encode(claim: ClaimData, payers: AbstractSet[str]) -> Record:
    """The record of `claim`; `payers`: the payer ids of the run's Knowledge."""
    terms: set[str] = set()
    nt = claim_ntriples(claim, terms).encode("utf-8")
    has_patient = claim.patient not in (None, "")
    ctx = claim_context(claim, payers)
    if has_patient:
        group = hashlib.blake2b(str(claim.patient).encode("utf-8", "surrogatepass"),
                                digest_size=16).hexdigest()  # fmt: skip
    else:
        group = f"c:{ctx.uid}"
    return Record(ctx, tuple(terms), nt, has_patient, group)


class Enricher:
    """The enrichment facts (common.enrichment) of a batch's codes, as N-Triples: the facts
    about each code memoised, the CMS table facts (common.table_facts) made per batch."""

    def __init__(self, codesets: CodeSets | None = None) -> None:
        self.codesets = codesets
        self.known: dict[str, list[str]] = {}
        self.common: set[str] = set()
        self.lines: dict[tuple[object, ...], str] = {}  # table fact -> its N-Triples line

    def facts(self, batch: list[Record]) -> bytes:
        terms = {t for r in batch for t in r.terms}
        new = [t for t in terms if t not in self.known]
        if new:
            self._learn(new)
        lines = set(self.common)
        for t in terms:
            lines.update(self.known[t])
        lines.update(self._tables(batch))
        return "".join(sorted(lines)).encode("utf-8")

    def _tables(self, batch: list[Record]) -> list[str]:
        """The CMS table facts of this batch, not memoised: a PTP edit or an add-on/primary
        pair depends on two codes billed together, so it is looked up with the codes of each
        group (patient) of the batch (batches hold all of a patient's claims, or a window)."""
        from rdflib import URIRef

        from .common import table_facts

        groups: dict[str, set[URIRef]] = {}
        mods: set[URIRef] = set()
        for r in batch:
            codes = groups.setdefault(r.group, set())
            for t in r.terms:
                if t[0] == "p":
                    codes.add(URIRef(t[2:-1]))
                elif t[0] == "m":
                    mods.add(URIRef(t[2:-1]))
        procs = set().union(*groups.values()) if groups else set()
        if not procs:
            return []
        # the same facts come back batch after batch: their text is kept (n3() is the cost)
        known, out = self.lines, []
        if len(known) > 50_000:  # a cache of text, not a record: bounded
            known.clear()
        for fact in table_facts(
            procs, mods, [g for g in groups.values() if g], codesets=self.codesets
        ):
            text = known.get(fact)
            if text is None:
                s, p, o = fact
                text = known[fact] = f"{s.n3()} {p.n3()} {o.n3()} .\n"
            out.append(text)
        return out

    def _learn(self, terms: list[str]) -> None:
        from rdflib import Graph, URIRef

        from ..namespaces import CG
        from .common import enrichment

        g = Graph()
        holder = URIRef("urn:claimgraph:enrichment")
        prop = {"p": CG.procedureCode, "m": CG.modifier, "d": CG.hasDiagnosis}
        by_iri: dict[str, list[str]] = {}
        for t in terms:
            g.add((holder, prop[t[0]], URIRef(t[2:-1])))
            self.known[t] = by_iri.setdefault(t[2:-1], [])
        # table facts: per batch (_tables)
        for s, p, o in enrichment(g, self.codesets, tables=False):
            line = f"{s.n3()} {p.n3()} {o.n3()} .\n"
            if str(s) in by_iri:
                by_iri[str(s)].append(line)
            else:
                self.common.add(line)


# --------------------------------------------------------------------------------------------


class _Progress:
    """A progress bar on stderr for long runs; nothing when stderr is not a terminal."""

    def __init__(self, enabled: bool):
        self.bar: Any = None
        self.read = 0
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), auto_refresh=False,
                transient=True,
            )  # fmt: skip
            self.tasks = {1: self.bar.add_task("claims", total=None)}
            self.bar.start()

    def claim_read(self) -> None:
        self.read += 1
        if self.bar is not None and self.read % 500 == 0:
            self.bar.update(self.tasks[1], total=self.read)
            self.bar.refresh()

    def validated(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.tasks[1], n)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def validate_claims(
    claims: Iterable[ClaimData],
    *,
    knowledge: Knowledge | None = None,
    jobs: int | None = None,
    progress: bool = False,
    batch_size: int = BATCH,
    timeout: float | None = None,
) -> list[Finding]:
    """All findings of `claims` under `knowledge` (default: the bundled rules, no code sets),
    as the reference engine gives them; `jobs` processes (default: the cores), `batch_size`
    claims loaded at a time; `timeout` seconds for the whole run (ValidationTimeout after,
    the workers killed)."""
    from ..knowledge import Knowledge
    from ..patients import unjoined, window_days
    from .batches import patient_jobs
    from .common import finalize
    from .dispatch import Dispatcher
    from .runs import Runs
    from .spill import Partitions

    deadline = time.monotonic() + timeout if timeout is not None else None
    knowledge = knowledge or Knowledge.bundled()
    engine = knowledge.checks
    jobs = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    size = max(1, batch_size)
    bar = _Progress(progress)
    enricher = Enricher(knowledge.codesets)
    payers = knowledge.payer_categories.keys()
    cross = any(c for _s, _q, c, _v in engine.queries)
    dispatcher = Dispatcher(knowledge, jobs, bar.validated, deadline)
    spill: Partitions | None = None
    runs = Runs(size)
    try:
        batch: list[Record] = []
        read = 0
        for claim in with_uids(unjoined(claims, knowledge.placeholder_patients, _nothing)):
            bar.claim_read()
            read += 1
            if read == size + 1:
                dispatcher.warm()  # more than one batch: the workers, while this process is small
            record = encode(claim, payers)
            if record.patient and cross:  # validated with the patient's other claims
                spill = spill or Partitions()
                spill.add(record)
                ended = runs.add(record)
                if ended:
                    dispatcher.submit(ended, enricher.facts(ended))
                continue
            batch.append(record)
            if len(batch) >= size:
                dispatcher.submit(batch, enricher.facts(batch))
                batch = []
        if batch:
            dispatcher.submit(batch, enricher.facts(batch))
        ended = runs.finish()
        if ended:
            dispatcher.submit(ended, enricher.facts(ended))
        dropped: set[str] = set()  # claims whose early run's findings are dropped
        if spill is not None and runs.redo:
            dispatcher.drain()
            early, dispatcher.findings = dispatcher.findings, []
            days = window_days(knowledge.graph)
            for records in spill.partitions():
                redo = [r for r in records if runs.needs_partition(r)]
                dropped.update(r.ctx.uid for r in redo if runs.dropped(r))
                for group, core in patient_jobs(redo, size, days):
                    dispatcher.submit(group, enricher.facts(group), core)
            dispatcher.drain()
            dispatcher.findings[:0] = [f for f in early if f.uid not in dropped]
        dispatcher.drain()
        return finalize(dispatcher.findings)
    finally:
        dispatcher.close()
        if spill is not None:
            spill.close()
        bar.close()


def _nothing() -> None:
    return None
