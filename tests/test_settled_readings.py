"""The catalogue's readings settled in round 2 (DOMAIN.md section 7), each on both engines.

NMES-01 is met by KX alone; "continued rental" (NMES-03, CANSTIM-05) is KI/KJ or a rental
month after the first; OXY-06 concerns portable items only; durations may be given in days,
weeks or months; a prior authorization counts only with its number; an ABN that names a line
covers that line, one that names none the claim; THER-03 totals a patient's timed minutes per
service date across the claims of one billing provider; units are whole numbers however
written.
"""

from __future__ import annotations

from claimgraph.engine import fast, reference
from claimgraph.ingest.model import ClaimData, DocumentData, LineData

Line = tuple[str, list[str], object, str]


def claim(
    cid: str,
    payer: str,
    lines: list[Line],
    *,
    patient: str | None = "TEST-PT-S",
    diagnoses: tuple[str, ...] = ("M62.50",),
    documents: tuple[DocumentData, ...] = (),
    provider: str | None = None,
    index: int = 1,
) -> ClaimData:
    return ClaimData(
        index=index, id=cid, payer=payer, patient=patient, provider=provider,
        diagnoses=[("icd10cm", d) for d in diagnoses],
        lines=[LineData(code=c, modifiers=m, units=u, service_date=d) for c, m, u, d in lines],
        documents=list(documents),
    )  # fmt: skip


def both(claims: list[ClaimData], rule_id: str) -> set[tuple[str | None, int | None]]:
    """(claim, line) of one rule's findings, once both engines agree on every rule."""
    found = fast.validate_claims(claims, jobs=1)
    assert {f.ident for f in found} == {f.ident for f in reference.validate_claims(claims)}
    return {(f.claim, f.line) for f in found if f.rule == rule_id}


def doc(type_: str, line: int | None = None, **fields: object) -> DocumentData:
    return DocumentData(type=type_, line=line, fields=dict(fields))


NMES_DOCS = (
    doc("order", date="2026-03-30", signed=True),
    doc("medical-history", date="2026-03-30"),
    doc("plan-of-care", date="2026-03-30", duration_weeks=8, expected_improvement=True),
)


def test_nmes01_is_met_by_kx_alone_and_leaves_a_missing_abn_to_mod02() -> None:
    kx = claim("CLM-S1", "medicare", [("E0745", ["RR", "KX"], 1, "2026-04-06")],
               documents=NMES_DOCS)  # fmt: skip
    ga = claim("CLM-S2", "medicare", [("E0745", ["RR", "GA"], 1, "2026-04-06")],
               documents=NMES_DOCS, patient="TEST-PT-S2", index=2)  # fmt: skip
    neither = claim("CLM-S3", "medicare", [("E0745", ["RR", "GZ"], 1, "2026-04-06")],
                    documents=NMES_DOCS, patient="TEST-PT-S3", index=3)  # fmt: skip
    assert both([kx, ga, neither], "NMES-01") == {("CLM-S3", 1)}
    assert both([ga], "MOD-02") == {("CLM-S2", 1)}


def _rental(cid: str, code: str, mods: list[str], date: str, docs: tuple[DocumentData, ...],
            patient: str, index: int) -> ClaimData:  # fmt: skip
    return claim(cid, "medicaid", [(code, mods, 1, date)], documents=docs, patient=patient,
                 diagnoses=("C71.9", "M62.50"), index=index)  # fmt: skip


def test_continued_rental_is_ki_kj_or_a_rental_month_after_the_first() -> None:
    for code, rule, note in (("E0745", "NMES-03", "progress-note"),
                             ("E0766", "CANSTIM-05", "follow-up-evaluation")):  # fmt: skip
        benefit = (doc(note, date="2026-04-01", shows_benefit=True),)
        claims = [
            # the first rental month alone: nothing continues yet
            _rental("CLM-R1", code, ["RR"], "2026-03-02", (), "TEST-PT-R1", 1),
            # KI on its own says continued rental
            _rental("CLM-R2", code, ["RR", "KI"], "2026-04-02", (), "TEST-PT-R2", 2),
            # a second month of the same patient (another claim): continued
            _rental("CLM-R3", code, ["RR"], "2026-03-02", (), "TEST-PT-R3", 3),
            _rental("CLM-R4", code, ["RR"], "2026-04-02", (), "TEST-PT-R3", 4),
            # ... documented: no finding
            _rental("CLM-R5", code, ["RR"], "2026-03-02", (), "TEST-PT-R5", 5),
            _rental("CLM-R6", code, ["RR"], "2026-04-02", benefit, "TEST-PT-R5", 6),
            # another patient's earlier month does not make this one continued
            _rental("CLM-R7", code, ["RR"], "2026-05-04", (), "TEST-PT-R7", 7),
        ]
        assert both(claims, rule) == {("CLM-R2", 1), ("CLM-R4", 1)}, rule


OXY_DOCS = (
    doc("order", date="2026-02-20", signed=True, duration_months=12),
    doc("oxygen-test", date="2026-02-18", spo2=86),
)


def test_oxy06_concerns_portable_items_only() -> None:
    claims = [
        claim(f"CLM-P{n}", "medicare", [(code, ["RR", "KX"], 1, "2026-03-02")],
              documents=OXY_DOCS, diagnoses=("J44.9",), patient=f"TEST-PT-P{n}", index=n)
        for n, code in enumerate(("E1392", "E0431", "E1390"), start=1)
    ]  # fmt: skip
    assert both(claims, "OXY-06") == {("CLM-P1", 1), ("CLM-P2", 1)}


