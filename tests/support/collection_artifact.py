"""The collection as users get it: the tarball `ansible-galaxy collection build` makes, installed without Galaxy."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.ansible_run import BIN, REPO, ansible_env


def galaxy(*args: str, cwd: Path = REPO, collections: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ansible-galaxy; with `collections`, that folder is its only collections path (not the development link)."""
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(collections)} if collections else None)
    return subprocess.run([str(BIN / "ansible-galaxy"), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)


def build_collection(output: Path, source: Path = REPO) -> Path:
    """Build the collection tarball of `source` (this working tree by default) into `output`; return its path."""
    built = galaxy("collection", "build", str(source), "--force", "--output-path", str(output))
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = output.glob("hippolyte-dynamodb-*.tar.gz")
    return tarball


def install_offline(source: Path | str, collections: Path, cwd: Path = REPO) -> str:
    """Install a tarball, or a requirements file (a `.yml` path), into `collections` without any Galaxy server.

    amazon.aws resolves to the copy the `ansible` package ships, as it would in an execution environment."""
    what = ["-r", str(source)] if str(source).endswith(".yml") else [str(source)]
    installed = galaxy("collection", "install", *what, "--offline", "-p", str(collections), cwd=cwd,
                       collections=collections)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return installed.stdout
