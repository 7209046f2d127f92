"""The user cache: private, atomic, and never trusted unless it is safely ours."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from claimgraph import cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(folder))
    monkeypatch.delenv("CLAIMGRAPH_NO_CACHE", raising=False)
    return folder


def test_write_is_private_and_replaces_older_versions(cache_dir: Path) -> None:
    old = cache_dir / "thing-1.bin"
    cache.write(old, lambda f: f.write(b"one"))
    new = cache_dir / "thing-2.bin"
    cache.write(new, lambda f: f.write(b"two"), replaces="thing-*.bin")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert cache.read(new) == b"two"
    assert not old.exists()
    assert [p.name for p in cache_dir.iterdir()] == ["thing-2.bin"]  # no temp file left


def test_a_failed_write_leaves_the_previous_file(cache_dir: Path) -> None:
    target = cache_dir / "x.bin"
    cache.write(target, lambda f: f.write(b"good"))

    def boom(f: object) -> None:
        raise RuntimeError("serialisation failed")

    with pytest.raises(RuntimeError):
        cache.write(target, boom)
    assert cache.read(target) == b"good"
    assert [p.name for p in cache_dir.iterdir()] == ["x.bin"]


def test_files_not_safely_ours_are_not_read(cache_dir: Path) -> None:
    target = cache_dir / "x.bin"
    cache.write(target, lambda f: f.write(b"data"))
    os.chmod(target, 0o662)  # writable by others
    assert cache.read(target) is None
    os.chmod(target, 0o600)
    link = cache_dir / "link.bin"
    link.symlink_to(target)
    assert cache.read(link) is None
    assert cache.read(cache_dir / "absent.bin") is None


def test_the_engine_ignores_a_tampered_cache(cache_dir: Path) -> None:
    from claimgraph.engine import fast
    from claimgraph.knowledge import Knowledge

    knowledge = Knowledge.bundled()
    path = fast.cache_path(knowledge)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    remote = "SELECT ?this WHERE { SERVICE <http://127.0.0.1:9/> { ?this ?p ?o } }"
    rule = "https://w3id.org/claimgraph/rule/OXY-01"
    bogus = {"queries": [[rule, remote, False]], "standard": [], "entries": {}, "kg_nt": ""}
    path.write_text(json.dumps(bogus))
    os.chmod(path, 0o666)  # someone else could have written it
    engine = fast.load_engine(knowledge)
    assert engine.queries and all("SERVICE" not in q for _, q, _, _ in engine.queries)
    assert len(engine.queries) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # rebuilt and replaced
