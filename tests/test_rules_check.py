"""`claimgraph rules check FILE`: every problem of a rules file, one line each, for its author."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.resources import data_dir
from test_user_shapes import USER_RULES

SCOPED = USER_RULES.replace(
    "    sh:targetClass cg:ClaimLine ;",
    "    sh:target [ a cg:ScopedLines ; cg:scopeOf rule:USR-01 ] ;",
).replace(
    """  $this a cg:ClaimLine ; cg:procedureCode ?code ; ^cg:hasLine ?claim .
  ?claim cg:payer ?payer .
  $currentShape cg:appliesToCode ?code .
  FILTER EXISTS { $currentShape cg:appliesToPayer ?scope . ?payer cg:inCategory* ?scope }
""",
    "",
)


def check(runner: CliRunner, tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.ttl"
    path.write_text(text, encoding="utf-8")
    return path, runner.invoke(app, ["rules", "check", str(path)])


@pytest.mark.parametrize("text", [USER_RULES, SCOPED], ids=["sparql-scope", "scoped-lines"])
def test_a_good_file_is_usable(runner: CliRunner, tmp_path: Path, text: str) -> None:
    path, r = check(runner, tmp_path, text)
    assert r.exit_code == 0, r.output
    # the example's source has a title but no url: what curated sources need is advice only
    assert all(line.endswith(", advice]") for line in r.stdout.splitlines()), r.stdout
    assert "src:aetna-dme-policy" in r.stdout
    assert f"{path}: usable, " in r.stderr and "(USR-01)" in r.stderr
    full = text.replace(
        '; dct:title "Aetna DME billing policy (example)" .',
        '; dct:title "Aetna DME billing policy (example)" ; cg:url "https://example.org/p" ;'
        ' rdfs:label "Aetna DME billing policy"@en ; skos:definition "A test policy."@en ;'
        " a owl:NamedIndividual .",
    )
    prefixes = (
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
    )
    path, r = check(runner, tmp_path, prefixes + full)
    assert r.exit_code == 0 and r.stdout == "", r.output
    assert f"{path}: no problems (USR-01)" in r.stderr


def test_every_problem_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    broken = (
        SCOPED.replace("cg:scopeOf rule:USR-01", "cg:scopeOf rule:OXY-01")  # meta: target
        .replace("cg:requiresModifier mod:NU ;", "cg:requiresModifer mod:NU ;")  # qc: a typo
        .replace('}""" ] .', '} LIMIT 1""" ] .')
        .replace('dct:source src:aetna-dme-policy ;', "dct:source src:nowhere ;")
    )
    path, r = check(runner, tmp_path, broken)
    assert r.exit_code == 1, r.output
    lines = r.stdout.splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    said = "\n".join(lines)
    for expected in ("[meta]", "cg:scopeOf", "cg:requiresModifer", "[qc term-undeclared]",
                     "src:nowhere", "[qc source-undeclared]", "LIMIT", "[compile]"):  # fmt: skip
        assert expected in said, said
    assert f"{path}: {len(lines)} problem(s) (USR-01)" in r.stderr


def test_a_rule_that_clashes_with_a_bundled_one(runner: CliRunner, tmp_path: Path) -> None:
    _path, r = check(runner, tmp_path, USER_RULES.replace("USR-01", "OXY-01"))
    assert r.exit_code == 1 and "rule id OXY-01 is a bundled rule's" in r.stdout


def test_unreadable_turtle_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    path, r = check(runner, tmp_path, USER_RULES.replace("sh:severity sh:Warning ;", "]] ;"))
    assert r.exit_code == 2 and str(path) in r.stderr and "Traceback" not in r.output


def test_bundled_files_are_checked_against_the_others(runner: CliRunner) -> None:
    files = [str(data_dir("shapes") / n) for n in ("oxygen.ttl", "scope.ttl", "modifiers.ttl")]
    r = runner.invoke(app, ["rules", "check", *files])
    assert r.exit_code == 0, r.output
    assert "no problems (OXY-01, OXY-02" in r.stderr
