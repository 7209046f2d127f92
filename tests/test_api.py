"""The public Python API (`claimgraph.validate`, `read_claims`) and Parquet in and out: the
same claims give the CLI's findings whatever the source (paths, claim dicts, FHIR resources, a
DataFrame, an Arrow table, a Parquet file)."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import claimgraph
from claimgraph.cli import app
from claimgraph.errors import ClaimgraphError, InputError
from synthetic import arrow_rows, generate, line_rows

pa = pytest.importorskip("pyarrow", reason="the arrow extra (pyarrow) is not installed")
pq = pytest.importorskip("pyarrow.parquet")

FHIR = Path(__file__).parent / "data" / "fhir"
N = 500  # generated claims: copies of every rule's scenarios, NMR-02 patients included
PLACE = ("file", "position")  # where a claim sits in its input: differs between forms
KEYED = ("file", "position", "key")  # the key hashes the file's name


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return list(generate(N, seed=7))


@pytest.fixture(scope="module")
def cli_report(claims: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("cli") / "claims.json"
    path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
    out = CliRunner().invoke(app, ["validate", str(path), "-f", "json", "-j", "1", "-q"])
    assert out.exit_code == 1, out.output
    report = json.loads(out.stdout)
    assert len({f["rule"] for f in report["findings"]}) > 40  # the claims reach most rules
    return report


def _without(records: list[dict[str, Any]], fields: tuple[str, ...]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k not in fields}, sort_keys=True)
                  for r in records)  # fmt: skip


def test_claim_dicts_give_the_cli_findings(claims: list[dict], cli_report: dict) -> None:
    result = claimgraph.validate(claims, name="claims.json", jobs=1)
    assert isinstance(result, claimgraph.ValidationResult)
    assert result.claims == cli_report["claims"] == N
    assert _without(result.records(), PLACE) == _without(cli_report["findings"], PLACE)
    assert result.summary() == cli_report["summary"]["by_severity"]
    assert result.failed and not result.conforms
    assert {f.position for f in result.findings if f.claim is not None} <= {
        f"record {n}" for n in range(1, N + 1)
    }
    finding = result.findings[0]
    assert isinstance(finding, claimgraph.Finding) and finding.rule_name and finding.key
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.rule = "X"  # type: ignore[misc]


def test_a_path_gives_exactly_the_cli_report(tmp_path: Path) -> None:
    example = Path(__file__).parents[1] / "examples" / "oxygen.json"
    report = json.loads(CliRunner().invoke(app, ["validate", str(example), "-f", "json"]).stdout)
    result = claimgraph.validate(str(example), jobs=1)
    assert result.records() == report["findings"]
    assert claimgraph.validate([example], jobs=1).records() == report["findings"]


def test_dataframe_of_claim_lines_gives_the_cli_findings(
    claims: list[dict], cli_report: dict
) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(list(line_rows(claims)))
    result = claimgraph.validate(frame, name="claims.json", jobs=1)
    assert result.claims == N
    assert _without(result.records(), PLACE) == _without(cli_report["findings"], PLACE)
    table = result.to_pandas()
    assert list(table.columns[:5]) == ["key", "claim", "line", "code", "rule"]
    assert len(table) == len(result.findings) and set(table["status"]) == {"open"}


def test_arrow_table_and_numbered_columns_give_the_cli_findings(
    claims: list[dict], cli_report: dict
) -> None:
    rows = arrow_rows(list(line_rows(claims)))
    expected = _without(cli_report["findings"], PLACE)
    table = pa.Table.from_pylist(rows)
    assert _without(claimgraph.validate(table, name="claims.json", jobs=1).records(),
                    PLACE) == expected  # fmt: skip
    # modifier_1..4 and diagnosis_1..12 columns instead of list columns; `;`-separated text
    numbered = []
    for r in rows:
        mods, dxs = r.pop("modifiers") or [], r.pop("diagnoses")
        r.update({f"modifier_{i}": (mods[i - 1] if i <= len(mods) else None) for i in (1, 2)})
        r["modifier_3"] = ";".join(mods[2:]) or None  # the rest, as text
        r.update({f"diagnosis_{i}": (dxs[i - 1] if i <= len(dxs) else None)
                  for i in range(1, 13)})  # fmt: skip
        numbered.append(r)
    alt = pa.Table.from_pylist(numbered)
    assert _without(claimgraph.validate(alt, name="claims.json", jobs=1).records(),
                    PLACE) == expected  # fmt: skip


def test_diagnosis_systems_as_the_json_contract_says_them() -> None:
    """ICD-9-CM on a 2014 claim: stated by struct items, by prefix, by the code's shape."""
    dx = [{"code": "250.00", "system": "icd9cm"}, "icd9:V30.00", "496", "M54.50"]
    line = {"code": "97112", "units": 1, "service_date": "2014-06-02"}
    claim = {"id": "CLM-9", "payer": "medicare", "patient": "P-9", "diagnoses": dx,
             "lines": [line]}  # fmt: skip
    expected = claimgraph.validate([claim], jobs=1).records()
    assert "CODE-02" in {f["rule"] for f in expected}  # M54.50 before ICD-10-CM
    structs = [{"code": "250.00", "system": "icd9cm"}, {"code": "V30.00", "system": "icd9"},
               {"code": "496", "system": None}, {"code": "M54.50", "system": None}]  # fmt: skip
    row = {"claim_id": "CLM-9", "payer": "medicare", "patient": "P-9", **line}
    for cell in (structs, "icd9cm:250.00;icd9:V30.00;496;M54.50"):
        table = pa.Table.from_pylist([{**row, "diagnoses": cell}])
        assert claimgraph.validate(table, jobs=1).records() == [
            {**r, "position": "row 1"} if r["claim"] is not None else r for r in expected
        ]


