"""The Galaxy artifact holds the collection's tracked files and nothing a used working tree accumulates."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.support.ansible_run import REPO
from tests.support.collection_artifact import build_collection

# What tools and runs leave in a working tree (each in .gitignore): caches, reports, coverage, virtualenvs.
LEFT_BY_USE = (".ansible/cache/x.json", ".mypy_cache/3.11/x.json", ".coverage", ".coverage.host.1", "htmlcov/i.html",
               "hippolyte-reports/night.md", ".venv/bin/python", "node_modules/x/index.js", ".pytest_cache/v",
               ".ruff_cache/x", ".hypothesis/examples/x", "demo-output/x", "build/x",
               "plugins/module_utils/__pycache__/names.cpython-311.pyc", "hippolyte-dynamodb-0.0.1.tar.gz")


def test_a_build_from_a_used_working_tree_ships_only_tracked_collection_files(tmp_path: Path) -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    tree = tmp_path / "tree"
    for name in tracked:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tree / name)
    for name in LEFT_BY_USE:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("left by a tool\n")

    tarball = build_collection(tmp_path / "out", source=tree)

    with tarfile.open(tarball) as archive:
        shipped = {m.name for m in archive.getmembers() if m.isfile()} - {"MANIFEST.json", "FILES.json"}
    assert shipped, "the tarball holds no file"
    assert shipped <= set(tracked), sorted(shipped - set(tracked))
    assert "plugins/modules/backup_restore.py" in shipped and "roles/backup/tasks/main.yml" in shipped
    assert not [n for n in shipped if n.startswith(("tests/", "tools/", ".ci/"))]
