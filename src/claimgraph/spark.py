"""Validation on Spark: `claimgraph.spark.validate(df)` for PySpark DataFrames (docs/scale.md).

`df` holds claim lines, one row per line, in the columns of `ingest.lines` (or of a mapping
file). The cross-claim rules need all of one patient's claims together (NMR-02: six weeks of a
patient's visits; the MUE and PTP edits: a patient's day), so:

1. the new claims, and the `history` claims if given (earlier claims: the previous six weeks),
   are marked by their source, selected to the columns the mapping reads, and unioned;
2. `repeat_flags`: the hook where duplicates across patients (STRUCT-03: a claim id repeated
   by one billing provider) would be marked by a groupBy on (provider, claim id), before the
   rows are split by patient;
3. rows are repartitioned by patient (claims without a patient by claim), sorted within each
   partition so a claim's rows are consecutive, and each partition runs the fast engine in one
   Python worker (`mapInArrow`), exactly as `claimgraph validate` runs it on one process;
4. only findings of the new claims are kept, with their rule context: a DataFrame of the
   report's fields (`report.arrow.FINDING_COLUMNS`; `position` is empty: Spark rows have none).

What the executors need is shipped once, in a broadcast: the run's `Knowledge` (its payload:
compiled checks, knowledge graph, the user's rules), every rule's context, the column mapping
and the options. The dated ICD index is part of the installed package; imported code sets and
CMS tables are read from the Knowledge's store folder, which must be at the same path on the
executors (a shared or copied folder) or absent.
"""

from __future__ import annotations

import functools
import pickle
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError
from .report.arrow import FINDING_COLUMNS

if TYPE_CHECKING:
    from .ingest.model import ClaimData
    from .ingest.tabular import Profile
    from .knowledge import Knowledge
    from .report.context import Contexts

EXTRA = "pip install 'claimgraph[spark]'"
SOURCE = "__cg_source"  # the source of each row: `source`, or `source` + HISTORY
ROW = "__cg_row"  # input order, to keep a claim's lines in order when they have no number
PART = "__cg_patient"  # the partition key: the patient, else the claim
REPEAT = "__cg_repeat"  # true on the rows of a claim whose id is repeated (`repeat_flags`)
FIRST = "__cg_first"  # a claim's first row (`repeat_flags`), which keeps its rows together
HISTORY = " (history)"
OUT_ROWS = 10_000  # findings per Arrow batch an executor returns


@dataclass(frozen=True)
class Job:
    """What every executor needs, shipped once (pickled, compressed, broadcast)."""

    knowledge: Knowledge  # pickled as its payload (compiled checks, graph, user rules)
    contexts: Contexts
    profile: Profile
    source: str
    wanted: frozenset[str] | None  # rule ids to report; None: all
    payers: frozenset[str] | None  # payer ids a claim must name; None: all


def _pyspark() -> Any:
    try:
        from pyspark.sql import functions
    except ImportError:
        raise ClaimgraphError(f"claimgraph.spark needs pyspark: {EXTRA}") from None
    from .ingest.parquet import require_pyarrow

    require_pyarrow("claimgraph.spark")
    return functions


