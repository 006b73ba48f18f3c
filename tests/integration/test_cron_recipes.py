"""docs/cron.md's recipes run as they are written: the user made with the doc's own lines, the crontab line in
cron's environment, the systemd unit's ExecStart in the unit's environment and WorkingDirectory= (no $PWD, no
variable but theirs), and a second cron start while a run holds the lock. The lines are read from the doc; only
its paths (/opt/hippolyte, /var/lib/hippolyte, /var/log/hippolyte) and the user's name are moved into a folder
of the test. The night backs up a dynalite table to a file:// destination with the local engine.

Needs root to create the unprivileged user (CI runs as root); skipped otherwise, saying so.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION, client
from tests.support.ansible_run import REPO, ensure_collection_link
from tests.support.tables import create_table, put_items, simple_items
from tests.support.windows import open_window

DOC = REPO / "docs" / "cron.md"
DOC_USER = "hippolyte"
DOC_PATHS = ("/opt/hippolyte", "/var/lib/hippolyte", "/var/log/hippolyte")
# What systemd puts in the environment of a service with User= (systemd.exec(5), "Environment variables in
# spawned processes"), besides the unit's Environment= lines; cron's own are HOME, LOGNAME, PATH and SHELL.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
CRON_PATH = "/usr/bin:/bin"
# The summary's first line as the yaml result format prints it: an item of a YAML list, not a quoted JSON string.
READABLE_SUMMARY = r"^\s*- '?OK: night \("

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("flock"),
                                reason="needs root (to make the unprivileged user), useradd and flock")


def fenced(language: str) -> list[str]:
    """The doc's code blocks of one language, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)


@dataclass
class Machine:
    """The doc's machine, moved into a folder of the test."""

    root: Path
    user: str

    def moved(self, text: str) -> str:
        for path in DOC_PATHS:
            text = text.replace(path, str(self.root / path.strip("/").replace("/", "-")))
        return text

    def path(self, doc_path: str) -> Path:
        return Path(self.moved(doc_path))

    @property
    def home(self) -> Path:
        return Path(pwd.getpwnam(self.user).pw_dir)

    def own(self, line: str) -> str:
        """A doc line with its paths moved and the doc's user replaced by the test's."""
        words = shlex.split(self.moved(line))
        return shlex.join([self.user if w == DOC_USER else w for w in words])


def setup_lines() -> list[str]:
    """The doc's own lines that make the user and its folders (sudo dropped: the test is root)."""
    lines = [line.removeprefix("sudo ") for block in fenced("sh") for line in block.splitlines()
             if line.startswith(("sudo useradd", "sudo install -d"))]
    assert [line.split()[0] for line in lines] == ["useradd", "install"], lines
    return lines


def config_line() -> str:
    """The doc's line that writes the ansible.cfg of the folder the run starts in (sudo dropped)."""
    (line,) = [line.strip() for line in DOC.read_text().splitlines()
               if line.strip().startswith("printf") and "ansible.cfg" in line]
    return line.replace("sudo ", "")


