"""The fast engine: the compiled checks (compile.py) over pyoxigraph, batch by batch.

- The knowledge graph (ontology + shapes) as N-Triples, the compiled checks and the rulebook
  entries are `Knowledge.checks`: a cache built on first use (user cache folder, keyed by the
  rule set's fingerprint and the engine's code), so a run parses no Turtle.
- Claims become N-Triples text straight from `ClaimData` (ntriples.py), never through rdflib.
- Batches: a claim without a patient goes to the next batch as it is read; the claims of a
  patient are held (as zlib-compressed N-Triples) until the input ends, then packed into
  batches whole, so cross-claim rules (NMR-02, ENS-06) see all of a patient's claims however
  far apart they are in the input. Nothing goes to disk.
- Each batch is loaded into a store that already holds the knowledge graph, every check runs
  once over the batch, and the focus nodes map to findings through an index built from the
  ClaimData (claim key, line number, code). `jobs` worker processes do this in parallel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import __version__
from ..findings import Finding
from ..ingest.model import ClaimData
from .common import (
    ClaimContext,
    claim_context,
    fill_template,
    focus_index,
    run_finding,
    with_uids,
)
from .ntriples import claim_ntriples

if TYPE_CHECKING:
    from ..knowledge import CodeSets, Knowledge

BATCH = 300  # claims per batch (some rules cost more with more claims of one date in a batch)
MAX_IN_FLIGHT = 2  # batches queued per worker process
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
    """One claim, ready to load: its N-Triples (maybe zlib-compressed) and what its findings
    say about it (identity, origin, payer, line codes and dates)."""

    ctx: ClaimContext
    terms: tuple[str, ...]  # "p<iri>", "m<iri>", "d<iri>": codes used (enrichment facts)
    nt: bytes
    patient: bool  # has a patient: its cross-claim checks wait for all the patient's claims
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
                                digest_size=8).hexdigest()  # fmt: skip
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
        group (patient) of the batch. Phase-2 batches hold all of a patient's claims."""
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
        if len(known) > 200_000:
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
# Running checks on a batch (in this process or in a worker)

_worker: _BatchRunner | None = None

Job = tuple[int, list[Record], bytes]  # (phase, records, enrichment facts)
# (findings, cross-claim findings of claims with a patient, compressed claims with a patient)
Result = tuple[list[Finding], list[tuple[int, Finding]], list[tuple[int, bytes]]]


class _BatchRunner:
    """Runs the checks on one batch: knowledge graph + the batch's claims and facts.

    Phase 1 (claims in input order): every check; the cross-claim findings of claims with a
    patient are tentative (they stand if the patient has only this claim), and those claims
    come back compressed. Phase 2 (all claims of patients with several): cross-claim checks.
    """

    def __init__(self, engine: Engine):
        import pyoxigraph as ox

        self.ox = ox
        self.engine = engine

    def run(self, job: Job) -> Result:
        ox = self.ox
        phase, batch, facts = job
        if phase == 1:
            text = b"".join(r.nt for r in batch)
            held = [(i, zlib.compress(r.nt, 1)) for i, r in enumerate(batch) if r.patient]
        else:
            text = b"".join(zlib.decompress(r.nt) for r in batch)
            held = []
        # A new store per batch (~5 ms for the knowledge graph): an Oxigraph in-memory store
        # emptied with remove/clear_graph keeps growing and slows down batch after batch.
        store = ox.Store()
        store.load(self.engine.kg_nt + text + facts, format=ox.RdfFormat.N_TRIPLES)
        try:
            where = {id(r.ctx): i for i, r in enumerate(batch)}
            index = focus_index(r.ctx for r in batch)
            final: list[Finding] = []
            tentative: list[tuple[int, Finding]] = []
            for shape, query, cross, project in self.engine.queries:
                if phase == 2 and not cross:
                    continue
                e = self.engine.entries[shape]
                rows = cast(Iterable[Any], store.query(query))
                if e.per_run:  # a condition of the run (cg:reportedPerRun): one finding
                    if any(isinstance(row[0], ox.NamedNode) and row[0].value in index
                           for row in rows):  # fmt: skip
                        final.append(run_finding(e.rule, e.severity, e.message, e.source))
                    continue
                for row in rows:
                    focus = row[0]
                    pos = index.get(focus.value) if isinstance(focus, ox.NamedNode) else None
                    if pos is None:
                        continue  # not a claim or line of this batch
                    ctx, line = pos
                    message, bound = e.message, cast(tuple[tuple[str, str], ...], ())
                    if project:
                        values = {v: row[v].value for v in project if row[v] is not None}
                        message = fill_template(e.message, values)
                        bound = tuple(sorted(values.items()))
                    f = ctx.finding(line, e.rule, e.severity, message, e.source, bound)
                    i = where[id(ctx)]
                    if phase == 1 and cross and batch[i].patient:
                        tentative.append((i, f))  # final if the patient has one claim
                    else:
                        final.append(f)
            return final, tentative, held
        finally:
            del store


def _init_worker(payload: bytes) -> None:
    """A worker's engine, from the knowledge payload the parent sent (`Knowledge.payload`)."""
    global _worker
    from ..knowledge import Knowledge

    _worker = _BatchRunner(Knowledge.from_payload(payload).checks)


