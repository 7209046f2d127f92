"""X12 005010X222 (837P professional claim) interchanges as ClaimData (docs/formats.md).

Segments come from x12segments (separators from the ISA, linear-time cutting). Envelopes
(ISA/IEA, GS/GE, ST/SE) are followed but never stop the reading: a count or control number
that does not match, a missing SE/GE/IEA, a missing last terminator or a segment that cannot be
parsed is a finding of STRUCT-04 about the file (`ReadContext.finding`) with its segment number,
and the claims are read and checked all the same. A claim with a segment that cannot be parsed
is left out and reported (the STRUCT-04 part for unreadable claims); the others are read.

Each transaction set is identified by ST01 and its implementation guide (ST03, else GS08):
837P (005010X222) is read; 837I, 837D, 835, 999, 277, version 4010 and others are refused with
a line naming what they are (ontology/formats.ttl), transaction by transaction. Only the
segments claimgraph maps are interpreted. Messages name segment numbers, never content.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from ..namespaces import icd9cm_dotted
from .facts import transaction_type
from .model import ClaimData, DocumentData, LineData
from .source import Source
from .x12segments import Segment, SegmentStream, Separators, error, read_isa

RULE = "STRUCT-04"  # the X12 envelope is well formed (a reader-checked rule)
UNREADABLE_CLAIM = "STRUCT-04-unreadable-claim"  # its part for a claim that could not be read

# The key of the dependents' patient ids: random, made once per run (process), held only in
# memory. One dependent is one patient across the files of a run; across runs the ids differ.
_DEPENDENT_KEY = secrets.token_bytes(32)

# HI qualifiers of diagnosis codes: ICD-10-CM (ABK principal, ABF other), ICD-9-CM (BK, BF).
DIAGNOSIS_QUALIFIERS = {"ABK": "icd10cm", "ABF": "icd10cm", "BK": "icd9cm", "BF": "icd9cm"}
# LQ02 form identifiers of the oxygen certificate of medical necessity (CMS-484, "DME 484.03";
# the X12 837P examples write it 04.03), and the FRM questions that map: 1A arterial PO2
# (mm Hg), 1B oxygen saturation (%), 1C date of the test.
OXYGEN_CMN_FORMS = {"484", "484.2", "484.03", "484.3", "04.03"}
OXYGEN_CMN_QUESTIONS = {"1A": "pao2", "1B": "spo2", "1C": "date"}
MINUTES = "MJ"  # SV103 unit basis: minutes (anesthesia); UN is units
_QUALIFIED = re.compile(r"^(?:HC|ER|IV|WK|ABK|ABF|BK|BF|[A-Z]{2,3})([^A-Za-z0-9 ])")
_SAFE = re.compile(r"^[0-9A-Z]{1,12}$")
READS = "claimgraph reads 837P professional claims (005010X222)"


def _date(value: str) -> str | None:
    """D8 CCYYMMDD (or the start of an RD8 range) as YYYY-MM-DD; other text as sent."""
    value = value.split("-", 1)[0].strip()
    if re.fullmatch(r"[0-9]{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value or None


def _number(value: str) -> Any:
    """X12 decimal: an integral value as int ('1.00' -> 1), else Decimal, else the text."""
    try:
        d = Decimal(value)
    except InvalidOperation:
        return value
    if not d.is_finite():
        return value
    return int(d) if d == d.to_integral_value() else d


def describe_transaction(st01: str, guide: str) -> tuple[bool, str]:
    """(readable, what it is) for an ST01 and its ST03/GS08."""
    found = transaction_type(st01, guide)
    if found is not None:
        return found.readable, found.label
    if st01 == "837":
        version = f" ({guide})" if _SAFE.match(guide) else ""
        return False, f"an 837 transaction of an unrecognised version{version}"
    shown = f" {st01}" if _SAFE.match(st01) else ""
    return False, f"an X12{shown} transaction set that is not a claim"


class _Claims:
    """The claims of one 837P transaction set, built segment by segment."""

    def __init__(self, seps: Separators, envelope: str):
        self.seps = seps
        self.envelope = envelope  # "ISA .../GS .../ST ..."
        self.claim: ClaimData | None = None
        self.line: LineData | None = None
        self.cmn: DocumentData | None = None
        self.provider: str | None = None
        self.provider_loop: str = ""
        self.subscriber: str | None = None
        self.payer_name: str | None = None
        self.filing: str | None = None
        self.dependent: list[str] | None = None  # name parts and birth date of a 2010CA patient
        self.dependent_id: str | None = None
        self.hl_level = ""
        self.other_separator = False
        self.split_qualifiers = False
        self.qualifiers: set[str] = set()
        self.broken: Segment | None = None  # the unreadable segment of the current claim

    def components(self, element: str) -> list[str]:
        if self.seps.component in element:
            return element.split(self.seps.component)
        m = _QUALIFIED.match(element)
        if m and m.group(1) not in (self.seps.element, self.seps.segment):
            self.other_separator = True
            return element.split(m.group(1))
        return [element]

    def patient(self) -> str | None:
        if self.dependent is None:
            return self.subscriber
        if self.dependent_id:
            return self.dependent_id
        # 5010 identifies a dependent through the subscriber; keep dependents apart by a keyed
        # hash of name and birth date (docs/formats.md): unkeyed, it could be brute-forced.
        parts = "\0".join(p or "" for p in self.dependent).encode()
        digest = hmac.new(_DEPENDENT_KEY, parts, hashlib.sha256).hexdigest()[:16]
        return f"{self.subscriber or ''}:{digest}"

    def finish(self) -> ClaimData | None:
        claim, self.claim, self.line, self.cmn = self.claim, None, None, None
        if claim is not None and self.broken is not None:
            self.broken = None
            return None  # reported when the broken segment was met
        return claim

    def segment(self, seg: Segment, index: int) -> ClaimData | None:
        """Apply one segment; returns a completed claim when this segment ends one."""
        sid = seg.id
        done = None
        if sid == "HL":
            done = self.finish()
            level = seg.get(3)
            self.hl_level = level
            if level == "20":
                self.provider, self.provider_loop = None, seg.get(1)
            if level in ("20", "22"):
                self.subscriber = self.payer_name = self.filing = None
                self.dependent = self.dependent_id = None
            if level == "23":
                self.dependent, self.dependent_id = [], None
        elif sid == "CLM":
            done = self.finish()
            self.claim = ClaimData(
                index=index,
                id=seg.get(1) or None,
                patient=self.patient(),
                provider=self.provider,
                payer_name=self.payer_name,
                filing_indicator=self.filing,
                position=f"segment {seg.number}",
                envelope=f"{self.envelope}/HL {self.provider_loop}",
            )
        elif self.claim is None:
            self.header(seg)
        elif self.broken is None:
            self.claim_segment(seg)
        return done

    def header(self, seg: Segment) -> None:
        """Billing provider (2010AA), subscriber and patient loops (2000B/2010BA/2010BB,
        2000C/2010CA)."""
        sid, qualifier = seg.id, seg.get(1)
        if sid == "NM1" and qualifier == "85" and self.hl_level == "20":
            self.provider = seg.get(9) or None
        elif sid == "SBR":
            self.filing = seg.get(9) or None
        elif sid == "NM1" and qualifier == "IL":
            self.subscriber = seg.get(9) or None
        elif sid == "NM1" and qualifier == "PR":
            self.payer_name = seg.get(3) or None
        elif sid == "NM1" and qualifier == "QC" and self.dependent is not None:
            self.dependent_id = seg.get(9) or None
            self.dependent.extend([seg.get(3), seg.get(4), seg.get(5)])
        elif sid == "DMG" and self.dependent is not None:
            self.dependent.append(seg.get(2))

    def claim_segment(self, seg: Segment) -> None:
        """Segments of the claim (2300) and its service lines (2400)."""
        claim = self.claim
        assert claim is not None
        sid = seg.id
        if sid == "HI" and self.line is None:
            elements = [e.strip() for e in seg.elements[1:]]
            for i, element in enumerate(elements):
                parts = self.components(element)
                if len(parts) == 1 and parts[0] in DIAGNOSIS_QUALIFIERS and i + 1 < len(elements):
                    # HI*BK*8901: qualifier and code as two elements, as some files write them
                    parts = [parts[0], elements[i + 1]]
                    self.split_qualifiers = True
                system = DIAGNOSIS_QUALIFIERS.get(parts[0])
                if system and len(parts) > 1 and parts[1].strip():
                    code = parts[1].strip()
                    claim.diagnoses.append(
                        (system, icd9cm_dotted(code) if system == "icd9cm" else code)
                    )
        elif sid == "LX":
            self.line = LineData()
            self.cmn = None
            claim.lines.append(self.line)
        elif self.line is None:
            return
        elif sid == "SV1":
            self.service_line(seg, self.line)
        elif sid == "DTP" and seg.get(1) == "472":
            self.line.service_date = _date(seg.get(3))
        elif sid == "CR3" and seg.get(3):
            if seg.get(2) in ("MO", ""):
                self.document("order", {"duration_months": _number(seg.get(3))})
        elif sid == "LQ":
            self.cmn = None
            if seg.get(1) == "UT" and seg.get(2) in OXYGEN_CMN_FORMS:
                self.cmn = self.document("oxygen-test", {})
        elif sid == "FRM" and self.cmn is not None:
            # FRM03 text, FRM04 date, FRM05 number; examples put dates and numbers in FRM03
            name = OXYGEN_CMN_QUESTIONS.get(seg.get(1).upper())
            answer = (seg.get(4) if name == "date" else seg.get(5)) or seg.get(3)
            if name and answer:
                self.cmn.fields[name] = _date(answer) if name == "date" else _number(answer)

    def service_line(self, seg: Segment, line: LineData) -> None:
        """SV101 HC:code:mod1..mod4, SV103 unit basis (UN units, MJ minutes), SV104 quantity."""
        parts = self.components(seg.get(1))
        if parts[0] == "HC":
            line.code = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
            line.modifiers = [m.strip() for m in parts[2:6] if m.strip()]
        elif parts[0]:
            self.qualifiers.add(parts[0][:3])
        basis = seg.get(3).upper() or None
        quantity = seg.get(4)
        line.unit_basis = basis
        if basis == MINUTES:
            line.minutes = _number(quantity) if quantity else None
        else:
            line.units = _number(quantity) if quantity else None

    def document(self, dtype: str, fields: dict[str, Any]) -> DocumentData:
        assert self.claim is not None
        doc = DocumentData(type=dtype, line=len(self.claim.lines), fields=fields)
        self.claim.documents.append(doc)
        return doc


class _Interchange:
    """The envelope state of a file: which interchange, group and transaction set is open."""

    def __init__(self) -> None:
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.groups = 0  # GS of the open interchange
        self.sets = 0  # ST of the open group
        self.tx: _Claims | None = None  # the open 837P transaction (None: none or refused)


def read_x12(source: Source, ctx: Any) -> Iterator[ClaimData]:
    """Claims of an X12 file, in file order (see the module docstring).

    `ctx` is a `reading.ReadContext`: it receives warnings, STRUCT-04 findings and the
    transactions refused."""
    name = str(source)
    head = source.head().text  # the input is opened once (standard input is a stream)
    if not head.strip():
        raise error(name, "empty file: expected an X12 interchange", 1)
    if not head.lstrip("\ufeff \t\r\n").startswith("ISA"):
        # GS or ST segments without an interchange around them: no claims claimgraph reads
        # (named as such; in a folder, the other files are still read)
        ctx.refuse("not an X12 interchange (it must start with ISA)", "segment 1")
        return
    seps = read_isa(head, name)
    if seps.isa_length != 106:
        ctx.finding(
            RULE,
            "segment 1",
            defect=f"the ISA segment is {seps.isa_length} characters long, not 106",
        )
    with source.open("r", encoding="utf-8-sig", newline="") as f:
        stream = SegmentStream(f, name, seps)
        yield from _read(stream, seps, ctx)
        if stream.unterminated:
            ctx.finding(RULE, f"segment {stream.count}",
                        defect="the last segment has no segment terminator")  # fmt: skip


def _read(stream: SegmentStream, seps: Separators, ctx: Any) -> Iterator[ClaimData]:
    env = _Interchange()
    index = 0
    notes: set[str] = set()
    last = 0
    outside = 0  # the first segment of a run of segments outside a transaction set

    def defect(seg_no: int, text: str) -> None:
        ctx.finding(RULE, f"segment {seg_no}", defect=text)

    def close_tx(at: int, missing: bool) -> Iterator[ClaimData]:
        if env.st is None:
            return
        if missing:
            defect(at, f"the transaction set that starts at segment {env.st.number} has no SE")
        if env.tx is not None:
            claim = env.tx.finish()
            if claim is not None:
                yield claim
            if env.tx.other_separator:
                notes.add("component separators differ from the one the ISA declares")
            if env.tx.split_qualifiers:
                notes.add("HI diagnosis qualifiers and codes written as separate elements "
                          "(HI*BK*8901) were read as pairs")  # fmt: skip
            if env.tx.qualifiers:
                notes.add("SV1 procedure qualifiers other than HC were not read: "
                          + ", ".join(sorted(env.tx.qualifiers)))  # fmt: skip
        env.st, env.tx = None, None

    def close_group(at: int, missing: bool) -> Iterator[ClaimData]:
        yield from close_tx(at, True)
        if env.gs is not None and missing:
            defect(at, f"the functional group that starts at segment {env.gs.number} has no GE")
        env.gs = None

    def close_interchange(at: int, missing: bool) -> Iterator[ClaimData]:
        yield from close_group(at, env.gs is not None)
        if env.isa is not None and missing:
            defect(at, f"the interchange that starts at segment {env.isa.number} has no IEA")
        env.isa = None

    for seg in stream:
        last = seg.number
        sid = seg.id
        if not seg.readable:
            if env.tx is not None and env.tx.claim is not None and env.tx.broken is None:
                env.tx.broken = seg
                cid = env.tx.claim.id
                ctx.finding(
                    RULE, f"segment {seg.number}", part=UNREADABLE_CLAIM,
                    claim=cid if isinstance(cid, str) else None,
                    defect=f"the claim at {env.tx.claim.position} has a segment that is not "
                    f"an X12 segment (segment {seg.number})",
                )  # fmt: skip
            elif env.tx is None or env.tx.claim is None:
                defect(seg.number, f"segment {seg.number} is not an X12 segment")
            continue
        if sid == "ISA":
            if env.isa is not None:
                yield from close_interchange(seg.number, True)
            again = read_isa(seps.element.join(seg.elements) + seps.segment, stream.name)
            if (again.element, again.component) != (seps.element, seps.component):
                raise error(stream.name, "this interchange declares other separators than the "
                            "first one of the file; split the file", seg.number)  # fmt: skip
            env.isa, env.groups = seg, 0
        elif sid == "IEA":
            if env.isa is None:
                defect(seg.number, "IEA without its ISA")
                continue
            yield from close_group(seg.number, env.gs is not None)
            if seg.get(1) != str(env.groups):
                defect(seg.number, f"IEA01 says {seg.get(1) or 'nothing'} functional groups, "
                       f"the interchange has {env.groups}")  # fmt: skip
            if seg.get(2) != env.isa.get(13):
                defect(seg.number, "IEA02 does not repeat the control number of its ISA "
                       f"(segment {env.isa.number})")  # fmt: skip
            env.isa = None
        elif sid == "GS":
            if env.isa is None:
                defect(seg.number, "GS outside an interchange (no ISA before it)")
            yield from close_group(seg.number, env.gs is not None)
            env.gs, env.sets = seg, 0
            env.groups += 1
        elif sid == "GE":
            if env.gs is None:
                defect(seg.number, "GE without its GS")
                continue
            yield from close_tx(seg.number, env.st is not None)
            if seg.get(1) != str(env.sets):
                defect(seg.number, f"GE01 says {seg.get(1) or 'nothing'} transaction sets, "
                       f"the group has {env.sets}")  # fmt: skip
            if seg.get(2) != env.gs.get(6):
                defect(seg.number, "GE02 does not repeat the control number of its GS "
                       f"(segment {env.gs.number})")  # fmt: skip
            env.gs = None
        elif sid == "ST":
            yield from close_tx(seg.number, env.st is not None)
            if env.gs is None:
                defect(seg.number, "ST outside a functional group (no GS before it)")
            env.st = seg
            env.sets += 1
            guide = seg.get(3) or (env.gs.get(8) if env.gs is not None else "")
            readable, what = describe_transaction(seg.get(1), guide)
            if readable:
                isa13 = env.isa.get(13) if env.isa is not None else ""
                gs06 = env.gs.get(6) if env.gs is not None else ""
                env.tx = _Claims(seps, f"ISA {isa13}/GS {gs06}/ST {seg.get(2)}")
            else:
                ctx.refuse(f"{what}: {READS}", f"segment {seg.number}")
        elif sid == "SE":
            if env.st is None:
                defect(seg.number, "SE without its ST")
                continue
            st = env.st
            yield from close_tx(seg.number, False)
            count = seg.number - st.number + 1
            if seg.get(1) != str(count):
                defect(seg.number, f"SE01 says {seg.get(1) or 'nothing'} segments, the "
                       f"transaction set has {count} (ST to SE)")  # fmt: skip
            if seg.get(2) != st.get(2):
                defect(seg.number, "SE02 does not repeat the control number of its ST "
                       f"(segment {st.number})")  # fmt: skip
        elif env.st is None:
            if not outside:
                outside = seg.number
                defect(seg.number, f"segment {seg.number} is outside a transaction set "
                       "(no ST before it)")  # fmt: skip
            continue
        elif env.tx is not None:
            before = env.tx.claim
            done = env.tx.segment(seg, index + 1 if sid == "CLM" else index)
            if sid == "CLM" and env.tx.claim is not before:
                index += 1
            if done is not None:
                yield done
            continue
        outside = 0
    yield from close_interchange(last, env.isa is not None)
    for note in sorted(notes):
        ctx.warn(f"{stream.name}: {note}")
    if index == 0:
        ctx.nothing("the interchange holds no 837P claims (no CLM segment)")