def usable_python(user: str) -> str | None:
    """A Python of this test's version the user can run: this one, or the system's (this one may sit in a
    folder only root may enter)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (os.path.realpath(sys.executable), f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        probe = subprocess.run(["runuser", "-u", user, "--", candidate, "-c",
                                "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


@pytest.fixture
def machine(dynalite_server: Any, unique_name: str) -> Iterator[Machine]:
    root = Path(tempfile.mkdtemp(prefix="hippolyte-doc-"))
    root.chmod(0o755)  # pytest's own tmp folders are root's only
    m = Machine(root, f"hip{uuid.uuid4().hex[:8]}")
    try:
        for line in setup_lines():
            subprocess.run(shlex.split(m.own(line)), check=True, capture_output=True, text=True)
        yield prepare(m, dynalite_server.url, unique_name)
    finally:
        end_processes_of(m.user)  # a lease keeper a failed run left, say: the user goes with everything it ran
        subprocess.run(["userdel", m.user], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def end_processes_of(user: str) -> None:
    """Kill, by pid, what this test's own user still runs."""
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if re.search(rf"^Uid:\s+{uid}\s", status.read_text(), re.MULTILINE):
                os.kill(int(status.parent.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def prepare(m: Machine, endpoint: str, table: str) -> Machine:
    """What the doc leaves to the operator: Ansible in the venv, the collection, the inventory, the AWS profile."""
    python = usable_python(m.user)
    if python is None:
        pytest.skip(f"no Python {sys.version_info.major}.{sys.version_info.minor} that user {m.user} may run")
    m.path("/opt/hippolyte").mkdir()
    subprocess.run(["bash", "-c", m.moved(config_line())], check=True, capture_output=True)
    venv = m.path("/opt/hippolyte/venv")
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The venv's packages are this test's own (offline, and the same versions).
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "test-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    script = venv / "bin" / "ansible-playbook"
    script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom ansible.cli.playbook import main\nsys.exit(main())\n")
    script.chmod(0o755)
    m.path("/opt/hippolyte/collections").symlink_to(ensure_collection_link())
    inventory = m.path("/opt/hippolyte/inventory")
    inventory.mkdir()
    (inventory / "hosts.json").write_text(json.dumps({"all": {
        "vars": {"hippolyte_destination": f"file://{m.path('/var/lib/hippolyte')}/backups",
                 "hippolyte_engine": "local", "hippolyte_window": open_window()},
        "hosts": {"night": {"ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                            "hippolyte_region": REGION, "hippolyte_endpoint_url": endpoint,
                            "hippolyte_autoscaling": False, "hippolyte_include": [table]}}}}))
    aws = m.home / ".aws"
    aws.mkdir(mode=0o700)
    (aws / "credentials").write_text("[hippolyte]\naws_access_key_id = testing\n"
                                     "aws_secret_access_key = stand-in-secret-key\n")
    subprocess.run(["chown", "-R", f"{m.user}:", str(aws)], check=True)
    ddb = client("dynamodb", endpoint)
    create_table(ddb, table, rcu=50)
    put_items(ddb, table, simple_items(30))
    return m


def account_env(m: Machine) -> dict[str, str]:
    entry = pwd.getpwnam(m.user)
    return {"HOME": entry.pw_dir, "LOGNAME": m.user, "SHELL": entry.pw_shell}


def cron_job(m: Machine) -> tuple[dict[str, str], str]:
    """The crontab's variables and its one job's command, as cron runs it."""
    (block,) = fenced("crontab")
    env: dict[str, str] = {}
    command = ""
    for line in block.splitlines():
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            env[name] = m.moved(value)
        elif line and not line.startswith("#"):
            fields = line.split(None, 6)
            assert fields[5] == DOC_USER, line
            command = m.moved(fields[6])
    return env, command


def run_cron_job(m: Machine) -> subprocess.CompletedProcess[str]:
    """The job in cron's environment: the account's HOME, LOGNAME and SHELL, cron's PATH, the crontab's
    variables (its SHELL too) and nothing else, run by that SHELL as the user."""
    variables, command = cron_job(m)
    env = {**account_env(m), "PATH": CRON_PATH, **variables}
    cmd = ["runuser", "-u", m.user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
           env["SHELL"], "-c", command]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=m.home, timeout=900, check=False)


def unit_service(m: Machine) -> dict[str, list[str]]:
    (service, _timer) = fenced("ini")
    section = service.split("[Service]", 1)[1]
    keys: dict[str, list[str]] = {}
    for line in section.splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            keys.setdefault(name, []).append(m.moved(value))
    return keys


def run_unit(m: Machine) -> subprocess.CompletedProcess[str]:
    """ExecStart as systemd runs it: as User=/Group=, in WorkingDirectory=, with the account's variables,
    systemd's PATH and the unit's Environment= (no shell, no $PWD)."""
    unit = unit_service(m)
    assert unit["User"] == [DOC_USER] and unit["Group"] == [DOC_USER]
    entry = pwd.getpwnam(m.user)
    env = {**account_env(m), "USER": m.user, "PATH": SYSTEMD_PATH,
           **dict(e.split("=", 1) for e in unit["Environment"])}
    cmd = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", "env", "-i",
           *(f"{k}={v}" for k, v in env.items()), *shlex.split(unit["ExecStart"][0])]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=unit["WorkingDirectory"][0], timeout=900,
                          check=False)


def backups_of(m: Machine) -> list[Path]:
    return sorted((m.path("/var/lib/hippolyte") / "backups").rglob("hippolyte-manifest.json"))


def reports_of(m: Machine) -> list[Path]:
    return sorted((m.home / ".local" / "state" / "hippolyte" / "reports").glob("night-backup-*.md"))


def test_the_documented_cron_line_and_systemd_unit_back_up_as_an_unprivileged_user(machine: Machine) -> None:
    m = machine
    log = m.path("/var/log/hippolyte/backup.log")

    cron = run_cron_job(m)
    assert cron.returncode == 0, cron.stdout + cron.stderr + (log.read_text() if log.exists() else "")
    assert cron.stdout == ""  # cron mails nothing on a good night: the output is in the log
    assert re.search(READABLE_SUMMARY, log.read_text(), re.MULTILINE), log.read_text()[-3000:]
    assert '"msg": [' not in log.read_text()  # the ansible.cfg the doc writes: no JSON list of strings
    assert len(backups_of(m)) == 1 and len(reports_of(m)) == 1  # the report in the user's state folder
    assert all(p.stat().st_uid == pwd.getpwnam(m.user).pw_uid for p in [*backups_of(m), *reports_of(m)])

    unit = run_unit(m)
    assert unit.returncode == 0, unit.stdout[-3000:] + unit.stderr[-2000:]
    assert re.search(READABLE_SUMMARY, unit.stdout, re.MULTILINE), unit.stdout[-3000:]
    assert len(reports_of(m)) == 2 and not (m.path("/opt/hippolyte") / "hippolyte-reports").exists()


def test_a_cron_start_while_a_run_holds_the_lock_logs_and_notifies_that_the_night_was_skipped(
        machine: Machine) -> None:
    m = machine
    hosts = m.path("/opt/hippolyte/inventory") / "hosts.json"
    webhook = m.home / "summary.json"  # the webhook sender's file: the skipped night is sent like a failed one
    doc = json.loads(hosts.read_text())
    doc["all"]["vars"]["hippolyte_notify"] = {"webhook_file": str(webhook)}
    hosts.write_text(json.dumps(doc))
    lock = m.path("/var/lib/hippolyte/backup.lock")
    log = m.path("/var/log/hippolyte/backup.log")
    holder = subprocess.Popen(["runuser", "-u", m.user, "--", "flock", str(lock), "sleep", "120"])
    try:
        for _try in range(100):  # until the holder has the lock
            if subprocess.run(["flock", "--nonblock", str(lock), "true"], check=False).returncode != 0:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        second = run_cron_job(m)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 75
    skipped = f"night skipped: another run holds {lock}"
    assert skipped in second.stdout  # cron mails it
    assert skipped in log.read_text()
    assert backups_of(m) == []
    summary = json.loads(webhook.read_text())
    assert summary["status"] == "failed"
    assert summary["stopped_at"]["msg"].startswith("night skipped: another run on this controller holds the lock")