def _run_in_worker(job: Job) -> Result:
    assert _worker is not None
    return _worker.run(job)


class Dispatcher:
    """Jobs to findings: in this process (one job, or jobs=1), else in a process pool."""

    def __init__(self, knowledge: Knowledge, jobs: int, on_done: Any = None):
        self.knowledge = knowledge
        self.engine = knowledge.checks
        self.jobs = max(1, jobs)
        self.on_done = on_done or (lambda phase, n: None)
        self.pending: Job | None = None
        self.pool: Any = None
        self.in_flight: list[tuple[Job, Any]] = []
        self.local: _BatchRunner | None = None
        self.findings: list[Finding] = []
        self.held: dict[str, list[Record]] = {}  # patient -> its claims, compressed
        self.tentative: dict[str, list[Finding]] = {}  # patient -> phase-1 cross-claim findings
        self.patients: dict[int, list[str]] = {}  # id(batch) -> patient of each record

    def submit(self, job: Job, patients: list[str | None]) -> None:
        self.patients[id(job[1])] = patients  # type: ignore[assignment]
        if self.jobs == 1:
            self._done(job, self._local_run(job))
            return
        if self.pool is None and self.pending is None:
            self.pending = job  # maybe the only job: no pool for it
            return
        if self.pool is None:
            import multiprocessing as mp

            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else methods[0])
            payload = self.knowledge.payload()
            self.pool = ctx.Pool(self.jobs, initializer=_init_worker, initargs=(payload,))
            assert self.pending is not None
            self._send(self.pending)
            self.pending = None
        self._send(job)

    def _send(self, job: Job) -> None:
        while len(self.in_flight) >= self.jobs * MAX_IN_FLIGHT:
            self._collect_one()
        self.in_flight.append((job, self.pool.apply_async(_run_in_worker, (job,))))

    def _collect_one(self) -> None:
        job, result = self.in_flight.pop(0)
        self._done(job, result.get())

    def _local_run(self, job: Job) -> Result:
        if self.local is None:
            self.local = _BatchRunner(self.engine)
        return self.local.run(job)

    def _done(self, job: Job, result: Result) -> None:
        phase, batch, _facts = job
        found, tentative, held = result
        self.findings.extend(found)
        patients = self.patients.pop(id(batch))
        for i, f in tentative:
            self.tentative.setdefault(patients[i], []).append(f)
        for i, blob in held:
            r = batch[i]
            record = Record(r.ctx, r.terms, blob, True, r.group)
            self.held.setdefault(patients[i], []).append(record)
        self.on_done(phase, len(batch))

    def settle(self) -> None:
        """After phase 1: a patient with one claim keeps its tentative findings and needs no
        phase 2; the others lose them (phase 2 checks all their claims together)."""
        for patient in list(self.held):
            if len(self.held[patient]) == 1:
                del self.held[patient]
                self.findings.extend(self.tentative.get(patient, ()))
        self.tentative.clear()

    def drain(self) -> None:
        """Wait for every job sent so far (phase 1 must end before phase 2 starts)."""
        if self.pending is not None:
            job, self.pending = self.pending, None
            self._done(job, self._local_run(job))
        while self.in_flight:
            self._collect_one()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def patient_batches(held: dict[str, list[Record]], size: int) -> Iterator[list[Record]]:
    """Each patient's claims whole, packed into batches of about `size` claims (emptying `held`)."""
    from .common import pack

    yield from pack((held.pop(patient) for patient in list(held)), size)


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

    def phase2(self, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.tasks[1], total=self.read)
            self.tasks[2] = self.bar.add_task("patients' claims", total=total)
            self.bar.refresh()

    def validated(self, phase: int, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.tasks[phase], n)
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
) -> list[Finding]:
    """All findings of `claims` under `knowledge` (default: the bundled rules, no code sets),
    as the reference engine gives them; `jobs` processes (default: the cores), `batch_size`
    claims loaded at a time."""
    from ..knowledge import Knowledge
    from .common import finalize

    knowledge = knowledge or Knowledge.bundled()
    engine = knowledge.checks
    jobs = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    size = max(1, batch_size)
    bar = _Progress(progress)
    enricher = Enricher(knowledge.codesets)
    payers = knowledge.payer_categories.keys()
    dispatcher = Dispatcher(knowledge, jobs, bar.validated)
    try:
        batch: list[Record] = []
        patients: list[str | None] = []
        for claim in with_uids(claims):
            bar.claim_read()
            batch.append(encode(claim, payers))
            patients.append(str(claim.patient) if claim.patient not in (None, "") else None)
            if len(batch) >= size:
                dispatcher.submit((1, batch, enricher.facts(batch)), patients)
                batch, patients = [], []
        if batch:
            dispatcher.submit((1, batch, enricher.facts(batch)), patients)
        dispatcher.drain()
        dispatcher.settle()
        if any(cross for _s, _q, cross, _v in engine.queries):
            bar.phase2(sum(len(g) for g in dispatcher.held.values()))
            for group in patient_batches(dispatcher.held, size):
                dispatcher.submit((2, group, enricher.facts(group)), [None] * len(group))
            dispatcher.drain()
        else:
            dispatcher.held.clear()
        return finalize(dispatcher.findings)
    finally:
        dispatcher.close()
        bar.close()
