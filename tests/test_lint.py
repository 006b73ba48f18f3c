"""Static checks that are part of the test command: ruff, mypy (strict), ansible-lint (production), ansible-doc,
filter docs (the Galaxy artifact: tests/integration/test_collection_build.py)."""

from __future__ import annotations

import re
import subprocess
import sys
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


def test_every_filter_is_documented() -> None:
    """Each filter the collection exports has a YAML doc beside it that ansible-doc renders."""
    listed = run(str(BIN / "ansible-doc"), "-t", "filter", "-l", "hippolyte.dynamodb")
    assert listed.returncode == 0, listed.stderr
    names = re.findall(r"^hippolyte\.dynamodb\.(\w+)", listed.stdout, re.M)
    assert {"night_report", "inventory_problems"} <= set(names), listed.stdout
    assert "UNDOCUMENTED" not in listed.stdout, listed.stdout
    for name in names:
        shown = run(str(BIN / "ansible-doc"), "-t", "filter", "--json", f"hippolyte.dynamodb.{name}")
        assert shown.returncode == 0 and '"return"' in shown.stdout and '"examples"' in shown.stdout, name
