"""docs/cli.md, generated from the Typer app: every command with its arguments and options.

    python -m claimgraph.cli.docs > docs/cli.md

tests/test_cli_docs.py fails when docs/cli.md differs from what this prints (as sqlite-utils
checks its documentation against `--help`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

SHARED = (
    ("-f", "--format"),
    ("-o", "--output"),
    ("", "--force"),
    ("-q", "--quiet"),
    ("", "--bom"),
    ("-e", "--endpoint"),
)
HEADER = """# Command line reference

Generated from the program by `python -m claimgraph.cli.docs > docs/cli.md`; a test checks
that this page and the program agree. Every command also has `--help` (`-h`) with an example.

The same option means the same everywhere: `-f/--format` chooses the output format (when it
is not given, the suffix of the `-o` file decides: `.json .jsonl .csv .tsv .ttl .nt .jsonld
.graphml .html .xlsx`), `-o/--output FILE` writes to a file instead of stdout (whole or not at
all; never over an input file, a device or a FIFO; an existing file only with `--force`),
`-q/--quiet` keeps stderr for errors, `--bom` starts CSV/TSV with a byte-order mark for Excel,
`-e/--endpoint URL` works on a SPARQL server. Format names are the same in every command
(`nt`, `turtle`, `jsonld`, `csv`, `tsv`, `json`, `jsonl`, `table`); the older spellings
`ntriples`, `ttl`, `json-ld` and `ndjson` are accepted too. Usage errors are one line on stderr
with exit status 2.
"""


def _commands(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if getattr(cmd, "commands", None):
            if getattr(cmd, "invoke_without_command", False):  # `rules` lists, `rules check` ...
                yield path, cmd
            yield from _commands(cmd, path)
        else:
            yield path, cmd


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_paragraph(cmd: Any) -> str:
    return _cell(inspect.cleandoc(cmd.help or "").split("\n\n")[0])


def _example(cmd: Any) -> str:
    for line in inspect.cleandoc(cmd.help or "").splitlines():
        if line.strip().startswith("Example:"):
            return line.strip()[len("Example:") :].strip()
    return ""


def _names(param: Any) -> tuple[str, str]:
    longs = [o for o in param.opts if o.startswith("--")]
    shorts = [o for o in param.opts if not o.startswith("--")]
    return (", ".join(shorts), ", ".join(longs))


def _default(param: Any) -> str:
    value = param.default
    if value is None or value is False or value == () or value == []:
        return ""
    if getattr(param, "is_flag", False):
        return ""
    return _cell(str(getattr(value, "value", value)))


def render() -> str:
    from typer.main import get_command

    from . import app

    root = get_command(app)
    commands = list(_commands(root, "claimgraph"))
    out = [HEADER]
    out.append("## Shared options\n")
    out.append("| command | " + " | ".join(long for _, long in SHARED) + " |")
    out.append("|---|" + "---|" * len(SHARED))
    for path, cmd in commands:
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        marks = ["yes" if long in opts else "" for _, long in SHARED]
        out.append(f"| `{path}` | " + " | ".join(marks) + " |")
    out.append("")
    for path, cmd in commands:
        out.append(f"## {path}\n")
        out.append(_first_paragraph(cmd) + "\n")
        pieces = [path]
        args = [p for p in cmd.params if p.param_type_name == "argument"]
        for a in args:
            name = a.metavar or a.name.upper()
            many = "..." if a.nargs != 1 else ""
            pieces.append(f"{name}{many}" if a.required else f"[{name}]{many}")
        out.append("```\n" + " ".join(pieces) + " [OPTIONS]\n```\n")
        example = _example(cmd)
        if example:
            out.append(f"Example: `{example}`\n")
        out.append("| option | short | value | default | meaning |")
        out.append("|---|---|---|---|---|")
        for a in args:
            name = a.metavar or a.name.upper()
            out.append(f"| {name} (argument) |  |  |  | {_cell(a.help or '')} |")
        for p in cmd.params:
            if p.param_type_name != "option" or p.hidden:
                continue
            short, long = _names(p)
            value = "" if getattr(p, "is_flag", False) else (p.metavar or "")
            out.append(
                f"| `{long}` | {f'`{short}`' if short else ''} | {value} | {_default(p)} "
                f"| {_cell(p.help or '')} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render())
