"""A failed night is always heard, through ansible-playbook on moto: a run that stops before it backs anything
up (a bad inventory, a variable Ansible's argument spec check refuses, a report folder it cannot make) still
prints its summary, publishes it to SNS and writes it for the webhook, naming where it stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION
from tests.support.ansible_run import run_playbook
from tests.support.inventory import inventory
from tests.support.notifications import published, topic_with_queue


@pytest.mark.parametrize(("case", "stopped_at"), [
    ("bad inventory", "Check every hippolyte_* variable of this host before touching AWS"),
    ("report folder not creatable", "Create the report folder"),
    # Not Ansible's check of an argument spec before the role's first task: the role's own, inside its block.
    ("variable of the wrong type", "Check every hippolyte_* variable of this host before touching AWS"),
])
def test_a_night_that_stops_before_backing_up_still_sends_its_summary(case: str, stopped_at: str, moto_server: Any,
                                                                      unique_name: str, tmp_path: Path) -> None:
    topic, sqs, queue = topic_with_queue(moto_server.url, unique_name)
    webhook = tmp_path / "summary.json"
    backups = tmp_path / "backups"
    host_vars: dict[str, Any] = {"hippolyte_notify": {"sns_topic_arn": topic, "webhook_file": str(webhook)}}
    if case == "bad inventory":
        host_vars["hippolyte_window"] = {"start": "25:00", "end": "07:00", "timezone": "UTC"}
    elif case == "variable of the wrong type":
        host_vars["hippolyte_window"] = "00:00-07:00"
    else:
        (tmp_path / "a-file").write_text("not a folder")
        host_vars["hippolyte_report_dir"] = str(tmp_path / "a-file" / "reports")
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"file://{backups}", **host_vars)

    run = run_playbook("playbooks/backup.yml", inv)

    assert run.returncode != 0
    (envelope,) = published(sqs, queue)
    summary = json.loads(envelope["Message"])
    assert summary["status"] == "failed" and envelope["Subject"].endswith("FAILED")
    assert summary["stopped_at"]["task"] == stopped_at, summary
    assert json.loads(webhook.read_text()) == summary
    assert f'"FAILED: night ({REGION}), night not planned"' in run.stdout  # the printed summary
    assert f"The run stopped at '{stopped_at}'" in run.stdout
    assert not backups.exists()  # nothing was backed up, no lease taken


@pytest.mark.parametrize("entry", ["roles", "include_role", "examples/awx-project/plan.yml"])
def test_a_wrong_typed_variable_is_heard_whatever_playbook_runs_the_role(entry: str, moto_server: Any,
                                                                         tmp_path: Path) -> None:
    """Not only playbooks/backup.yml: a user's own playbook (the role under `roles:` or through `include_role`)
    and the example's dry run fail a wrong-typed variable in the role's own check and print the summary; the
    webhook file is written too, except by the dry run (check mode writes nothing)."""
    webhook = tmp_path / "summary.json"
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"file://{tmp_path}/backups",
                    hippolyte_window="00:00-07:00", hippolyte_notify={"webhook_file": str(webhook)})
    playbook: Path | str = entry
    if entry in ("roles", "include_role"):
        role = ({"roles": ["hippolyte.dynamodb.backup"]} if entry == "roles" else
                {"tasks": [{"name": "Back up", "ansible.builtin.include_role": {"name": "hippolyte.dynamodb.backup"}}]})
        playbook = tmp_path / "mine.yml"
        playbook.write_text(json.dumps([{"name": "Mine", "hosts": "all", "gather_facts": False, **role}]))

    run = run_playbook(playbook, inv)

    assert run.returncode != 0
    assert f'"FAILED: night ({REGION}), night not planned"' in run.stdout
    assert "The run stopped at 'Check every hippolyte_* variable of this host before touching AWS'" in run.stdout
    if entry.endswith("plan.yml"):
        assert not webhook.exists()
        return
    summary = json.loads(webhook.read_text())
    assert summary["status"] == "failed"
    assert summary["stopped_at"]["task"] == "Check every hippolyte_* variable of this host before touching AWS"
    assert "hippolyte_window" in summary["stopped_at"]["msg"], summary
