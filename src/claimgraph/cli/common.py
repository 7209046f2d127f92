"""What every command shares: error handling, output formats, printing rows."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

import typer

from ..errors import EXIT_INTERNAL, EXIT_USAGE, ClaimgraphError

F = TypeVar("F", bound=Callable[..., Any])


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


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
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: TableFormat, title: str = ""
) -> None:
    """Rows to stdout: a rich table for people; csv, tsv or json for tools."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if fmt is TableFormat.json:
        data = [dict(zip(columns, row, strict=True)) for row in rows]
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif fmt in (TableFormat.csv, TableFormat.tsv):
        writer = csv.writer(
            sys.stdout, delimiter="," if fmt is TableFormat.csv else "\t", lineterminator="\n"
        )
        writer.writerow(columns)
        writer.writerows(cells)
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title or None, show_lines=False)
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in cells:
            table.add_row(*(escape(c) for c in row))
        Console().print(table)