def test_any_table_with_to_arrow(claims: list[dict]) -> None:
    """A polars DataFrame (or any table with `to_arrow()`) reads as its Arrow table."""
    table = pa.Table.from_pylist(arrow_rows(list(line_rows(claims[:60]))))

    class Frame:  # what polars.DataFrame offers
        columns = table.column_names

        def to_arrow(self) -> Any:
            return table

    assert claimgraph.validate(Frame(), jobs=1).records() == claimgraph.validate(
        table, jobs=1
    ).records()


def test_documents_as_a_list_of_objects(claims: list[dict]) -> None:
    pd = pytest.importorskip("pandas")
    rows = list(line_rows(claims[:80]))
    as_objects = [{**r, "documents": json.loads(r["documents"] or "[]")} for r in rows]
    text = claimgraph.validate(pd.DataFrame(rows), jobs=1).records()
    objects = claimgraph.validate(pd.DataFrame(as_objects), jobs=1).records()
    assert text == objects
    assert any(f["rule"].startswith("OXY") for f in text)  # documents decide these


def test_parquet_in_and_out(claims: list[dict], cli_report: dict, tmp_path: Path) -> None:
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.Table.from_pylist(arrow_rows(list(line_rows(claims)))), path,
                   row_group_size=97)  # a claim's rows span row groups  # fmt: skip
    runner = CliRunner()
    out = runner.invoke(app, ["validate", str(path), "-f", "json", "-j", "1", "-q"])
    assert out.exit_code == 1, out.output
    report = json.loads(out.stdout)
    assert _without(report["findings"], KEYED) == _without(cli_report["findings"], KEYED)
    assert {f["position"] for f in report["findings"] if f["claim"]} <= {
        f"row {n}" for n in range(1, 2000)
    }
    # by content too, whatever the name
    other = tmp_path / "claims.data"
    other.write_bytes(path.read_bytes())
    renamed = json.loads(runner.invoke(app, ["validate", str(other), "-f", "json", "-q"]).stdout)
    assert _without(renamed["findings"], KEYED) == _without(report["findings"], KEYED)
    # the API on the file: exactly the CLI's report
    assert claimgraph.validate(path, jobs=1).records() == report["findings"]
    # findings as Parquet: every record field, typed, plus status
    written = tmp_path / "report.parquet"
    out = runner.invoke(app, ["validate", str(path), "-o", str(written), "-j", "1", "-q"])
    assert out.exit_code == 1
    table = pq.read_table(written)
    assert table.schema.field("line").type == pa.int32()
    assert table.schema.field("not_in_input").type == pa.bool_()
    from claimgraph.report.arrow import findings_from_table
    from claimgraph.report.records import finding_record

    again = [finding_record(f) for f in findings_from_table(table)]
    assert again == report["findings"]
    assert table.column("status").to_pylist() == ["open"] * len(again)


