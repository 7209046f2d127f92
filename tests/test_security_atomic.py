"""Nothing lost: outputs appear whole or not at all, never through a symlink, never by surprise.

Every command that writes a file (convert, export, validate -o) goes through
`claimgraph.fileio.atomic_writer` (temp file in the same folder, fsync, os.replace). A failure
mid-way (an error raised while serialising, the process killed while writing, a bad input after
the first batch) leaves the previous file byte-identical; a symlinked target is refused and
what it points to is untouched; an existing file is replaced only with --force; files that may
hold claim data are created 0600. SECURITY.md ("Atomic") points here.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from security_support import one_line_error, run

FORMATS = Path(__file__).parent / "data" / "formats"
PREVIOUS = b"previous content \xe2\x9c\x93\n" * 100

# (command line without the target, whether the output may hold claim data)
WRITERS = {
    "convert": (["convert", str(FORMATS / "claims.json")], True),
    "convert-nt": (["convert", str(FORMATS / "claims.json"), "--to", "ntriples"], True),
    "export": (["export", "rules", "--format", "csv"], False),
    "validate": (["validate", str(FORMATS / "claims.json"), "--format", "json"], True),
}
WRITER_IDS = [k for k in sorted(WRITERS)]


def previous_file(folder: Path, name: str = "out.txt") -> Path:
    path = folder / name
    path.write_bytes(PREVIOUS)
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".claimgraph-"))


@pytest.mark.parametrize("writer", WRITER_IDS)
def test_new_file_mode_and_content(writer: str, runner: CliRunner, tmp_path: Path) -> None:
    args, holds_claims = WRITERS[writer]
    target = tmp_path / "new.out"
    result = run(runner, *args, "-o", str(target))
    assert result.exit_code in (0, 1), result.stderr
    assert target.stat().st_size > 0
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == (0o600 if holds_claims else 0o644), oct(mode)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", WRITER_IDS)
def test_existing_file_needs_force(writer: str, runner: CliRunner, tmp_path: Path) -> None:
    args, _ = WRITERS[writer]
    target = previous_file(tmp_path)
    one_line_error(run(runner, *args, "-o", str(target)), "--force")
    assert target.read_bytes() == PREVIOUS
    forced = run(runner, *args, "-o", str(target), "--force")
    assert forced.exit_code in (0, 1), forced.stderr
    assert target.read_bytes() != PREVIOUS


@pytest.mark.parametrize("writer", WRITER_IDS)
def test_symlinked_target_is_refused(writer: str, runner: CliRunner, tmp_path: Path) -> None:
    args, _ = WRITERS[writer]
    victim = previous_file(tmp_path, "victim.txt")
    os.chmod(victim, 0o644)
    link = tmp_path / "link.out"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        one_line_error(run(runner, *args, "-o", str(link), *extra), "symbolic link")
    assert victim.read_bytes() == PREVIOUS
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert link.is_symlink()
    dangling = tmp_path / "dangling.out"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    one_line_error(run(runner, *args, "-o", str(dangling), "--force"), "symbolic link")
    assert not (tmp_path / "nowhere.txt").exists()


def test_serialization_error_midway_keeps_the_previous_export(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimgraph import export

    real = export.write_export

    def half_then_fail(what: object, fmt: object, out: object, **options: object) -> int:
        real(what, fmt, out)  # the whole export is written into the temp file ...
        raise ValueError("serializer broke")  # ... and then the writer fails

    target = previous_file(tmp_path)
    monkeypatch.setattr(export, "write_export", half_then_fail)
    result = run(runner, "export", "relations", "-f", "csv", "-o", str(target), "--force")
    one_line_error(result, "ValueError", code=3)
    assert target.read_bytes() == PREVIOUS
    assert leftovers(tmp_path) == []


def test_bad_input_after_the_first_batch_keeps_the_previous_conversion(
    runner: CliRunner, tmp_path: Path
) -> None:
    """N-Triples is written batch by batch; a bad second file must not leave half a file."""
    bad = tmp_path / "z-bad.ttl"
    bad.write_text("@prefix cg: <https://w3id.org/claimgraph/ontology/> .\n<a> cg:x [ .\n")
    target = previous_file(tmp_path)
    result = run(
        runner, "convert", str(FORMATS / "claims.json"), str(bad), "--to", "ntriples",
        "-o", str(target), "--force",
    )  # fmt: skip
    one_line_error(result, "z-bad.ttl")
    assert target.read_bytes() == PREVIOUS
    assert leftovers(tmp_path) == []


KILLED_WRITER = """
import sys, time
from claimgraph import export
from claimgraph.cli import app

def slow(what, fmt, out, **options):
    out.write("partial export that must never become the file\\n" * 1000)
    out.flush()
    print("writing", flush=True)
    time.sleep(60)
    return 0

export.write_export = slow
sys.argv = ["claimgraph", "export", "relations", "-f", "csv", "-o", sys.argv[1], "--force"]
app()
"""


def test_process_killed_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    target = previous_file(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the temp file now holds part of the output
        assert line == b"writing\n", proc.stderr.read() if proc.stderr else line
        assert target.read_bytes() == PREVIOUS
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert target.read_bytes() == PREVIOUS
    # the killed process could not clean up: its hidden temp file stays beside, never the target
    assert all(name.endswith(".tmp") for name in leftovers(tmp_path))


def test_target_folder_that_cannot_take_files_is_one_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    one_line_error(
        run(runner, "export", "rules", "-f", "csv", "-o", str(tmp_path / "missing" / "x.csv")),
        "does not exist",
    )
    folder_target = tmp_path / "a-folder"
    folder_target.mkdir()
    one_line_error(
        run(runner, "export", "rules", "-f", "csv", "-o", str(folder_target), "--force"),
        "not a regular file",
    )
    assert folder_target.is_dir() and leftovers(tmp_path) == []
