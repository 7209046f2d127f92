"""The code-set store survives a killed import and a full disk (SECURITY.md, "Atomic").

An import is killed (SIGKILL, in a child process) at the moment it switches the pointer file:
the temp file it was writing stays in the store folder as `.claimgraph-*.tmp`, beside a new
database the pointer never named. The next import and `store reset` must accept the folder as
a store, ignore and remove the leftovers and work. A disk that fills up during an import is a
one-line error (exit 2) that leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph import codestore
from claimgraph.cli import app

HEADER = (
    "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,PRICE1,COV,BETOS,ADD DT,ACT EFF DT,"
    "TERM DT,ACTION CD\n"
)


def hcpcs_csv(path: Path, code: str = "E1392") -> Path:
    path.write_text(
        HEADER + f"{code},00100,3,Portable oxygen concentrator rental,Portable oxygen,33,D,D1C,"
        "20060101,20060101,,N\n",
        encoding="utf-8",
    )
    return path


# The child: a real import whose os.replace of the pointer file is a SIGKILL instead.
KILLED_AT_POINTER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from claimgraph import codestore
    from claimgraph.importers import hcpcs

    real = os.replace
    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == codestore.POINTER:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)
    os.replace = replace
    codestore.import_release(hcpcs.read(Path(sys.argv[1])), sys.argv[2])
""")


def killed_import(source: Path, store: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AT_POINTER, str(source), str(store)],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -9, proc.stderr.decode(errors="replace")[-2000:]


def leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if p.name.startswith(".claimgraph-"))


@pytest.mark.parametrize("first", [True, False], ids=["new-store", "existing-store"])
def test_import_after_an_import_killed_at_the_pointer_write(tmp_path: Path, first: bool) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    if not first:  # a store with one release, then a second import is killed
        older = hcpcs_csv(tmp_path / "HCPC2023_JAN_ANWEB.csv")
        r = runner.invoke(app, ["import", "hcpcs", str(older), "--store", str(store)])
        assert r.exit_code == 0, r.output
    killed_import(hcpcs_csv(tmp_path / "HCPC2024_JUL_ANWEB.csv", "E1390"), store)
    assert leftovers(store), "the killed import left its pointer temp file"
    before = [x["release"] for x in codestore.info(store)["releases"]] if not first else []
    assert before == ([] if first else ["cms-hcpcs-2023-01"])  # the killed import never happened
    again = tmp_path / "HCPC2024_JUL_ANWEB.csv"
    r = runner.invoke(app, ["import", "hcpcs", str(again), "--store", str(store)])
    assert r.exit_code == 0, r.output
    assert leftovers(store) == []
    assert len(list(store.glob("db-*"))) == 1  # the killed import's database is gone too
    releases = sorted(x["release"] for x in codestore.info(store)["releases"])
    assert releases == sorted({"cms-hcpcs-2024-07", *before})
    assert codestore.describe("E1390", store)


def test_reset_after_an_import_killed_at_the_pointer_write(tmp_path: Path) -> None:
    store = tmp_path / "store"
    killed_import(hcpcs_csv(tmp_path / "HCPC2024_JUL_ANWEB.csv"), store)
    r = CliRunner().invoke(app, ["store", "reset", "--yes", "--store", str(store)])
    assert r.exit_code == 0, r.output
    assert not store.exists()


def test_a_folder_with_other_files_is_still_refused(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / ".claimgraph-x.tmp").write_text("")  # looks like a leftover
    (folder / "notes.txt").write_text("keep me")
    source = hcpcs_csv(tmp_path / "HCPC2024_JUL_ANWEB.csv")
    r = CliRunner().invoke(app, ["import", "hcpcs", str(source), "--store", str(folder)])
    assert r.exit_code == 2
    assert sorted(p.name for p in folder.iterdir()) == [".claimgraph-x.tmp", "notes.txt"]


# --- a full disk --------------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `path` (root only, where mounting is allowed; else skip)."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_during_import_is_one_line(tmp_path: Path) -> None:
    source = hcpcs_csv(tmp_path / "HCPC2024_JUL_ANWEB.csv")
    with tiny_filesystem(tmp_path / "tiny", "64k") as tiny:
        store = tiny / "store"
        r = CliRunner().invoke(app, ["import", "hcpcs", str(source), "--store", str(store)])
        assert r.exit_code == 2, r.output
        assert r.stderr.count("\n") == 1 and "no space left" in r.stderr, r.stderr
        assert not list(store.glob("db-*")) and not (store / codestore.POINTER).exists()


def test_no_space_from_the_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RocksDB reports a full disk in its own words (`os error 28`)."""
    import pyoxigraph

    def full(*args: object, **kwargs: object) -> None:
        raise OSError("IO error: No space left on device (os error 28)")

    monkeypatch.setattr(pyoxigraph.Store, "bulk_load", full)
    store = tmp_path / "store"
    source = hcpcs_csv(tmp_path / "HCPC2024_JUL_ANWEB.csv")
    r = CliRunner().invoke(app, ["import", "hcpcs", str(source), "--store", str(store)])
    assert r.exit_code == 2 and "no space left writing the code-set store" in r.stderr
    assert not list(store.glob("db-*"))
