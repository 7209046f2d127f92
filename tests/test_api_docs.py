"""docs/api.md: every ```python block runs, in order, in one namespace (its asserts are the
examples' expected results), from a folder holding the repository's examples/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_example_of_the_api_page_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow", reason="the page's table examples need pyarrow")
    pytest.importorskip("pandas", reason="the page's DataFrame example needs pandas")
    blocks = BLOCK.findall((ROOT / "docs" / "api.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for n, code in enumerate(blocks, start=1):
        exec(compile(code, f"docs/api.md block {n}", "exec"), namespace)  # noqa: S102
    assert os.path.isfile("claims.parquet") and os.path.isfile("findings.parquet")


def test_the_docstring_examples_run() -> None:
    import doctest

    import claimgraph.api

    failures, tried = doctest.testmod(claimgraph.api, optionflags=doctest.ELLIPSIS)
    assert tried >= 3 and failures == 0
