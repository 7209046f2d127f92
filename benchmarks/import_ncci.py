"""Import a made-up 2-million-row NCCI practitioner PTP table (4 parts, the CMS layout) into a
temporary store; print seconds, the MB it adds to the store and the per-batch lookup time.

Targets (issue 13): import under 2 minutes, at most 200 MB added to the store, the facts of a
batch of ~300 claims well under 5 ms with the table loaded.

    python benchmarks/import_ncci.py [--rows 2000000] [--codes 15000] [--batches 200]
    python benchmarks/import_ncci.py --rdf-sample 200000   # also: the RDF forms, measured

`--rdf-sample N` loads N edits as RDF quads into a plain Oxigraph store, one quad per attribute
and one compact literal per edit, and prints the size each would need for the whole table
(the figures docs/codesets.md gives for choosing the SQLite table file).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import cms_synthetic as syn  # noqa: E402


def claimgraph() -> str:
    beside = Path(sys.executable).with_name("claimgraph")
    return str(beside) if beside.exists() else shutil.which("claimgraph") or "claimgraph"


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def write_parts(folder: Path, rows: int, codes: list[str]) -> list[Path]:
    """The table in 4 parts, split by column-1 code as CMS splits f1..f4."""
    every = list(syn.ptp_rows(rows, codes))
    paths = []
    quarter = (len(every) + 3) // 4
    for i in range(4):
        chunk = every[i * quarter : (i + 1) * quarter]
        path = folder / f"ccipra-v320r0-f{i + 1}.txt"
        syn.write_ptp(path, chunk)
        paths.append(path)
    return paths


def batches(codes: list[str], count: int, claims: int = 300, seed: int = 5) -> list[list[set[str]]]:
    """Made-up batches: `claims` claims (one patient each) of 1-4 lines, codes drawn with a
    skew (common codes are common in both the claims and the table's column 1)."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(codes))]
    return [
        [set(rng.choices(codes, weights=weights, k=rng.randint(1, 4))) for _ in range(claims)]
        for _ in range(count)
    ]


def rdf_sample(n: int, folder: Path) -> None:
    import pyoxigraph as ox

    rng = random.Random(3)
    codes = syn.code_pool(15000)
    g = "<https://w3id.org/claimgraph/source/cms-ncci-ptp-practitioner-2026q1>"
    cg = "https://w3id.org/claimgraph/ontology/"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    for form in ("quad per attribute", "one compact literal per edit"):
        out = []
        for i in range(n):
            c1, c2 = rng.choice(codes), rng.choice(codes)
            if form.startswith("quad"):
                e = f"<https://w3id.org/claimgraph/entry/x/{c1}/{c2}/{i}>"
                out += [
                    f"{e} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{cg}PTPEdit> {g} .\n",
                    f"{e} <{cg}column1Code> <https://w3id.org/claimgraph/code/cpt/{c1}> {g} .\n",
                    f"{e} <{cg}column2Code> <https://w3id.org/claimgraph/code/cpt/{c2}> {g} .\n",
                    f'{e} <{cg}effectiveFrom> "2012-01-01"^^<{xsd}date> {g} .\n',
                    f'{e} <{cg}modifierIndicator> "{i % 2}"^^<{xsd}integer> {g} .\n',
                    f'{e} <{cg}editRationale> "{syn.RATIONALES[i % 6]}" {g} .\n',
                    f"{e} <{cg}careSetting> <https://w3id.org/claimgraph/setting/p> {g} .\n",
                    f"{e} <http://purl.org/dc/terms/source> {g} {g} .\n",
                ]
            else:
                lit = f"{c2}|20120101|*|{i % 2}|{i % 6}"
                out.append(
                    f'<https://w3id.org/claimgraph/code/cpt/{c1}> <{cg}ptpEdit> "{lit}" {g} .\n'
                )
        db = folder / f"rdf-{len(out)}"
        start = time.perf_counter()
        store = ox.Store(str(db))
        store.bulk_load("".join(out).encode(), format=ox.RdfFormat.N_QUADS)
        store.flush()
        del store
        seconds, mb = time.perf_counter() - start, size_mb(db)
        print(
            f"RDF, {form}: {n:,} edits -> {len(out):,} quads, {seconds:.1f} s, {mb:.0f} MB; "
            f"for 2,000,000 edits about {mb * 2_000_000 / n:,.0f} MB"
        )
        shutil.rmtree(db)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--codes", type=int, default=15_000)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--rdf-sample", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        folder = Path(tmp)
        store = folder / "store"
        codes = syn.code_pool(args.codes)
        start = time.perf_counter()
        parts = write_parts(folder, args.rows, codes)
        print(f"wrote {args.rows:,} made-up edits over {len(codes):,} codes in 4 parts "
              f"({sum(p.stat().st_size for p in parts) / 1e6:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        hcpcs = subprocess.run(  # a store that already holds something (a CPT list)
            [claimgraph(), "import", "cpt", str(write_cpt(folder, codes)), "--release", "2026",
             "--store", str(store)], capture_output=True, text=True, check=False,
        )  # fmt: skip
        if hcpcs.returncode:
            print(hcpcs.stderr, file=sys.stderr)
            return 1
        before = size_mb(store)
        start = time.perf_counter()
        proc = subprocess.run(
            [claimgraph(), "import", "ncci-ptp", *map(str, parts), "--release", "2026Q1",
             "--store", str(store)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "CLAIMGRAPH_STORE": str(store)},
        )  # fmt: skip
        seconds = time.perf_counter() - start
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return 1
        added = size_mb(store) - before
        print(proc.stderr.strip().splitlines()[-1])
        print(f"import: {seconds:.1f} s wall (target < 120 s); store +{added:.1f} MB "
              f"(target <= 200 MB)")  # fmt: skip
        lookup(store, codes, args.batches)
        if args.rdf_sample:
            rdf_sample(args.rdf_sample, folder)
    return 0


def write_cpt(folder: Path, codes: list[str]) -> Path:
    path = folder / "cpt.csv"
    path.write_text("".join(f"{c},Made-up descriptor {c}\n" for c in codes if c[0].isdigit()))
    return path


def lookup(store: Path, codes: list[str], count: int) -> None:
    """Time facts_for on made-up batches: the whole batch as one set (the plain API), and with
    each patient's codes as a `together` set (what engine.common.enrichment passes)."""
    from claimgraph import tablestore
    from claimgraph.namespaces import procedure_code_iri

    made = [[{procedure_code_iri(c) for c in claim} for claim in b] for b in batches(codes, count)]
    tablestore.facts_for(made[0][0], set(), store)  # opens the store and the table file once
    for label, grouped in (("whole batch", False), ("per patient", True)):
        times, edits, triples, distinct = [], 0, 0, 0
        for claims in made:
            every = set().union(*claims)
            distinct += len(every)
            start = time.perf_counter()
            facts = tablestore.facts_for(every, set(), store, together=claims if grouped else None)
            times.append(time.perf_counter() - start)
            triples += len(facts)
            edits += sum(1 for t in facts if str(t[2]).endswith("/PTPEdit"))
        times.sort()
        n = len(made)
        median, p95 = times[n // 2] * 1000, times[int(n * 0.95)] * 1000
        print(f"facts_for, {label}: {n} batches of 300 claims ({distinct / n:.0f} distinct codes, "
              f"{edits / n:.0f} PTP edits, {triples / n:.0f} triples per batch): median "
              f"{median:.2f} ms, 95th percentile {p95:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
