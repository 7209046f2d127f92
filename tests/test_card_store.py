"""The code card with imported code sets: curated and imported descriptors side by side, cards
for codes only the store knows, and the card unchanged without a store.

Every test uses its own store (--store or CLAIMGRAPH_STORE), filled from small hand-made
fixed-width HCPCS releases written here (the record helper comes from test_codesets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimgraph import codestore
from claimgraph.card import build_card
from claimgraph.cli import app
from claimgraph.importers import hcpcs
from test_codesets import record, write_fixed

NEW_E1392 = "Portable oxygen concentrator, rental, hand-made 2021 wording"
ONLY_IN_STORE = "E9990"


def curated(code: str) -> dict[str, Any]:
    """The curated card (no store consulted): the test's expectations come from the graph."""
    return build_card(code, use_codesets=False).as_dict()


@pytest.fixture(scope="module")
def e1392() -> dict[str, Any]:
    card = curated("E1392")
    assert card["official_descriptor"] and card["rules"]
    return card


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, e1392: dict[str, Any]) -> Path:
    """Two releases: 2020-01 repeats the curated E1392 text; 2021-01 rewords it. E9990 (added
    2015, terminated 2019) and KX are in 2020-01 only. Tests must not change it."""
    tmp = tmp_path_factory.mktemp("cardstore")
    root = tmp / "store"
    old = write_fixed(tmp / "HCPC2020_ANWEB.txt", [
        record("E1392", e1392["official_descriptor"], e1392["short_descriptor"]),
        record(ONLY_IN_STORE, "Hand-made test device, purchase", "Hand-made test device",
               added="20150101", term="20191231", action="D"),
        record("KX", "Requirements specified in the medical policy have been met",
               "Documentation on file", recid="7"),
    ])  # fmt: skip
    new = write_fixed(tmp / "HCPC2021_ANWEB.txt", [
        record("E1392", NEW_E1392, "Portable o2 concentrator", action="C", act="20210101"),
    ])  # fmt: skip
    codestore.import_release(hcpcs.read(old), root)
    codestore.import_release(hcpcs.read(new), root)
    return root


@pytest.fixture
def no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    missing = tmp_path / "no-store"
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(missing))
    return missing


