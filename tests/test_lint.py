"""Static checks that are part of the test command: ruff, mypy (strict), ansible-lint (production), ansible-doc,
galaxy build."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.support.ansible_run import REPO, ansible_env

BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=ansible_env(), timeout=600, check=False)


def test_ruff() -> None:
    proc = run(str(BIN / "ruff"), "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_module_utils() -> None:
    """pyproject.toml's [tool.mypy]: strict, over every file of plugins/module_utils."""
    proc = run(sys.executable, "-m", "mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.search(r"no issues found in (\d+) source files", proc.stdout)
    assert found and int(found[1]) >= len(list((REPO / "plugins" / "module_utils").rglob("*.py"))), proc.stdout


def test_ansible_lint_production_profile() -> None:
    proc = run(str(BIN / "ansible-lint"), "--nocolor", "--profile", "production")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("module", MODULES)
def test_module_documentation_renders(module: str) -> None:
    proc = run(str(BIN / "ansible-doc"), "--json", f"hippolyte.dynamodb.{module}")
    assert proc.returncode == 0, proc.stderr
    doc = proc.stdout
    for section in ('"doc"', '"examples"', '"return"'):
        assert section in doc, f"{module} lacks {section}"
    assert "WARNING" not in proc.stderr, proc.stderr


def test_every_module_is_in_the_action_group() -> None:
    runtime = (REPO / "meta" / "runtime.yml").read_text()
    assert all(f"- {m}\n" in runtime for m in MODULES)


def test_collection_builds_without_development_files(tmp_path: Path) -> None:
    proc = run(str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (artifact,) = tmp_path.glob("hippolyte-dynamodb-*.tar.gz")
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    assert "plugins/modules/dynamodb_scan_backup.py" in names and "roles/backup/tasks/main.yml" in names
    assert "playbooks/backup.yml" in names
    assert not [n for n in names if n.split("/")[0] in ("tests", "build", ".venv", "node_modules", "tools")]
