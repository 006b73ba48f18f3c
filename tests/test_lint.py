"""Static checks that are part of the test command: ruff, mypy (strict), ansible-lint (production), ansible-doc,
filter docs (the Galaxy artifact: tests/integration/test_collection_build.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_changelog_fragments_are_sections_of_plain_strings() -> None:
    """What antsibull-changelog (and sanity's changelog test) reads: a mapping of known sections to lists of
    strings. A `: ` or a leading backtick in a plain YAML scalar breaks the file; this says which, in a second."""
    config = yaml.safe_load((REPO / "changelogs" / "config.yaml").read_text())
    known = {section for section, _title in config["sections"]} | {config["trivial_section_name"], "release_summary"}
    for path in sorted((REPO / "changelogs" / "fragments").glob("*.y*ml")):
        try:
            fragment = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            pytest.fail(f"{path.name}: not YAML ({exc}); quote the entry or write it as a folded block (- >-)")
        assert isinstance(fragment, dict) and set(fragment) <= known, f"{path.name}: sections {set(fragment) - known}"
        for section, entries in fragment.items():
            if section == "release_summary":
                assert isinstance(entries, str), path.name
            else:
                assert isinstance(entries, list) and all(isinstance(e, str) for e in entries), f"{path.name}: {section}"


def test_no_two_test_files_share_a_name() -> None:
    # tests/ has no __init__.py: pytest imports each test file by its name, and two alike stop the whole run.
    names = sorted(p.name for p in (REPO / "tests").rglob("test_*.py") if ".venv" not in p.parts)
    assert not [name for name in set(names) if names.count(name) > 1]


def test_no_variable_is_named_underscore() -> None:
    # ansible-test's pylint refuses the name "_" (disallowed-name) in plugins and tests alike; this finds it in a
    # second instead of at the end of the sanity run.
    import ast
    found = []
    for path in [*(REPO / "plugins").rglob("*.py"), *(REPO / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not found, found
