"""Tabular claims by column mapping: the CMS RIF profiles on the real samples, mapping files,
row errors, and whole-number units in every format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimgraph.cli import app
from claimgraph.errors import InputError
from claimgraph.ingest import detect_format, read_claims, to_graph
from claimgraph.ingest.tabular import builtin_profiles, load_profile
from claimgraph.intake import NOT_IN_INPUT
from claimgraph.namespaces import CG
from claimgraph.validation import validate_files

FORMS = Path(__file__).parent / "data" / "realworld-rif"
SAMPLES = {
    "rif-sample-a-bcarrier-multiple-lines.txt": "rif-carrier",
    "rif-sample-a-dme.txt": "rif-dme",
    "rif-synthea-dme.csv": "rif-dme",
}
CANARY = "ZZCANARY-Doe"
INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def csv_dir(shared_data: Path) -> Path:
    return shared_data / "realworld" / "csv"


def keys(path: Path, engine: str = "fast", **kw: Any) -> set[tuple]:
    return {
        f.ident for f in validate_files([path], engine=engine, warn=lambda _m: None, **kw).findings
    }


# --- the CMS RIF samples --------------------------------------------------------------------


def test_profiles_are_shipped_data() -> None:
    profiles = builtin_profiles()
    assert {"rif-carrier", "rif-dme"} <= set(profiles)
    assert all(p.source.endswith(".toml") for p in profiles.values())
    carrier = profiles["rif-carrier"]
    assert carrier.default_payer == "medicare" and carrier.delimiter == "|"
    assert len(carrier.claim["diagnoses"]) == 13  # principal + 12


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_rif_sample_gives_the_findings_of_its_json_form(
    name: str, engine: str, shared_data: Path
) -> None:
    path = csv_dir(shared_data) / name
    expected = keys(FORMS / (name.rsplit(".", 1)[0] + ".claims.json"), engine)
    assert expected  # the samples' codes are not all valid: CODE-01/02 findings at least
    assert keys(path, engine, profile=SAMPLES[name]) == expected
    assert keys(path, engine) == expected  # the header names the profile


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rif_sample_reads_as_its_json_form(name: str, shared_data: Path) -> None:
    (claim,) = read_claims([csv_dir(shared_data) / name], profile=SAMPLES[name])
    (form,) = json.loads((FORMS / (name.rsplit(".", 1)[0] + ".claims.json")).read_text())["claims"]
    assert (claim.id, claim.payer, claim.patient, claim.format) == (
        form["id"], "medicare", form["patient"], SAMPLES[name])  # fmt: skip
    assert [d[1] for d in claim.diagnoses] == form["diagnoses"]
    assert [(ln.code, ln.modifiers, ln.units, ln.service_date) for ln in claim.lines] == [
        (ln["code"], ln["modifiers"], ln["units"], ln["service_date"]) for ln in form["lines"]
    ]


def test_rif_carrier_agrees_with_the_blue_button_eob_of_the_same_claim(shared_data: Path) -> None:
    """BFD serves the RIF sample's claim 9991831999 as eobReadCarrier.json: same facts."""
    rif = shared_data / "realworld" / "csv" / "rif-sample-a-bcarrier-multiple-lines.txt"
    eob = shared_data / "realworld" / "fhir" / "bfd-eobReadCarrier.json"
    (a,) = read_claims([rif])
    (b,) = read_claims([eob])
    assert (a.id, a.payer, a.patient, a.provider, a.diagnoses) == (
        b.id, b.payer, b.patient, b.provider, b.diagnoses)  # fmt: skip
    first = a.lines[0]
    assert (first.code, first.modifiers, first.units, first.service_date,
            first.place_of_service) == (
        b.lines[0].code, b.lines[0].modifiers, b.lines[0].units, b.lines[0].service_date,
        b.lines[0].place_of_service)  # fmt: skip


def test_synthea_carrier_extract(shared_data: Path) -> None:
    path = csv_dir(shared_data) / "rif-synthea-carrier.csv"
    assert detect_format(path) == "rif-carrier"
    claims = list(read_claims([path]))
    assert len(claims) == 37 and sum(len(c.lines) for c in claims) == 221
    first = claims[0]
    assert (first.id, first.patient, first.payer, first.provider) == (
        "-100000486", "-1000006", "medicare", None)  # fmt: skip
    assert first.diagnoses == [("icd10cm", "O03.9"), ("icd10cm", "E03.4")]
    assert {(ln.units, ln.service_date, ln.place_of_service) for ln in first.lines} == {
        (9, "2015-05-30", "11")}  # fmt: skip
    units = [ln.units for c in claims for ln in c.lines]
    assert units.count(0) == 21 and all(isinstance(u, int) for u in units)
    codes = {ln.code for c in claims for ln in c.lines}
    assert codes == {None, "G0444", "G9572"}  # most Synthea carrier lines carry no HCPCS code


