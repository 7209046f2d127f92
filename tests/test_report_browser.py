"""The HTML report in a real browser (headless Chromium): it renders the summary, the charts and
one row per finding of the JSON report; a filter set in the address works; it makes no network
request. Skipped where Chromium is not installed (`apt-get install chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)), None)  # fmt: skip
pytestmark = pytest.mark.skipif(BROWSER is None, reason="headless Chromium is not installed")


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("html")
    runner = CliRunner()
    page, data = folder / "report.html", folder / "report.json"
    for target in (page, data):
        r = runner.invoke(app, ["validate", str(EXAMPLES), "-o", str(target), "-q"])
        assert r.exit_code == 1, r.output
    return page, json.loads(data.read_text())


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    profile = tmp_path / "profile"
    cmd = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--proxy-server=127.0.0.1:9",  # any request would fail
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def rows(dom: str) -> list[str]:
    return re.findall(r'<tr class="finding"[^>]*>', dom)


def test_chromium_renders_every_finding_of_the_json_report(
    reports: tuple[Path, dict],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    page, data = reports
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert len(rows(dom)) == len(data["findings"]) > 0
    assert [re.search(r'data-key="([0-9a-f]+)"', r)[1] for r in rows(dom)] == [  # type: ignore[index]
        f["key"] for f in data["findings"]
    ]
    assert f'id="claims-checked">{data["claims"]}<' in dom
    assert f'id="claims-with-violations">{data["summary"]["claims_with_violations"]}<' in dom
    for severity, n in data["summary"]["by_severity"].items():
        assert f'id="count-{severity}">{n}<' in dom
    assert 'id="chart-rule"' in dom and 'id="chart-topic"' in dom
    shown = f"{len(data['findings'])} of {len(data['findings'])} findings shown"
    assert shown in dom  # the script ran


def test_a_filter_in_the_address_shows_only_its_rows(
    reports: tuple[Path, dict],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    page, data = reports
    rule = data["findings"][0]["rule"]
    wanted = [f["key"] for f in data["findings"] if f["rule"] == rule]
    done = chromium(tmp_path, "--dump-dom", f"{page.as_uri()}#rule={rule}")
    assert done.returncode == 0, done.stderr[-2000:]
    visible = [r for r in rows(done.stdout) if "hidden" not in r]
    assert [re.search(r'data-key="([0-9a-f]+)"', r)[1] for r in visible] == wanted  # type: ignore[index]
    assert f"{len(wanted)} of {len(data['findings'])} findings shown" in done.stdout


def test_screenshot_renders_without_network(
    reports: tuple[Path, dict],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    page, _ = reports
    shot = tmp_path / "report.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page, not a blank
