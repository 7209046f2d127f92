"""The analyst's workflow: --baseline, --waivers, --rules-profile and `claimgraph diff`."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.errors import ClaimgraphError
from claimgraph.findings import Finding
from claimgraph.knowledge import Knowledge
from claimgraph.workflow.profile import apply_profile, load_profile
from claimgraph.workflow.waivers import apply_waivers, load_waivers

DOCS = [
    {"type": "order", "date": "2026-02-20", "signed": True, "duration_months": 12},
    {"type": "oxygen-test", "date": "2026-02-18", "spo2": 86},
    {"type": "portable-justification", "date": "2026-02-20"},
]
LINE = {"code": "E1392", "modifiers": ["KX"], "units": 1, "service_date": "2026-03-02"}
CLAIMS = {
    "claims": [
        {"id": "CLM-W1", "payer": "medicare", "patient": "PT-1", "diagnoses": ["J44.9"],
         "lines": [dict(LINE)], "documents": DOCS},  # OXY-02 (no RR)
        {"id": "CLM-W2", "payer": "medicare", "patient": "PT-2", "diagnoses": ["J44.9"],
         "lines": [dict(LINE)], "documents": DOCS},  # OXY-02
        {"id": "CLM-W3", "payer": "aetna", "patient": "PT-3", "diagnoses": ["J44.9"],
         "lines": [dict(LINE, modifiers=["RR"])], "documents": DOCS},  # OXY-08 (warning)
    ]
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_user_code_store(ncci_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no code sets; only the made-up NCCI tables, so the NCCI rules give no Info for 2026Q1
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(ncci_store))


def write(path: Path, data: object) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def validate(runner: CliRunner, *args: str | Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    r = runner.invoke(app, ["validate", "-f", "json", *map(str, args)])
    assert r.exit_code in (0, 1), r.output
    return r.exit_code, json.loads(r.stdout), r.stderr


def idents(report: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f["claim"], f["rule"]) for f in report["findings"]}


@pytest.fixture
def claims(tmp_path: Path) -> Path:
    return write(tmp_path / "claims.json", CLAIMS)


# --------------------------------------------------------------------------- baseline


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_second_run_with_a_baseline_reports_nothing_new(
    runner: CliRunner, claims: Path, tmp_path: Path, fmt: str
) -> None:
    first = tmp_path / f"first.{fmt}"
    r = runner.invoke(app, ["validate", str(claims), "-o", str(first)])
    assert r.exit_code == 1
    known = (
        len(first.read_text().splitlines())
        if fmt == "jsonl"
        else len(json.loads(first.read_text())["findings"])
    )
    code, report, _ = validate(runner, claims, "--baseline", first)
    assert code == 0 and report["findings"] == []
    assert report["summary"]["suppressed_by_baseline"] == known > 0
    assert report["run"]["baseline"] == {"file": first.name, "suppressed": known}
    table = runner.invoke(app, ["validate", str(claims), "--baseline", str(first)])
    assert f"{known} known finding(s) suppressed" in table.stdout


def test_baseline_keeps_findings_it_does_not_have(
    runner: CliRunner, claims: Path, tmp_path: Path
) -> None:
    only_w1 = {"claims": [CLAIMS["claims"][0]]}
    first = tmp_path / "first.json"
    runner.invoke(app, ["validate", str(write(claims, only_w1)), "-o", str(first)])
    write(claims, CLAIMS)  # the same file name, two more claims
    code, report, _ = validate(runner, claims, "--baseline", first)
    assert code == 1 and ("CLM-W1", "OXY-02") not in idents(report)
    assert {("CLM-W2", "OXY-02"), ("CLM-W3", "OXY-08")} <= idents(report)


def test_a_report_without_keys_is_refused(runner: CliRunner, claims: Path, tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", {"findings": [{"rule": "OXY-02", "severity": "violation"}]})
    r = runner.invoke(app, ["validate", str(claims), "--baseline", str(old)])
    assert r.exit_code == 2 and "no key" in r.stderr and r.stderr.count("\n") == 1
    bad = write(tmp_path / "bad.json", "{not json\n")
    r = runner.invoke(app, ["validate", str(claims), "--baseline", str(bad)])
    assert r.exit_code == 2 and "bad.json" in r.stderr and "line 1" in r.stderr


# --------------------------------------------------------------------------- diff


def test_diff_lists_a_fixed_claim_as_resolved(
    runner: CliRunner, claims: Path, tmp_path: Path
) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.jsonl"
    assert runner.invoke(app, ["validate", str(claims), "-o", str(before)]).exit_code == 1
    fixed = copy.deepcopy(CLAIMS)
    fixed["claims"][0]["lines"][0]["modifiers"] = ["RR", "KX"]  # CLM-W1 gets RR
    write(claims, fixed)
    assert runner.invoke(app, ["validate", str(claims), "-o", str(after)]).exit_code == 1
    r = runner.invoke(app, ["diff", str(before), str(after), "-f", "json"])
    assert r.exit_code == 0, r.output  # nothing new
    d = json.loads(r.stdout)
    assert [(f["claim"], f["rule"]) for f in d["resolved_findings"]] == [("CLM-W1", "OXY-02")]
    assert d["new_findings"] == [] and d["summary"]["unchanged"] == len(d["unchanged_findings"])
    back = runner.invoke(app, ["diff", str(after), str(before)])  # the other way: one new
    assert back.exit_code == 1 and "New (1)" in back.stdout and "CLM-W1" in back.stdout
    calm = runner.invoke(app, ["diff", str(after), str(before), "--fail-on", "none"])
    assert calm.exit_code == 0
    rows = runner.invoke(app, ["diff", str(after), str(before), "-f", "csv"]).stdout.splitlines()
    assert rows[0].startswith("change,claim,line") and any(x.startswith("new,CLM-W1") for x in rows)


# --------------------------------------------------------------------------- waivers


def waivers_file(path: Path, *entries: str) -> Path:
    return write(path, "\n".join(f"[[waiver]]\n{e}\n" for e in entries))


def test_a_waiver_sets_findings_apart_until_it_expires(
    runner: CliRunner, claims: Path, tmp_path: Path
) -> None:
    future = waivers_file(
        tmp_path / "w.toml",
        'rule = "OXY-02"\nclaim = "CLM-W*"\nreason = "rental proven by contract"\n'
        'who = "a.analyst"\nexpires = 2999-12-31',
    )
    code, report, _ = validate(runner, claims, "--waivers", future)
    assert code == 0  # the two violations are waived; OXY-08 is a warning
    assert idents(report) == {("CLM-W3", "OXY-08")}
    waived = report["waived"]
    assert {(w["claim"], w["rule"]) for w in waived} == {("CLM-W1", "OXY-02"), ("CLM-W2", "OXY-02")}
    assert all(w["waiver"]["reason"] == "rental proven by contract" for w in waived)
    table = runner.invoke(app, ["validate", str(claims), "--waivers", str(future)]).stdout
    assert "Waived (2)" in table and "rental proven by contract" in table

    past = waivers_file(
        tmp_path / "old.toml",
        'rule = "OXY-02"\nreason = "old contract"\nwho = "a.analyst"\nexpires = 2000-01-31',
    )
    code, report, _ = validate(runner, claims, "--waivers", past)
    assert code == 1 and report["waived"] == []
    assert {("CLM-W1", "OXY-02"), ("CLM-W2", "OXY-02")} <= idents(report)
    (notice,) = report["notices"]
    assert "expired on 2000-01-31" in notice and "no longer applies" in notice


def test_a_waiver_by_finding_key(runner: CliRunner, claims: Path, tmp_path: Path) -> None:
    _, report, _ = validate(runner, claims)
    key = next(f["key"] for f in report["findings"] if f["claim"] == "CLM-W2")
    w = waivers_file(tmp_path / "w.toml",
                     f'key = "{key}"\nreason = "r"\nwho = "w"\nexpires = "2999-01-01"')  # fmt: skip
    _, report, _ = validate(runner, claims, "--waivers", w)
    assert [x["key"] for x in report["waived"]] == [key]
    assert key not in {f["key"] for f in report["findings"]}


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('rule = "OXY-02"\nwho = "w"\nexpires = 2999-01-01', "needs reason"),
        ('rule = "NOPE-01"\nreason = "r"\nwho = "w"\nexpires = 2999-01-01', "unknown rule"),
        ('reason = "r"\nwho = "w"\nexpires = 2999-01-01', "either key or rule"),
        ('rule = "OXY-02"\nreason = "r"\nwho = "w"\nexpires = "soon"', "expires must be a date"),
        ('rule = "OXY-02"\nreason = "r"\nwho = "w"\nexpires = 2999-01-01\ncolour = 1', "unknown"),
        ("rule = ", "not valid TOML"),
    ],
)
def test_a_bad_waivers_file_is_one_line(
    runner: CliRunner, claims: Path, tmp_path: Path, entry: str, needle: str
) -> None:
    w = waivers_file(tmp_path / "w.toml", entry)
    r = runner.invoke(app, ["validate", str(claims), "--waivers", str(w)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "w.toml" in r.stderr and needle in r.stderr


def test_waivers_as_a_pure_step(tmp_path: Path) -> None:
    w = load_waivers(waivers_file(
        tmp_path / "w.toml",
        'rule = "OXY-02"\nclaim = "A-?"\nreason = "r"\nwho = "w"\nexpires = 2026-06-30',
    ), ["OXY-02"])  # fmt: skip
    f1 = Finding(claim="A-1", line=1, rule="OXY-02", severity="violation", key="k1")
    f2 = Finding(claim="A-10", line=1, rule="OXY-02", severity="violation", key="k2")
    open_, waived, notices = apply_waivers([f1, f2], w, dt.date(2026, 6, 30))  # last day
    assert open_ == [f2] and [x.finding for x in waived] == [f1] and notices == []
    open_, waived, notices = apply_waivers([f1, f2], w, dt.date(2026, 7, 1))
    assert open_ == [f1, f2] and waived == [] and "1 finding(s) it covered" in notices[0]


# --------------------------------------------------------------------------- profile


def test_a_profile_changes_a_severity_and_turns_a_rule_off(
    runner: CliRunner, claims: Path, tmp_path: Path
) -> None:
    stricter = write(tmp_path / "strict.toml", 'name = "Aetna contract 2026"\n'
                     '[[rule]]\nid = "OXY-08"\nseverity = "violation"\n'
                     '[[rule]]\nid = "OXY-02"\nseverity = "off"\n')  # fmt: skip
    code, report, _ = validate(runner, claims, "--rules-profile", stricter)
    assert code == 1
    assert {(f["claim"], f["rule"], f["severity"]) for f in report["findings"]} == {
        ("CLM-W3", "OXY-08", "violation")
    }
    profile = report["run"]["profile"]
    assert profile["name"] == "Aetna contract 2026" and profile["file"] == "strict.toml"
    assert (profile["changed"], profile["turned_off"]) == (1, 2)
    table = runner.invoke(app, ["validate", str(claims), "--rules-profile", str(stricter)]).stdout
    assert "Profile Aetna contract 2026 (strict.toml)" in table


def test_profile_entries_per_payer() -> None:
    path = Path(__file__).parent / "data" / "profile-per-payer.toml"
    profile = load_profile(path, ["OXY-08", "OXY-02"], Knowledge.bundled().payer_categories)
    findings = [
        Finding(claim=c, line=1, rule="OXY-08", severity="warning", payer=p)
        for c, p in (("A", "aetna"), ("B", "bcbs"), ("M", "medicare"), ("N", None))
    ]
    out, changed, dropped = apply_profile(findings, profile, Knowledge.bundled().payer_categories)
    assert {f.claim: f.severity for f in out} == {"A": "info", "B": "violation"}
    assert (changed, dropped) == (2, 2)  # medicare and no payer: the general entry, off


def test_a_bad_profile_is_one_line(runner: CliRunner, claims: Path, tmp_path: Path) -> None:
    for body, needle in (('[[rule]]\nid = "OXY-08"\nseverity = "fatal"\n', "severity must be"),
                         ('[[rule]]\nid = "OXY-08"\nseverity = "info"\npayer = "acme"\n',
                          "unknown payer"),
                         ('[[rule]]\nid = "OXY-08"\nseverity = "info"\n'
                          '[[rule]]\nid = "OXY-08"\nseverity = "off"\n', "repeats")):  # fmt: skip
        p = write(tmp_path / "p.toml", body)
        r = runner.invoke(app, ["validate", str(claims), "--rules-profile", str(p)])
        assert r.exit_code == 2 and needle in r.stderr and r.stderr.count("\n") == 1


def test_workflow_files_are_checked_before_the_claims(tmp_path: Path) -> None:
    """A bad profile fails fast, before any claim is read (a missing claims file is not met)."""
    from claimgraph.validation import validate_files

    bad = write(tmp_path / "p.toml", '[[rule]]\nid = "NOPE-01"\nseverity = "off"\n')
    with pytest.raises(ClaimgraphError, match="unknown rule id NOPE-01"):
        validate_files([tmp_path / "missing.json"], rules_profile=bad)
