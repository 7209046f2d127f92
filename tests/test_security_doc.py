"""SECURITY.md names the test that keeps each promise: every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def named_tests() -> list[tuple[str, str]]:
    """(test file, test function) of every `tests/x.py::test_y` and `::test_z` in the table."""
    out = []
    for line in (ROOT / "SECURITY.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or "tests/" not in line:
            continue
        current = None
        for m in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)`", line):
            current = m.group(1) or current
            assert current, line
            out.append((current, m.group(2)))
    return out


def test_every_promise_names_tests_that_exist() -> None:
    named = named_tests()
    assert len(named) > 50
    for path, name in named:
        text = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", text, re.M), f"{path}::{name} does not exist"