def test_durations_in_days_weeks_or_months() -> None:
    def oxy(n: int, **duration: object) -> ClaimData:
        docs = (doc("order", date="2026-02-20", signed=True, **duration),
                doc("oxygen-test", date="2026-02-18", spo2=86))  # fmt: skip
        return claim(f"CLM-D{n}", "medicare", [("E1390", ["RR", "KX"], 1, "2026-03-02")],
                     documents=docs, diagnoses=("J44.9",), patient=f"TEST-PT-D{n}", index=n)

    claims = [oxy(1, duration_days=90), oxy(2, duration_weeks=12), oxy(3, duration_months=3),
              oxy(4), oxy(5, duration_days=0)]  # fmt: skip
    assert both(claims, "OXY-07") == {("CLM-D4", 1), ("CLM-D5", 1)}

    def nmes(n: int, **duration: object) -> ClaimData:
        docs = (*NMES_DOCS[:2], doc("plan-of-care", date="2026-03-30", expected_improvement=True,
                                    **duration))  # fmt: skip
        return claim(f"CLM-E{n}", "medicare", [("E0745", ["RR", "KX"], 1, "2026-04-06")],
                     documents=docs, patient=f"TEST-PT-E{n}", index=n)

    claims = [nmes(1, duration_days=56), nmes(2, duration_weeks=8), nmes(3, duration_months=2),
              nmes(4)]  # fmt: skip
    assert both(claims, "NMES-02") == {("CLM-E4", 1)}


def test_prior_authorization_counts_only_with_its_number() -> None:
    cases = (("E1392", "OXY-08", ()), ("E0745", "NMES-05", (doc("conservative-treatment"),)),
             ("E0766", "CANSTIM-06", (doc("conservative-treatment"),)))  # fmt: skip
    for code, rule, extra in cases:
        numbered = doc("prior-authorization", date="2026-02-01", number="PA-1")
        bare = doc("prior-authorization", date="2026-02-01")
        blank = doc("prior-authorization", date="2026-02-01", number=" ")
        claims = [
            claim(f"CLM-A{n}", "aetna", [(code, ["RR"], 1, "2026-03-02")],
                  documents=(pa, *extra), patient=f"TEST-PT-A{n}", index=n)
            for n, pa in enumerate((numbered, bare, blank), start=1)
        ]  # fmt: skip
        assert both(claims, rule) == {("CLM-A2", 1), ("CLM-A3", 1)}, rule


def test_an_abn_covers_the_line_it_names_or_the_whole_claim() -> None:
    lines: list[Line] = [("E0745", ["RR", "GA"], 1, "2026-04-06"),
                         ("E0720", ["NU", "GA"], 1, "2026-04-06")]  # fmt: skip
    abn = lambda line=None: doc("abn", line, date="2026-04-01", signed=True)  # noqa: E731
    claims = [
        claim("CLM-B1", "medicare", lines, documents=(abn(),), patient="TEST-PT-B1"),
        claim("CLM-B2", "medicare", lines, documents=(abn(1),), patient="TEST-PT-B2", index=2),
        claim("CLM-B3", "medicare", lines, documents=(abn(1), abn(2)), patient="TEST-PT-B3",
              index=3),
    ]  # fmt: skip
    assert both(claims, "MOD-02") == {("CLM-B2", 2)}


def test_ther03_totals_minutes_across_claims_of_one_billing_provider() -> None:
    d = "2026-03-02"
    record = lambda m: doc("time-record", 1, minutes=m, one_on_one=True)  # noqa: E731

    def visit(cid: str, code: str, units: int, minutes: int, provider: str, patient: str,
              index: int) -> ClaimData:  # fmt: skip
        return claim(cid, "medicare", [(code, ["GP"], units, d)], documents=(record(minutes),),
                     patient=patient, provider=provider, diagnoses=("M54.59",), index=index)

    claims = [
        # 10 + 10 minutes, one provider, two claims: 20 minutes support 1 unit, 2 are billed
        visit("CLM-T1", "97110", 1, 10, "NPI-1", "TEST-PT-T1", 1),
        visit("CLM-T2", "97112", 1, 10, "NPI-1", "TEST-PT-T1", 2),
        # 12 + 12 minutes: 24 minutes support 2 units
        visit("CLM-T3", "97110", 1, 12, "NPI-1", "TEST-PT-T3", 3),
        visit("CLM-T4", "97112", 1, 12, "NPI-1", "TEST-PT-T3", 4),
        # two billing providers: each claim is judged on its own minutes (10 min, 1 unit)
        visit("CLM-T5", "97110", 1, 10, "NPI-1", "TEST-PT-T5", 5),
        visit("CLM-T6", "97112", 1, 10, "NPI-2", "TEST-PT-T5", 6),
    ]
    assert both(claims, "THER-03") == {("CLM-T1", 1), ("CLM-T2", 1)}


def test_units_are_whole_numbers_however_written() -> None:
    claims = [
        claim(f"CLM-U{n}", "medicaid", [("E1390", ["RR"], units, "2026-03-02")],
              diagnoses=("J44.9",), patient=f"TEST-PT-U{n}", index=n)
        for n, units in enumerate((1, 1.0, "2", "1.00", 1.5, "two", 0, "0"), start=1)
    ]  # fmt: skip
    assert both(claims, "STRUCT-02") == {("CLM-U5", 1), ("CLM-U6", 1), ("CLM-U7", 1),
                                         ("CLM-U8", 1)}  # fmt: skip
