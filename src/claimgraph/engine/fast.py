"""The fast engine: the compiled checks (compile.py) over pyoxigraph, batch by batch.

- The knowledge graph (ontology + shapes) as N-Triples, the compiled checks and the rulebook
  entries come from a cache built on first use (user cache folder, keyed by a hash of the
  bundled files and the code), so a run parses no Turtle.
- Claims become N-Triples text straight from `ClaimData` (ntriples.py), never through rdflib.
- Batches: a claim without a patient goes to the next batch as it is read; the claims of a
  patient are held (as zlib-compressed N-Triples once the held text passes `HOLD_RAW`) until
  the input ends, then packed into batches whole, so cross-claim rules (NMR-02, ENS-06) see
  all of a patient's claims however far apart they are in the input. Nothing goes to disk.
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
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..findings import Finding
from ..ingest.model import ClaimData
from .ntriples import claim_ntriples

BATCH = 500  # claims per batch
HOLD_RAW = 64 << 20  # bytes of held claim text kept uncompressed before compressing the rest
MAX_IN_FLIGHT = 2  # batches queued per worker process
CACHE_FORMAT = "1"


# --------------------------------------------------------------------------------------------
# The engine state: knowledge graph, checks, rulebook entries (cached)


@dataclass(frozen=True)
class Entry:
    """What a finding of one shape says (from the rulebook)."""

    rule: str
    severity: str
    message: str
    source: str


@dataclass(frozen=True)
class Engine:
    kg_nt: bytes  # ontology + shapes, N-Triples
    queries: tuple[tuple[str, str], ...]  # (source shape IRI, query)
    entries: dict[str, Entry]  # source shape IRI -> what its findings say


def _fingerprint() -> str:
    from ..resources import turtle_files

    h = hashlib.sha256(f"{__version__}/{CACHE_FORMAT}".encode())
    for name in ("ontology", "shapes"):
        for path in turtle_files(name):
            h.update(f"{name}/{path.name}\0".encode())
            h.update(path.read_bytes())
    here = Path(__file__).resolve().parent
    for code in ("compile.py", "common.py", "fast.py"):
        with contextlib.suppress(OSError):
            h.update((here / code).read_bytes())
    return h.hexdigest()[:20]


def build_engine() -> Engine:
    """Compile the shapes and serialise the knowledge graph (rdflib; what the cache saves)."""
    from ..kg import knowledge_graph, shapes_graph
    from .common import rulebook
    from .compile import compile_shapes, lateral_exists, validate_queries

    kg = knowledge_graph()
    checks = compile_shapes(kg, shapes_graph())
    validate_queries(checks)
    book = rulebook()
    entries = {}
    for iri, e in book.shapes.items():
        entries[str(iri)] = Entry(e.rule.id, e.severity, e.message, e.rule.source)
    # pyshacl reports a finding under the shape it comes from; the reference keeps only shapes
    # of the rulebook (rules and their named parts), so do the same.
    queries = tuple((c.shape, lateral_exists(c.query)) for c in checks if c.shape in entries)
    kg_nt = kg.serialize(format="nt", encoding="utf-8")
    return Engine(kg_nt, queries, entries)


def cache_path() -> Path:
    from ..icd import cache_dir

    return cache_dir() / f"engine-{_fingerprint()}.json"


def _write_cache(path: Path, engine: Engine) -> None:
    data = {
        "queries": [list(q) for q in engine.queries],
        "entries": {k: [e.rule, e.severity, e.message, e.source] for k, e in engine.entries.items()},
        "kg_nt": engine.kg_nt.decode("utf-8"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".engine-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    for old in path.parent.glob("engine-*.json"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()


@cache
def load_engine() -> Engine:
    """The engine from the cache, building (and caching) it on first use."""
    path = cache_path()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(path.read_text(encoding="utf-8"))
        return Engine(
            data["kg_nt"].encode("utf-8"),
            tuple((s, q) for s, q in data["queries"]),
            {k: Entry(*v) for k, v in data["entries"].items()},
        )
    engine = build_engine()
    with contextlib.suppress(OSError):  # a read-only cache folder only costs speed
        _write_cache(path, engine)
    return engine


# --------------------------------------------------------------------------------------------
# Claims as compact records, batches


@dataclass(slots=True)
class Record:
    """One claim, ready to load: its N-Triples (maybe compressed) and its finding index."""

    key: str
    codes: tuple[str | None, ...]  # procedure code of each line, as billed
    terms: tuple[str, ...]  # code, modifier and diagnosis IRIs (for the enrichment facts)
    nt: bytes
    compressed: bool


def _terms(claim: ClaimData) -> tuple[str, ...]:
    from ..namespaces import diagnosis_iri, modifier_iri, procedure_code_iri

    out = []
    for line in claim.lines:
        if isinstance(line.code, str) and line.code.strip():
            out.append("p" + procedure_code_iri(line.code.strip().upper()))
        out += ["m" + modifier_iri(m) for m in line.modifiers if isinstance(m, str) and m.strip()]
    out += ["d" + diagnosis_iri(code, system) for system, code in claim.diagnoses]
    return tuple(out)


def _codes(claim: ClaimData) -> tuple[str | None, ...]:
    return tuple(
        ln.code.strip().upper() if isinstance(ln.code, str) and ln.code.strip() else None
        for ln in claim.lines
    )


def _patient(claim: ClaimData) -> str | None:
    p = claim.patient
    return str(p) if p not in (None, "") else None


class Batcher:
    """Claims in, batches out: patients' claims held whole until the end of the input."""

    def __init__(self, size: int = BATCH):
        self.size = max(1, size)
        self.free: list[Record] = []
        self.held: dict[str, list[Record]] = {}
        self.held_raw = 0

    def add(self, claim: ClaimData) -> list[Record] | None:
        nt = claim_ntriples(claim).encode("utf-8")
        patient = _patient(claim)
        compressed = False
        if patient is not None:
            if self.held_raw > HOLD_RAW:
                nt, compressed = zlib.compress(nt, 1), True
            else:
                self.held_raw += len(nt)
        rec = Record(claim.key, _codes(claim), _terms(claim), nt, compressed)
        if patient is not None:
            self.held.setdefault(patient, []).append(rec)
            return None
        self.free.append(rec)
        if len(self.free) >= self.size:
            batch, self.free = self.free, []
            return batch
        return None

    def finish(self) -> Iterator[list[Record]]:
        """The remaining batches: each patient's claims together, in first-seen order."""
        batch = self.free
        self.free = []
        for patient in list(self.held):
            group = self.held.pop(patient)
            if batch and len(batch) + len(group) > self.size:
                yield batch
                batch = []
            batch.extend(group)
        if batch:
            yield batch


