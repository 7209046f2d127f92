"""The report as one self-contained HTML page (Jinja2, every value escaped).

The page has everything inline (CSS, a small script, SVG charts) and loads nothing: a
Content-Security-Policy forbids every fetch, so the only network use is a reader following a
source link. It shows the summary (claims checked, claims with violations, counts by
severity), bar charts of the findings by rule, payer and topic, a table of the findings that
sorts and filters by rule, severity, payer, file and code (the filter also reads the page
address: `report.html#rule=OXY-02&severity=violation`), each finding expanding to its message,
fix and sources, the waived findings, the notices and the run's facts. It prints whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from .records import NO_PAYER, summary

if TYPE_CHECKING:
    from ..validation import ValidationResult

BAR_WIDTH = 360  # px of the longest bar
BAR_HEIGHT = 18
BAR_GAP = 6
LABEL_WIDTH = 150
MAX_BARS = 25  # a chart shows the largest groups; the table holds every finding


def chart(title: str, slug: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """An SVG bar chart's geometry: one bar per group, largest first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown, rest = items[:MAX_BARS], items[MAX_BARS:]
    if rest:
        shown.append((f"{len(rest)} more", sum(n for _, n in rest)))
    top = max((n for _, n in shown), default=0) or 1
    bars = [
        {
            "label": label,
            "count": n,
            "y": i * (BAR_HEIGHT + BAR_GAP),
            "width": max(2, round(n / top * BAR_WIDTH)),
        }
        for i, (label, n) in enumerate(shown)
    ]
    return {
        "title": title,
        "slug": slug,
        "bars": bars,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "width": LABEL_WIDTH + BAR_WIDTH + 60,
        "height": max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP),
    }


def web_url(url: str | None) -> bool:
    """Whether a source URL may become a link: http(s) only (a user's rules file could name a
    javascript: or file: address)."""
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def _options(values: list[str]) -> list[str]:
    return sorted({v for v in values if v})


def view(result: ValidationResult) -> dict[str, Any]:
    """What the template shows."""
    s = summary(result)
    findings = result.findings
    return {
        "result": result,
        "summary": s,
        "findings": findings,
        "charts": [
            chart("Findings by rule", "rule", s["by_rule"]),
            chart("Findings by payer", "payer", s["by_payer"]),
            chart("Findings by topic", "topic", s["by_topic"]),
        ],
        "filters": {
            "rule": _options([f.rule for f in findings]),
            "severity": [x for x in ("violation", "warning", "info") if s["by_severity"][x]],
            "payer": _options([f.payer or NO_PAYER for f in findings]),
            "file": _options([f.file or "" for f in findings]),
        },
        "no_payer": NO_PAYER,
        "run": result.run,
    }


def render_html(result: ValidationResult) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("claimgraph.report", "templates"),
        autoescape=True,  # every value, whatever the file name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["web_url"] = web_url
    return env.get_template("report.html.j2").render(**view(result))


def write_html(result: ValidationResult, out: IO[str]) -> None:
    out.write(render_html(result))


__all__ = ["chart", "render_html", "view", "web_url", "write_html"]
