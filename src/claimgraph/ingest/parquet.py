"""Claim lines in Parquet files and Arrow tables (needs the `arrow` extra: pyarrow).

A Parquet file holds one row per claim line in the documented columns (`ingest.lines`) or in
the columns a mapping file names (`--profile FILE`). It is read one row group at a time, so
memory follows the row group size, not the file's; rows of one claim are consecutive. Files
are recognised by their `PAR1` magic number, whatever their name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import ClaimgraphError, InputError
from .model import ClaimData

if TYPE_CHECKING:
    from .source import Source
    from .tabular import Profile

Warn = Callable[[str], None] | None

MAGIC = b"PAR1"
FORMAT = "parquet"
BATCH_ROWS = 65_536
EXTRA = "pip install 'claimgraph[arrow]'"


def is_parquet(head: bytes) -> bool:
    return head.startswith(MAGIC)


def require_pyarrow(what: str = "Parquet") -> Any:
    """The pyarrow module, or a one-line error saying how to install it."""
    try:
        import pyarrow
    except ImportError:
        raise ClaimgraphError(f"{what} needs pyarrow: {EXTRA}") from None
    return pyarrow


def read_parquet_input(source: Source, ctx: Any) -> Iterator[ClaimData]:
    """The reader of the format registry (standard input is spooled first: `seeks`)."""
    with source.open_binary() as f:
        yield from read_parquet(f, ctx.warn, ctx.run.options.profile, where=str(source))


def read_parquet(
    path: Path | IO[bytes],
    warn: Warn = None,
    profile: Profile | None = None,
    *,
    where: str | None = None,
) -> Iterator[ClaimData]:
    """Claims of a Parquet file of claim lines, in file order (positions `row N`)."""
    require_pyarrow()
    import pyarrow.parquet as pq

    where = where or str(path)
    try:
        reader = pq.ParquetFile(path)
    except Exception:  # pyarrow raises ArrowInvalid, OSError ... for a damaged file
        raise InputError("not a readable Parquet file", path=where) from None
    yield from read_batches(_batches(reader, where), reader.schema_arrow.names, where,
                            warn, profile, FORMAT)  # fmt: skip


def _batches(reader: Any, where: str) -> Iterator[Any]:
    row = 0
    try:
        for batch in reader.iter_batches(batch_size=BATCH_ROWS):
            yield batch
            row += batch.num_rows
    except ClaimgraphError:
        raise
    except Exception:
        raise InputError("damaged Parquet data", path=where, position=f"row {row + 1}") from None


def read_table(
    table: Any, where: str = "records", warn: Warn = None, profile: Profile | None = None
) -> Iterator[ClaimData]:
    """Claims of a pyarrow Table, RecordBatch or RecordBatchReader of claim lines."""
    batches = table.to_batches() if hasattr(table, "to_batches") else table
    if hasattr(table, "num_columns") and not hasattr(table, "to_batches"):  # a RecordBatch
        batches = [table]
    yield from read_batches(iter(batches), table.schema.names, where, warn, profile)


def read_batches(
    batches: Iterator[Any],
    columns: list[str],
    where: str,
    warn: Warn,
    profile: Profile | None,
    fmt: str | None = None,
) -> Iterator[ClaimData]:
    """Claims of Arrow record batches with these `columns` (rows of one claim consecutive)."""
    from .lines import check_columns, claim_lines_profile, read_rows

    p = profile or claim_lines_profile()
    check_columns(columns, p, where, warn)

    def rows() -> Iterator[dict[str, Any]]:
        row = 0
        for batch in batches:
            try:
                names = [str(c).lower() for c in batch.schema.names]
                values = batch.rename_columns(names).to_pylist()
            except (ValueError, UnicodeDecodeError, OverflowError):  # damaged values
                raise InputError("damaged data (a value cannot be read)", path=where,
                                 position=f"row {row + 1}") from None  # fmt: skip
            row += len(values)
            yield from values

    for claim in read_rows(rows(), p, where=where, lower=False, warn=warn):
        if fmt and profile is None:
            claim.format = fmt
        yield claim


__all__ = ["FORMAT", "MAGIC", "is_parquet", "read_batches", "read_parquet", "read_table",
           "require_pyarrow"]  # fmt: skip
