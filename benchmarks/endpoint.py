"""`validate --endpoint` against a local `oxigraph serve`, beside the embedded fast engine.

Generates N claims (tests/synthetic.py), validates the JSON file with the embedded fast engine
(`--jobs J`), then starts `oxigraph serve` on a free loopback port with a fresh data folder
(the binary of the `oxigraph` PyPI package, as tests/oxigraph_server.py finds it), puts the same
claims' RDF into a named graph (setup, timed apart) and runs `validate --endpoint` on it (`J`
queries at a time). Prints both wall times, their ratio, and whether the findings agree.

    python benchmarks/endpoint.py                     # 10k claims
    python benchmarks/endpoint.py 2000 10000 --jobs 1
    python benchmarks/endpoint.py 2000 --standard     # standard SPARQL 1.1, without LATERAL
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAPH = "https://example.org/benchmark/claims"
TARGET_RATIO = 5.0


@contextlib.contextmanager
def oxigraph_serve(folder: Path) -> Iterator[str]:
    sys.path.insert(0, str(ROOT / "tests"))
    import urllib.request

    from oxigraph_server import free_port, oxigraph_binary

    binary = oxigraph_binary()
    if binary is None:
        sys.exit("the oxigraph server binary is not installed (pip install oxigraph)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (folder / "data").mkdir(parents=True)
    with (folder / "oxigraph.log").open("wb") as log:
        proc = subprocess.Popen(
            [binary, "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            for _ in range(200):
                with contextlib.suppress(OSError):
                    opener.open(url + "/query?query=ASK%7B%7D", timeout=1).close()
                    break
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def one_size(n: int, jobs: int, standard: bool, folder: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from claimgraph.engine import endpoint
    from claimgraph.engine.common import with_uids
    from claimgraph.engine.ntriples import claim_ntriples
    from claimgraph.ingest import read_claims
    from claimgraph.remote import put_graph
    from claimgraph.validation import validate_endpoint, validate_files
    from synthetic import write_json

    path = folder / f"claims-{n}.json"
    write_json(path, n, seed=1)
    start = time.perf_counter()
    local = validate_files([path], engine="fast", jobs=jobs, progress=False)
    embedded = time.perf_counter() - start
    with oxigraph_serve(folder / f"server-{n}") as url:
        start = time.perf_counter()
        text = "".join(claim_ntriples(c) for c in with_uids(read_claims([path])))
        put_graph(url, GRAPH, text.encode("utf-8"), timeout=3600)
        setup = time.perf_counter() - start
        if standard:
            endpoint.accepts_lateral = lambda url, timeout: False  # type: ignore[assignment]
        start = time.perf_counter()
        remote = validate_endpoint(url, GRAPH, timeout=3600, jobs=jobs)
        served = time.perf_counter() - start
    same = sorted((f.claim, f.line, f.rule) for f in local.findings) == sorted(
        (f.claim, f.line, f.rule) for f in remote.findings
    )
    ratio = served / embedded if embedded else 0.0
    print(f"{n:>8} {len(local.findings):>9} {embedded:>11.2f} {served:>11.2f} {ratio:>6.1f}x"
          f" {'yes' if same else 'NO':>5}   (loading the graph: {setup:.1f} s)")  # fmt: skip
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--standard", action="store_true", help="force standard SPARQL 1.1")
    args = parser.parse_args()
    from claimgraph.knowledge import Knowledge

    Knowledge.bundled().checks  # noqa: B018 # build the cache once, outside the timings
    form = "standard SPARQL 1.1" if args.standard else "LATERAL where the server has it"
    print(f"--jobs {args.jobs}, {os.cpu_count()} cores, endpoint queries: {form}")
    print(f"{'claims':>8} {'findings':>9} {'embedded s':>11} {'endpoint s':>11} {'ratio':>7}"
          f" {'same':>5}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        for n in args.sizes:
            one_size(n, args.jobs, args.standard, Path(tmp))
    print(f"target: endpoint within {TARGET_RATIO:g}x of embedded at 10k claims")


if __name__ == "__main__":
    main()
