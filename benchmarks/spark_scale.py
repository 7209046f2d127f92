"""claimgraph.spark on generated claims in local[2] next to `claimgraph validate --jobs 2`.

Generates N claims (tests/synthetic.py: copies of every rule's scenarios and patients with many
visits, a patient's claims spread over the file), writes their lines to one Parquet file, then

1. single process: `claimgraph validate claims.parquet --jobs 2 -f parquet -o single.parquet`
   in a fresh process (wall time includes start-up, as a user sees it);
2. Spark: `claimgraph.spark.validate(spark.read.parquet(...))` written to Parquet, in a
   local[2] session started before the clock runs (a cluster has one already);

and prints claims/s of both and whether the findings are the same (every report field but
`position`, which Spark rows do not have). Needs the `spark` extra and Java 17+.

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


def write_claims(path: Path, n: int) -> int:
    """N generated claims as Parquet claim lines; returns the number of claims."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "tests"))
    from synthetic import arrow_rows, generate, line_rows

    rows = arrow_rows(list(line_rows(generate(n, seed=1))))
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=50_000)
    return n


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


def run_spark(session: Any, path: Path, out: Path, partitions: int | None) -> float:
    import claimgraph.spark

    start = time.perf_counter()
    df = session.read.parquet(str(path))
    findings = claimgraph.spark.validate(df, source=str(path), partitions=partitions)
    findings.write.mode("overwrite").parquet(str(out))
    return time.perf_counter() - start


def records(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    keep = [c for c in table.column_names if c not in ("position", "status", "waiver")]
    return sorted(json.dumps(r, sort_keys=True) for r in table.select(keep).to_pylist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("claims", nargs="?", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2, help="single-process workers; Spark cores")
    parser.add_argument("--partitions", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "claims.parquet"
        n = write_claims(path, args.claims)
        single_out, spark_out = folder / "single.parquet", folder / "spark-findings"
        single = run_single(path, single_out, args.jobs)
        t0 = time.perf_counter()
        session = spark_session(args.jobs)
        started = time.perf_counter() - t0
        on_spark = run_spark(session, path, spark_out, args.partitions)
        session.stop()
        a, b = records(single_out), records(spark_out)

    print(f"{n:,} claims, {len(a):,} findings")
    rows = [
        (f"claimgraph validate --jobs {args.jobs}", single, ""),
        (f"claimgraph.spark local[{args.jobs}]", on_spark,
         f"  (session start {started:.1f} s not counted)"),
    ]  # fmt: skip
    for label, wall, note in rows:
        print(f"{label:32} {wall:7.1f} s {n / wall:8,.0f} claims/s{note}")
    print(f"same findings: {'yes' if a == b else 'NO'}")
    if a != b:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