def test_parquet_report_lists_waived_findings(tmp_path: Path) -> None:
    example = Path(__file__).parents[1] / "examples" / "oxygen.json"
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waiver]]\nrule = "OXY-01"\nclaim = "*"\nreason = "agreed"\n'
                       'who = "analyst"\nexpires = 2099-01-01\n')  # fmt: skip
    result = claimgraph.validate(example, waivers=waivers, jobs=1)
    assert result.waived
    table = result.to_arrow()
    waived = [r for r in table.to_pylist() if r["status"] == "waived"]
    assert len(waived) == len(result.waived)
    assert waived[0]["waiver"] == {"reason": "agreed", "who": "analyst", "expires": "2099-01-01"}


def test_parquet_with_a_column_mapping(shared_data: Path, tmp_path: Path) -> None:
    """A real CMS RIF carrier extract (Synthea) as Parquet, read with its profile: the
    findings of the delimited file."""
    rif = shared_data / "realworld" / "csv" / "rif-synthea-carrier.csv"
    with rif.open(encoding="utf-8", newline="") as f:
        rows = [{k: v for k, v in r.items() if k} for r in csv.DictReader(f, delimiter="|")]
    path = tmp_path / "carrier.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    runner = CliRunner()
    args = ["-f", "json", "-q", "-j", "1", "--profile", "rif-carrier"]
    original = json.loads(runner.invoke(app, ["validate", str(rif), *args]).stdout)
    parquet = json.loads(runner.invoke(app, ["validate", str(path), *args]).stdout)
    assert original["claims"] == parquet["claims"] > 20
    assert original["findings"]
    assert _without(parquet["findings"], KEYED) == _without(original["findings"], KEYED)
    # a mapping names a column the table lacks: one line naming it
    broken = tmp_path / "broken.parquet"
    pq.write_table(pa.Table.from_pylist([{k: v for k, v in r.items() if k != "HCPCS_CD"}
                                         for r in rows]), broken)  # fmt: skip
    out = runner.invoke(app, ["validate", str(broken), *args])
    assert out.exit_code == 2 and "hcpcs_cd" in out.stderr and str(broken) in out.stderr


def test_fhir_resources_as_dicts() -> None:
    bundle_path = FHIR / "synthea-style.bundle.json"
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    from_file = claimgraph.validate(bundle_path, jobs=1)
    from_dict = claimgraph.validate(bundle, name=bundle_path.name, jobs=1)
    assert from_file.findings
    assert _without(from_dict.records(), PLACE) == _without(from_file.records(), PLACE)
    # the Bundle's resources one by one, referring to each other as Type/id: references
    # resolve across the list (patients, coverages, conditions)
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    for e in bundle["entry"]:
        r = e["resource"]
        text = text.replace(f'"{e["fullUrl"]}"', f'"{r["resourceType"]}/{r["id"]}"')
    loose = claimgraph.validate(json.loads(text), name=bundle_path.name, jobs=1)
    assert _without(loose.records(), PLACE) == _without(from_file.records(), PLACE)
    claims = list(claimgraph.read_claims(json.loads(text)))
    assert [c.position for c in claims] == ["resource 5", "resource 8", "resource 9",
                                            "resource 13", "resource 17"]  # fmt: skip
    assert all(c.patient for c in claims)


