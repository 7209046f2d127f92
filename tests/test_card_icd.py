"""The code card of a diagnosis code: its history (billable and header spans), hierarchy, and
with --on DATE what the release in force that day says; any ICD-10-CM or ICD-9-CM code has a
card, from the bundled releases, whether the curated graph has it or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app


@pytest.fixture(autouse=True)
def _no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path / "no-store"))


def card(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["code", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_curated_code_on_a_date(runner: CliRunner) -> None:
    before = card(runner, "M54.5", "--on", "2021-06-01")
    assert before["on"]["status"] == "billable" and before["on"]["billable"] is True
    assert before["on"]["release"] == "ICD-10-CM FY2021-Jan"
    after = card(runner, "M54.5", "--on", "2022-01-05")
    assert after["on"]["status"] == "header" and after["on"]["billable"] is False
    assert after["on"]["children"] == ["M54.50", "M54.51", "M54.59"]
    assert after["on"]["explanation"].endswith("use M54.50, M54.51 or M54.59.")
    assert after["label"] == "Low back pain" and after["rules"] == before["rules"]
    assert after["history"] == [
        {"status": "billable", "from": "2015-10-01", "until": "2021-09-30",
         "first_release": "FY2016", "ended_by": "FY2022"},
        {"status": "header", "from": "2021-10-01", "until": "", "first_release": "FY2022",
         "ended_by": ""},
    ]  # fmt: skip
    kinds = [(h["kind"], h["id"]) for h in after["hierarchy"]]
    assert kinds == [("chapter", "13"), ("block", "M50-M54"), ("category", "M54")]


def test_a_code_only_the_releases_know_gets_a_card(runner: CliRunner) -> None:
    r05 = card(runner, "R05", "--on", "2022-01-01")
    assert r05["in_curated_graph"] is False and r05["official_descriptor"] == "Cough"
    assert r05["on"]["status"] == "header" and len(r05["on"]["children"]) == 6
    assert r05["flags"] == ["not billable (a category header) in the FY2026 release"]
    new = card(runner, "r059", "--on", "2021-06-01")  # no dot, lower case
    assert new["code"] == "R05.9" and new["on"]["status"] == "not yet valid"
    assert new["hierarchy"][-1] == {"kind": "category", "id": "R05", "title": "Cough",
                                    "range": ""}  # fmt: skip
    assert "on" not in card(runner, "R05.9")  # without --on: history only


def test_icd9_codes_have_cards(runner: CliRunner) -> None:
    copd = card(runner, "496", "--on", "2010-01-01")
    assert copd["scheme"] == "ICD-9-CM" and copd["on"]["status"] == "billable"
    assert copd["on"]["release"] == "ICD-9-CM v27 (FY2010)"
    assert copd["history"][0]["from"] == "" and copd["history"][0]["until"] == "2015-09-30"
    late = card(runner, "496", "--on", "2016-01-01")
    assert late["on"]["status"] == "system not in force"
    assert card(runner, "V30.00")["scheme"] == "ICD-9-CM"  # dotted: not a HCPCS code


def test_other_codes_on_a_date_use_their_dates(runner: CliRunner) -> None:
    e1392 = card(runner, "E1392", "--on", "2020-01-01")
    assert e1392["on"]["status"] == "in force" and "history" not in e1392
    assert "on" not in card(runner, "E1392") and "history" not in card(runner, "E1392")


def test_table_shows_history_and_the_day(runner: CliRunner) -> None:
    result = runner.invoke(app, ["code", "G35", "--on", "2025-11-01"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "History (bundled ICD releases)" in text and "Hierarchy" in text
    assert "billable from 2015-10-01 to 2025-09-30" in text
    assert "on 2025-11-01: G35 is not billable on 2025-11-01: it is a category header" in text


@pytest.mark.parametrize("bad", ["2021-13-01", "June 2021", ""])
def test_a_bad_date_is_a_one_line_error(runner: CliRunner, bad: str) -> None:
    result = runner.invoke(app, ["code", "M54.5", "--on", bad])
    assert result.exit_code == 2
    assert "--on takes a date as YYYY-MM-DD" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
