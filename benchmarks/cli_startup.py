"""How long short `claimgraph` commands take, end to end, in a fresh process.

Median of 5 runs of `claimgraph --help` (target < 0.3 s), `claimgraph code E1392`
(target < 1.5 s) and a diagnosis code as of a date, `claimgraph code M54.5 --on 2021-06-01`
and `claimgraph code R05.9 --on 2021-06-01` (a code only the bundled ICD releases know; target
< 0.5 s). The first `code` run may build the graph cache; it is not counted.

    python benchmarks/cli_startup.py [--runs 5] [--exe path/to/claimgraph]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = [
    (["--help"], 0.3),
    (["code", "E1392"], 1.5),
    (["code", "M54.5", "--on", "2021-06-01"], 0.5),
    (["code", "R05.9", "--on", "2021-06-01"], 0.5),
]


def claimgraph_exe() -> str:
    beside = Path(sys.executable).with_name("claimgraph")
    return str(beside) if beside.exists() else (shutil.which("claimgraph") or "claimgraph")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[:200]}"
        )
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exe", default=claimgraph_exe())
    args = parser.parse_args()
    slow = False
    for argv, target in CASES:
        cmd = [args.exe, *argv]
        timed(cmd)  # warm-up: file cache, graph cache
        times = [timed(cmd) for _ in range(args.runs)]
        median = statistics.median(times)
        verdict = "ok" if median < target else "SLOW"
        slow |= median >= target
        print(
            f"{'claimgraph ' + ' '.join(argv):45s} median {median:.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)  "
            f"target < {target} s: {verdict}"
        )
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