def validate(
    df: Any,
    *,
    patient_col: str | None = None,
    history: Any = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    profile: str | Profile | None = None,
    source: str = "spark",
    partitions: int | None = None,
    knowledge: Knowledge | None = None,
) -> Any:
    """Findings of the claims whose lines are the rows of the PySpark DataFrame `df`.

    `patient_col`: the patient column (default: the mapping's, `patient`); `history`: a
    DataFrame of earlier claims in the same columns, checked with the new ones so cross-claim
    rules see them, whose own findings are dropped; `rules`, `payer`: as `claimgraph.validate`;
    `profile`: a column mapping (built-in name or TOML file); `source`: what findings name as
    their file (and in their keys); `partitions`: how many partitions to split the patients
    into (default: the DataFrame's, at least the default parallelism); `knowledge`: the rules
    and code sets (default: the bundled rules, no code sets).

    Returns a DataFrame with the report's fields as columns (`report.arrow.FINDING_COLUMNS`).
    """
    F = _pyspark()
    from .ingest.lines import check_columns, resolve_profile

    p = resolve_profile(profile)
    check_columns(df.columns, p, "the DataFrame", None)
    if history is not None:
        check_columns(history.columns, p, "the history DataFrame", None)
    job = _job(p, source, rules, payer, knowledge)
    patient = patient_col or (p.claim.get("patient") or ("patient",))[0]
    claim_cols = [c for c in (*p.claim["id"], *p.claim.get("provider", ())) if _has(df, c)]
    line_col = next((c for c in p.line.get("number", ()) if _has(df, c)), None)

    frame = _rows(df, p, F.lit(source), F)
    if history is not None:
        earlier = _rows(history, p, F.lit(source + HISTORY), F)
        types = {f.name.lower(): f.dataType for f in frame.schema.fields}
        earlier = earlier.select(*(  # the batch's column types (an all-empty column is null)
            F.col(c).cast(types[c.lower()]).alias(c)
            if c.lower() in types and earlier.schema[c].dataType != types[c.lower()]
            else F.col(c)
            for c in earlier.columns
        ))  # fmt: skip
        frame = frame.unionByName(earlier, allowMissingColumns=True)
    frame = repeat_flags(frame, p, F)
    if _has(frame, patient):
        blank = F.trim(F.col(patient).cast("string")) == ""
        key = F.when(F.col(patient).isNull() | blank, None).otherwise(F.col(patient).cast("string"))
    else:
        key = F.lit(None).cast("string")
    fallback = F.concat_ws("\u0000", F.lit(""), *(F.col(c).cast("string") for c in claim_cols))
    frame = frame.withColumn(PART, F.coalesce(key, fallback))
    # a claim's rows together (FIRST: two claims of one id stay apart), its lines in order
    order = [PART, SOURCE, *claim_cols, FIRST, *([line_col] if line_col else []), ROW]
    frame = frame.repartition(partitions or _partitions(df), PART).sortWithinPartitions(*order)

    payload = zlib.compress(pickle.dumps(job), 6)
    try:
        shipped: Any = df.sparkSession.sparkContext.broadcast(payload)
    except Exception:  # Spark Connect has no broadcast: the payload travels with the task
        shipped = payload
    from pyspark.sql.pandas.types import from_arrow_schema

    from .report.arrow import schema

    run = functools.partial(run_partition, shipped)
    found = frame.mapInArrow(run, from_arrow_schema(schema()))
    # one finding per key: a finding about the whole run comes from every partition
    return found.dropDuplicates(["key"])


def repeat_flags(frame: Any, profile: Profile, F: Any) -> Any:
    """Mark repeated claim ids (STRUCT-03: a claim id an earlier claim of the same billing
    provider has) before the rows are split by patient, where they could no longer be seen:
    a claim is the run of rows of one (claim id, provider, patient, source); its first row
    (input order) ranks it among the claims of its (provider, claim id); every claim after
    the first gets REPEAT true on its rows, which `ingest.lines` reads into
    `ClaimData.repeats_id`. Rows without a claim id are never repeats."""
    from pyspark.sql import Window

    def col(name: str) -> Any:
        cols = [c for c in (profile.claim.get(name) or ()) if _has(frame, c)]
        return F.col(cols[0]).cast("string") if cols else F.lit(None).cast("string")

    cid, provider, patient = col("id"), col("provider"), col("patient")
    claim_of = [cid, provider, patient, F.col(SOURCE)]
    first = F.min(ROW).over(Window.partitionBy(*claim_of))
    frame = frame.withColumn(FIRST, first)
    rank = F.dense_rank().over(Window.partitionBy(cid, provider).orderBy(FIRST))
    repeat = F.when(cid.isNull(), F.lit(False)).otherwise(rank > 1)
    return frame.withColumn(REPEAT, repeat)


