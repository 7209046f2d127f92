"""Validation at scale: claims/s, wall seconds and peak RSS of the fast engine.

Generates N claims, writes them to a temporary JSON file and validates it through the same
code path as `claimgraph validate --engine fast --jobs J`, in a fresh process per size so each
peak RSS is its own. Generators: `synthetic` (tests/synthetic.py: copies of every rule's
pass/fail scenarios, patients with many 97112 visits, a patient's claims spread over the file)
and `realistic` (tests/realistic.py: patients with 1-30 claims over months, 1-6 lines and 1-12
diagnoses a claim, about 84 % clean). "RSS all" is the largest sum of the proportional set
sizes (PSS: what a forked worker shares with its parent counted once) of the validating
process and its workers, sampled every 0.1 s from /proc (Linux); "bound" is the main
process's peak resident set plus J times the largest worker's. Also times one claim end to
end (`claimgraph validate examples/clean.json`).

    python benchmarks/validate_scale.py                 # 1k, 10k, 100k synthetic
    python benchmarks/validate_scale.py 100000 1000000 --generator realistic --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
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


def _tree_rss_kb(pid: int) -> int:
    """Memory of `pid` and all its descendants (KB), from /proc: the proportional set size
    (pages shared after a fork counted once), else the resident set; 0 where unreadable."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            try:
                with open(f"/proc/{p}/smaps_rollup", encoding="ascii", errors="replace") as f:
                    total += next(int(x.split()[1]) for x in f if x.startswith("Pss:"))
            except (OSError, StopIteration):
                with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as f:
                    total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_size(n: int, jobs: int, folder: Path, generator: str) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    # the generators live with the rule fixtures they clone
    from realistic import write_json as realistic_json
    from synthetic import write_json as synthetic_json

    path = folder / f"claims-{n}.json"
    (realistic_json if generator == "realistic" else synthetic_json)(path, n, seed=1)
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(path), "--jobs", str(jobs)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(child.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = child.communicate()
    sampler.join()
    total = time.perf_counter() - start  # includes interpreter start-up and imports
    if child.returncode:
        raise SystemExit(f"validation of {n} claims failed (exit {child.returncode})")
    path.unlink()
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["process_wall"] = total
    figures["all_kb"] = peak[0]
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
    parser.add_argument("--generator", choices=("synthetic", "realistic"), default="synthetic")
    parser.add_argument("--no-one-claim", action="store_true", help="skip the one-claim run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _one_size(args.child, args.jobs)
        return
    from claimgraph.knowledge import Knowledge

    assert Knowledge.bundled().checks.queries  # build the cache once, outside the timings
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fast engine, {args.generator} claims, --jobs {args.jobs}, {os.cpu_count()} cores,"
          f" load average {load:.2f}")  # fmt: skip
    print(f"{'claims':>8} {'findings':>9} {'wall s':>8} {'claims/s':>9} {'RSS all MB':>11}"
          f" {'bound MB':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        for n in args.sizes:
            f = run_size(n, args.jobs, Path(tmp), args.generator)
            rate = f["claims"] / f["wall"] if f["wall"] else 0.0
            print(f"{f['claims']:>8} {f['findings']:>9} {f['wall']:>8.2f} {rate:>9.0f}"
                  f" {f['all_kb'] / 1024:>11.0f} {f['peak_kb'] / 1024:>9.0f}"
                  f"   (process {f['process_wall']:.2f} s; main {f['self_kb'] / 1024:.0f} MB,"
                  f" largest worker {f['children_kb'] / 1024:.0f} MB)", flush=True)  # fmt: skip
    if not args.no_one_claim:
        print(f"1 claim end to end (claimgraph validate examples/clean.json): {one_claim():.2f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end {load:.2f}")
    print(
        "targets: >= 5,000 claims/s at 100k and 1M (realistic, --jobs 2), peak RSS < 1 GB"
        " (all processes) up to 2M, 1 claim < 1.5 s"
    )


if __name__ == "__main__":
    main()
