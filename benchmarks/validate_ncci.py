"""Validation with the NCCI tables loaded: import a made-up 2-million-row practitioner PTP table
(4 parts, the CMS layout) and a practitioner MUE table into a temporary store, then validate
100k claims with the fast engine (`--jobs 2`); print the import seconds, the store MB, claims/s
and the peak RSS of all processes; then the same claims with no table loaded, for comparison.

The claims are tests/synthetic.py's (copies of every rule's scenarios, patients' claims spread
over the file) or, with `--generator realistic`, tests/realistic.py's (patients with 1-30
claims, 1-6 lines, up to 12 diagnoses); in about half of them the line codes are redrawn, with
the tables' skew, from the codes the tables use, so the PTP, MUE and add-on edits really fire.
Targets (issue 13): import under 2 minutes and at most 200 MB added to the store; validation
>= 2,000 claims/s, peak RSS < 1 GB.

    python benchmarks/validate_ncci.py [--rows 2000000] [--claims 100000] [--jobs 2]
    python benchmarks/validate_ncci.py --generator realistic
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import cms_synthetic as syn  # noqa: E402

TARGETS = {"import_s": 120, "store_mb": 200, "claims_per_s": 2000, "rss_mb": 1024}


def claimgraph() -> str:
    beside = Path(sys.executable).with_name("claimgraph")
    return str(beside) if beside.exists() else shutil.which("claimgraph") or "claimgraph"


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def write_tables(folder: Path, rows: int, codes: list[str]) -> tuple[list[Path], Path]:
    """The PTP table in 4 parts (split by column-1 code as CMS splits f1..f4) and an MUE file."""
    every = list(syn.ptp_rows(rows, codes))
    parts = []
    quarter = (len(every) + 3) // 4
    for i in range(4):
        path = folder / f"ccipra-v320r0-f{i + 1}.txt"
        syn.write_ptp(path, every[i * quarter : (i + 1) * quarter])
        parts.append(path)
    rng = random.Random(17)
    mue = [
        (c, rng.choice((1, 1, 2, 3, 4, 6, 10)), rng.choice((1, 2, 3, 3, 3)), "Clinical: Data")
        for c in codes
        if rng.random() < 0.6
    ]
    return parts, syn.write_mue(folder, "practitioner", "01-01-2026", mue)


def write_claims(path: Path, n: int, codes: list[str], seed: int = 1,
                 generator: str = "synthetic") -> None:  # fmt: skip
    """The generator's claims; in about half, each line's code redrawn from `codes` with the
    skew of the tables (common codes are common in claims and in column 1), dated 2026Q1."""
    if generator == "realistic":
        from realistic import generate
    else:
        from synthetic import generate

    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(codes))]
    with path.open("w", encoding="utf-8") as f:
        f.write('{"claims": [\n')
        for i, claim in enumerate(generate(n, seed=seed)):
            if rng.random() < 0.5:
                day = f"2026-0{rng.randint(1, 3)}-{rng.randint(1, 28):02d}"
                picks = rng.choices(codes, weights=weights, k=len(claim["lines"]))
                for line, code in zip(claim["lines"], picks, strict=True):
                    line["code"] = code
                    line["service_date"] = day
                    line["units"] = rng.choice((1, 1, 1, 2, 3))
            f.write((",\n" if i else "") + json.dumps(claim, separators=(",", ":")))
        f.write("\n]}\n")


def _child(path: str, jobs: int) -> None:
    """Validate `path` as the CLI does and print a JSON line of figures."""
    from claimgraph.validation import validate_files

    start = time.perf_counter()
    result = validate_files([path], engine="fast", jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ncci = sum(1 for f in result.findings if f.rule.startswith("NCCI"))
    print(json.dumps({"claims": result.claims, "findings": len(result.findings), "ncci": ncci,
                      "wall": wall, "self_kb": own, "children_kb": child,
                      "peak_kb": own + max(1, jobs) * child}))  # fmt: skip


def _validate(claims: Path, jobs: int, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(claims), "--jobs", str(jobs)],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--codes", type=int, default=15_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--generator", choices=("synthetic", "realistic"), default="synthetic")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.jobs)
        return
    import os

    with tempfile.TemporaryDirectory(prefix="claimgraph-ncci-") as tmp:
        folder, store = Path(tmp), Path(tmp) / "store"
        codes = syn.code_pool(args.codes)
        parts, mue = write_tables(folder, args.rows, codes)
        text_mb = sum(p.stat().st_size for p in parts) / 1e6
        env = {**os.environ, "CLAIMGRAPH_STORE": str(store)}
        start = time.perf_counter()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([claimgraph(), "import", "ncci-ptp", *map(str, parts), "--release",
                        "2026Q1"], check=True, env=env, **quiet)  # fmt: skip
        ptp_s = time.perf_counter() - start
        ptp_mb = size_mb(store)
        start = time.perf_counter()
        subprocess.run([claimgraph(), "import", "mue", str(mue)], check=True, env=env, **quiet)
        mue_s = time.perf_counter() - start
        store_mb = size_mb(store)
        print(f"PTP table: {args.rows:,} edits in 4 parts ({text_mb:.0f} MB of text), "
              f"import {ptp_s:.1f} s, store {ptp_mb:.1f} MB")  # fmt: skip
        print(f"MUE table: import {mue_s:.1f} s; store with both tables {store_mb:.1f} MB")
        claims = folder / "claims.json"
        write_claims(claims, args.claims, codes, generator=args.generator)
        # the engine cache
        subprocess.run([sys.executable, "-c", "from claimgraph.knowledge import Knowledge; "
                        "Knowledge.bundled().checks"], check=True, env=env)  # fmt: skip
        f = _validate(claims, args.jobs, env)
        # the same claims with no table loaded, in the same conditions (the machine is shared)
        base = _validate(claims, args.jobs, {**env, "CLAIMGRAPH_STORE": str(folder / "none")})
    rate = f["claims"] / f["wall"] if f["wall"] else 0.0
    print(f"validate: {f['claims']:,} {args.generator} claims, --jobs {args.jobs}: "
          f"{f['wall']:.1f} s, "
          f"{rate:,.0f} claims/s, {f['findings']:,} findings ({f['ncci']:,} NCCI)")  # fmt: skip
    print(f"peak RSS (main + {args.jobs} x largest worker): {f['peak_kb'] / 1024:.0f} MB "
          f"(main {f['self_kb'] / 1024:.0f} MB, largest worker {f['children_kb'] / 1024:.0f} MB)")
    base_rate = base["claims"] / base["wall"] if base["wall"] else 0.0
    print(f"the same claims without tables: {base['wall']:.1f} s, {base_rate:,.0f} claims/s, "
          f"peak RSS {base['peak_kb'] / 1024:.0f} MB")  # fmt: skip
    print("targets: import < {import_s} s, store <= {store_mb} MB, >= {claims_per_s} claims/s, "
          "peak RSS < {rss_mb} MB".format(**TARGETS))


if __name__ == "__main__":
    main()
