"""The built wheel works on its own: fresh venv, pip install, `claimgraph code E1392` anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900):
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path: Path) -> None:
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)], cwd=ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    wheels = list(dist.glob("claimgraph-*.whl"))
    assert len(wheels) == 1

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    installed = run([str(py), "-m", "pip", "install", "--quiet", str(wheels[0])], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        "PATH": f"{env_dir / 'bin'}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CLAIMGRAPH_CACHE_DIR": str(tmp_path / "cache"),
        "LANG": "C.UTF-8",
    }
    exe = str(env_dir / "bin" / "claimgraph")
    for _ in range(2):  # the second run reads the graph cache the first one wrote
        card = run([exe, "code", "E1392"], cwd=empty, env=env, timeout=120)
        assert card.returncode == 0, card.stderr
        assert "Portable oxygen concentrator, rental" in card.stdout
    assert list(empty.iterdir()) == []
    # the ICD releases ship prebuilt: a diagnosis card by date reads them, builds nothing
    dated = run([exe, "code", "R05", "--on", "2021-06-01", "--format", "json"], cwd=empty,
                env=env, timeout=120)  # fmt: skip
    assert dated.returncode == 0, dated.stderr
    assert '"status": "billable"' in dated.stdout and "FY2021-Jan" in dated.stdout
    assert not [p for p in (tmp_path / "cache").glob("*") if "icd" in p.name.lower()]

    listed = run([exe, "queries", "--format", "csv"], cwd=empty, env=env, timeout=120)
    assert listed.returncode == 0 and "rules-for-code" in listed.stdout
    rows = run(
        [exe, "query", "code-card", "-p", "code=E1392", "--format", "json"],
        cwd=empty,
        env=env,
        timeout=120,
    )
    assert rows.returncode == 0 and "Portable oxygen concentrator, rental" in rows.stdout
