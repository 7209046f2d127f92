"""claimgraph.spark on generated claims in local[2] next to `claimgraph validate --jobs 2`.

Generates N claims (tests/synthetic.py: copies of every rule's scenarios and patients with many
visits, a patient's claims spread over the file), writes their lines to one Parquet file, then

1. single process: `claimgraph validate claims.parquet --jobs 2 -f parquet -o single.parquet`
   in a fresh process (wall time includes start-up, as a user sees it);
2. Spark: `claimgraph.spark.validate(spark.read.parquet(...))` written to Parquet, in a
   local[2] session started before the clock runs (a cluster has one already);

and prints claims/s of both and whether the findings are the same (every report field but
`position`, which Spark rows do not have). Then the same claims as a daily batch (claims from
CUT on) with the earlier ones as `history`: the batch's findings, NMR-02 included, must be the
ones the whole set gives those claims. Needs the `spark` extra and Java 17+.

    python benchmarks/spark_scale.py                  # 100k claims
    python benchmarks/spark_scale.py 20000 --partitions 8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CUT = "2025-10-11"  # the daily batch: claims whose first service date is this day or later


def write_claims(folder: Path, n: int) -> tuple[int, set[str]]:
    """N generated claims as Parquet claim lines (all, batch, history); returns the number of
    claims and the batch's claim ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "tests"))
    from synthetic import arrow_rows, generate, line_rows

    claims = list(generate(n, seed=1))

    def first(c: dict[str, Any]) -> str:
        dates = [ln.get("service_date") for ln in c.get("lines") or [] if isinstance(ln, dict)]
        return min((d for d in dates if isinstance(d, str)), default="9999")

    parts = {
        "claims": claims,
        "batch": [c for c in claims if first(c) >= CUT],
        "history": [c for c in claims if first(c) < CUT],
    }
    for name, part in parts.items():
        table = pa.Table.from_pylist(arrow_rows(list(line_rows(part))))
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=50_000)
    return len(claims), {c["id"] for c in parts["batch"]}


def run_single(path: Path, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "claimgraph", "validate", str(path), "--jobs", str(jobs),
         "-f", "parquet", "-o", str(out), "-q", "--fail-on", "none"],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"claimgraph validate failed: {done.stderr.strip()}")
    return time.perf_counter() - start


def spark_session(cores: int) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("claimgraph-spark-scale")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_spark(
    session: Any,
    path: Path,
    out: Path,
    partitions: int | None,
    history: Path | None = None,
    source: Path | None = None,
) -> float:
    import claimgraph.spark

    start = time.perf_counter()
    df = session.read.parquet(str(path))
    earlier = session.read.parquet(str(history)) if history else None
    findings = claimgraph.spark.validate(
        df, history=earlier, source=str(source or path), partitions=partitions
    )
    findings.write.mode("overwrite").parquet(str(out))
    return time.perf_counter() - start


def records(path: Path, claims: set[str] | None = None) -> list[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    keep = [c for c in table.column_names if c not in ("position", "status", "waiver")]
    rows = table.select(keep).to_pylist()
    return sorted(json.dumps(r, sort_keys=True) for r in rows
                  if claims is None or r["claim"] in claims)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("claims", nargs="?", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2, help="single-process workers; Spark cores")
    parser.add_argument("--partitions", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "claims.parquet"
        n, batch = write_claims(folder, args.claims)
        single_out, spark_out = folder / "single.parquet", folder / "spark-findings"
        single = run_single(path, single_out, args.jobs)
        t0 = time.perf_counter()
        session = spark_session(args.jobs)
        started = time.perf_counter() - t0
        on_spark = run_spark(session, path, spark_out, args.partitions)
        daily_out = folder / "daily-findings"
        daily = run_spark(session, folder / "batch.parquet", daily_out, args.partitions,
                          history=folder / "history.parquet", source=path)  # fmt: skip
        session.stop()
        a, b = records(single_out), records(spark_out)
        # the batch's claims (findings about the run, a table not loaded, have no claim)
        whole, split = records(single_out, batch), records(daily_out, batch)
    nmr = sum('"rule": "NMR-02"' in r for r in split)

    print(f"{n:,} claims, {len(a):,} findings")
    rows = [
        (f"claimgraph validate --jobs {args.jobs}", single, ""),
        (f"claimgraph.spark local[{args.jobs}]", on_spark,
         f"  (session start {started:.1f} s not counted)"),
    ]  # fmt: skip
    for label, wall, note in rows:
        print(f"{label:32} {wall:7.1f} s {n / wall:8,.0f} claims/s{note}")
    print(f"same findings: {'yes' if a == b else 'NO'}")
    print(f"daily batch ({len(batch):,} claims) + history ({n - len(batch):,}): {daily:.1f} s; "
          f"the whole set's findings for the batch's claims: {'yes' if whole == split else 'NO'} "
          f"({len(split):,} findings, {nmr} NMR-02)")  # fmt: skip
    if a != b or whole != split or not nmr:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
