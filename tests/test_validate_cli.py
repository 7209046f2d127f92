"""`claimgraph validate` and `claimgraph rules` through the CLI: formats, exit codes, filters."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.namespaces import DCT, SH
from claimgraph.report import CSV_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SECRET_PATIENT = "PT-SECRET-7731"
SECRET_TEXT = "SECRET-FREE-TEXT-4410"
DOCS = [
    {"type": "order", "date": "2026-02-20", "signed": True, "duration_months": 12},
    {"type": "oxygen-test", "date": "2026-02-18", "spo2": 86},
    {"type": "portable-justification", "date": "2026-02-20"},
]
CLAIMS = {
    "claims": [
        {"id": "CLM-T1", "payer": "medicare", "patient": SECRET_PATIENT, "diagnoses": ["J44.9"],
         "lines": [{"code": "E1392", "modifiers": ["KX"], "units": 1, "service_date": "2026-03-02",
                    "description": SECRET_TEXT, "body_site": SECRET_TEXT}],
         "documents": DOCS},
        {"id": "CLM-T2", "payer": "medicare", "patient": SECRET_PATIENT, "diagnoses": ["J44.9"],
         "lines": [{"code": "E1392", "modifiers": ["RR", "KX"], "units": "two",
                    "service_date": "2026-03-02"}],
         "documents": DOCS},
        {"id": "CLM-T3", "payer": "medicare", "patient": "PT-3", "diagnoses": ["J44.9"],
         "lines": []},
        {"id": "CLM-T4", "payer": "aetna", "patient": "PT-4", "diagnoses": ["J44.9"],
         "lines": [{"code": "E1392", "modifiers": ["RR"], "units": 1,
                    "service_date": "2026-03-02"}],
         "documents": DOCS},
    ]
}  # fmt: skip
EXPECTED = {
    ("CLM-T1", 1, "OXY-02", "violation"),
    ("CLM-T2", 1, "STRUCT-02", "violation"),
    ("CLM-T3", None, "STRUCT-01", "violation"),
    ("CLM-T4", 1, "OXY-08", "warning"),
}


@pytest.fixture(autouse=True)
def _no_user_code_store(ncci_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no code sets; only the made-up NCCI tables, so the NCCI rules give no Info for 2026Q1
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(ncci_store))


@pytest.fixture
def claims_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(CLAIMS), encoding="utf-8")
    return path


def run(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["validate", "--engine", "reference", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def keys(report: dict) -> set[tuple]:  # type: ignore[type-arg]
    return {(f["claim"], f["line"], f["rule"], f["severity"]) for f in report["findings"]}


def test_json_report_shape(runner: CliRunner, claims_file: Path) -> None:
    from claimgraph.report.records import FIELDS

    code, out, _err = run(runner, claims_file, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == {
        "conforms", "claims", "fail_on", "findings", "waived", "notices", "summary", "run"
    }  # fmt: skip
    assert report["conforms"] is False and report["claims"] == 4
    from claimgraph import __version__
    from claimgraph.knowledge import Knowledge

    run_facts = report["run"]  # what the run used: only the made-up NCCI tables imported
    assert run_facts["claimgraph"] == __version__
    assert run_facts["rules_fingerprint"] == Knowledge.bundled().fingerprint
    assert run_facts["user_rules"] == [] and run_facts["date"]
    imported = {c["id"] for c in run_facts["code_sets"] if c["origin"] != "bundled"}
    assert imported and all(i.startswith("cms-ncci-") for i in imported), imported
    for f in report["findings"]:
        assert tuple(f) == FIELDS  # every field, in one order
        assert f["message"] and f["source"] and f["rule_name"] and f["topic"] and f["fix"]
        assert f["sources"] and all(s["id"] and s["title"] for s in f["sources"])
        assert len(f["key"]) == 16 and int(f["key"], 16) >= 0
        assert (f["code"] is None) == (f["line"] is None)
    assert len({f["key"] for f in report["findings"]}) == len(report["findings"])
    assert keys(report) == EXPECTED  # structure problems are findings; the others still checked
    summary = report["summary"]
    assert summary["by_severity"] == {"violation": 3, "warning": 1, "info": 0}
    assert summary["not_in_input"] == 0
    assert summary["by_rule"] == {"OXY-02": 1, "OXY-08": 1, "STRUCT-01": 1, "STRUCT-02": 1}
    assert summary["claims"] == 4 and summary["claims_with_findings"] == 4
    assert summary["claims_with_violations"] == 3
    assert sum(summary["by_payer"].values()) == sum(summary["by_file"].values() or [4]) == 4
    assert report["run"]["claimgraph"] and len(report["run"]["rules_fingerprint"]) == 16
    assert report["run"]["engine"] == "reference"


def test_fail_on_and_rule_filter(runner: CliRunner, claims_file: Path) -> None:
    code, out, _ = run(runner, claims_file, "--format", "json", "--rule", "OXY-08")
    assert code == 0 and keys(json.loads(out)) == {("CLM-T4", 1, "OXY-08", "warning")}
    assert json.loads(out)["conforms"] is True
    code, _, _ = run(
        runner, claims_file, "--format", "json", "--rule", "oxy-08", "--fail-on", "warning"
    )
    assert code == 1
    code, out, _ = run(runner, claims_file, "-f", "json", "--rule", "OXY-02", "--rule", "STRUCT-01")
    assert code == 1 and {k[2] for k in keys(json.loads(out))} == {"OXY-02", "STRUCT-01"}


def test_payer_filter(runner: CliRunner, claims_file: Path) -> None:
    code, out, _ = run(runner, claims_file, "--format", "json", "--payer", "commercial")
    report = json.loads(out)
    assert code == 0 and report["claims"] == 1
    assert keys(report) == {("CLM-T4", 1, "OXY-08", "warning")}
    code, _, err = run(runner, claims_file, "--payer", "acme")
    assert code == 2 and "unknown payer" in err


def test_csv_report(runner: CliRunner, claims_file: Path) -> None:
    code, out, _ = run(runner, claims_file, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 1 and tuple(rows[0]) == CSV_COLUMNS
    assert {(r[0], int(r[1]) if r[1] else None, r[3], r[4]) for r in rows[1:]} == EXPECTED


def test_turtle_report_is_a_shacl_report(runner: CliRunner, claims_file: Path) -> None:
    code, out, _ = run(runner, claims_file, "--format", "turtle")
    assert code == 1
    g = Graph().parse(data=out, format="turtle")
    report = next(g.subjects(None, SH.ValidationReport))
    assert g.value(report, SH.conforms).toPython() is False
    results = list(g.objects(report, SH.result))
    assert len(results) == len(EXPECTED)
    ids = set()
    for r in results:
        ids.add(str(g.value(r, DCT.identifier)))
        assert g.value(r, DCT.source) is not None and g.value(r, SH.focusNode) is not None
        assert g.value(r, SH.resultSeverity) in (SH.Violation, SH.Warning, SH.Info)
    assert ids == {k[2] for k in EXPECTED}


def test_table_report(runner: CliRunner, claims_file: Path) -> None:
    code, out, _ = run(runner, claims_file)
    assert code == 1
    assert "Claim CLM-T1" in out and "OXY-02" in out and "source:" in out
    assert "4 claims checked" in out and "By rule:" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "turtle"])
def test_no_patient_data_in_output(runner: CliRunner, claims_file: Path, fmt: str) -> None:
    _code, out, err = run(runner, claims_file, "--format", fmt)
    assert SECRET_PATIENT not in out + err and SECRET_TEXT not in out + err


def test_clean_input_exits_zero(runner: CliRunner, tmp_path: Path) -> None:
    data = {"claims": [copy.deepcopy(c) for c in CLAIMS["claims"] if c["id"] == "CLM-T1"]}
    data["claims"][0]["lines"][0]["modifiers"] = ["RR", "KX"]
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(runner, path, "--fail-on", "info")
    assert code == 0 and "no findings" in out


@pytest.mark.parametrize(
    ("content", "what"),
    [("{not json", "not valid JSON"), ('{"claims": 3}', "claims"), ("[]", "claims")],
)
def test_unreadable_input_exits_two(
    runner: CliRunner, tmp_path: Path, content: str, what: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(runner, path)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and what in lines[0]
    assert "Traceback" not in err


def test_missing_file_and_unknown_rule(
    runner: CliRunner, tmp_path: Path, claims_file: Path
) -> None:
    code, _, err = run(runner, tmp_path / "missing.json")
    assert code == 2 and "missing.json" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(runner, claims_file, "--rule", "NOPE-01")
    assert code == 2 and "NOPE-01" in err


def test_output_file(runner: CliRunner, tmp_path: Path, claims_file: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(runner, claims_file, "-f", "json", "-o", target)
    assert code == 1 and out == "" and keys(json.loads(target.read_text())) == EXPECTED
    code, _, err = run(runner, claims_file, "-f", "json", "-o", target)
    assert code == 2 and "--force" in err
    code, _, _ = run(runner, claims_file, "-f", "csv", "-o", target, "--force")
    assert code == 1 and target.read_text().startswith("claim,line,code")


def test_examples(runner: CliRunner) -> None:
    code, out, _ = run(runner, EXAMPLES / "clean.json", "--fail-on", "warning", "-f", "json")
    # clean: nothing about a claim; its April date has no NCCI table here, which the NCCI rules
    # say once for the run
    found = json.loads(out)["findings"]
    assert code == 0 and all(f["claim"] is None and f["severity"] == "info" for f in found), out
    topics = [("oxygen", "OXY-"), ("nmes", "NMES-"), ("cancer-stim", "CANSTIM-"),
              ("modifiers", "MOD-"), ("therapy", "THER-"), ("ens", "ENS-")]  # fmt: skip
    for topic, prefix in topics:
        code, out, _ = run(runner, EXAMPLES / f"{topic}.json", "-f", "json")
        rules = {f["rule"] for f in json.loads(out)["findings"]}
        assert any(r.startswith(prefix) for r in rules), (topic, rules)


def test_rules_catalogue(runner: CliRunner) -> None:
    from claimgraph.knowledge import Knowledge

    result = runner.invoke(app, ["rules", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == set(Knowledge.bundled().rulebook.rules)
    assert {"id", "severity", "topic", "scope", "message", "source", "from", "until"} <= set(
        rows[0]
    )
    oxygen = json.loads(runner.invoke(app, ["rules", "-f", "json", "--topic", "oxygen"]).stdout)
    assert {r["id"] for r in oxygen} == {f"OXY-{i:02d}" for i in range(1, 11)}
    commercial = {
        r["id"]
        for r in json.loads(runner.invoke(app, ["rules", "-f", "json", "--payer", "aetna"]).stdout)
    }
    assert "OXY-08" in commercial and "OXY-01" not in commercial and "STRUCT-01" in commercial
    assert runner.invoke(app, ["rules", "--topic", "nope"]).exit_code == 2


@pytest.mark.parametrize("command", ["validate", "rules"])
def test_help_has_example(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.stdout
