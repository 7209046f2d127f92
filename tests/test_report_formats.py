"""Every report format shows every finding with its context: table, json, jsonl, csv, tsv,
turtle, html, xlsx; spreadsheet-safe cells in every CSV/TSV writer; the -o suffix picks the
format; the one-line summary on stderr."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT, SH
from claimgraph.report import CSV_COLUMNS, write
from claimgraph.report.records import FIELDS
from claimgraph.tabular import safe_cell, write_delimited
from claimgraph.validation import ValidationResult, validate_files

FORMULA = "=1+1"
HOSTILE = '<script>alert("x")</script>'
DOCS = [
    {"type": "order", "date": "2026-02-20", "signed": True, "duration_months": 12},
    {"type": "oxygen-test", "date": "2026-02-18", "spo2": 86},
    {"type": "portable-justification", "date": "2026-02-20"},
]
LINE = {"code": "E1392", "modifiers": ["KX"], "units": 1, "service_date": "2026-03-02"}
CLAIMS = {
    "claims": [
        {"id": FORMULA, "payer": "medicare", "patient": "PT-1", "diagnoses": ["J44.9"],
         "lines": [LINE], "documents": DOCS},
        {"id": HOSTILE, "payer": "medicare", "patient": "PT-2", "diagnoses": ["J44.9"],
         "lines": [LINE], "documents": DOCS},
        {"id": "CLM-F3", "payer": "aetna", "patient": "PT-3", "diagnoses": ["J44.9"],
         "lines": [dict(LINE, modifiers=["RR"])], "documents": DOCS},
    ]
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_user_code_store(ncci_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no code sets; only the made-up NCCI tables, so the NCCI rules give no Info for 2026Q1
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(ncci_store))


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("formats") / "claims.json"
    path.write_text(json.dumps(CLAIMS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(claims: Path, ncci_store: Path) -> ValidationResult:
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the autouse fixture
        mp.setenv("CLAIMGRAPH_STORE", str(ncci_store))
        kn = Knowledge.bundled().with_codesets(ncci_store)
        found = validate_files([claims], engine="fast", knowledge=kn)
    assert {f.claim for f in found.findings} == {FORMULA, HOSTILE, "CLM-F3"}
    return found


def text(result: ValidationResult, fmt: str, **kw: Any) -> str:
    out = io.StringIO()
    write(result, fmt, out, **kw)
    return out.getvalue()


# --------------------------------------------------------------------------- CSV safety


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(x)"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


def test_plain_cells_and_numbers_are_unchanged() -> None:
    assert [safe_cell(v) for v in ("E1392", "a=b", "", None, 3, -2, 1.5, True)] == [
        "E1392", "a=b", "", "", 3, -2, 1.5, "true"
    ]  # fmt: skip


def test_bom_only_when_asked() -> None:
    out = io.StringIO()
    write_delimited(out, ["a"], [["x"]], bom=True)
    assert out.getvalue().startswith("\ufeffa\n")
    out = io.StringIO()
    write_delimited(out, ["a"], [["x"]], delimiter="\t")
    assert out.getvalue() == "a\nx\n"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_report_of_a_formula_claim_id_opens_as_text(result: ValidationResult, fmt: str) -> None:
    rows = list(csv.reader(io.StringIO(text(result, fmt)), delimiter="," if fmt == "csv" else "\t"))
    assert tuple(rows[0]) == CSV_COLUMNS
    claims = {r[0] for r in rows[1:]}
    assert "'" + FORMULA in claims and FORMULA not in claims
    assert all(not c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


def test_every_table_writer_neutralises(runner: CliRunner, tmp_path: Path) -> None:
    """print_rows (queries, query tables, code search, store info, rules) and export CSV."""
    rq = tmp_path / "formula.rq"
    rq.write_text('SELECT ?x WHERE { BIND("=HYPERLINK(\\"http://e.x\\")" AS ?x) }\n')
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        r = runner.invoke(app, ["query", str(rq), "-f", fmt])
        assert r.exit_code == 0, r.output
        assert list(csv.reader(io.StringIO(r.stdout), delimiter=sep))[1][0].startswith("'=")
    from claimgraph import export

    out = io.StringIO()
    export.write_csv(["a", "b"], [("-2+3", "@x")], out)
    assert out.getvalue().splitlines()[1] == "'-2+3,'@x"


# --------------------------------------------------------------------------- every field


def test_json_and_jsonl_carry_every_field(result: ValidationResult) -> None:
    report = json.loads(text(result, "json"))
    lines = text(result, "jsonl").splitlines()
    records = [json.loads(line) for line in lines]
    assert records == report["findings"] and len(records) == len(result.findings)
    for rec in records:
        assert tuple(rec) == FIELDS
        assert rec["rule_name"] and rec["fix"] and rec["sources"] and rec["key"]
    by_rule = report["summary"]["by_rule"]
    assert sum(by_rule.values()) == len(records) and report["summary"]["claims"] == 3


def test_csv_row_has_every_field(result: ValidationResult) -> None:
    rows = list(csv.DictReader(io.StringIO(text(result, "csv"))))
    assert len(rows) == len(result.findings)
    for row, f in zip(rows, result.findings, strict=True):
        assert row["key"] == f.key and row["fix"] == f.fix and row["rule_name"] == f.rule_name
        assert row["sources"].split() == [s.id for s in f.sources]
        assert row["status"] == "open"


def test_table_shows_context_and_fits_the_width(result: ValidationResult) -> None:
    from claimgraph.report.table import write_table

    out = io.StringIO()
    write_table(result, out, width=60)
    shown = out.getvalue()
    assert max(len(line) for line in shown.splitlines()) <= 60
    assert "\x1b[" not in shown  # no colour off a terminal
    for f in result.findings:
        assert f.key in shown and f.rule_name in " ".join(shown.split())
    words = set(shown.split())
    for f in result.findings:  # no word of a message or fix is cut
        for word in (f.message + " " + f.fix).split():
            assert word in words, word


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_colour_only_on_a_terminal_and_never_with_no_color(
    result: ValidationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimgraph.report.table import write_table

    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = _Terminal()
    write_table(result, tty, width=100)
    assert "\x1b[" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Terminal()
    write_table(result, tty, width=100)
    assert "\x1b[" not in tty.getvalue()


def test_turtle_report_carries_keys_and_fixes(result: ValidationResult) -> None:
    g = Graph().parse(data=text(result, "turtle"), format="turtle")
    results = list(g.subjects(None, SH.ValidationResult))
    assert len(results) == len(result.findings)
    assert {str(g.value(r, CG.findingKey)) for r in results} == {f.key for f in result.findings}
    assert all(g.value(r, CG.fix) is not None and g.value(r, DCT.source) for r in results)


def test_xlsx_has_findings_and_summary_sheets(result: ValidationResult, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "r.xlsx"
    with path.open("wb") as out:
        write(result, "xlsx", out)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Findings", "Summary"]
    sheet = wb["Findings"]
    assert tuple(c.value for c in sheet[1]) == CSV_COLUMNS
    assert sheet.max_row == len(result.findings) + 1
    claim_cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    formula = next(c for c in claim_cells if c.value == FORMULA)
    assert formula.data_type == "s"  # text, never a formula
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["claims checked"] == 3
    assert summary["violation findings"] == sum(f.severity == "violation" for f in result.findings)


def test_xlsx_without_openpyxl_is_a_clear_error(
    result: ValidationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    from claimgraph.errors import ClaimgraphError

    real = builtins.__import__

    def no_openpyxl(name: str, *a: Any, **kw: Any) -> Any:
        if name.startswith("openpyxl"):
            raise ImportError(name)
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(ClaimgraphError, match=r"claimgraph\[xlsx\]"):
        write(result, "xlsx", io.BytesIO())


# --------------------------------------------------------------------------- HTML


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append(a)
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value:
                self.urls.append((tag, name, value))


def test_html_is_self_contained_escaped_and_complete(result: ValidationResult) -> None:
    page = text(result, "html")
    parsed = _Page()
    parsed.feed(page)
    assert [r["data-key"] for r in parsed.rows] == [f.key for f in result.findings]
    source_urls = {s.url for f in result.findings for s in f.sources if s.url}
    for tag, attr, value in parsed.urls:  # links to sources and in-page anchors only
        assert (tag, attr) == ("a", "href") and (value in source_urls or value.startswith("#"))
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert {"h1", "h2", "table", "svg", "caption", "script", "style"} <= set(parsed.tags)
    assert "@media print" in page and 'lang="en"' in page


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("r.json", lambda b: json.loads(b)["findings"]),
        ("r.jsonl", lambda b: [json.loads(x) for x in b.splitlines()]),
        ("r.csv", lambda b: b.decode().startswith("claim,line,code,rule")),
        ("r.tsv", lambda b: b.decode().startswith("claim\tline\tcode\trule")),
        ("r.ttl", lambda b: len(Graph().parse(data=b.decode(), format="turtle"))),
        ("r.html", lambda b: b.decode().startswith("<!DOCTYPE html>")),
        ("r.xlsx", lambda b: b[:2] == b"PK"),
        ("r.txt", lambda b: b.decode().startswith("Claim ")),
    ],
)
def test_output_suffix_chooses_the_format(
    runner: CliRunner, claims: Path, tmp_path: Path, name: str, check: Any
) -> None:
    target = tmp_path / name
    r = runner.invoke(app, ["validate", str(claims), "-o", str(target)])
    assert r.exit_code == 1, r.output
    assert r.stdout == "" and check(target.read_bytes())
    line = r.stderr.strip()
    assert line.count("\n") == 0 and "3 claims checked" in line and str(target) in line


def test_format_option_wins_over_the_suffix_and_quiet_is_quiet(
    runner: CliRunner, claims: Path, tmp_path: Path
) -> None:
    target = tmp_path / "r.txt"
    r = runner.invoke(app, ["validate", str(claims), "-f", "json", "-o", str(target), "-q"])
    assert r.exit_code == 1 and r.stderr == ""
    assert json.loads(target.read_text())["claims"] == 3


def test_jsonl_to_stdout_then_the_summary_on_stderr(runner: CliRunner, claims: Path) -> None:
    r = runner.invoke(app, ["validate", str(claims), "-f", "jsonl"])
    assert r.exit_code == 1
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert records and all(tuple(rec) == FIELDS for rec in records)
    assert "claims checked" in r.stderr and r.stderr.count("\n") == 1


def test_fail_on_none_never_fails(runner: CliRunner, claims: Path) -> None:
    r = runner.invoke(app, ["validate", str(claims), "-f", "json", "--fail-on", "none"])
    report = json.loads(r.stdout)
    assert r.exit_code == 0 and report["conforms"] is True and report["findings"]


# ----------------------------------------------------------------- findings about the file


@pytest.fixture(scope="module")
def envelope(tmp_path_factory: pytest.TempPathFactory) -> ValidationResult:
    """An 837P with a stale SE count: its claims' findings and one STRUCT-04 about the file."""
    source = Path(__file__).parent / "data" / "formats" / "claims.837"
    path = tmp_path_factory.mktemp("envelope") / "stale.txt"
    path.write_text(source.read_text().replace("SE*57*0001", "SE*25*0001"))
    found = validate_files([path], engine="fast")
    assert [(f.claim, f.line) for f in found.findings if f.rule == "STRUCT-04"] == [(None, None)]
    return found