def test_validate_cli_with_a_profile(runner: Any, shared_data: Path) -> None:
    path = csv_dir(shared_data) / "rif-sample-a-dme.txt"
    result = runner.invoke(app, ["validate", str(path), "--profile", "rif-dme", "-f", "json", "-q"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["claims"] == 1
    result = runner.invoke(app, ["validate", str(path), "--profile", "no-such", "-q"])
    assert result.exit_code == 2 and "built-in profiles: rif-carrier, rif-dme" in result.output
    wrong = runner.invoke(app, ["validate", str(path), "--profile", "rif-carrier", "-q"])
    assert wrong.exit_code == 2 and "CARR_CLM_BLG_NPI_NUM" in wrong.output  # names the column


def test_convert_reads_rif_by_content_profile_or_input_format(
    runner: Any, shared_data: Path
) -> None:
    path = csv_dir(shared_data) / "rif-sample-a-dme.txt"
    by_content = runner.invoke(app, ["convert", str(path), "-f", "nt", "-q"])
    by_profile = runner.invoke(app, ["convert", str(path), "-f", "nt", "-q", "--profile",
                                     "rif-dme"])  # fmt: skip
    told = runner.invoke(app, ["convert", "-", "-f", "nt", "-q", "--input-format", "rif-dme"],
                         input=path.read_bytes())  # fmt: skip
    assert by_content.exit_code == by_profile.exit_code == told.exit_code == 0, told.output
    assert "<https://w3id.org/claimgraph/payer/medicare>" in by_content.stdout  # RIF: Medicare
    assert by_content.stdout == by_profile.stdout
    assert told.stdout.count("ontology/Claim>") == by_content.stdout.count("ontology/Claim>") == 1


# --- mapping files --------------------------------------------------------------------------

MAPPING = """
name = "clinic-export"
delimiter = "\\t"
date_formats = ["%m/%d/%Y"]
[claim]
id = "Claim No"
patient = "MRN"
payer = "Plan"
provider = "NPI"
diagnoses = ["Dx1", "Dx2"]
[line]
number = "Ln"
code = "CPT/HCPCS"
modifiers = ["Mod1", "Mod2", "Mod3", "Mod4"]
units = "Qty"
service_date = "DOS"
"""
HEADER = "Claim No\tMRN\tPlan\tNPI\tDx1\tDx2\tLn\tCPT/HCPCS\tMod1\tMod2\tMod3\tMod4\tQty\tDOS\n"


def write_mapping(tmp_path: Path, text: str = MAPPING) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    return path


def test_a_mapping_file_reads_a_tsv_export(tmp_path: Path) -> None:
    data = tmp_path / "export.tsv"
    rows = [
        "A1\tP9\tAetna Choice\t123\tM5450\tR52\t2\t97112\tGP\tKX\t\t\t2.0\t03/04/2026",
        "A1\t\t\t\t\t\t1\t97110\tGP\t\t\t\t1\t03/04/2026",
        "B2\tP8\tMedicare\t123\tJ449\t\t1\tE1392\tRR\t\t\t\t1\t13/01/2026",
    ]
    data.write_text(HEADER + "\n".join(rows) + "\n")
    a, b = read_claims([data], profile=str(write_mapping(tmp_path)))
    assert (a.id, a.patient, a.payer_name, a.payer, a.provider) == (
        "A1", "P9", "Aetna Choice", "aetna", "123")  # fmt: skip
    assert a.diagnoses == [("icd10cm", "M54.50"), ("icd10cm", "R52")]
    assert [(ln.code, ln.modifiers, ln.units, ln.service_date) for ln in a.lines] == [
        ("97110", ["GP"], 1, "2026-03-04"),
        ("97112", ["GP", "KX"], 2, "2026-03-04"),
    ]  # by line no.
    assert b.lines[0].service_date == "13/01/2026"  # not a date in the format: kept, reported


@pytest.mark.parametrize(
    ("text", "message"),
    [("[claim]\npatient = 'MRN'\n", "no claim id column"),
     ("[claim]\nid = 'X'\nwho = 'Y'\n", "has no field 'who'"),
     ("[claim]\nid = 'X'\n[line]\nmodifiers = ['a','b','c','d','e']\n", "too many columns"),
     ("colour = 1\n[claim]\nid = 'X'\n", "unknown keys"),
     ("[claim\n", "invalid TOML")],
)  # fmt: skip
def test_bad_mapping_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_profile(str(write_mapping(tmp_path, text)))


def test_rows_with_a_wrong_cell_count_name_the_line(tmp_path: Path) -> None:
    data = tmp_path / "export.tsv"
    data.write_text(HEADER + "A1\tP9\tAetna\t1\tR52\t\t1\t97110\t\t\t\t\t1\t03/04/2026\n"
                    + f"A2\t{CANARY}\tAetna\n")  # fmt: skip
    with pytest.raises(InputError) as e:
        list(read_claims([data], profile=str(write_mapping(tmp_path))))
    assert e.value.position == "3" and "3 cells but the header has 14" in e.value.message
    assert CANARY not in str(e.value)
    data.write_text(HEADER + "A1\tP9\tAetna\t1\tR52\t\t1\t97110\t\t\t\t\t1\t03/04/2026\t\n")
    with pytest.raises(InputError, match="15 cells"):  # no trailing delimiter in this mapping
        list(read_claims([data], profile=str(write_mapping(tmp_path))))


def test_missing_columns_are_named(tmp_path: Path) -> None:
    data = tmp_path / "export.tsv"
    data.write_text(HEADER.replace("\tDOS", "\tWhen"))
    with pytest.raises(InputError, match="DOS") as e:
        list(read_claims([data], profile=str(write_mapping(tmp_path))))
    assert e.value.position == "1"


# --- units and patients in the other formats (DOMAIN.md 7) -----------------------------------


def units_in_graph(claims: Any) -> list[tuple[str, Any]]:
    g = to_graph(claims)
    return sorted(
        (str(o), str(o.datatype) if o.datatype else None) for o in g.objects(None, CG.units)
    )


def test_whole_number_units_are_integers_in_every_format(tmp_path: Path) -> None:
    lines = [
        {"code": "E1392", "units": u, "service_date": "2026-01-01"} for u in (1, 1.0, "2", "1.5")
    ]
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"claims": [{"id": "A", "lines": lines}]}))
    assert units_in_graph(read_claims([path])) == [
        ("1", INTEGER), ("1", INTEGER), ("1.5", None), ("2", INTEGER)]  # fmt: skip
    csv = tmp_path / "c.csv"
    csv.write_text("claim_id,code,units\nA,E1392,1.0\nA,E1392,3\nA,E1392,two\n")
    assert units_in_graph(read_claims([csv])) == [
        ("1", INTEGER), ("3", INTEGER), ("two", None)]  # fmt: skip


