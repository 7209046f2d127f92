"""Validation of realistic claims at scale: claims/s and peak RSS (fast engine).

The claims come from tests/realistic.py: many patients with 1-30 claims, 1-6 lines, up to 12
diagnoses, about 84 % clean. Each size is written to a temporary JSON file and validated in a
fresh process through `validate_files` (as `claimgraph validate --jobs J` does), so each peak
RSS is its own. Also measures the table of claim ids seen (STRUCT-03) at 2 million claims.

    python benchmarks/realistic_scale.py                  # 100k claims, --jobs 2
    python benchmarks/realistic_scale.py 10000 100000 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2000  # claims/s at 100k on 2 cores with --jobs 2


def _child(path: str, jobs: int) -> None:
    from claimgraph.validation import validate_files

    start = time.perf_counter()
    result = validate_files([path], engine="fast", jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "claims": result.claims,
                "findings": len(result.findings),
                "wall": wall,
                "with_findings": len({f.uid for f in result.findings}),
                "self_kb": me,
                "children_kb": kids,
                "peak_kb": me + max(1, jobs) * kids,
            }
        )
    )


def _ids_child(n: int) -> None:
    from claimgraph.ingest.identity import SeenIds

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen = SeenIds()
    start = time.perf_counter()
    repeats = sum(seen.add(f"1{i % 5000:09d}", f"CLM-{i}") for i in range(n))
    wall = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    print(json.dumps({"n": n, "repeats": repeats, "current": seen.table_bytes, "peak": grown,
                      "wall": wall}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ids", type=int, default=2_000_000, help="claim ids for the table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--ids-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.jobs)
        return
    if args.ids_child:
        _ids_child(args.ids_child)
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from claimgraph.knowledge import Knowledge
    from realistic import write_json

    Knowledge.bundled().checks  # noqa: B018 # build the cache once, outside the timings
    print(f"realistic claims, fast engine, --jobs {args.jobs}")
    print(f"{'claims':>8} {'clean %':>8} {'wall s':>8} {'claims/s':>9} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"realistic-{n}.json"
            write_json(path, n, seed=1)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path), "--jobs", str(args.jobs)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            f = json.loads(out.stdout.strip().splitlines()[-1])
            rate = f["claims"] / f["wall"]
            clean = 100 * (1 - f["with_findings"] / f["claims"])
            print(
                f"{f['claims']:>8} {clean:>8.1f} {f['wall']:>8.2f} {rate:>9.0f} "
                f"{f['peak_kb'] / 1024:>12.0f}   (main {f['self_kb'] / 1024:.0f} MB, largest "
                f"worker {f['children_kb'] / 1024:.0f} MB; target >= {TARGET} claims/s)"
            )
    out = subprocess.run([sys.executable, __file__, "--ids-child", str(args.ids)],
                         check=True, capture_output=True, text=True)  # fmt: skip
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"claim ids seen (STRUCT-03) at {ids['n']:,} claims: table {ids['current'] / 2**20:.0f}"
        f" MB, RSS grew {ids['peak'] / 2**20:.0f} MB (while growing), "
        f"{ids['wall'] / ids['n'] * 1e6:.1f} us a claim"
    )


if __name__ == "__main__":
    main()
