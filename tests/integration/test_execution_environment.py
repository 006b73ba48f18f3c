"""execution-environment.yml through `ansible-builder create` (which writes the build context and needs no container
engine), then what the image build would do with that context, done here without a container: install its galaxy
requirements offline and let its introspection script read the collection's meta/execution-environment.yml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.ansible_run import BIN, REPO, ansible_env
from tests.support.collection_artifact import build_collection, galaxy, install_offline


def pinned(requirements: Path, package: str) -> str:
    """The `package==version` line of a pip requirements file."""
    (line,) = [ln for ln in requirements.read_text().splitlines() if re.match(rf"{re.escape(package)}==", ln)]
    return line


def shipped_version(collection: str) -> str:
    """The version of a collection that the installed `ansible` package ships."""
    listed = galaxy("collection", "list", collection, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (versions,) = json.loads(listed.stdout).values()
    return str(versions[collection]["version"])


def test_ansible_builder_writes_a_context_with_the_collection_and_its_requirements(tmp_path: Path) -> None:
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    # The definition expects the tarball where the build command of its header puts it, relative to itself.
    project = tmp_path / "project"
    tarball = build_collection(project / "build" / "ee")
    shutil.copy(REPO / "execution-environment.yml", project)
    assert tarball.name == f"hippolyte-dynamodb-{version}.tar.gz"

    context = tmp_path / "context"
    created = subprocess.run([str(BIN / "ansible-builder"), "create", "--file", "execution-environment.yml",
                              "--context", str(context)], capture_output=True, text=True, cwd=project,
                             env=ansible_env(), timeout=300, check=False)

    assert created.returncode == 0, created.stdout + created.stderr
    build = context / "_build"
    collections = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    assert {"name": "amazon.aws", "version": shipped_version("amazon.aws")} in collections
    assert {"name": f"collections/{tarball.name}", "type": "file"} in collections
    assert (build / "collections" / tarball.name).read_bytes() == tarball.read_bytes()
    python = (build / "requirements.txt").read_text().splitlines()
    assert pinned(REPO / "requirements-dev.txt", "boto3") in python and "botocore>=1.34" in python
    assert pinned(REPO / "requirements-dev.txt", "tzdata") in python  # the planner's zones on a minimal image
    (containerfile,) = [f for f in context.iterdir() if f.name in ("Containerfile", "Dockerfile")]
    assert pinned(REPO / "requirements-dev.txt", "ansible-core") in containerfile.read_text()
    assert definition["dependencies"]["python_interpreter"]["python_path"].endswith("python3.11")

    # The image's galaxy stage: `ansible-galaxy collection install -r requirements.yml` from the context's _build.
    installed = tmp_path / "installed"
    install_offline(build / "requirements.yml", installed, cwd=build)
    collection = installed / "ansible_collections" / "hippolyte" / "dynamodb"
    assert json.loads((collection / "MANIFEST.json").read_text())["collection_info"]["version"] == version
    # The image's builder stage: the context's own script gathers each collection's Python requirements, which
    # ours names in the meta/execution-environment.yml the tarball ships.
    meta = yaml.safe_load((collection / "meta" / "execution-environment.yml").read_text())
    assert (collection / meta["dependencies"]["python"]).is_file()
    introspected = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect",
                                   str(installed)], capture_output=True, text=True, timeout=120, check=False)
    assert introspected.returncode == 0, introspected.stdout + introspected.stderr
    found = yaml.safe_load(introspected.stdout)["python"]
    assert "boto3>=1.34  # from collection hippolyte.dynamodb" in found, found
