"""Validation at scale: claims/s, wall seconds and peak RSS of the fast engine.

Generates N claims (tests/synthetic.py: copies of every rule's pass/fail scenarios,
plus patients with many 97112 visits, a patient's claims spread over the file), writes them to
a temporary JSON file and validates it through the same code path as `claimgraph validate
--engine fast --jobs J`, in a fresh process per size so each peak RSS is its own. Also times
one claim end to end (`claimgraph validate examples/clean.json`).

    python benchmarks/validate_scale.py                 # 1k, 10k, 100k
    python benchmarks/validate_scale.py 1000 10000 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"claims_per_s": 2000, "wall_100k_s": 60, "rss_mb": 1024, "one_claim_s": 1.5}


def _one_size(path: str, jobs: int) -> None:
    """Child process: validate `path` like the CLI does and print a JSON line of figures."""
    from claimgraph.validation import validate_files

    start = time.perf_counter()
    result = validate_files([path], engine="fast", jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    # main process + each worker at its own peak (an upper bound of what ran at once)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + max(1, jobs) * (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(json.dumps({"claims": result.claims, "findings": len(result.findings), "wall": wall,
                      "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                      "peak_kb": peak_kb}))  # fmt: skip


def run_size(n: int, jobs: int, folder: Path) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from synthetic import write_json  # the generator lives with the rule fixtures it clones

    path = folder / f"claims-{n}.json"
    write_json(path, n, seed=1)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--jobs", str(jobs)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    total = time.perf_counter() - start  # includes interpreter start-up and imports
    path.unlink()
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process_wall"] = total
    return figures


def one_claim() -> float:
    """Wall seconds of `claimgraph validate examples/clean.json` (best of 3, warm cache)."""
    exe = Path(sys.executable).with_name("claimgraph")
    example = str(ROOT / "examples" / "clean.json")
    cmd = [str(exe) if exe.exists() else "claimgraph", "validate", example,
           "--engine", "fast", "--quiet", "--format", "json"]  # fmt: skip
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10_000, 100_000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _one_size(args.child, args.jobs)
        return
    from claimgraph.knowledge import Knowledge

    assert Knowledge.bundled().checks.queries  # build the cache once, outside the timings
    print(f"fast engine, --jobs {args.jobs}, {os.cpu_count()} cores")
    print(f"{'claims':>8} {'findings':>9} {'wall s':>8} {'claims/s':>9} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        for n in args.sizes:
            f = run_size(n, args.jobs, Path(tmp))
            rate = f["claims"] / f["wall"] if f["wall"] else 0.0
            rss = f["peak_kb"] / 1024
            print(f"{f['claims']:>8} {f['findings']:>9} {f['wall']:>8.2f} {rate:>9.0f} {rss:>12.0f}"
                  f"   (process {f['process_wall']:.2f} s; main {f['self_kb'] / 1024:.0f} MB,"
                  f" largest worker {f['children_kb'] / 1024:.0f} MB)")  # fmt: skip
    print(f"1 claim end to end (claimgraph validate examples/clean.json): {one_claim():.2f} s")
    print("targets: 100k < 60 s wall, >= 2,000 claims/s, peak RSS < 1 GB, 1 claim < 1.5 s")


if __name__ == "__main__":
    main()