def test_json_refuses_a_patient_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"claims": [
        {"id": "A", "patient": "P1"},
        {"id": "B", "patient": {"name": CANARY, "birthDate": "1950-01-01"}}]}))  # fmt: skip
    with pytest.raises(InputError) as e:
        list(read_claims([path]))
    assert e.value.position == "claim 2" and "not an id" in e.value.message
    assert CANARY not in str(e.value) and "1950" not in str(e.value)
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"id": "A"}\n{"id": "B", "patient": ["' + CANARY + '"]}\n')
    with pytest.raises(InputError) as e:
        list(read_claims([lines]))
    assert e.value.position == "2" and CANARY not in str(e.value)


@pytest.mark.parametrize(
    "name",
    ["rif-sample-a-bcarrier-multiple-lines.txt", "rif-sample-a-dme.txt", "rif-synthea-carrier.csv",
     "rif-synthea-dme.csv"],
)  # fmt: skip
@pytest.mark.parametrize("profile", [None, "rif-carrier", "rif-dme"])
def test_every_rif_file_validates_without_internal_errors(
    name: str, profile: str | None, runner: Any, shared_data: Path
) -> None:
    args = ["validate", str(csv_dir(shared_data) / name), "-f", "json", "-q"]
    result = runner.invoke(app, args + (["--profile", profile] if profile else []))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1, 2), result.output
    if profile is None or ("carrier" in name) == (profile == "rif-carrier"):
        assert result.exit_code in (0, 1)  # the right profile (or none: the header says) reads it


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_findings_resting_on_documents_a_table_cannot_carry_say_so(
    tmp_path: Path, engine: str
) -> None:
    """A column mapping names no documents: THER-02 (no treatment time record) on a therapy
    claim read from a table rests on documentation not in the input; attached with --documents,
    the record is there and the finding goes."""
    data = tmp_path / "export.tsv"
    data.write_text(HEADER + "P2\tPT2\tAetna\t123\tM5459\tG8929\t1\t97112\tGP\t59\t\t\t2\t"
                    "04/10/2026\n")  # fmt: skip
    mapping = str(write_mapping(tmp_path))
    found = validate_files([data], engine=engine, jobs=1, profile=mapping).findings
    ther02 = [f for f in found if f.rule == "THER-02"]
    assert ther02 and all(f.not_in_input and NOT_IN_INPUT in f.message for f in ther02)
    docs = tmp_path / "docs.csv"
    docs.write_text("claim_id,type,line,minutes,one_on_one\nP2,time-record,1,30,true\n")
    after = validate_files([data], engine=engine, jobs=1, profile=mapping, documents=docs)
    assert not any(f.rule == "THER-02" for f in after.findings)
    assert not any(f.not_in_input for f in after.findings)
