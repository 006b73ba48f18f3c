"""execution-environment.yml through `ansible-builder create` (which writes the build context and needs no container
engine), then what the image build would do with that context, done here without a container: install its galaxy
requirements offline and let its introspection script read the collection's meta/execution-environment.yml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
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


# What the roles and playbooks name: task actions, module_defaults groups, filters, lookups.
ACTION = re.compile(r"^\s*(?:- )?([a-z_]+\.[a-z_]+\.[a-z_0-9]+):", re.M)
GROUP = re.compile(r"group/([a-z_]+\.[a-z_]+\.[a-z_0-9]+)")
FILTER = re.compile(r"\|\s*([a-z_]+\.[a-z_]+\.[a-z_0-9]+)")
LOOKUP = re.compile(r"(?:lookup|query)\('([a-z_]+\.[a-z_]+\.[a-z_0-9]+)'")


def used_names() -> dict[str, set[str]]:
    """Every fully qualified name the roles, playbooks and example project use, by plugin type."""
    found: dict[str, set[str]] = {"module": set(), "group": set(), "filter": set(), "lookup": set()}
    for path in [*REPO.glob("roles/**/*.yml"), *REPO.glob("playbooks/*.yml"), *REPO.glob("examples/**/*.yml")]:
        text = path.read_text()
        found["module"] |= {n for n in ACTION.findall(text) if not n.startswith("ansible.builtin.")
                            and n.count(".") == 2 and not n.endswith((".yml", ".yaml"))}
        found["group"] |= set(GROUP.findall(text))
        found["filter"] |= {n for n in FILTER.findall(text) if not n.startswith("ansible.builtin.")}
        found["lookup"] |= {n for n in LOOKUP.findall(text) if not n.startswith("ansible.builtin.")}
    return found


# Only the given collections path: not the copies the `ansible` Python package ships beside ansible-core.
ONLY_PATH = {"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
SHIPPED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def image_collections(build: Path, target: Path) -> Path:
    """Exactly the collections the image's galaxy stage installs, into `target`: each named one from the copy the
    `ansible` package ships (no Galaxy server here; its version must be the pinned one), the tarball as built."""
    sources = []
    for wanted in yaml.safe_load((build / "requirements.yml").read_text())["collections"]:
        if wanted.get("type") == "file":
            sources.append({"name": str(build / wanted["name"]), "type": "file"})
            continue
        shipped = SHIPPED.joinpath(*wanted["name"].split("."))
        version = json.loads((shipped / "MANIFEST.json").read_text())["collection_info"]["version"]
        assert version == wanted["version"], f"{wanted['name']}: image pins {wanted['version']}, tests run {version}"
        sources.append({"name": str(shipped), "type": "dir"})
    (target / "requirements.yml").parent.mkdir(parents=True)
    (target / "requirements.yml").write_text(yaml.safe_dump({"collections": sources}))
    env = ansible_env({**ONLY_PATH, "ANSIBLE_COLLECTIONS_PATH": str(target)})
    installed = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-r",
                                str(target / "requirements.yml"), "-p", str(target)], capture_output=True, text=True,
                               env=env, timeout=300, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return target


def assert_every_name_resolves(collections: Path) -> None:
    """Each name resolves with exactly `collections` (what the image installs) on the collections path."""
    used = used_names()
    assert "community.aws.sns" in used["module"] and "hippolyte.dynamodb.night_report" in used["filter"], used
    env = ansible_env({**ONLY_PATH, "ANSIBLE_COLLECTIONS_PATH": str(collections)})
    for kind in ("module", "filter", "lookup"):
        if not used[kind]:
            continue
        shown = subprocess.run([str(BIN / "ansible-doc"), "-t", kind, "--json", *sorted(used[kind])],
                               capture_output=True, text=True, env=env, timeout=300, check=False)
        assert shown.returncode == 0, shown.stderr
        assert set(json.loads(shown.stdout)) >= used[kind], f"{kind}s that do not resolve: {shown.stderr}"
    for group in used["group"]:
        namespace, name, group_name = group.split(".")
        runtime = collections / "ansible_collections" / namespace / name / "meta" / "runtime.yml"
        assert runtime.is_file(), f"module_defaults group {group}: collection {namespace}.{name} is not installed"
        assert group_name in (yaml.safe_load(runtime.read_text()).get("action_groups") or {}), group


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
    # docs/awx.md's steps, taken as written, leave ansible-builder nothing to warn about.
    assert "warn" not in (created.stdout + created.stderr).lower(), created.stdout + created.stderr
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
    assert_every_name_resolves(image_collections(build, tmp_path / "image"))
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
    assert "tzdata>=2024.1  # from collection hippolyte.dynamodb" in found, found
