"""Bounded runs of user-supplied queries: a child process with a wall-clock, row and memory limit.

rdflib has no query timeout and neither its parser nor its evaluation can be interrupted from a
thread (a regular expression with catastrophic backtracking holds the interpreter; a query with
a 200,000-value VALUES block takes minutes to parse), so `run_query` parses, checks and
evaluates the query in a child process (fork where available, else spawn; the child loads the
knowledge graph itself from the cache) and kills it when the time is up. The child also gets an
address space limit (`resource.RLIMIT_AS`, `MEMORY_HEADROOM` above what it starts with), so a
query that grows strings or solutions without bound fails with MemoryError there instead of
exhausting the machine. The parent only receives a complete result: on any failure nothing
has been printed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError, InternalError, QueryError

if TYPE_CHECKING:
    from .knowledge import Knowledge
    from .query import Param, QueryResult

DEFAULT_TIMEOUT = 30.0  # seconds
DEFAULT_MAX_ROWS = 10_000
MEMORY_HEADROOM = 1 << 30  # bytes of address space a query child may add to what it starts with

_ERRORS: dict[str, type[ClaimgraphError]] = {
    "ClaimgraphError": ClaimgraphError,
    "QueryError": QueryError,
    "InternalError": InternalError,
}


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    # fork is fast (no re-import); macOS lists it but it is unsafe there
    method = "fork" if "fork" in methods and sys.platform != "darwin" else "spawn"
    return multiprocessing.get_context(method)


def _limit_memory(headroom: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + headroom
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no resource module: the wall-clock limit still holds


def _child(
    conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], headroom: int, armed: bool
) -> None:
    """Run `fn(*args)` and send ("ok", result) or ("error", ...) to the parent."""
    from . import netguard
    from .privacy import quiet_libraries

    if armed and not netguard.armed():  # spawn: a fresh interpreter
        netguard.arm()
    quiet_libraries()
    _limit_memory(headroom)
    try:
        message: tuple[Any, ...] = ("ok", fn(*args))
    except ClaimgraphError as e:
        message = ("error", type(e).__name__, e.message, e.path, e.position)
    except RecursionError:
        message = ("error", "QueryError", "the query is nested too deeply to evaluate", None, None)
    except MemoryError:
        message = ("memory",)
    except Exception as e:  # an evaluation failure: its type only, never its text
        message = ("failed", type(e).__name__)
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory",))
    except Exception as e:  # an unpicklable result
        conn.send(("failed", type(e).__name__))
    finally:
        conn.close()


def call(
    fn: Callable[..., Any],
    *args: Any,
    timeout: float,
    headroom: int | None = None,
    grace: float = 0.0,
) -> Any:
    """`fn(*args)` in a child process, killed after `timeout` (+ `grace`) seconds; its result
    or an error. `grace` lets a child that keeps the deadline itself report it first.

    `fn` must be a module-level function (spawn pickles it) and its result picklable.
    """
    from . import netguard

    headroom = MEMORY_HEADROOM if headroom is None else headroom
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):  # a forked child must not write our buffers again
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    proc = ctx.Process(
        target=_child, args=(send, fn, args, headroom, netguard.armed()), daemon=True
    )
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout + grace):
            raise QueryError(
                f"the query did not finish within {timeout:g} s and was stopped; "
                "narrow it or raise --timeout"
            )
        try:
            message = receive.recv()
        except (EOFError, OSError):
            proc.join(5)
            raise QueryError(
                f"the query process stopped unexpectedly (exit code {proc.exitcode})"
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receive.close()
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "memory":
        raise QueryError(
            f"the query needs more than {headroom >> 20} MiB of memory and was stopped; narrow it"
        )
    if kind == "failed":
        raise QueryError(f"the query failed while running ({message[1]})")
    _, name, text, path, position = message
    raise _ERRORS.get(name, QueryError)(text, path=path, position=position)


def _evaluate(
    text: str,
    params: Mapping[str, str],
    declared: tuple[Param, ...] | None,
    max_rows: int,
    knowledge: Knowledge | None,
) -> QueryResult:
    """In the child: check and run the query on the knowledge graph, keeping at most max_rows + 1
    rows (CONSTRUCT / DESCRIBE: triples)."""
    from .query import run

    return run(text, params, None, declared, max_rows=max_rows, knowledge=knowledge)


def _evaluate_remote(
    url: str,
    text: str,
    params: Mapping[str, str],
    declared: tuple[Param, ...] | None,
    timeout: float,
) -> QueryResult:
    """In the child: check the query, then send it to the endpoint within `timeout`."""
    from .query import run_remote

    result: QueryResult = run_remote(url, text, params, declared, timeout=timeout)
    return result


def _size_check(result: QueryResult, max_rows: int) -> QueryResult:
    size = len(result.rows) if result.kind == "select" else len(result.graph or ())
    if size > max_rows:
        what = "rows" if result.kind == "select" else "triples"
        raise QueryError(
            f"the query returned more than {max_rows} {what}; add LIMIT or raise --max-rows"
        )
    return result


def run_query(
    text: str,
    params: Mapping[str, str] | None = None,
    declared: tuple[Param, ...] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_rows: int = DEFAULT_MAX_ROWS,
    knowledge: Knowledge | None = None,
) -> QueryResult:
    """`query.run` on `knowledge`'s graph (default: the bundled one) within the limits;
    QueryError past them.

    Parsing and checking (syntax, read-only, no SERVICE/FROM) happen in the child too, so the
    time limit holds for a query that is slow to parse."""
    result: QueryResult = call(
        _evaluate, text, dict(params or {}), declared, max_rows, knowledge, timeout=timeout
    )
    return _size_check(result, max_rows)


def run_remote_query(
    url: str,
    text: str,
    params: Mapping[str, str] | None = None,
    declared: tuple[Param, ...] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> QueryResult:
    """`query.run_remote` in a child process: parsing, checking and the request all end within
    `timeout` (the request has that deadline itself; the child is killed a moment later)."""
    result: QueryResult = call(
        _evaluate_remote, url, text, dict(params or {}), declared, timeout, timeout=timeout, grace=2
    )
    return _size_check(result, max_rows)