def _partitions(df: Any) -> int:
    """The DataFrame's partitions, at least the default parallelism."""
    try:
        sc = df.sparkSession.sparkContext
        return max(df.rdd.getNumPartitions(), sc.defaultParallelism)
    except Exception:  # Spark Connect: no RDDs
        return int(df.sparkSession.conf.get("spark.sql.shuffle.partitions", "200"))


def _has(df: Any, column: str) -> bool:
    return column.lower() in {c.lower() for c in df.columns}


def _rows(df: Any, p: Profile, source: Any, F: Any) -> Any:
    """`df` reduced to the columns the mapping reads, with its source and input order."""
    from .ingest.lines import profile_columns

    wanted = profile_columns(p)
    kept = [F.col(c) for c in df.columns if c.lower() in wanted]
    return df.select(*kept, source.alias(SOURCE), F.monotonically_increasing_id().alias(ROW))


def _job(
    p: Profile, source: str, rules: Iterable[str], payer: str | None, knowledge: Knowledge | None
) -> Job:
    """Checks on the driver (rule ids, payer) and what the executors need."""
    from .knowledge import Knowledge
    from .report.context import rule_contexts
    from .validation import check_payer, check_rule_ids

    kn = knowledge or Knowledge.bundled()
    wanted = frozenset(check_rule_ids(rules, kn)) if rules else None
    payers = frozenset(kn.payers_in(check_payer(payer, kn))) if payer else None
    kn.checks  # noqa: B018 (compiled on the driver, shipped in the payload)
    return Job(kn, rule_contexts(kn), p, source, wanted, payers)


# --------------------------------------------------------------------------------------------
# On the executors


@functools.lru_cache(maxsize=2)
def _unpack(shipped: bytes) -> Job:
    job: Job = pickle.loads(zlib.decompress(shipped))
    return job


def run_partition(shipped: Any, batches: Iterator[Any]) -> Iterator[Any]:
    """One partition's claim lines (Arrow batches) to the findings of its new claims."""
    import pyarrow as pa

    from .engine import fast
    from .ingest.lines import read_rows
    from .report.arrow import schema
    from .report.context import with_contexts
    from .report.records import finding_record

    job = _unpack(shipped.value if hasattr(shipped, "value") else shipped)
    rows = (row for batch in batches for row in batch.to_pylist())
    claims = read_rows(rows, job.profile, where=job.source, source_col=SOURCE, repeat_col=REPEAT)
    findings = fast.validate_claims(_selected(claims, job), knowledge=job.knowledge, jobs=1)
    # the new claims' findings, and those about the whole run (a table not loaded: every
    # partition may give them; `validate` keeps one of each)
    run_level = [f for f in findings if f.file is None and f.claim is None]
    kept = [f for f in findings if f.file == job.source] + run_level
    kept = [f for f in kept if _wanted(f.rule, job)]
    out = schema()
    records = [{**finding_record(f), "position": None} for f in with_contexts(kept, job.contexts)]
    for start in range(0, len(records), OUT_ROWS):
        yield pa.RecordBatch.from_pylist(records[start : start + OUT_ROWS], schema=out)


def _wanted(rule: str, job: Job) -> bool:
    return job.wanted is None or rule in job.wanted


def _selected(claims: Iterable[ClaimData], job: Job) -> Iterator[ClaimData]:
    """Claims as `ingest.read_claims` leaves them (payer, uid), of the payer if one was asked."""
    from .ingest.model import assign_uid
    from .ingest.payers import resolve_payer

    for claim in claims:
        resolve_payer(claim, None)
        if job.payers is not None and not (
            isinstance(claim.payer, str) and claim.payer.strip().lower() in job.payers
        ):
            continue
        # position (`row N`) counts rows within this partition: unique here, which is all a
        # uid needs (the claim's IRI within one engine run)
        assign_uid(claim, claim.source or job.source)
        yield claim


__all__ = ["FINDING_COLUMNS", "Job", "repeat_flags", "run_partition", "validate"]
