"""X12 005010X222A2 (837P professional claim) interchanges as ClaimData (docs/formats.md).

A small segment reader: the separators come from the ISA (element separator at position 3,
component separator ISA16, segment terminator right after it; the ISA is 106 characters), the
envelopes are checked (every ST has its SE with the right segment count, GS/GE, ISA/IEA), and
only the segments claimgraph maps are interpreted. Errors name the segment number, never its
content. The file is read in chunks; claims are yielded as they are completed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from .model import ClaimData, DocumentData, LineData
from .payers import payer_from_x12

# The key of the dependents' patient ids: random, made once per run (process), held only in
# memory. One dependent is one patient across the files of a run; across runs the ids differ.
_DEPENDENT_KEY = secrets.token_bytes(32)

Warn = Callable[[str], None] | None

ISA_LENGTH = 106
CHUNK = 1 << 16
# HI qualifiers of diagnosis codes: ICD-10-CM (ABK principal, ABF other), ICD-9-CM (BK, BF).
DIAGNOSIS_QUALIFIERS = {"ABK": "icd10cm", "ABF": "icd10cm", "BK": "icd9cm", "BF": "icd9cm"}
# LQ02 form identifiers of the oxygen certificate of medical necessity (CMS-484, "DME 484.03";
# the X12 837P examples write it 04.03), and the FRM questions that map: 1A arterial PO2
# (mm Hg), 1B oxygen saturation (%), 1C date of the test.
OXYGEN_CMN_FORMS = {"484", "484.2", "484.03", "484.3", "04.03"}
OXYGEN_CMN_QUESTIONS = {"1A": "pao2", "1B": "spo2", "1C": "date"}
_QUALIFIED = re.compile(r"^(?:HC|ER|IV|WK|ABK|ABF|BK|BF|[A-Z]{2,3})([^A-Za-z0-9 ])")


@dataclass
class Segment:
    number: int  # 1-based position in the interchange file
    id: str
    elements: list[str] = field(default_factory=list)  # elements[0] is the segment id

    def get(self, i: int) -> str:
        return self.elements[i].strip() if i < len(self.elements) else ""


@dataclass
class Separators:
    element: str
    component: str
    segment: str


def _error(path: Path, message: str, number: int) -> InputError:
    return InputError(message, path=str(path), position=f"segment {number}")


def read_isa(head: str, path: Path) -> Separators:
    """The separators an ISA declares; a malformed ISA is an error at segment 1."""
    if not head.startswith("ISA"):
        raise _error(path, "not an X12 interchange (it must start with ISA)", 1)
    if len(head) < ISA_LENGTH:
        raise _error(path, f"the ISA segment must be {ISA_LENGTH} characters", 1)
    element = head[3]
    parts = head[:ISA_LENGTH].split(element)
    segment = head[ISA_LENGTH - 1]
    if element.isalnum() or element.isspace() or len(parts) != 17 or len(parts[16]) != 2:
        raise _error(path, f"the ISA segment must be {ISA_LENGTH} characters with 16 elements", 1)
    component = parts[16][0]
    if len({element, component, segment}) != 3 or component.isalnum() or segment.isalnum():
        raise _error(path, "the ISA declares unusable separators", 1)
    return Separators(element, component, segment)


def segments(f: IO[str], path: Path) -> Iterator[tuple[Segment, Separators]]:
    """Every segment of an interchange file, in order, read in chunks."""
    try:
        buf = f.read(CHUNK).lstrip("\ufeff \t\r\n")
    except UnicodeDecodeError:
        raise _error(path, "not UTF-8 text", 1) from None
    if not buf.strip():
        raise InputError("empty file: expected an X12 interchange", path=str(path))
    seps = read_isa(buf, path)
    number = 0
    while True:
        parts = buf.split(seps.segment)
        buf = parts.pop()  # an incomplete segment: wait for more text
        for text in parts:
            text = text.strip("\r\n \t")
            if not text:
                continue
            number += 1
            elements = text.split(seps.element)
            yield Segment(number, elements[0].strip(), elements), seps
        try:
            more = f.read(CHUNK)
        except UnicodeDecodeError:
            raise _error(path, "not UTF-8 text", number + 1) from None
        if not more:
            break
        buf += more
    if buf.strip("\r\n \t"):
        raise _error(path, "the last segment has no segment terminator (truncated?)", number + 1)


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
    return int(d) if d == d.to_integral_value() else d


def icd9_dotted(code: str) -> str:
    """ICD-9-CM with its dot: 51881 -> 518.81, E8888 -> E888.8, V7389 -> V73.89."""
    code = code.strip().upper().replace(".", "")
    head = 4 if code.startswith("E") else 3
    return code if len(code) <= head else f"{code[:head]}.{code[head:]}"


class _Transaction:
    """The claims of one 837P transaction set, built segment by segment."""

    def __init__(self, path: Path, warn: Warn, seps: Separators):
        self.path = path
        self.warn = warn
        self.seps = seps
        self.claim: ClaimData | None = None
        self.line: LineData | None = None
        self.cmn: DocumentData | None = None
        self.subscriber: str | None = None
        self.payer_name: str | None = None
        self.filing: str | None = None
        self.dependent: list[str] | None = None  # name parts and birth date of a 2010CA patient
        self.dependent_id: str | None = None
        self.other_separator = False
        self.qualifiers: set[str] = set()

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
        return claim

    def segment(self, seg: Segment, index: int) -> ClaimData | None:
        """Apply one segment; returns a completed claim when this segment ends one."""
        sid = seg.id
        done = None
        if sid == "HL":
            done = self.finish()
            level = seg.get(3)
            if level in ("20", "22"):
                self.subscriber = self.payer_name = self.filing = None
                self.dependent = self.dependent_id = None
            if level == "23":
                self.dependent, self.dependent_id = [], None
        elif self.claim is None:
            self.header(seg)
        elif sid == "CLM":
            done = self.finish()
        if sid == "CLM":
            self.claim = ClaimData(
                index=index,
                id=seg.get(1) or None,
                payer=payer_from_x12(self.payer_name, self.filing),
                patient=self.patient(),
            )
        elif self.claim is not None:
            self.claim_segment(seg)
        return done

    def header(self, seg: Segment) -> None:
        """Subscriber and patient loops (2000B/2010BA/2010BB, 2000C/2010CA)."""
        if seg.id == "SBR":
            self.filing = seg.get(9) or None
        elif seg.id == "NM1" and seg.get(1) == "IL":
            self.subscriber = seg.get(9) or None
        elif seg.id == "NM1" and seg.get(1) == "PR":
            self.payer_name = seg.get(3) or None
        elif seg.id == "NM1" and seg.get(1) == "QC" and self.dependent is not None:
            self.dependent_id = seg.get(9) or None
            self.dependent.extend([seg.get(3), seg.get(4), seg.get(5)])
        elif seg.id == "DMG" and self.dependent is not None:
            self.dependent.append(seg.get(2))

    def claim_segment(self, seg: Segment) -> None:
        """Segments of the claim (2300) and its service lines (2400)."""
        claim = self.claim
        assert claim is not None
        sid = seg.id
        if sid == "HI" and self.line is None:
            for element in seg.elements[1:]:
                parts = self.components(element.strip())
                system = DIAGNOSIS_QUALIFIERS.get(parts[0])
                if system and len(parts) > 1 and parts[1].strip():
                    code = parts[1].strip()
                    claim.diagnoses.append(
                        (system, icd9_dotted(code) if system == "icd9cm" else code)
                    )
        elif sid == "LX":
            self.line = LineData()
            self.cmn = None
            claim.lines.append(self.line)
        elif self.line is None:
            return
        elif sid == "SV1":
            parts = self.components(seg.get(1))
            if parts[0] == "HC":
                self.line.code = parts[1].strip() if len(parts) > 1 else None
                self.line.modifiers = [m.strip() for m in parts[2:6] if m.strip()]
            else:
                self.qualifiers.add(parts[0][:3])
            units = seg.get(4)
            self.line.units = _number(units) if units else None
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

    def document(self, dtype: str, fields: dict[str, Any]) -> DocumentData:
        assert self.claim is not None
        doc = DocumentData(type=dtype, line=len(self.claim.lines), fields=fields)
        self.claim.documents.append(doc)
        return doc


def read_x12(path: Path, warn: Warn = None) -> Iterator[ClaimData]:
    """Claims of an 837P interchange, in file order; envelope errors name the segment."""
    index = 0
    tx: _Transaction | None = None
    st_number = 0
    st_control = ""
    groups = transactions = 0
    in_group = in_interchange = False
    notes: set[str] = set()
    last = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        for seg, seps in segments(f, path):
            last = seg.number
            sid = seg.id
            if sid == "ISA":
                if in_interchange:
                    raise _error(path, "ISA inside an interchange (IEA missing)", seg.number)
                in_interchange, groups = True, 0
            elif not in_interchange:
                raise _error(path, "segment outside an interchange (ISA missing)", seg.number)
            elif sid == "GS":
                if in_group:
                    raise _error(path, "GS inside a functional group (GE missing)", seg.number)
                in_group, transactions, groups = True, 0, groups + 1
                version = seg.get(8)
                if version and not version.startswith("005010X222"):
                    raise _error(path, "not an 837P 005010X222 functional group", seg.number)
            elif sid == "ST":
                if tx is not None:
                    raise _error(path, "ST inside a transaction set (SE missing)", seg.number)
                if not in_group:
                    raise _error(path, "ST outside a functional group (GS missing)", seg.number)
                if seg.get(1) != "837":
                    raise _error(path, "not an 837 transaction set", seg.number)
                tx, st_number, st_control = _Transaction(path, warn, seps), seg.number, seg.get(2)
                transactions += 1
            elif sid == "SE":
                if tx is None:
                    raise _error(path, "SE without ST", seg.number)
                claim = tx.finish()
                if claim is not None:
                    yield claim
                count = seg.number - st_number + 1
                if seg.get(1) != str(count):
                    raise _error(
                        path, f"SE segment count must be {count} (the segments ST to SE)",
                        seg.number,
                    )  # fmt: skip
                if seg.get(2) != st_control:
                    raise _error(path, "SE control number differs from its ST", seg.number)
                if tx.other_separator:
                    notes.add("component separators differ from the one the ISA declares")
                if tx.qualifiers:
                    notes.add("SV1 procedure qualifiers other than HC were not read: "
                              + ", ".join(sorted(tx.qualifiers)))  # fmt: skip
                tx = None
            elif sid == "GE":
                if tx is not None:
                    raise _error(path, "GE inside a transaction set (SE missing)", seg.number)
                if not in_group:
                    raise _error(path, "GE without GS", seg.number)
                if seg.get(1) != str(transactions):
                    raise _error(path, f"GE count must be {transactions}", seg.number)
                in_group = False
            elif sid == "IEA":
                if in_group or tx is not None:
                    raise _error(path, "IEA inside a functional group (GE missing)", seg.number)
                if seg.get(1) != str(groups):
                    raise _error(path, f"IEA count must be {groups}", seg.number)
                in_interchange = False
            elif tx is not None:
                before = tx.claim
                done = tx.segment(seg, index + 1 if sid == "CLM" else index)
                if sid == "CLM" and tx.claim is not before:
                    index += 1
                if done is not None:
                    yield done
    if in_interchange or tx is not None:
        raise _error(path, "the interchange ends without SE/GE/IEA (truncated?)", last)
    if index == 0 and warn:
        warn(f"{path}: the interchange holds no claims (CLM segments)")
    for note in sorted(notes):
        if warn:
            warn(f"{path}: {note}")