def run(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def flat(text: str) -> str:
    return " ".join(text.split())


def test_json_shows_both_descriptors_with_their_releases(
    runner: CliRunner, store: Path, no_store: Path, e1392: dict[str, Any]
) -> None:
    card = json.loads(run(runner, "code", "E1392", "-f", "json", "--store", str(store)).stdout)
    assert card["in_curated_graph"] is True
    assert card["official_descriptor"] == e1392["official_descriptor"]  # curated stays
    by_release = {r["release"]: r for r in card["imported"]}
    assert set(by_release) == {"cms-hcpcs-2020-01", "cms-hcpcs-2021-01"}
    old, new = by_release["cms-hcpcs-2020-01"], by_release["cms-hcpcs-2021-01"]
    assert (old["descriptor"], old["differs_from_curated"], old["current"]) == (
        e1392["official_descriptor"],
        False,
        False,
    )
    assert (new["descriptor"], new["differs_from_curated"], new["current"]) == (
        NEW_E1392,
        True,
        True,
    )
    assert new["short_descriptor"] == "Portable o2 concentrator"
    assert (new["issued"], new["action"], new["action_effective"]) == (
        "2021-01-01",
        "C",
        "2021-01-01",
    )
    assert old["added"] == "2006-01-01" and old["terminated"] == ""
    assert new["release_title"].endswith("January 2021")


def test_table_labels_curated_and_imported_text(
    runner: CliRunner, store: Path, no_store: Path, e1392: dict[str, Any]
) -> None:
    text = flat(run(runner, "code", "E1392", "--store", str(store)).stdout)
    sources = "; ".join(e1392["code_sources"])
    assert f'curated ({sources}): "{e1392["official_descriptor"]}"' in text
    new = "imported release cms-hcpcs-2021-01 (CMS HCPCS Level II file, January 2021) current:"
    assert f'{new} "{NEW_E1392}" (differs from the curated descriptor)' in text
    assert "imported release cms-hcpcs-2020-01" in text
    assert "(same as the curated descriptor)" in text
    assert "action C effective 2021-01-01" in text


def test_curated_facts_stay_with_a_store(
    runner: CliRunner, store: Path, monkeypatch: pytest.MonkeyPatch, e1392: dict[str, Any]
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(store))  # the environment variable is honoured
    card = json.loads(run(runner, "code", "E1392", "-f", "json").stdout)
    assert len(card["imported"]) == 2
    for key, value in e1392.items():
        assert card[key] == value, key


def test_same_descriptor_is_not_repeated_as_curated(
    runner: CliRunner, tmp_path: Path, no_store: Path, e1392: dict[str, Any]
) -> None:
    root = tmp_path / "same"
    path = write_fixed(tmp_path / "HCPC2020_ANWEB.txt", [
        record("E1392", e1392["official_descriptor"], e1392["short_descriptor"]),
    ])  # fmt: skip
    codestore.import_release(hcpcs.read(path), root)
    text = flat(run(runner, "code", "E1392", "--store", str(root)).stdout)
    assert "(same as the curated descriptor)" in text
    assert "curated (" not in text and "differs" not in text


def test_code_only_in_the_store_gets_a_store_card(
    runner: CliRunner, store: Path, no_store: Path
) -> None:
    with pytest.raises(Exception, match="unknown code"):
        curated(ONLY_IN_STORE)
    card = json.loads(
        run(runner, "code", ONLY_IN_STORE, "-f", "json", "--store", str(store)).stdout
    )
    assert card["in_curated_graph"] is False
    assert card["official_descriptor"] == "Hand-made test device, purchase"
    assert (card["effective_from"], card["effective_until"]) == ("2015-01-01", "2019-12-31")
    assert card["code_sources"] == ["CMS HCPCS Level II file, January 2020"]
    assert not card["rules"] and not card["modifiers"] and not card["related_codes"]
    [row] = card["imported"]
    assert (row["release"], row["terminated"], row["current"]) == (
        "cms-hcpcs-2020-01",
        "2019-12-31",
        True,
    )
    text = flat(run(runner, "code", ONLY_IN_STORE, "--store", str(store)).stdout)
    assert "not in the curated graph: no rules, relations or article statements" in text
    assert "imported release cms-hcpcs-2020-01" in text and "terminated 2019-12-31" in text
    assert "curated (" not in text


def test_unknown_in_both_exits_2_with_store_matches(
    runner: CliRunner, store: Path, no_store: Path
) -> None:
    result = runner.invoke(app, ["code", "E9991", "--store", str(store)])
    assert result.exit_code == 2
    assert "unknown code 'E9991'" in result.stderr and ONLY_IN_STORE in result.stderr
    result = runner.invoke(app, ["code", "E9991"])  # no store: the store's codes are unknown
    assert result.exit_code == 2 and ONLY_IN_STORE not in result.stderr


def test_store_card_checks_the_payer(runner: CliRunner, store: Path, no_store: Path) -> None:
    result = runner.invoke(app, ["code", ONLY_IN_STORE, "--payer", "nobody", "--store", str(store)])
    assert result.exit_code == 2 and "unknown payer" in result.stderr


def test_without_a_store_the_card_is_unchanged(
    runner: CliRunner, no_store: Path, e1392: dict[str, Any]
) -> None:
    card = json.loads(run(runner, "code", "E1392", "-f", "json").stdout)
    assert card == e1392  # no imported keys at all
    text = run(runner, "code", "E1392").stdout
    assert "imported" not in text and "curated (" not in text
    assert not no_store.exists()  # reading never creates a store


def test_a_code_absent_from_the_store_says_so(
    runner: CliRunner, store: Path, no_store: Path
) -> None:
    assert _known("E0745")
    out = json.loads(run(runner, "code", "E0745", "-f", "json", "--store", str(store)).stdout)
    assert out["imported"] == [] and out["in_curated_graph"] is True
    text = flat(run(runner, "code", "E0745", "--store", str(store)).stdout)
    assert "not in any imported release" in text


def _known(code: str) -> bool:
    try:
        curated(code)
    except Exception:
        return False
    return True


def test_search_accepts_the_modifier_system(runner: CliRunner, store: Path, no_store: Path) -> None:
    args = ["code", "search", "medical policy", "--system", "modifier", "-f", "json"]
    hits = json.loads(run(runner, *args, "--store", str(store)).stdout)
    assert hits and all(h["system"] == "modifier" for h in hits)
    assert "KX" in [h["code"] for h in hits]
    hits = json.loads(run(runner, "code", "search", "hand-made test device", "-f", "json").stdout)
    assert ONLY_IN_STORE not in [h["code"] for h in hits]  # --store did not leak into the env
