"""The import rule of plugins/module_utils (docs/decisions.md, "Layers"), read from the source with `ast`.

Each module_utils file has the rank of its package; a file imports only from its own package or a lower rank,
two packages of one rank never import each other, and no two files import each other, even through others.
Only ansible_adapter imports Ansible or amazon.aws. Modules and filters import no private (`_`-prefixed) path,
and tests share helpers only through tests/support.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
MODULE_UTILS = PLUGINS / "module_utils"
PACKAGE = "ansible_collections.hippolyte.dynamodb.plugins"

# Lowest first: a package may import only from its own and lower ranks.
RANKS = {
    "_base": 0,
    "_model": 1,
    "_aws": 2,
    "_store": 3,
    "planning": 4, "capacity": 4, "catalog": 4, "setup": 4,
    "engines": 5, "restoring": 5,
    "night": 6,
    "ansible_adapter": 7,
    "modules": 8, "filter": 8,
}
ADAPTER = "ansible_adapter"

# Imports by modules and filters of private module_utils paths that are still allowed: none (each reaches them
# through ansible_adapter or a public file of ranks 4-6). Pairs (importing file, imported file) relative to
# plugins/. The list may only shrink: a pair that no longer occurs fails test_the_allow_list_is_not_stale.
PRIVATE_IMPORTS_ALLOWED: set[tuple[str, str]] = set()


def _sources() -> list[Path]:
    return sorted(p for folder in ("module_utils", "modules", "filter") for p in (PLUGINS / folder).rglob("*.py")
                  if "__pycache__" not in p.parts)


def _imported_names(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every dotted name an import statement reaches (for `from m import a`: m.a, which may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"line {node.lineno}: relative import of {node.module}")
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _file_of(name: str) -> Path | None:
    """The plugins file a dotted name of this collection lives in (None: another package, or a folder)."""
    if not name.startswith(PACKAGE + "."):
        return None
    path = PLUGINS.joinpath(*name[len(PACKAGE) + 1:].split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _imports() -> dict[Path, dict[Path, int]]:
    """importing file -> {imported file of this collection: line of the first such import}."""
    graph: dict[Path, dict[Path, int]] = {}
    for source in _sources():
        edges = graph.setdefault(source, {})
        for name, line in _imported_names(ast.parse(source.read_text(), str(source))):
            target = _file_of(name)
            if target is not None and target != source:
                edges.setdefault(target, line)
    return graph


def _package(path: Path) -> str:
    rel = path.relative_to(PLUGINS)
    if rel.parts[0] != "module_utils":
        return rel.parts[0]
    inner = rel.relative_to("module_utils")
    return inner.parts[0] if len(inner.parts) > 1 else inner.stem


def _rel(path: Path) -> str:
    return str(path.relative_to(PLUGINS))


def test_every_file_has_a_rank() -> None:
    unranked = sorted(_rel(p) for p in _sources() if _package(p) not in RANKS)
    assert not unranked, f"give these a package of a known rank (RANKS): {unranked}"


def test_files_import_only_their_own_package_or_lower_ranks() -> None:
    wrong = []
    for source, targets in _imports().items():
        src = _package(source)
        for target, line in targets.items():
            dst = _package(target)
            if dst == src or src not in RANKS or dst not in RANKS:
                continue
            if RANKS[dst] > RANKS[src]:
                wrong.append(f"{_rel(source)}:{line} imports {_rel(target)} of a higher rank ({src} < {dst})")
            elif RANKS[dst] == RANKS[src]:
                wrong.append(f"{_rel(source)}:{line} imports {_rel(target)}: {src} and {dst} share a rank")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_files() -> None:
    graph = _imports()
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    cycles: list[list[str]] = []

    def visit(node: Path) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(_rel(member))
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"files that import each other (through others): {cycles}"


def test_only_the_adapter_imports_ansible() -> None:
    wrong = []
    for source in _sources():
        if MODULE_UTILS not in source.parents or _package(source) == ADAPTER:
            continue
        for name, line in _imported_names(ast.parse(source.read_text(), str(source))):
            if name == "ansible" or name.startswith(("ansible.", "ansible_collections.amazon.")):
                wrong.append(f"{_rel(source)}:{line} imports {name}")
    assert not wrong, "only module_utils/ansible_adapter.py imports Ansible or amazon.aws:\n" + "\n".join(wrong)


def _private_imports_by_plugins() -> dict[tuple[str, str], int]:
    found = {}
    for source, targets in _imports().items():
        if _package(source) not in ("modules", "filter"):
            continue
        for target, line in targets.items():
            if any(part.startswith("_") for part in target.relative_to(PLUGINS).parts):
                found[(_rel(source), _rel(target))] = line
    return found


def test_modules_and_filters_import_no_private_path() -> None:
    wrong = [f"{src}:{line} imports {dst}" for (src, dst), line in sorted(_private_imports_by_plugins().items())
             if (src, dst) not in PRIVATE_IMPORTS_ALLOWED]
    assert not wrong, ("private paths are for module_utils only: go through ansible_adapter or a public file\n"
                       + "\n".join(wrong))


def test_the_allow_list_is_not_stale() -> None:
    stale = sorted(PRIVATE_IMPORTS_ALLOWED - set(_private_imports_by_plugins()))
    assert not stale, f"no longer imported: remove from PRIVATE_IMPORTS_ALLOWED: {stale}"


def test_private_files_say_so() -> None:
    header = "# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release."
    unmarked = sorted(_rel(p) for p in MODULE_UTILS.rglob("*.py") if "__pycache__" not in p.parts
                      and any(part.startswith("_") for part in p.relative_to(MODULE_UTILS).parts)
                      and p.read_text().splitlines()[:1] != [header])
    assert not unmarked, f"open these with the private header ({header!r}): {unmarked}"


def test_tests_share_helpers_only_through_tests_support() -> None:
    tests = PLUGINS.parent / "tests"
    wrong = []
    for source in sorted(tests.rglob("*.py")):
        for name, line in _imported_names(ast.parse(source.read_text(), str(source))):
            if name.startswith(("tests.integration", "tests.unit")):
                wrong.append(f"{source.relative_to(tests)}:{line} imports {name}")
    assert not wrong, "move what tests share into tests/support:\n" + "\n".join(wrong)


def test_billing_modes_are_spelled_only_in_billing() -> None:
    home = MODULE_UTILS / "_model" / "billing.py"
    wrong = [f"{_rel(source)}:{node.lineno}" for source in _sources() if source != home
             for node in ast.walk(ast.parse(source.read_text(), str(source)))
             if isinstance(node, ast.Constant) and node.value in ("PROVISIONED", "PAY_PER_REQUEST")]
    assert not wrong, f"use _model/billing's PROVISIONED and ON_DEMAND: {wrong}"


def test_urls_under_a_root_are_built_only_by_url_under() -> None:
    # Modules and filters too: none builds one by hand since they became adapters.
    by_hand = re.compile(r"""rstrip\(['"]/['"]\)\}/""")
    wrong = [f"{_rel(source)}:{number}" for source in _sources()
             for number, line in enumerate(source.read_text().splitlines(), 1) if by_hand.search(line)]
    assert not wrong, f"use _store/layout.url_under(root, *parts): {wrong}"
