"""Text for people on a terminal: one way to make a rich Console for any output stream.

Colour only when the stream is a terminal and `NO_COLOR` is not set (https://no-color.org);
the width is the terminal's, else `$COLUMNS`, else 100 characters. Text wraps at word
boundaries; a word longer than the width is the only thing ever folded.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_WIDTH = 100


def is_terminal(out: IO[Any]) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def width_for(out: IO[Any]) -> int:
    if is_terminal(out):
        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return DEFAULT_WIDTH


def make_console(out: IO[str], width: int | None = None) -> Console:
    from rich.console import Console

    terminal = is_terminal(out)
    colour = terminal and not os.environ.get("NO_COLOR")
    return Console(
        file=out,
        width=width or width_for(out),
        force_terminal=colour,
        no_color=not colour,
        color_system="auto" if colour else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )


@contextlib.contextmanager
def printing(out: IO[str], width: int | None = None) -> Iterator[Console]:
    """A console for `out`; to a file or a pipe the text is written at the end, each line
    without the trailing blanks rich pads it with."""
    if is_terminal(out):
        yield make_console(out, width)
        return
    buffer = io.StringIO()
    yield make_console(buffer, width or width_for(out))
    out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


__all__ = ["DEFAULT_WIDTH", "is_terminal", "make_console", "printing", "width_for"]
