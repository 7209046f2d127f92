"""What every command shares: error handling, output formats, printing rows."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import IO, Annotated, Any, TypeVar

import typer

from ..errors import EXIT_INTERNAL, EXIT_USAGE, ClaimgraphError

F = TypeVar("F", bound=Callable[..., Any])


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"


TABLE_FORMATS = tuple(f.value for f in TableFormat)
# Old or other spellings of the format names, accepted everywhere a format is chosen.
FORMAT_ALIASES = {
    "ntriples": "nt",
    "n-triples": "nt",
    "ttl": "turtle",
    "json-ld": "jsonld",
    "ndjson": "jsonl",
    "htm": "html",
    "text": "table",
}
# The format an output file's suffix names (`-o report.html`), where --format is not given.
SUFFIX_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "jsonld",
    ".graphml": "graphml",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".txt": "table",
}

# Options every command spells the same way.
FORMAT_HELP = "Output format: {names} (default: from the -o suffix, else {default})."
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="File to write; '-' for stdout (the default).",
        show_default=False,
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace an existing output file (a regular file only).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No messages on stderr but errors.")]
BomOpt = Annotated[
    bool, typer.Option("--bom", help="CSV/TSV: start with a byte-order mark (for Excel).")
]

# How claim inputs are read: the same options on every command that reads claims.
CLAIM_FILES_HELP = (
    "Claim files or folders, told by content (also gzipped; '-' reads standard input): JSON, "
    "JSON Lines, CSV, Turtle, N-Triples, JSON-LD, FHIR R4 (Claim, ExplanationOfBenefit, Bundle, "
    "NDJSON), X12 837P, CMS RIF, Parquet claim lines."
)
DocumentsOpt = Annotated[
    str | None,
    typer.Option(
        "--documents",
        metavar="FILE",
        help="Documents CSV attached to the claims of any format by claim id and line (a claims "
        "CSV also reads NAME.documents.csv next to it).",
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME|FILE",
        help="Column mapping for tabular claims: rif-carrier, rif-dme (CMS RIF extracts) or a "
        "mapping file (TOML).",
    ),
]
IncludePreauthorizationOpt = Annotated[
    bool,
    typer.Option(
        "--include-preauthorization",
        help="Read FHIR preauthorization and predetermination requests as claims.",
    ),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="Read every input as this format instead of telling it by content (for '-' too): "
        "json, jsonl, csv, turtle, nt, json-ld, fhir, fhir-ndjson, x12, tabular, rif-carrier, "
        "rif-dme.",
    ),
]
DefaultPayerOpt = Annotated[
    str | None,
    typer.Option(
        "--default-payer",
        metavar="PAYER",
        help="Payer of the claims whose input names none (e.g. medicare).",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict", help="X12 envelope defects (STRUCT-04) are errors (exit 2), not findings."
    ),
]


def format_option(names: Sequence[str], default: str) -> Any:
    """The -f/--format option of a command writing one of `names`."""
    return typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help=FORMAT_HELP.format(names=", ".join(names), default=default),
        show_default=False,
    )


def pick_format(
    fmt: str | None, output: str, allowed: Sequence[str], default: str | None = None
) -> str:
    """--format (or an alias of it), else what the -o suffix names if allowed, else `default`."""
    from pathlib import PurePath

    default = default or allowed[0]
    if fmt is None or not fmt.strip():
        if output == "-":
            return default
        named = SUFFIX_FORMATS.get(PurePath(output).suffix.lower(), default)
        return named if named in allowed else default
    name = fmt.strip().lower()
    name = FORMAT_ALIASES.get(name, name)
    if name not in allowed:
        raise ClaimgraphError(f"unknown format {fmt!r}; use {one_of(allowed)}")
    return name


def one_of(names: Sequence[str]) -> str:
    """'a', 'a or b', 'one of a, b or c'."""
    names = list(names)
    if len(names) < 3:
        return " or ".join(names)
    return "one of " + ", ".join(names[:-1]) + " or " + names[-1]


@contextlib.contextmanager
def output_to(
    output: str,
    force: bool,
    *,
    private: bool = False,
    binary: bool = False,
    inputs: Sequence[str | os.PathLike[str]] = (),
) -> Iterator[IO[Any]]:
    """Where a command writes its data: stdout for '-', else a file written whole or not at
    all (never an input, a device or a FIFO; an existing file only with --force)."""
    from ..fileio import atomic_writer

    with atomic_writer(output, force=force, private=private, binary=binary, inputs=inputs) as out:
        yield out


def err(message: str) -> None:
    """One line on stderr. Never pass claim content here."""
    print(f"claimgraph: {message}", file=sys.stderr)


def guarded(fn: F) -> F:
    """Turn every failure of a command into one line on stderr and an exit code, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except ClaimgraphError as e:
            err(f"error: {e}")
            raise typer.Exit(e.exit_code) from None
        except RecursionError:
            err("error: input is nested too deeply to process")
            raise typer.Exit(EXIT_USAGE) from None
        except MemoryError:
            err("error: input is too large to process in memory")
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as e:  # an internal error: name its type only, never its text
            if os.environ.get("CLAIMGRAPH_DEBUG"):
                raise
            err(f"internal error ({type(e).__name__}); set CLAIMGRAPH_DEBUG=1 to see details")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def print_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: TableFormat | str,
    title: str = "",
    out: IO[str] | None = None,
    *,
    bom: bool = False,
) -> None:
    """Rows for people (a rich table that fits the width without breaking words) or for tools
    (csv and tsv through the formula-safe writer, json, jsonl)."""
    stream = out if out is not None else sys.stdout
    name = fmt.value if isinstance(fmt, TableFormat) else str(fmt)
    if name == "json":
        data = [dict(zip(columns, row, strict=True)) for row in rows]
        json.dump(data, stream, indent=2, default=str, ensure_ascii=False)
        stream.write("\n")
    elif name == "jsonl":
        for row in rows:
            stream.write(json.dumps(dict(zip(columns, row, strict=True)), default=str,
                                    ensure_ascii=False) + "\n")  # fmt: skip
    elif name in ("csv", "tsv"):
        from ..tabular import DELIMITERS, write_delimited

        write_delimited(stream, columns, rows, delimiter=DELIMITERS[name], bom=bom)
    else:
        _print_table(columns, [["" if v is None else str(v) for v in row] for row in rows],
                     title, stream)  # fmt: skip


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _print_table(columns: Sequence[str], cells: list[list[str]], title: str, out: IO[str]) -> None:
    """A rich table when every column can be as wide as its longest word; otherwise each row
    as a block of `column  value` lines (values wrapped under themselves), so no word is cut."""
    from rich.table import Table
    from rich.text import Text

    from ..console import printing

    with printing(out) as console:
        need = [max([_longest_word(c), *(_longest_word(r[i]) for r in cells)])
                for i, c in enumerate(columns)]  # fmt: skip
        if sum(need) + 3 * len(columns) + 1 <= console.width:
            table = Table(title=title or None, show_lines=False)
            for c, n in zip(columns, need, strict=True):
                table.add_column(c, min_width=n, overflow="fold")
            for row in cells:
                table.add_row(*(Text(c) for c in row))
            console.print(table)
            return
        if title:
            console.print(Text(title, style="bold"))
        for i, row in enumerate(cells):
            if i:
                console.print()
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, style="bold")
            grid.add_column(ratio=1, overflow="fold")
            for c, value in zip(columns, row, strict=True):
                grid.add_row(c, Text(value))
            console.print(grid)
