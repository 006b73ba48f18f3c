"""private_files: what the collection writes on the controller is its owner's alone, whatever the umask."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.private_files import (
    make_private_dirs,
    open_private,
    write_private,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o277], ids=["umask-000", "umask-022", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A umask that grants everything, the usual one, and one that takes the owner's own write bit."""
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


def test_missing_folders_are_made_0700_and_existing_ones_are_left_alone(tmp_path: Path, umask: int) -> None:
    tmp_path.chmod(0o755)
    make_private_dirs(tmp_path / "a" / "b" / "c")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(tmp_path) == 0o755  # the user's own folder keeps its mode
    make_private_dirs(tmp_path / "a" / "b")  # already there: nothing to do, no error


def test_open_private_makes_a_0600_file_and_tightens_one_that_was_open_to_all(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "runs" / "report.md"
    with open_private(path) as fh:
        fh.write(b"first")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    path.chmod(0o666)
    with open_private(path) as fh:  # O_TRUNC: replaced content, and the mode put back to 0600
        fh.write(b"2nd")
    assert (path.read_bytes(), mode(path)) == (b"2nd", 0o600)


def test_open_private_exclusive_refuses_an_existing_file_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        open_private(path, os.O_EXCL)
    assert path.read_bytes() == b"someone else's"


def test_write_private_replaces_whole_files_and_leaves_no_temporary_file(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "plans" / "plan.json"
    write_private(path, b"one")
    write_private(path, b"two, longer")
    assert (path.read_bytes(), mode(path)) == (b"two, longer", 0o600)
    assert [p.name for p in path.parent.iterdir()] == ["plan.json"]


def test_write_private_exclusive_keeps_what_is_there_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_private(path, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        write_private(path, b"second", exclusive=True)
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_of_many_exclusive_writers_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "claim"
    won: list[int] = []
    lost: list[int] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        try:
            write_private(path, f"writer {n}".encode(), exclusive=True)
            won.append(n)
        except FileExistsError:
            lost.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7
    assert path.read_bytes() == f"writer {won[0]}".encode()
    assert [p.name for p in path.parent.iterdir()] == ["claim"]
