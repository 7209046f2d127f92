"""Running the compiled checks on batches: in this process or in worker processes that the
main process can kill when the run's deadline passes (`validate --timeout`).

A job is (number, records, enrichment facts, core): the first `core` records are the claims
the batch reports on; the others are context (claims of the same patient within the
cross-claim window, reported by their own batch), loaded so the cross-claim rules see them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from ..errors import ClaimgraphError
from ..findings import Finding
from .common import fill_template, focus_index, run_finding

if TYPE_CHECKING:
    from ..knowledge import Knowledge
    from .fast import Engine, Record

MAX_IN_FLIGHT = 2  # batches queued per worker process
Job = tuple[int, list["Record"], bytes, int]  # (number, records, enrichment facts, core)


class ValidationTimeout(ClaimgraphError):
    """The run passed its deadline (`validate --timeout`): exit 2, naming batch and rule."""


class BatchRunner:
    """Runs every check on one batch: knowledge graph + the batch's claims and facts."""

    def __init__(self, engine: Engine, state: Any = None, slot: int = 0):
        import pyoxigraph as ox

        self.ox = ox
        self.engine = engine
        self.state, self.slot = state, slot  # shared (batch, check) being run, for timeouts
        # conditions of the run (cg:reportedPerRun) this runner has reported: one finding
        # for the run whatever the batch, so their checks need not run again
        self.reported: set[str] = set()

    def run(self, job: Job) -> list[Finding]:
        ox = self.ox
        number, batch, facts, core = job
        text = b"".join(r.nt for r in batch)
        # A new store per batch (~5 ms for the knowledge graph): an Oxigraph in-memory store
        # emptied with remove/clear_graph keeps growing and slows down batch after batch
        # (benchmarks/oxigraph_load.py compares the ways).
        store = ox.Store()
        store.load(self.engine.kg_nt + text + facts, format=ox.RdfFormat.N_TRIPLES)
        try:
            index = focus_index(r.ctx for r in batch[:core])  # context claims: no findings
            found: list[Finding] = []
            for k, (shape, query, _cross, project) in enumerate(self.engine.queries):
                if self.state is not None:
                    self.state[2 * self.slot], self.state[2 * self.slot + 1] = number, k
                e = self.engine.entries[shape]
                if e.per_run and shape in self.reported:
                    continue
                rows = cast(Iterable[Any], store.query(query))
                if e.per_run:  # a condition of the run (cg:reportedPerRun): one finding
                    if any(isinstance(row[0], ox.NamedNode) and row[0].value in index
                           for row in rows):  # fmt: skip
                        found.append(run_finding(e.rule, e.severity, e.message, e.source))
                        self.reported.add(shape)
                    continue
                for row in rows:
                    focus = row[0]
                    pos = index.get(focus.value) if isinstance(focus, ox.NamedNode) else None
                    if pos is None:
                        continue  # not a claim or line this batch reports on
                    ctx, line = pos
                    message, bound = e.message, cast(tuple[tuple[str, str], ...], ())
                    if project:
                        values = {v: row[v].value for v in project if row[v] is not None}
                        message = fill_template(e.message, values)
                        bound = tuple(sorted(values.items()))
                    found.append(ctx.finding(line, e.rule, e.severity, message, e.source, bound))
            return found
        finally:
            del store


_worker: BatchRunner | None = None


def _init_worker(payload: bytes, state: Any, slots: Any) -> None:
    """A worker's engine, from the knowledge payload the parent sent (`Knowledge.payload`)."""
    global _worker
    from ..knowledge import Knowledge

    with slots.get_lock():
        slot = slots.value
        slots.value += 1
    _worker = BatchRunner(Knowledge.from_payload(payload).checks, state, slot % (len(state) // 2))


def _run_in_worker(job: Job) -> list[Finding]:
    assert _worker is not None
    return _worker.run(job)


class Dispatcher:
    """Jobs to findings: in this process (one job, or jobs=1 without a deadline), else in a
    process pool; `deadline` (time.monotonic() value) ends the run with ValidationTimeout."""

    def __init__(self, knowledge: Knowledge, jobs: int, on_done: Any = None,
                 deadline: float | None = None) -> None:  # fmt: skip
        self.knowledge = knowledge
        self.engine = knowledge.checks
        self.jobs = max(1, jobs)
        self.on_done = on_done or (lambda n: None)
        self.deadline = deadline
        self.pending: Job | None = None
        self.pool: Any = None
        self.state: Any = None
        self.in_flight: list[tuple[Job, Any]] = []
        self.local: BatchRunner | None = None
        self.findings: list[Finding] = []
        self.sent = 0

    def submit(self, records: list[Record], facts: bytes, core: int | None = None) -> None:
        self.sent += 1
        job: Job = (self.sent, records, facts, len(records) if core is None else core)
        if self.jobs == 1 and self.deadline is None:
            self._done(job, self._local_run(job))
            return
        if self.pool is None and self.pending is None and self.deadline is None:
            self.pending = job  # maybe the only job: no pool for it
            return
        if self.pool is None:
            self._start_pool()
            if self.pending is not None:
                self._send(self.pending)
                self.pending = None
        self._send(job)

    def warm(self) -> None:
        """Start the worker processes now, while this process is still small (a fork copies
        its heap), when the input holds more than one batch."""
        if self.pool is None and self.jobs > 1:
            self._start_pool()
            if self.pending is not None:
                self._send(self.pending)
                self.pending = None

    def _start_pool(self) -> None:
        import multiprocessing as mp

        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else methods[0])
        payload = self.knowledge.payload()
        self.state = ctx.RawArray("i", 2 * self.jobs)
        slots = ctx.Value("i", 0)
        self.pool = ctx.Pool(
            self.jobs, initializer=_init_worker, initargs=(payload, self.state, slots)
        )

    def _send(self, job: Job) -> None:
        while len(self.in_flight) >= self.jobs * MAX_IN_FLIGHT:
            self._collect_one()
        self.in_flight.append((job, self.pool.apply_async(_run_in_worker, (job,))))

    def _collect_one(self) -> None:
        import multiprocessing as mp

        job, result = self.in_flight.pop(0)
        if self.deadline is None:
            found = result.get()
        else:
            try:
                found = result.get(timeout=max(0.0, self.deadline - time.monotonic()))
            except mp.TimeoutError:
                raise self._overrun(job) from None
        self._done(job, found)

    def _overrun(self, job: Job) -> ValidationTimeout:
        """The error naming the batch the run waited for and the check it was running."""
        number, records, _facts, _core = job
        rule = "?"
        state = self.state
        for s in range(self.jobs):
            if state is not None and state[2 * s] == number:
                shape = self.engine.queries[state[2 * s + 1]][0]
                rule = self.engine.entries[shape].rule
        first = records[0].ctx.claim if records else "?"
        self.close()  # kill the workers now
        return ValidationTimeout(
            f"validation timed out (--timeout): batch {number} ({len(records)} claims, "
            f"the first {first}) was still running rule {rule}"
        )

    def _local_run(self, job: Job) -> list[Finding]:
        if self.local is None:
            self.local = BatchRunner(self.engine)
        return self.local.run(job)

    def _done(self, job: Job, found: list[Finding]) -> None:
        self.findings.extend(found)
        self.on_done(job[3])

    def drain(self) -> None:
        """Wait for every job sent so far."""
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
