"""Every file claimgraph reads is a regular file of a bounded size (issue 16, point 3).

A FIFO blocked `--shapes` forever and `/dev/zero` was read without end. Inputs are now opened
through `fileio.open_input` (non-blocking open, checked on the open file): a FIFO, a device or
a folder is a one-line error naming the file, exit 2, at once. Each run here is bounded by an
alarm, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.errors import InputError
from claimgraph.fileio import open_input, read_input
from security_support import one_line_error, run

FORMATS = Path(__file__).parent / "data" / "formats"
EXAMPLE = str(Path(__file__).parent.parent / "examples" / "oxygen.json")

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


@pytest.fixture(autouse=True)
def bounded() -> Iterator[None]:
    """Fail (not hang) when a read blocks."""

    def hung(*_args: object) -> None:
        raise TimeoutError("a read blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)  # the first run may build the engine cache
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(params=["fifo", "/dev/zero"])
def special(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "fifo":
        fifo = tmp_path / "pipe.ttl"
        os.mkfifo(fifo)
        return str(fifo)
    if not Path(request.param).exists():
        pytest.skip("no /dev/zero")
    return str(request.param)


def csv_claims(tmp_path: Path) -> str:
    path = tmp_path / "claims.csv"
    shutil.copy(FORMATS / "claims.csv", path)
    return str(path)


CASES = {
    "claims": (lambda s, t: ["validate", s], "not a regular file"),
    "convert claims": (lambda s, t: ["convert", s], "not a regular file"),
    "--shapes": (lambda s, t: ["validate", EXAMPLE, "--shapes", s], "rules file is not"),
    "rules --shapes": (lambda s, t: ["rules", "--shapes", s], "rules file is not"),
    "--documents": (lambda s, t: ["validate", csv_claims(t), "--documents", s], "documents file"),
    "--profile": (lambda s, t: ["validate", csv_claims(t), "--profile", s], "mapping file is"),
    "--rules-profile": (lambda s, t: ["validate", EXAMPLE, "--rules-profile", s], "profile is"),
    "--baseline": (lambda s, t: ["validate", EXAMPLE, "--baseline", s], "baseline report is"),
    "--waivers": (lambda s, t: ["validate", EXAMPLE, "--waivers", s], "waivers file is"),
    "query file": (lambda s, t: ["query", s], "query file is not"),
    "import": (lambda s, t: ["import", "hcpcs", s, "--store", str(t / "store")], "code-set file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fifos_and_devices_are_refused_at_once(tmp_path: Path, special: str, case: str) -> None:
    args, says = CASES[case]
    one_line_error(run(CliRunner(), *args(special, tmp_path)), special, says)


def test_open_input_checks_the_open_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="the rules file is not a regular file"):
        open_input(fifo, what="rules file")  # a blocking open would wait for a writer here
    with pytest.raises(InputError, match="not a regular file"):
        open_input(tmp_path, what="rules file")
    big = tmp_path / "big.ttl"
    big.write_bytes(b"#" * 101)
    with pytest.raises(InputError, match="larger than 100 bytes"):
        read_input(big, what="rules file", max_bytes=100)
    assert read_input(big, what="rules file", max_bytes=101) == b"#" * 101
    with pytest.raises(InputError, match=r"cannot read the rules file \(no such file\)"):
        read_input(tmp_path / "missing.ttl", what="rules file", max_bytes=100)