class Enricher:
    """The enrichment facts (common.enrichment) of a batch's codes, as N-Triples, memoised."""

    def __init__(self) -> None:
        self.known: dict[str, list[str]] = {}
        self.common: set[str] = set()

    def facts(self, batch: list[Record]) -> bytes:
        terms = {t for r in batch for t in r.terms}
        new = [t for t in terms if t[1:] not in self.known]
        if new:
            self._learn(new)
        lines = set(self.common)
        for t in terms:
            lines.update(self.known[t[1:]])
        return "".join(sorted(lines)).encode("utf-8")

    def _learn(self, terms: list[str]) -> None:
        from rdflib import Graph, URIRef

        from ..namespaces import CG
        from .common import enrichment

        g = Graph()
        holder = URIRef("urn:claimgraph:enrichment")
        prop = {"p": CG.procedureCode, "m": CG.modifier, "d": CG.hasDiagnosis}
        for t in terms:
            g.add((holder, prop[t[0]], URIRef(t[1:])))
            self.known[t[1:]] = []
        for s, p, o in enrichment(g):
            line = f"{s.n3()} {p.n3()} {o.n3()} .\n"
            if str(s) in self.known:
                self.known[str(s)].append(line)
            else:
                self.common.add(line)


# --------------------------------------------------------------------------------------------
# Running checks on a batch (in this process or in a worker)

_worker: _BatchRunner | None = None


class _BatchRunner:
    """A store holding the knowledge graph; each batch goes into a named graph and out again."""

    def __init__(self, engine: Engine):
        import pyoxigraph as ox

        self.ox = ox
        self.engine = engine
        self.store = ox.Store()
        self.store.load(engine.kg_nt, format=ox.RdfFormat.N_TRIPLES, lenient=True)
        self.graph = ox.NamedNode("urn:claimgraph:batch")
        self.default = [ox.DefaultGraph(), self.graph]

    def run(self, batch: list[Record], facts: bytes) -> list[Finding]:
        from ..namespaces import claim_iri

        ox = self.ox
        text = b"".join(zlib.decompress(r.nt) if r.compressed else r.nt for r in batch)
        self.store.load(text + facts, format=ox.RdfFormat.N_TRIPLES, lenient=True, to_graph=self.graph)
        try:
            index: dict[str, tuple[str, int | None, str | None]] = {}
            for r in batch:
                c = str(claim_iri(r.key))
                index[c] = (r.key, None, None)
                for n, code in enumerate(r.codes, start=1):
                    index[f"{c}/line/{n}"] = (r.key, n, code)
            out: list[Finding] = []
            for shape, query in self.engine.queries:
                e = self.engine.entries[shape]
                for row in self.store.query(query, default_graph=self.default):
                    focus = row[0]
                    pos = index.get(focus.value) if isinstance(focus, ox.NamedNode) else None
                    if pos is None:
                        continue  # not a claim or line of this batch
                    out.append(Finding(pos[0], pos[1], e.rule, e.severity, pos[2], e.message, e.source))
            return out
        finally:
            self.store.clear_graph(self.graph)


