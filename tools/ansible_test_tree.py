"""Prepare what `ansible-test` needs to run offline and print the collection root it must run in.

ansible-test refuses a symlinked collection root (it reads the physical working directory), so the tracked
and new files are copied to build/ansible-test/ansible_collections/hippolyte/dynamodb, with amazon.aws (from
the installed `ansible` package) beside it so doc fragments and module_utils resolve. ansible-test bootstraps
pip in its sanity virtual environments with a script from a host CI cannot reach; a stand-in that uses the
interpreter's own `ensurepip` is written where ansible-test looks for its cached copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import ansible
from ansible_test._internal.python_requirements import get_venv_packages

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / "build" / "ansible-test" / "ansible_collections"
ROOT = COLLECTIONS / "hippolyte" / "dynamodb"
AMAZON_AWS = Path(ansible.__file__).resolve().parents[1] / "ansible_collections" / "amazon" / "aws"
PIP_CACHE = Path.home() / ".ansible" / "test" / "cache"

GET_PIP_STAND_IN = '''\
"""Stand-in for get-pip.py, written by the collection's test command: pip from the bundled wheel (ensurepip),
then `pip install` with the arguments ansible-test passes."""
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip in-process sets PIP_CONFIG_FILE=/dev/null, hiding the user's index and certificates.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *arguments]))
'''


def project_files() -> list[str]:
    """Tracked files plus new ones git does not ignore, so uncommitted work is tested too."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def copy_collection() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    for name in project_files():
        target = ROOT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    # The copy sits inside this repository's ignored build/: its own index makes ansible-test list its files.
    subprocess.run(["git", "init", "--quiet"], cwd=ROOT, check=True)
    subprocess.run(["git", "add", "--all"], cwd=ROOT, check=True)


def link_dependency() -> None:
    link = COLLECTIONS / "amazon" / "aws"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(AMAZON_AWS, target_is_directory=True)


def write_get_pip_stand_in() -> None:
    version = get_venv_packages(SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))["pip"]
    script = PIP_CACHE / f"get_pip_{version.replace('.', '_')}.py"
    if not script.exists() or script.read_text().startswith(GET_PIP_STAND_IN[:40]):
        PIP_CACHE.mkdir(parents=True, exist_ok=True)  # a real get-pip.py a developer downloaded there stays
        script.write_text(GET_PIP_STAND_IN)


def main() -> None:
    copy_collection()
    link_dependency()
    write_get_pip_stand_in()
    print(ROOT)


if __name__ == "__main__":
    main()
