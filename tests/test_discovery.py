"""Inputs told apart by content: folders read whole, gzip, standard input, --input-format, and
inputs that are not claims named in one warning (exit 2 when nothing holds a claim)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.errors import InputError
from claimgraph.ingest import ReadLog, Source, detect, read_claims
from claimgraph.ingest.registry import InputFormat, NotClaims, formats, get, register

FORMATS = Path(__file__).parent / "data" / "formats"
LINE = {"code": "E1392", "units": 1, "service_date": "2026-03-02"}
ONE = {"claims": [{"id": "CLM-J1", "payer": "medicare", "patient": "PT-1", "diagnoses": ["J44.9"],
                   "lines": [LINE]}]}  # fmt: skip


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def kind(path: Path) -> str:
    found = detect(Source.file(path))
    return found.name if isinstance(found, InputFormat) else f"not claims: {found.reason}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"claims": []}', "json"),
        ('{"note": {"deep": [1, 2]}, "claims": []}', "json"),
        ('{"resourceType": "Bundle", "entry": []}', "fhir"),
        ('{"@context": {}, "@graph": []}', "json-ld"),
        ('[{"@id": "urn:x", "@type": "urn:y"}]', "json-ld"),
        ('{"id": "A", "lines": []}\n{"id": "B", "lines": []}\n', "jsonl"),
        (
            '{"resourceType": "Claim", "id": "a"}\n{"resourceType": "Patient", "id": "p"}\n',
            "fhir-ndjson",
        ),
        ("BENE_ID|CLM_ID|LINE_NUM|HCPCS_CD|CARR_CLM_BLG_NPI_NUM|\n1|2|1|E1392|9|\n", "rif-carrier"),
        ("CLM_ID|BENE_ID|LINE_NUM|HCPCS_CD|DMERC_LINE_SUPPLR_TYPE_CD\n", "rif-dme"),
        ("claim_id,payer,code\nA,medicare,E1392\n", "csv"),
        ("@prefix cg: <https://w3id.org/claimgraph/ontology/> .\n<c> a cg:Claim .\n", "turtle"),
        ("# comment\nPREFIX cg: <urn:x#>\n<c> a cg:Claim .\n", "turtle"),
        ('<urn:a> <urn:b> "c" .\n<urn:a> <urn:b> <urn:d> .\n', "nt"),
        ('<urn:a> <urn:b> "c" ;\n  <urn:e> 1 .\n', "turtle"),
        ("\ufeff  ISA*00*...", "x12"),
        ("GS*HC*S*R*20260601*1200*1*X*005010X222A2~", "x12"),  # no ISA: the reader says so
        ("%PDF-1.7 ...", "not claims: a PDF document"),
        ('<?xml version="1.0"?><rdf:RDF/>', "not claims: XML (RDF/XML is not accepted"),
        ('{"name": "package", "version": "1.0"}', "not claims: JSON of no claim format"),
        ("DML_IND|BENE_ID|CLM_ID|CLM_GRP_ID\n", "not claims: a pipe-delimited table"),
        ("id,code\n1,E1392\n", "not claims: a table without a claim_id column"),
        ("Dear colleague, ...", "not claims: text in no claim format"),
        ("", "not claims: an empty file"),
    ],
)
def test_content_decides_not_the_name(tmp_path: Path, text: str, expected: str) -> None:
    for name in ("input.txt", "input.dat", "input"):
        assert kind(write(tmp_path / name, text)).startswith(expected), name


def test_the_name_is_a_hint_where_content_cannot_decide(tmp_path: Path) -> None:
    nt = '<urn:a> <urn:b> "c" .\n'  # N-Triples is also Turtle
    assert kind(write(tmp_path / "a.nt", nt)) == "nt"
    line = json.dumps(ONE["claims"][0]) + "\n"  # one JSON object: a JSON Lines file by name
    assert kind(write(tmp_path / "a.jsonl", line)) == "jsonl"
    assert kind(write(tmp_path / "b.json", line)).startswith("not claims")


def test_broken_json_goes_to_the_json_reader_for_its_position(tmp_path: Path) -> None:
    path = write(tmp_path / "x.txt", '{"id": "CLM-2",}')
    assert kind(path) == "json"
    with pytest.raises(InputError) as e:
        list(read_claims([path]))
    assert e.value.position == "1:16"


def test_a_long_value_before_the_decisive_key_is_read_past(tmp_path: Path) -> None:
    big = {"note": "x" * 200_000, **ONE}
    path = write(tmp_path / "big.txt", json.dumps(big))
    assert kind(path) == "json" and [c.id for c in read_claims([path])] == ["CLM-J1"]


def test_binary_and_utf16(tmp_path: Path) -> None:
    assert kind(write(tmp_path / "b", bytes(range(256)) * 8)) == "not claims: binary data"
    x12 = (FORMATS / "claims.837").read_text()
    path = write(tmp_path / "u16.txt", x12.encode("utf-16-le"))  # no BOM
    assert kind(path) == "x12" and len(list(read_claims([path]))) == 4
    path = write(tmp_path / "u16bom.txt", x12.encode("utf-16"))
    assert len(list(read_claims([path]))) == 4


def test_gzip_is_read_transparently_whatever_the_name(tmp_path: Path) -> None:
    data = gzip.compress((FORMATS / "claims.837").read_bytes())
    for name in ("claims.837.gz", "claims.gz", "claims"):
        path = write(tmp_path / name, data)
        assert [c.id for c in read_claims([path])] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]
    fhir = write(tmp_path / "bundle.json.gz", gzip.compress((FORMATS / "claims.fhir.json")
                                                            .read_bytes()))  # fmt: skip
    assert len(list(read_claims([fhir]))) == 4  # FHIR opens its input twice: gzip reopens
    broken = write(tmp_path / "cut.gz", data[: len(data) // 2])
    with pytest.raises(InputError, match="gzip"):
        list(read_claims([broken]))


def test_a_folder_is_read_whole_and_what_is_not_claims_is_named_once(
    tmp_path: Path, shared_data: Path
) -> None:
    x12 = (FORMATS / "claims.837").read_text()
    folder = tmp_path / "inbox"
    (folder / "2026").mkdir(parents=True)
    write(folder / "a.txt", x12)
    write(folder / "b.dat", x12.replace("CLM-P", "CLM-B"))
    write(folder / "2026" / "c.edi", x12.replace("CLM-P", "CLM-C"))
    write(folder / "claims.json", json.dumps(ONE))
    write(folder / "bundle.json", (FORMATS / "claims.fhir.json").read_text())
    write(folder / "notes.md", "# what these files are\n")
    write(folder / "remit.txt", (shared_data / "realworld/x12-835/oop-835-Example1.txt")
          .read_bytes())  # fmt: skip
    write(folder / ".hidden.json", "{oops")
    warnings: list[str] = []
    log = ReadLog()
    claims = list(read_claims([folder], warnings.append, log=log))
    assert len(claims) == 4 + 4 + 4 + 1 + 4
    assert set(log.formats.values()) == {"x12", "json", "fhir"}
    (warning,) = [w for w in warnings if "hold no claims" in w]
    assert "notes.md: text in no claim format" in warning
    assert "remit.txt: segment 3: an 835 payment and remittance advice" in warning
    assert ".hidden" not in " ".join(warnings)


def test_no_claim_in_the_whole_input_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    write(folder / "notes.md", "hello")
    write(folder / "none.json", '{"claims": []}')
    with pytest.raises(InputError) as e:
        list(read_claims([folder]))
    assert e.value.message.startswith(f"no claims found in {folder}")
    assert "notes.md" in e.value.message and "none.json: it holds no claims" in e.value.message
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no claims found"):
        list(read_claims([tmp_path / "nothing"]))


def test_every_registered_format_says_what_it_can_carry() -> None:
    """ontology/formats.ttl describes each format of the registry (for not_in_input)."""
    from claimgraph.ingest.facts import carried_documents, format_facts

    assert {f.name for f in formats()} == set(format_facts().carries)
    assert carried_documents("rif-carrier") == carried_documents("tabular") == frozenset()
    assert "time-record" in carried_documents("fhir-ndjson")  # supportingInfo can name it
    assert "time-record" not in carried_documents("x12")


def test_a_folder_of_fhir_bulk_files_resolves_references_across_files(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    claim = {"resourceType": "Claim", "id": "c1", "use": "claim",
             "patient": {"reference": "Patient/p1"}, "insurer": {"reference": "Organization/o1"},
             "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [
                 {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J449"}]}}],
             "item": [{"sequence": 1, "servicedDate": "2026-03-02", "productOrService": {
                 "coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
                             "code": "E1392"}]}}]}  # fmt: skip
    write(folder / "Claim.ndjson", json.dumps(claim) + "\n" + json.dumps({**claim, "id": "c2"}))
    write(folder / "Patient.ndjson", json.dumps({"resourceType": "Patient", "id": "p1",
          "identifier": [{"system": "urn:mbi", "value": "1EG4"}]}) + "\n")  # fmt: skip
    write(
        folder / "Organization.ndjson",
        json.dumps({"resourceType": "Organization", "id": "o1", "name": "Aetna"}) + "\n",
    )
    warnings: list[str] = []
    log = ReadLog()
    claims = list(read_claims([folder], warnings.append, log=log))
    assert [(c.id, c.patient, c.payer) for c in claims] == [
        ("c1", "urn:mbi|1EG4", "aetna"), ("c2", "urn:mbi|1EG4", "aetna")]  # fmt: skip
    assert set(log.formats.values()) == {"fhir-ndjson"}
    assert not [w for w in warnings if "hold no claims" in w]  # reference files are read


def test_input_format_overrides_detection(tmp_path: Path) -> None:
    line = json.dumps(ONE["claims"][0]) + "\n"
    path = write(tmp_path / "one.json", line)
    with pytest.raises(InputError, match="no claims found"):
        list(read_claims([path]))
    assert [c.id for c in read_claims([path], input_format="jsonl")] == ["CLM-J1"]
    with pytest.raises(InputError, match="unknown input format"):
        list(read_claims([path], input_format="xls"))


def test_the_registry_takes_a_new_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import claimgraph.ingest.registry as registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register(InputFormat("pipes", "pipe table", "claimgraph.ingest.json_claims:read_jsonl",
                         sniff=lambda h: h.start.startswith("DML_IND|"), priority=35))  # fmt: skip
    assert kind(write(tmp_path / "rif.txt", "DML_IND|BENE_ID\n")) == "pipes"
    assert get("pipes") in formats()


# --- standard input, through the CLI ------------------------------------------------------


def test_standard_input_is_read_by_content_and_as_told() -> None:
    runner = CliRunner()
    x12 = (FORMATS / "claims.837").read_bytes()
    result = runner.invoke(app, ["validate", "-", "-f", "json", "-q"], input=x12)
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["claims"] == 4
    assert {f["claim"] for f in report["findings"]} >= {"CLM-P2", "CLM-P4"}
    gz = gzip.compress((FORMATS / "claims.fhir.json").read_bytes())  # spooled: FHIR reads twice
    result = runner.invoke(app, ["validate", "-", "-f", "json", "-q"], input=gz)
    assert json.loads(result.stdout)["claims"] == 4, result.output
    jsonl = (json.dumps(ONE["claims"][0]) + "\n").encode()
    result = runner.invoke(app, ["convert", "-", "--input-format", "jsonl", "--to", "ntriples"],
                           input=jsonl)  # fmt: skip
    assert result.exit_code == 0 and "CLM-J1" in result.stdout
    result = runner.invoke(app, ["validate", "-", "-q"], input=b"")
    assert result.exit_code == 2 and "no claims found in -: an empty file" in result.stderr


def test_not_claims_alone_exits_two_with_the_reason(tmp_path: Path) -> None:
    runner = CliRunner()
    path = write(tmp_path / "notes.txt", "hello")
    result = runner.invoke(app, ["validate", str(path), "-f", "json", "-q"])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line == f"claimgraph: error: no claims found in {path}: text in no claim format " \
                   "claimgraph reads"  # fmt: skip


def test_detect_returns_a_reason_never_content(tmp_path: Path) -> None:
    secret = "Zebulon Canaryfield 078-05-1120"
    found = detect(Source.file(write(tmp_path / "x", f"{secret}\n")))
    assert isinstance(found, NotClaims) and "Zebulon" not in found.reason