def _init_worker() -> None:
    global _worker
    _worker = _BatchRunner(load_engine())


def _run_in_worker(batch: list[Record], facts: bytes) -> list[Finding]:
    assert _worker is not None
    return _worker.run(batch, facts)


class Dispatcher:
    """Batches to findings: in this process for one batch or one job, else a process pool."""

    def __init__(self, engine: Engine, jobs: int, on_done: Any = None):
        self.engine = engine
        self.jobs = max(1, jobs)
        self.on_done = on_done or (lambda n: None)
        self.pending: tuple[list[Record], bytes] | None = None
        self.pool: Any = None
        self.in_flight: list[tuple[int, Any]] = []
        self.local: _BatchRunner | None = None
        self.findings: list[Finding] = []

    def submit(self, batch: list[Record], facts: bytes) -> None:
        if self.jobs == 1:
            self._run_local(batch, facts)
            return
        if self.pool is None and self.pending is None:
            self.pending = (batch, facts)  # maybe the only batch: no pool for it
            return
        if self.pool is None:
            import multiprocessing as mp

            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else methods[0])
            self.pool = ctx.Pool(self.jobs, initializer=_init_worker)
            assert self.pending is not None
            self._send(*self.pending)
            self.pending = None
        self._send(batch, facts)

    def _send(self, batch: list[Record], facts: bytes) -> None:
        while len(self.in_flight) >= self.jobs * MAX_IN_FLIGHT:
            self._collect_one()
        self.in_flight.append((len(batch), self.pool.apply_async(_run_in_worker, (batch, facts))))

    def _collect_one(self) -> None:
        n, result = self.in_flight.pop(0)
        self.findings.extend(result.get())
        self.on_done(n)

    def _run_local(self, batch: list[Record], facts: bytes) -> None:
        if self.local is None:
            self.local = _BatchRunner(self.engine)
        self.findings.extend(self.local.run(batch, facts))
        self.on_done(len(batch))

    def close(self) -> list[Finding]:
        try:
            if self.pending is not None:
                self._run_local(*self.pending)
                self.pending = None
            while self.in_flight:
                self._collect_one()
        finally:
            if self.pool is not None:
                self.pool.terminate()
                self.pool.join()
        return self.findings


# --------------------------------------------------------------------------------------------


class _Progress:
    """A progress bar on stderr for long runs; nothing when stderr is not a terminal."""

    def __init__(self, enabled: bool):
        self.bar: Any = None
        self.read = self.done = 0
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TextColumn("claims"),
                TimeElapsedColumn(), console=Console(stderr=True), auto_refresh=False, transient=True,
            )  # fmt: skip
            self.task = self.bar.add_task("validate", total=None)
            self.bar.start()

    def claim_read(self) -> None:
        self.read += 1
        if self.bar is not None and self.read % 1000 == 0:
            self.bar.update(self.task, completed=self.done, total=self.read)
            self.bar.refresh()

    def validated(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, total=max(self.read, self.done))
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def validate_claims(
    claims: Iterable[ClaimData],
    *,
    jobs: int | None = None,
    progress: bool = False,
    batch_size: int = BATCH,
) -> list[Finding]:
    """All findings of `claims` (same as the reference engine), `jobs` processes (default: cores)."""
    from .common import finalize

    engine = load_engine()
    jobs = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    bar = _Progress(progress)
    batcher = Batcher(batch_size)
    enricher = Enricher()
    dispatcher = Dispatcher(engine, jobs, bar.validated)
    try:
        for claim in claims:
            bar.claim_read()
            batch = batcher.add(claim)
            if batch:
                dispatcher.submit(batch, enricher.facts(batch))
        for batch in batcher.finish():
            dispatcher.submit(batch, enricher.facts(batch))
        return finalize(dispatcher.close())
    finally:
        if dispatcher.pool is not None:
            dispatcher.pool.terminate()
        bar.close()
