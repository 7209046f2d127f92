"""How fast the bundled ICD index answers: open, one lookup, status on a date, a title.

Times, in a fresh process, the first `icd.status` (import and memory map included), then the
median cost of `icd.find` (bisection), `icd.status` (spans and release in force, per call),
`icd.status` of a header (with its billable children) and `icd.find` with a title to
decompress, over many calls; and the enrichment facts of one diagnosis
(`icdfacts.diagnosis_facts`, uncached).

    python benchmarks/icd_lookup.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

FIRST = (
    "import time; t = time.perf_counter(); from claimgraph import icd; "
    "icd.status('M54.5', '2021-06-01'); print(time.perf_counter() - t)"
)


def per_call(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    """Median of 5 rounds of `calls` calls, in microseconds per call."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    first = [float(subprocess.check_output([sys.executable, "-c", FIRST])) for _ in range(5)]
    print(
        f"first status in a fresh process (import + map)  {statistics.median(first) * 1e3:7.1f} ms"
    )

    from claimgraph import icd, icdfacts

    codes = [c for c, _b, _t in icd.entries()][::97]
    n = iter(range(10**9))

    def find() -> None:
        icd._spans(codes[next(n) % len(codes)], "icd10cm")

    def status() -> None:
        icd.status(codes[next(n) % len(codes)], "2022-01-05")

    def titled() -> None:
        icd.find(codes[next(n) % len(codes)])

    def facts() -> None:
        icdfacts.diagnosis_facts.__wrapped__(
            f"{icdfacts._NAMESPACE['icd10cm']}{codes[next(n) % len(codes)]}"
        )

    calls = args.calls
    print(f"lookup of a code's spans (icd bisection)           {per_call(find, calls):7.1f} us")
    print(f"status on a date (spans + release in force)        {per_call(status, calls):7.1f} us")
    print(
        f"status of a header (children listed): M54.5        "
        f"{per_call(lambda: icd.status('M54.5', '2022-01-05'), calls):7.1f} us"
    )
    print(f"entry with its title (block decompress, cached)    {per_call(titled, calls):7.1f} us")
    print(
        f"enrichment facts of one diagnosis (uncached)       {per_call(facts, calls // 10):7.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
