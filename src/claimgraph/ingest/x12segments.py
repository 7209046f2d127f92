"""The X12 segment layer: separators from the ISA, and the segments of a stream, in linear time.

The element separator is the character after `ISA`; ISA16 (after the 16th element separator)
is the component separator, and the segment terminator is the next character, or a line break
when the segments are one a line (`...*:\\nGS*`). The ISA is fixed-width (106 characters with
its terminator) in the standard; real files shorten it, which is reported, not refused.
Separators that cannot work (a letter, a digit, two alike) are an error at segment 1.

`segments()` reads text in chunks and cuts it at the terminator; the part of a segment that
spans chunks is kept as a list of pieces, so a 100 MB segment costs one pass, not one per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from ..errors import InputError

ISA_LENGTH = 106  # with its segment terminator
CHUNK = 1 << 16
SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_WS = " \t\r\n"


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    segment: str
    repetition: str | None = None  # ISA11 in 5010 (None in 4010, where ISA11 is "U")
    isa_length: int = ISA_LENGTH  # the ISA as sent, with its terminator


@dataclass
class Segment:
    number: int  # 1-based position in the file
    id: str  # "" when the text is not an X12 segment (see `readable`)
    elements: list[str] = field(default_factory=list)  # elements[0] is the segment id

    @property
    def readable(self) -> bool:
        return bool(self.id)

    def get(self, i: int) -> str:
        return self.elements[i].strip() if i < len(self.elements) else ""


def error(name: str, message: str, number: int) -> InputError:
    return InputError(message, path=name, position=f"segment {number}")


def read_isa(text: str, name: str) -> Separators:
    """The separators the ISA at the start of `text` declares (InputError at segment 1)."""
    text = text.lstrip("\ufeff" + _WS)
    if not text.startswith("ISA"):
        raise error(name, "not an X12 interchange (it must start with ISA)", 1)
    if len(text) < 4:
        raise error(name, "the ISA segment is cut short", 1)
    element = text[3]
    if element.isalnum() or element.isspace():
        raise error(name, "the ISA declares an unusable element separator", 1)
    seps_at = [3]
    while len(seps_at) < 16:
        nxt = text.find(element, seps_at[-1] + 1)
        if nxt < 0:
            raise error(name, "the ISA segment must have 16 elements", 1)
        seps_at.append(nxt)
    isa11 = text[seps_at[10] + 1 : seps_at[11]]
    at = seps_at[15]  # ISA16 follows
    if at + 1 >= len(text):
        raise error(name, "the ISA segment must have 16 elements", 1)
    component = text[at + 1]
    j = at + 2
    while j < len(text) and text[j] == " ":
        j += 1
    if j >= len(text):
        raise error(name, "the ISA segment has no segment terminator", 1)
    segment = text[j]
    if segment in "\r\n":
        k = j
        while k < len(text) and text[k] in _WS:
            k += 1
        # ...:\n~GS: the terminator comes after a line break; else one segment a line
        segment = text[k] if k < len(text) and not text[k].isalnum() else "\n"
    if (
        component.isalnum() or component.isspace()
        or (segment.isalnum() or segment in " \t")
        or len({element, component, segment}) != 3
    ):  # fmt: skip
        raise error(name, "the ISA declares unusable separators", 1)
    repetition = isa11 if len(isa11) == 1 and not isa11.isalnum() else None
    if repetition in (element, component, segment):
        repetition = None
    return Separators(element, component, segment, repetition, isa_length=at + 3)


class SegmentStream:
    """Iterates the segments of `f`; `unterminated` tells, at the end, whether text followed
    the last terminator (a missing final terminator: that text is yielded as a segment)."""

    def __init__(self, f: IO[str], name: str, seps: Separators):
        self.f = f
        self.name = name
        self.seps = seps
        self.unterminated = False
        self.count = 0

    def _read(self) -> str:
        try:
            return self.f.read(CHUNK)
        except UnicodeDecodeError:
            raise error(self.name, "not UTF-8 text", self.count + 1) from None

    def _segment(self, text: str) -> Segment | None:
        text = text.strip(_WS)
        if not text:
            return None
        self.count += 1
        elements = text.split(self.seps.element)
        sid = elements[0].strip()
        return Segment(self.count, sid if SEGMENT_ID.match(sid) else "", elements)

    def __iter__(self) -> Iterator[Segment]:
        term = self.seps.segment
        pending: list[str] = []  # pieces of a segment that spans chunks
        first = True
        while True:
            chunk = self._read()
            if not chunk:
                break
            if first:
                chunk = chunk.lstrip("\ufeff" + _WS)
                first = False
            start = 0
            while True:
                i = chunk.find(term, start)
                if i < 0:
                    pending.append(chunk[start:])
                    break
                piece = chunk[start:i]
                if pending:
                    pending.append(piece)
                    piece = "".join(pending)
                    pending.clear()
                seg = self._segment(piece)
                if seg is not None:
                    yield seg
                start = i + 1
        rest = "".join(pending)
        if rest.strip(_WS):
            self.unterminated = True
            seg = self._segment(rest)
            if seg is not None:
                yield seg
