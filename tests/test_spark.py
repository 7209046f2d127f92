"""`claimgraph.spark.validate` in local[2] mode: the findings of the single-process run on
generated claims whose patients are spread over every partition, and a daily batch checked
with its history gives the findings the whole set gives those claims (NMR-02 included).

Needs the `spark` extra (pyspark, which needs Java 17+); skipped with the reason otherwise.
One SparkSession for the module; small data.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import claimgraph
from claimgraph.errors import ClaimgraphError, InputError
from claimgraph.report.arrow import FINDING_COLUMNS, findings_from_table
from claimgraph.report.records import finding_record
from synthetic import HEAVY_PATIENTS, HEAVY_VISITS, arrow_rows, generate, line_rows

N = HEAVY_PATIENTS * HEAVY_VISITS * 10  # every NMR-02 visit of the generator is in
PARTITIONS = 4
CUT = "2025-10-11"  # the daily batch: claims from this date; the history: the ones before


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and os.path.exists(os.path.join(home, "bin"))))


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    pytest.importorskip("pandas", reason="pandas is not installed (pyspark's mapInArrow)")
    if not _java():
        pytest.skip("no Java runtime for pyspark (java not on PATH, no JAVA_HOME)")
    from pyspark.sql import SparkSession

    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "SPARK_LOCAL_IP")}
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers run this interpreter
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("claimgraph-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(PARTITIONS))
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return list(generate(N, seed=11))


def _frame(spark: Any, rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return spark.createDataFrame(pa.Table.from_pylist(arrow_rows(rows)).to_pandas())


def _records(findings: list[claimgraph.Finding]) -> list[dict[str, Any]]:
    """Report records without `position` (Spark rows have none), in a stable order."""
    out = [{k: v for k, v in finding_record(f).items() if k != "position"} for f in findings]
    return sorted(out, key=lambda r: (r["key"], r["claim"], r["line"] or 0, r["rule"]))


def _collect(frame: Any) -> list[claimgraph.Finding]:
    assert tuple(frame.columns) == FINDING_COLUMNS
    return findings_from_table([r.asDict(recursive=True) for r in frame.collect()])


def _single(rows: list[dict[str, Any]]) -> claimgraph.ValidationResult:
    import pyarrow as pa

    return claimgraph.validate(pa.Table.from_pylist(arrow_rows(rows)), name="spark", jobs=1)


def test_spark_gives_the_single_process_findings(spark: Any, claims: list[dict]) -> None:
    from pyspark.sql import functions as F

    rows = list(line_rows(claims))
    df = _frame(spark, rows)
    spread = df.repartition(PARTITIONS, "patient").select(F.spark_partition_id().alias("p"))
    assert spread.distinct().count() == PARTITIONS  # every partition holds patients
    expected = _single(rows)
    got = _collect(claimgraph.spark.validate(df, partitions=PARTITIONS))
    assert len({f.rule for f in got}) > 40
    assert {f.rule for f in got if f.rule == "NMR-02"}  # cross-claim, across the input
    assert _records(got) == _records(expected.findings)


def test_a_daily_batch_with_its_history_gives_the_whole_sets_findings(
    spark: Any, claims: list[dict]
) -> None:
    def first_date(c: dict[str, Any]) -> str:
        dates = [ln.get("service_date") for ln in c.get("lines") or [] if isinstance(ln, dict)]
        return min((d for d in dates if isinstance(d, str)), default="9999")

    counts = Counter(c["id"] for c in claims)  # the STRUCT-03 scenarios repeat their ids
    claims = [c for c in claims if counts[c["id"]] == 1]
    history = [c for c in claims if first_date(c) < CUT]
    batch = [c for c in claims if first_date(c) >= CUT]
    assert history and batch
    assert len({c["id"] for c in claims}) == len(claims)
    new_ids = {c["id"] for c in batch}
    whole = [f for f in _single(list(line_rows(claims))).findings
             if f.claim in new_ids or f.claim is None]  # fmt: skip
    alone = _single(list(line_rows(batch))).findings

    from pyspark.sql import functions as F

    earlier = _frame(spark, list(line_rows(history)))
    assert earlier.where(F.col("body_site").isNotNull()).count() == 0
    # an all-empty column of another type (Parquet writes one as null): read as the batch's
    earlier = earlier.withColumn("body_site", F.col("body_site").cast("int"))
    got = _collect(claimgraph.spark.validate(
        _frame(spark, list(line_rows(batch))), history=earlier, partitions=PARTITIONS,
    ))  # fmt: skip
    assert {f.claim for f in got if f.claim} <= new_ids  # history claims are not reported
    assert _records(got) == _records(whole)
    nmr = [f for f in got if f.rule == "NMR-02"]
    # the batch's visits alone stay under Aetna's limit: the history is what counts them
    assert len(nmr) > len([f for f in alone if f.rule == "NMR-02"])


def test_rules_payer_and_columns(spark: Any, claims: list[dict]) -> None:
    rows = list(line_rows(claims[:300]))
    df = _frame(spark, rows)
    got = _collect(claimgraph.spark.validate(df, rules=["OXY-02"], payer="medicare"))
    expected = claimgraph.validate(df.toPandas(), rules=["OXY-02"], payer="medicare",
                                   name="spark", jobs=1)  # fmt: skip
    assert got and _records(got) == _records(expected.findings)
    with pytest.raises(InputError, match="claim_id"):
        claimgraph.spark.validate(df.drop("claim_id"))
    with pytest.raises(ClaimgraphError, match="unknown rule id"):
        claimgraph.spark.validate(df, rules=["NOPE-9"])


def test_without_pyspark_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ClaimgraphError, match=r"claimgraph\[spark\]"):
        claimgraph.spark.validate(object())
