"""The fast engine's one-pass design: patients partitioned and spilled encrypted, patients
with many claims in date windows, placeholder patient ids not joined, the run's deadline.

Every comparison is against the straightforward way: all the claims loaded as one batch."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from claimgraph.engine import dispatch, fast, spill
from claimgraph.engine.batches import patient_jobs
from claimgraph.engine.common import finalize, with_uids
from claimgraph.findings import Finding
from claimgraph.ingest import read_claims
from claimgraph.ingest.json_claims import claim_from_json
from claimgraph.ingest.model import ClaimData
from claimgraph.knowledge import Knowledge
from claimgraph.patients import unjoined

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # noqa: E402
import synthetic  # noqa: E402


def one_batch(claims: list[ClaimData]) -> list[Finding]:
    """Every claim loaded at once into one store: what any batching must give."""
    knowledge = Knowledge.bundled()
    payers = knowledge.payer_categories.keys()
    claims = list(with_uids(unjoined(claims, knowledge.placeholder_patients, lambda: None)))
    records = [fast.encode(c, payers) for c in claims]
    facts = fast.Enricher(knowledge.codesets).facts(records)
    runner = dispatch.BatchRunner(knowledge.checks)
    return finalize(runner.run((1, records, facts, len(records))))


def as_claims(objs: list[dict[str, Any]]) -> list[ClaimData]:
    unknown: set[str] = set()
    return [claim_from_json(o, i, unknown) for i, o in enumerate(objs, start=1)]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 realistic claims (patients with 1-30 claims) and 300 from the rule scenarios."""
    path = tmp_path_factory.mktemp("scale") / "mixed.json"
    objs = list(realistic.generate(1200, seed=5)) + list(synthetic.generate(300, seed=5))
    path.write_text(json.dumps({"claims": objs}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed_expected(mixed: Path) -> list[Finding]:
    """The findings of `mixed` loaded as one batch."""
    return one_batch(list(read_claims([mixed])))


def test_partitioned_run_equals_one_batch(mixed: Path, mixed_expected: list[Finding],
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    expected = mixed_expected
    assert {f.rule for f in expected} >= {"NMR-02", "ENS-06"}
    # small partitions, nested splits and many chunks: every path of spill.py is taken
    monkeypatch.setattr(spill, "PARTS", 4)
    monkeypatch.setattr(spill, "MAX_RECORDS", 300)
    monkeypatch.setattr(spill, "CHUNK_BYTES", 2000)
    assert fast.validate_claims(read_claims([mixed]), jobs=1, batch_size=60) == expected
    assert fast.validate_claims(read_claims([mixed]), jobs=2, batch_size=300) == expected


def visits(patient: str, n: int, seed: int = 3, gaps: tuple[int, ...] = (0, 1, 1, 2, 2, 3, 4)
           ) -> list[dict[str, Any]]:  # fmt: skip
    """`n` one-line 97112 claims of an Aetna patient, 0-4 days apart (NMR-02 fires in bursts)."""
    import random

    rng = random.Random(seed)
    template = synthetic._heavy_template(synthetic.load_scenarios())
    assert template is not None
    day = dt.date(2022, 1, 3)
    out = []
    for k in range(n):
        claim = json.loads(json.dumps(template))
        claim["id"], claim["patient"] = f"V-{patient}-{k}", patient
        claim["lines"][0]["service_date"] = day.isoformat()
        for doc in claim.get("documents", []):
            if "date" in doc:
                doc["date"] = day.isoformat()
        out.append(claim)
        day += dt.timedelta(days=rng.choice(gaps))
    return out


def test_patient_with_many_claims_is_validated_in_windows() -> None:
    claims = as_claims(visits("PT-MANY", 700))
    expected = one_batch(claims)
    nmr = {f.claim for f in expected if f.rule == "NMR-02"}
    assert 0 < len(nmr) < 700  # bursts over the guideline, quieter weeks under it
    assert fast.validate_claims(as_claims(visits("PT-MANY", 700)), jobs=1, batch_size=40) == (
        expected
    )
    # linear: each claim is loaded as core once and as context a bounded number of times
    records = [fast.encode(c, set()) for c in with_uids(as_claims(visits("PT-MANY", 700)))]
    jobs = list(patient_jobs(records, 40, 42))
    assert sum(core for _r, core in jobs) == 700
    assert sum(len(r) for r, _core in jobs) < 700 * 4
    assert max(len(r) for r, _core in jobs) < 200


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_placeholder_patient_ids_are_not_joined(engine: str) -> None:
    from claimgraph.validation import validate_claims

    def nmr02(patient: str) -> set[str]:
        claims = as_claims([{**c, "patient": patient} for c in visits("x", 20, gaps=(1,))])
        result = validate_claims(claims, engine=engine, jobs=1)
        return {str(f.claim) for f in result.findings if f.rule == "NMR-02"}

    assert nmr02(" unknown ") == set()  # twenty claims of nobody: each alone
    if engine == "fast":  # the reference engine's NMR-02 fixtures show the joined case
        assert nmr02("0000") == set()
        assert nmr02("PT-REAL") != set()


def test_placeholder_warning_names_no_value(runner: Any, tmp_path: Path) -> None:
    from claimgraph.cli import app

    path = tmp_path / "claims.json"
    objs = [{**c, "patient": "N/A"} for c in visits("x", 3)]
    path.write_text(json.dumps({"claims": objs}), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "-f", "json"])
    assert result.exit_code in (0, 1), result.output
    assert "3 claim(s) have a placeholder patient id" in result.stderr
    assert "N/A" not in result.stderr


def test_spill_is_private_encrypted_and_removed() -> None:
    parts = spill.Partitions(4)
    folder = parts.run.folder
    try:
        assert os.stat(folder).st_mode & 0o777 == 0o700
        records = [fast.encode(c, set()) for c in with_uids(as_claims(visits("PT-SECRET", 400)))]
        for r in records:
            parts.add(r)
        files = [Path(folder, f) for f in os.listdir(folder)]
        assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
        assert not any(b"PT-SECRET" in f.read_bytes() or b"97112" in f.read_bytes()
                       for f in files)  # fmt: skip
        back = [r for p in parts.partitions() for r in p]
        assert [r.nt for r in back] == [r.nt for r in records]  # one patient, input order
        assert os.listdir(folder) == []
    finally:
        parts.close()
    assert not os.path.exists(folder)


def test_tampered_spill_is_refused() -> None:
    from cryptography.exceptions import InvalidTag

    parts = spill.Partitions(1)
    try:
        for r in [fast.encode(c, set()) for c in with_uids(as_claims(visits("P", 300)))]:
            parts.add(r)
        path = Path(parts.run.folder, os.listdir(parts.run.folder)[0])
        data = bytearray(path.read_bytes())
        data[40] ^= 1
        path.write_bytes(bytes(data))
        with pytest.raises(InvalidTag):
            list(parts.partitions())
    finally:
        parts.close()


def test_spill_removed_on_error() -> None:
    def claims() -> Any:
        yield from as_claims(visits("P", 50))
        raise KeyboardInterrupt

    before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(KeyboardInterrupt):
        fast.validate_claims(claims(), jobs=1)
    after = set(os.listdir(tempfile.gettempdir()))
    assert not {n for n in after - before if n.startswith("claimgraph-spill-")}


def test_timeout_stops_the_run_with_exit_2(runner: Any, tmp_path: Path) -> None:
    from claimgraph.cli import app

    with pytest.raises(dispatch.ValidationTimeout, match=r"batch \d+ .* rule "):
        fast.validate_claims(as_claims(visits("P", 50)), jobs=1, timeout=0.001)
    path = tmp_path / "claims.json"
    synthetic.write_json(path, 2000, seed=2)
    result = runner.invoke(app, ["validate", str(path), "--timeout", "0.1", "--jobs", "2"])
    assert result.exit_code == 2, result.output
    assert "timed out" in result.stderr and "Traceback" not in result.stderr
    ok = runner.invoke(app, ["validate", str(path), "--timeout", "300", "-f", "json"])
    assert ok.exit_code in (0, 1) and json.loads(ok.stdout)["claims"] == 2000


def test_convert_to_ntriples_gives_the_rdflib_graph(runner: Any, tmp_path: Path) -> None:
    """`convert -f nt` writes with the engine's N-Triples writer: the graph rdflib makes."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from claimgraph.cli import app
    from claimgraph.ingest.model import to_graph

    path = tmp_path / "claims.json"
    objs = list(realistic.generate(150, seed=2)) + list(synthetic.generate(150, seed=2))
    path.write_text(json.dumps({"claims": objs}), encoding="utf-8")
    result = runner.invoke(app, ["convert", str(path), "-f", "nt"])
    assert result.exit_code == 0, result.output
    written = Graph().parse(data=result.stdout, format="nt")
    assert len(written) > 10_000
    assert isomorphic(written, to_graph(read_claims([path])))


def test_runs_of_one_patient_validated_early_give_the_same_findings(
    mixed: Path, mixed_expected: list[Finding]
) -> None:
    """Patients whose claims come together are validated as their run ends (runs.py); a
    patient that comes back later, an input in no order and runs longer than a batch are
    validated from the partitions: the findings are those of one batch every time."""
    import random

    from claimgraph.engine.runs import Runs

    claims = list(read_claims([mixed]))
    expected = mixed_expected
    grouped = sorted(claims, key=lambda c: str(c.patient))  # every patient one run
    # ... but one claim of each of the first patients with several claims comes at the end
    counts: dict[object, int] = {}
    for c in grouped:
        counts[c.patient] = counts.get(c.patient, 0) + 1
    movers = [c for c in grouped if counts[c.patient] > 1]
    movers = [c for k, c in enumerate(movers) if k == 0 or movers[k - 1].patient != c.patient]
    late = {id(c) for c in movers[:5]}
    returning = [c for c in grouped if id(c) not in late] + [c for c in grouped if id(c) in late]
    shuffled = random.Random(7).sample(claims, len(claims))  # no order: early runs stop
    for order, jobs, size in ((grouped, 1, 60), (returning, 2, 300), (shuffled, 1, 60)):
        assert fast.validate_claims(order, jobs=jobs, batch_size=size) == expected
    # what was done early, and what was redone, by input order
    payers = Knowledge.bundled().payer_categories.keys()

    def bookkeeping(order: list[ClaimData]) -> Runs:
        runs = Runs(60)
        for r in (fast.encode(c, payers) for c in with_uids(order)):
            runs.add(r)
        runs.finish()
        return runs

    # A patient whose second claim comes last: alone, the first claim's 2 units rest on 15
    # minutes (THER-03); with the second claim's 30 minutes the day's 3 units are supported.
    def therapy(n: int, units: int, minutes: int) -> dict[str, Any]:
        return {"id": f"T-BACK-{n}", "payer": "medicare", "patient": "PT-BACK",
                "provider": "1999999984", "diagnoses": ["I69.354"],
                "lines": [{"code": "97110", "modifiers": ["GP"], "units": units,
                           "service_date": "2026-03-02"}],
                "documents": [{"type": "plan-of-care", "date": "2026-02-23",
                               "functional_goals": True, "duration_weeks": 8},
                              {"type": "time-record", "minutes": minutes, "one_on_one": True}]}
    first, second = as_claims([therapy(1, 2, 15), therapy(2, 1, 30)])
    alone = {f.rule for f in one_batch([first]) if f.claim == "T-BACK-1"}
    assert "THER-03" in alone
    back_last = [first, *grouped[:200], second]
    whole = one_batch(back_last)
    assert not [f for f in whole if f.claim == "T-BACK-1" and f.rule == "THER-03"]
    assert fast.validate_claims(back_last, jobs=1, batch_size=60) == whole
    patients = len({c.patient for c in claims})
    assert not bookkeeping(grouped).redo or len(bookkeeping(grouped).redo) < patients // 20
    back = bookkeeping(returning)
    assert back.redo and any(back.early.get(k) for k in back.redo)  # came back: redone
    mixed_up = bookkeeping(shuffled)
    assert not mixed_up.on and len(mixed_up.redo) > patients // 2