def test_read_claims_and_claim_data() -> None:
    claims = list(claimgraph.read_claims(Path(__file__).parents[1] / "examples" / "oxygen.json"))
    assert claims and all(isinstance(c, claimgraph.ClaimData) and c.uid for c in claims)
    direct = claimgraph.validate(claims, jobs=1)
    by_path = claimgraph.validate(Path(__file__).parents[1] / "examples" / "oxygen.json", jobs=1)
    assert direct.records() == by_path.records()


def test_payer_rules_and_fail_on(claims: list[dict]) -> None:
    only = claimgraph.validate(claims, payer="aetna", rules=["NMR-02"], fail_on="none", jobs=1)
    assert only.findings and {f.rule for f in only.findings} == {"NMR-02"}
    assert {f.payer for f in only.findings} == {"aetna"} and not only.failed
    with pytest.raises(ClaimgraphError, match="unknown rule id"):
        claimgraph.validate(claims, rules=["NOPE-1"])


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ([{"id": "A", "lines": []}, 42], "expected a claim dict", "record 2"),
        ([{"id": "A", "patient": {"name": "x"}}], "patient is an object", "record 1"),
        ([{"id": "A"}, {"resourceType": "Claim"}], "mixed", "record 2"),
        ("no/such/file.json", "no such file", None),
        (42, "expected paths", None),
    ],
)
def test_bad_sources_are_one_line_errors(source: Any, message: str, position: str | None) -> None:
    with pytest.raises(InputError, match=message) as info:
        claimgraph.validate(source)
    assert info.value.position == position
    assert "\n" not in str(info.value) and "x" not in (info.value.position or "")


def test_bad_tables_are_one_line_errors(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([{"claim_id": "A", "code": "E0601"},
                                  {"claim_id": "B", "code": "E0601"},
                                  {"claim_id": "A", "code": "E0602"}])  # fmt: skip
    with pytest.raises(InputError, match="consecutive") as info:
        claimgraph.validate(table)
    assert info.value.position == "row 3"
    with pytest.raises(InputError, match="claim_id"):
        claimgraph.validate(pa.Table.from_pylist([{"code": "E0601"}]))
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1" + b"\0" * 64)
    out = CliRunner().invoke(app, ["validate", str(damaged)])
    assert out.exit_code == 2 and "not a readable Parquet file" in out.stderr
    with pytest.warns(claimgraph.ClaimgraphWarning, match="ignored columns.*notes"):
        claimgraph.validate(pa.Table.from_pylist([{"claim_id": "A", "notes": "free text"}]))


def test_without_pyarrow_parquet_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.Table.from_pylist([{"claim_id": "A", "code": "E0601"}]), path)
    example = Path(__file__).parents[1] / "examples" / "clean.json"
    result = claimgraph.validate(example, jobs=1)
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2
    assert "claimgraph[arrow]" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    out = CliRunner().invoke(app, ["validate", str(example), "-o", str(tmp_path / "r.parquet")])
    assert out.exit_code == 2 and "claimgraph[arrow]" in out.stderr
    with pytest.raises(ClaimgraphError, match=r"claimgraph\[arrow\]"):
        result.to_arrow()


def test_import_is_light_and_python_m_works() -> None:
    code = ("import sys, claimgraph; claimgraph.__all__; "
            "print(sorted(m for m in ('rdflib', 'pyarrow', 'pandas', 'pyshacl') "
            "if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"
    assert set(claimgraph.__all__) <= set(dir(claimgraph))
    for name in claimgraph.__all__:
        assert getattr(claimgraph, name) is not None
    version = subprocess.run([sys.executable, "-m", "claimgraph", "--version"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert version.stdout.strip() == f"claimgraph {claimgraph.__version__}"
