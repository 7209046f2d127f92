"""`claimgraph queries`, `query` and `code` through typer's CliRunner; help of every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from typer.testing import CliRunner

from claimgraph import query as Q
from claimgraph.cli import app
from claimgraph.knowledge import Knowledge

E1392 = URIRef("https://w3id.org/claimgraph/code/hcpcs/E1392")


def needs_e1392() -> None:
    assert (E1392, None, None) in Knowledge.bundled().graph


def all_commands() -> list[list[str]]:
    """Every command that runs something (the leaves: `query`, `import hcpcs`, ...)."""
    import typer.main

    root = typer.main.get_command(app)
    out: list[list[str]] = []
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        subs = list(getattr(cmd, "commands", {}))
        out.extend([[name, sub] for sub in subs] or [[name]])
    return out


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "claimgraph")
def test_every_command_has_help_with_an_example(runner: CliRunner, path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout


def test_queries_lists_every_named_query(runner: CliRunner) -> None:
    result = runner.invoke(app, ["queries", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} == set(Q.named_queries())
    by_name = {r["name"]: r for r in rows}
    assert by_name["rules-for-code"]["params"] == "code payer?"
    assert by_name["rules-for-code"]["title"] == Q.named_queries()["rules-for-code"].title


def test_queries_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["queries"])
    assert result.exit_code == 0
    assert "code-card" in result.stdout and "payer?" in result.stdout


def test_query_with_params_json(runner: CliRunner) -> None:
    needs_e1392()
    result = runner.invoke(app, ["query", "code-card", "-p", "code=E1392", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["code"] == str(E1392) for r in rows)
    assert rows[0]["officialDescriptor"] == "Portable oxygen concentrator, rental"


@pytest.mark.parametrize("fmt,sep", [("csv", ","), ("tsv", "\t")])
def test_query_csv_tsv(runner: CliRunner, fmt: str, sep: str) -> None:
    needs_e1392()
    result = runner.invoke(app, ["query", "code-card", "-p", "code=E1392", "-f", fmt])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(sep)
    assert header[:3] == ["code", "notation", "scheme"]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_query_file_ask(runner: CliRunner, tmp_path: Path) -> None:
    needs_e1392()
    yes = write(tmp_path, "yes.rq", "ASK { ?c <http://www.w3.org/2004/02/skos/core#notation> ?n }")
    result = runner.invoke(app, ["query", yes])
    assert result.exit_code == 0 and result.stdout.strip() == "true"
    no = write(tmp_path, "no.rq", "ASK { ?c <urn:claimgraph:no-such-property> ?n }")
    result = runner.invoke(app, ["query", no, "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"boolean": False}


def test_query_file_construct_prints_turtle(runner: CliRunner, tmp_path: Path) -> None:
    needs_e1392()
    path = write(
        tmp_path,
        "c.rq",
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        'CONSTRUCT { ?c skos:notation ?n } WHERE { ?c skos:notation ?n FILTER (?n = "E1392") }',
    )
    result = runner.invoke(app, ["query", path])
    assert result.exit_code == 0, result.output
    g = Graph().parse(data=result.stdout, format="turtle")
    assert set(g.subjects()) == {E1392}


def test_query_file_without_header_takes_its_variables(runner: CliRunner, tmp_path: Path) -> None:
    needs_e1392()
    path = write(
        tmp_path,
        "n.rq",
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?code ?n WHERE { ?code skos:notation ?n }",
    )
    result = runner.invoke(app, ["query", path, "-p", "code=E1392", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"code": str(E1392), "n": "E1392"}]


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["query", "rules-for-code"], "missing required parameter 'code'"),
        (["query", "rules-for-code", "-p", "code=E1392", "-p", "x=1"], "unknown parameter 'x'"),
        (["query", "rules-for-code", "-p", "code"], "name=value"),
        (["query", "no-such-query"], "no named query"),
        (["query", "missing.rq"], "no such query file"),
        (["code", "E1393"], "unknown code 'E1393'"),
        (["code", "E1392", "--payer", "nobody"], "unknown payer 'nobody'"),
        (["code", "E1392", "--format", "csv"], "table or json"),
        (["code", "search"], "usage"),
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], fragment: str) -> None:
    needs_e1392()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stdout == ""


REFUSED = {
    "insert": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "load": "LOAD <http://example.org/x.ttl>",
    "service": "SELECT * WHERE { SeRvIcE <http://example.org/sparql> { ?s ?p ?o } }",
    "from-named": "SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }",
    "syntax": "SELECT ?s WHERE {\n  ?s ?p\n}",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused_queries_exit_2(runner: CliRunner, tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "bad.rq", text)
    result = runner.invoke(app, ["query", path])
    assert result.exit_code == 2
    assert result.stderr.startswith("claimgraph: error: ") and result.stderr.count("\n") == 1


def test_refused_before_any_remote_call(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "s.rq", REFUSED["service"])
    result = runner.invoke(app, ["query", path, "--endpoint", "http://127.0.0.1:9/sparql"])
    assert result.exit_code == 2
    assert "SERVICE" in result.stderr


def test_code_card(runner: CliRunner) -> None:
    needs_e1392()
    result = runner.invoke(app, ["code", "E1392"])
    assert result.exit_code == 0, result.output
    assert "Portable oxygen concentrator, rental" in result.stdout
    result = runner.invoke(app, ["code", "E1392", "--format", "json"])
    card = json.loads(result.stdout)
    assert card["code"] == "E1392" and card["official_descriptor"].endswith("rental")
    assert "rental" in card["flags"]


def test_code_card_shows_article_disagreement(runner: CliRunner) -> None:
    rows = Q.run_named("article-disagreements", {"code": "E2120"}).rows
    assert rows
    result = runner.invoke(app, ["code", "E2120"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "article says" in text and "(disagrees with the official descriptor)" in text
    assert "E0745" in text


def test_code_card_rules_filtered_by_payer(runner: CliRunner) -> None:
    needs_e1392()
    result = runner.invoke(app, ["code", "E1392", "--payer", "medicare", "--format", "json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert all(r["payers"] == ["medicare"] for r in card["rules"])
    expected = {
        str(row[2])
        for row in Q.run_named("rules-for-code", {"code": "E1392", "payer": "medicare"}).rows
    }
    assert {r["ruleId"] for r in card["rules"]} == expected


def test_code_search(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["code", "search", "portable oxygen concentrator", "--system", "hcpcs", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits and all(h["system"] == "hcpcs" for h in hits)
    assert "E1392" in [h["code"] for h in hits[:3]]


def test_syntax_error_names_file_line_and_column(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.rq", "SELECT ?s WHERE {\n  ?s ?p ?o .\n  FILTER (\n}")
    result = runner.invoke(app, ["query", path])
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr
    where = result.stderr.split(f"{path}:", 1)[1].split(":")[:2]
    assert all(part.isdigit() for part in where)
