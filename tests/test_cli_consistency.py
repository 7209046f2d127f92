"""One consistent command line: the same options and format names everywhere, words in help,
one-line usage errors, docs/cli.md generated from the app, and outputs that never replace an
input, a device or a FIFO."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.cli.docs import render
from claimgraph.errors import ClaimgraphError
from claimgraph.fileio import check_output

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "tests" / "data" / "formats"
DATA_COMMANDS = ["queries", "query", "code", "validate", "diff", "rules", "convert", "export",
                 "store info"]  # fmt: skip


def commands() -> list[tuple[str, object]]:
    out = []

    def walk(group: object, prefix: str) -> None:
        for name, cmd in group.commands.items():  # type: ignore[attr-defined]
            if getattr(cmd, "commands", None):
                if getattr(cmd, "invoke_without_command", False):  # a group that runs too
                    out.append((f"{prefix} {name}".strip(), cmd))
                walk(cmd, f"{prefix} {name}".strip())
            else:
                out.append((f"{prefix} {name}".strip(), cmd))

    walk(get_command(app), "")
    return out


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


@pytest.mark.parametrize("name", [n for n, _ in commands()])
def test_help_uses_words_for_values(runner: CliRunner, name: str) -> None:
    r = runner.invoke(app, [*name.split(), "--help"])
    assert r.exit_code == 0 and "Example:" in r.stdout
    assert not re.search(r"<(bool|str|int|float|path|list\[[^>]*\])>", r.stdout), r.stdout
    assert "╭" not in r.stdout  # plain help, no boxes


@pytest.mark.parametrize("name", DATA_COMMANDS)
def test_every_data_command_has_the_shared_options(name: str) -> None:
    cmd = dict(commands())[name]
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}  # type: ignore[attr-defined]
    assert {"-f", "--format", "-o", "--output", "--force"} <= opts


READING_OPTIONS = {"--documents", "--profile", "--include-preauthorization", "--input-format",
                   "--default-payer"}  # fmt: skip


@pytest.mark.parametrize("name", ["validate", "convert"])
def test_commands_reading_claims_share_the_reading_options(name: str) -> None:
    cmd = dict(commands())[name]
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}  # type: ignore[attr-defined]
    assert opts >= READING_OPTIONS
    if name == "validate":  # --profile is the column mapping; severity profiles are these
        assert {"--strict", "--rules-profile"} <= opts


def test_the_same_short_option_means_the_same_everywhere() -> None:
    meaning: dict[str, set[str]] = {}
    for _, cmd in commands():
        for p in cmd.params:  # type: ignore[attr-defined]
            if p.param_type_name != "option" or p.hidden:
                continue
            longs = [o for o in p.opts if o.startswith("--")]
            for short in (o for o in p.opts if not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    assert {s: m for s, m in meaning.items() if len(m) > 1} == {}


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--nope"],
        ["validate", "x.json", "--fail-on", "sometimes"],
        ["export", "nothing"],
        ["query"],
        ["store", "info", "--nope"],
    ],
)
def test_usage_errors_are_one_line(runner: CliRunner, args: list[str]) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("claimgraph: usage error:") and r.stderr.count("\n") == 1


def test_format_names_and_old_spellings(runner: CliRunner, tmp_path: Path) -> None:
    src = FORMATS / "claims.json"
    nt = runner.invoke(app, ["convert", str(src), "-f", "nt"])
    old = runner.invoke(app, ["convert", str(src), "--to", "ntriples"])
    alias = runner.invoke(app, ["convert", str(src), "-f", "ntriples"])
    assert nt.exit_code == old.exit_code == alias.exit_code == 0
    assert nt.stdout == old.stdout == alias.stdout and nt.stdout.startswith("<")
    target = tmp_path / "claims.ttl"  # the suffix chooses turtle
    assert runner.invoke(app, ["convert", str(src), "-o", str(target), "-q"]).exit_code == 0
    assert target.read_text().startswith("@prefix")
    rel = runner.invoke(app, ["export", "relations", "-f", "ntriples"])
    assert rel.exit_code == 0 and rel.stdout.startswith("<")
    rows = runner.invoke(app, ["rules", "-f", "jsonl", "--topic", "oxygen"])
    assert [json.loads(x)["id"] for x in rows.stdout.splitlines()][:1] == ["OXY-01"]


def test_every_data_command_writes_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    for args, name in (
        (["queries"], "q.json"),
        (["query", "modifiers", "-p", "code=E1392"], "m.csv"),
        (["code", "E1392"], "card.json"),
        (["rules"], "rules.tsv"),
        (["store", "info"], "store.json"),
    ):
        target = tmp_path / name
        r = runner.invoke(app, [*args, "-o", str(target)])
        assert r.exit_code == 0, (args, r.output)
        assert r.stdout == "" and target.stat().st_size > 0
        if name.endswith(".json"):
            json.loads(target.read_text())
        again = runner.invoke(app, [*args, "-o", str(target)])
        assert again.exit_code == 2 and "--force" in again.stderr


def test_code_search_takes_several_words(runner: CliRunner) -> None:
    one = runner.invoke(app, ["code", "search", "oxygen concentrator", "-f", "json"])
    many = runner.invoke(app, ["code", "search", "oxygen", "concentrator", "-f", "json"])
    assert one.exit_code == many.exit_code == 0, many.output
    assert json.loads(one.stdout) == json.loads(many.stdout)
    assert any(h["code"] == "E1392" for h in json.loads(many.stdout))


# --------------------------------------------------------------------------- output safety


def test_an_output_that_is_an_input_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    claims = tmp_path / "claims.json"
    claims.write_bytes((FORMATS / "claims.json").read_bytes())
    before = claims.read_bytes()
    for args in (["convert", str(claims), "-o", str(claims), "--force"],
                 ["validate", str(claims), "-o", str(claims), "--force"]):  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "one of the input files" in r.stderr
    assert claims.read_bytes() == before
    link = tmp_path / "same.json"
    os.link(claims, link)  # another name of the same file
    r = runner.invoke(app, ["convert", str(claims), "-o", str(link), "--force"])
    assert r.exit_code == 2 and claims.read_bytes() == before


def test_force_replaces_regular_files_only(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = runner.invoke(app, ["export", "rules", "-o", str(fifo), "--force"])
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    assert fifo.is_fifo()
    for device in ("/dev/null", "/dev/zero"):  # checked, never touched
        with pytest.raises(ClaimgraphError, match="not a regular file"):
            check_output(device, force=True)
    check_output("-", force=False)  # stdout is always fine


# --------------------------------------------------------------------------- docs/cli.md


def test_docs_cli_md_is_generated_from_the_app() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == render(), "regenerate: python -m claimgraph.cli.docs > docs/cli.md"
    for name, _ in commands():
        assert f"## claimgraph {name}\n" in page
