"""Run our modules and playbooks through the real ansible executables, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
BIN = Path(sys.executable).parent


def ensure_collection_link() -> Path:
    """Expose the working tree as ansible_collections/hippolyte/dynamodb (a live development install)."""
    link = COLLECTIONS / "ansible_collections" / "hippolyte" / "dynamodb"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(REPO, link.parent))
    return COLLECTIONS


def ansible_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ensure_collection_link()),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_HOME=str(REPO / "build" / "ansible-home"),
    )
    env.update(extra or {})
    return env


@dataclass
class ModuleResult:
    rc: int
    result: dict[str, Any]
    output: str

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed")) or self.rc != 0


def run_module(name: str, args: dict[str, Any], check: bool = False, diff: bool = False) -> ModuleResult:
    """Run one module ad hoc on localhost and return its parsed result."""
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-m", f"hippolyte.dynamodb.{name}", "-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = ansible_env({"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    try:
        doc = json.loads(proc.stdout)
        result = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        result = {"failed": True, "msg": "unparseable ansible output"}
    return ModuleResult(proc.returncode, result, proc.stdout + proc.stderr)


def run_playbook(playbook: str | Path, inventory: Path | None = None, extra_vars: dict[str, Any] | None = None,
                 timeout: int = 900, options: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a playbook (a file or a collection playbook name), with extra command-line `options` such as -vvv and
    extra environment variables `env` (another account's credentials)."""
    cmd = [str(BIN / "ansible-playbook"), str(playbook), *options]
    if inventory is not None:
        cmd += ["-i", str(inventory)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env), timeout=timeout, cwd=REPO,
                          check=False)