def test_findings_about_the_file_are_shown_as_such(envelope: ValidationResult) -> None:
    from claimgraph.report.table import write_table

    out = io.StringIO()
    write_table(envelope, out, width=100)
    shown = out.getvalue()
    (struct04,) = [f for f in envelope.findings if f.rule == "STRUCT-04"]
    head = shown.index(f"File {struct04.file}\n")
    assert shown[head:].split("\n", 2)[1] == "  the file itself  segment 59"
    assert "Claim None" not in shown and "claim as a whole" in shown  # the claims still are
    rows = list(csv.DictReader(io.StringIO(text(envelope, "csv"))))
    about = {(r["rule"], r["claim"], r["about"]) for r in rows}
    assert ("STRUCT-04", "", "file") in about and all(r["about"] for r in rows)
    assert {r["about"] for r in rows if r["claim"]} <= {"claim", "line"}
    html = text(envelope, "html")
    assert html.count("(the file)") == 1 and "(input)" not in html
    report = json.loads(text(envelope, "json"))
    summary = report["summary"]
    assert summary["not_in_input"] == sum(f["not_in_input"] for f in report["findings"]) > 0
    claims = {f["claim"] for f in report["findings"] if f["claim"] is not None}
    assert summary["claims_with_findings"] == len(claims)  # the file is no claim
