"""Modules that assume the host's role themselves: no assumed credential is ever printed or stored, and the
credentials renew themselves for a night longer than the role's session.

moto serves STS on its one endpoint and keeps every credential it issued (GET /moto-api/data.json), so the
tests compare the run's output and files against exactly what STS handed out. Calls made with an assumed
role's keys land in the role's account on moto, which shows the modules really worked as the role.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import stand_ins

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.sts import RoleToAssume, assumed_role_session
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from tests.conftest import REGION
from tests.support.ansible_run import run_module, run_playbook
from tests.support.inventory import inventory
from tests.support.items import every_type_item
from tests.support.role_account import EXTERNAL_ID, ROLE_ACCOUNT, role_account_dynamodb
from tests.support.tables import canonical, create_table, put_items, scan_all, table_names


def issued_credentials(moto_url: str) -> list[dict[str, Any]]:
    """Every credential moto's STS has issued so far (AccessKeyId, secret, token, session name, ...)."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=30) as answer:
        return json.load(answer).get("sts", {}).get("AssumedRole", [])


def test_backup_and_restore_roles_at_vvv_print_and_store_no_credential(moto_server: Any, unique_name: str,
                                                                       tmp_path: Path) -> None:
    ddb = role_account_dynamodb(moto_server.url, unique_name)
    create_table(ddb, unique_name, rcu=20)
    put_items(ddb, unique_name, [every_type_item(f"k{n}") for n in range(30)])
    role_arn = f"arn:aws:iam::{ROLE_ACCOUNT}:role/backups/{unique_name}"
    backups = tmp_path / "backups"
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"file://{backups}",
                    hippolyte_include=[unique_name], hippolyte_role_arn=role_arn,
                    hippolyte_role_external_id=EXTERNAL_ID, hippolyte_role_duration=900)

    backup = run_playbook("playbooks/backup.yml", inv, options=("-vvv",))
    assert backup.returncode == 0, backup.stdout[-4000:] + backup.stderr[-2000:]
    restore = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-back"},
                           options=("-vvv",))
    assert restore.returncode == 0, restore.stdout[-4000:] + restore.stderr[-2000:]

    # The modules worked as the role: the backup sits under the role's account, the copy is in that account.
    (manifest,) = backups.rglob("hippolyte-manifest.json")
    assert manifest.relative_to(backups).parts[:3] == (ROLE_ACCOUNT, REGION, unique_name)
    assert canonical(scan_all(ddb, f"{unique_name}-back")) == canonical(scan_all(ddb, unique_name))
    ours = [c for c in issued_credentials(moto_server.url) if c["role_arn"] == role_arn]
    assert {c["session_name"] for c in ours} == {"hippolyte-backup", "hippolyte-restore"}
    assert {c["external_id"] for c in ours} == {EXTERNAL_ID}

    secrets = {value for c in issued_credentials(moto_server.url)
               for value in (c["access_key_id"], c["secret_access_key"], c["session_token"])}
    output = backup.stdout + backup.stderr + restore.stdout + restore.stderr
    assert '"role_external_id": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output  # -vvv shows module arguments
    assert not [s for s in secrets if s in output]
    assert EXTERNAL_ID not in output  # no_log: masked even in the module invocation printed at -vvv
    written = [f for f in tmp_path.rglob("*") if f.is_file() and f.name != "inventory.json"]
    assert any(f.suffix == ".md" for f in written) and any(f.name.endswith(".gz") for f in written)
    for path in written:
        content = path.read_bytes()
        assert not [s for s in secrets if s.encode() in content], path


class MovableClock:
    """The clock of both the session and (through `restamp`) STS, moved forward to play a long night."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def restamp(self, parsed: dict[str, Any], **_: Any) -> None:
        """moto stamps an expiry on the real clock: read it on this one, as if STS lived through the same night."""
        if "Credentials" in parsed:
            parsed["Credentials"]["Expiration"] += self.ahead


def test_credentials_renew_when_the_role_session_ends(moto_server: Any, unique_name: str) -> None:
    """A 900-second role session outlived. Simulated: the passing of time. The session reads expiries on a
    clock the test moves; moto stamps them on the real clock and never refuses an expired credential, so a
    hook on the base session's STS answers shifts each expiry onto the moved clock. Once the clock is past
    the first credential's expiry, the session assumes the role again and signs its next calls with the new
    credential; while a credential is fresh, no call re-assumes."""
    clock = MovableClock()
    base = boto3.session.Session()
    base.events.register("after-call.sts.AssumeRole", clock.restamp)
    role = RoleToAssume(f"arn:aws:iam::{ROLE_ACCOUNT}:role/{unique_name}", EXTERNAL_ID, unique_name, 900)
    session = assumed_role_session(role, base, REGION, moto_server.url, now=clock)
    ddb = session.client("dynamodb", region_name=REGION, endpoint_url=moto_server.url)
    signed_with: list[str] = []
    ddb.meta.events.register("before-send", lambda request, **_: signed_with.append(
        request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]))

    def issued() -> list[str]:
        return [c["access_key_id"] for c in issued_credentials(moto_server.url) if c["session_name"] == unique_name]

    create_table(ddb, unique_name, rcu=5)
    for _attempt in range(3):
        assert unique_name in table_names(ddb)
    (first,) = issued()  # a fresh 15-minute credential is not re-assumed on every call
    assert set(signed_with) == {first}

    clock.ahead = timedelta(seconds=901)  # the first credential has expired
    assert ddb.describe_table(TableName=unique_name)["Table"]["TableStatus"] == "ACTIVE"

    (_first, second) = issued()
    assert signed_with[-1] == second != first
    # The renewed credential is the role's (the table exists only in the role's account), and it lasts.
    clock.ahead += timedelta(seconds=400)
    assert unique_name in table_names(ddb)
    assert issued() == [first, second] and signed_with[-1] == second


@pytest.mark.parametrize(("field", "role"), [
    ("role_arn", {"role_arn": "arn:aws:iam::12345:role/backup"}),
    ("role_arn", {"role_arn": "arn:aws:iam::123456789012:user/backup"}),
    ("role_external_id", {"role_arn": "arn:aws:iam::123456789012:role/backup", "role_external_id": "has space"}),
    ("role_duration", {"role_arn": "arn:aws:iam::123456789012:role/backup", "role_duration": 899}),
])
def test_bad_role_options_are_refused_before_any_aws_call(field: str, role: dict[str, Any], tmp_path: Path) -> None:
    """The endpoint is a port nothing listens on: any AWS call would fail with a connection error instead."""
    silent = f"http://127.0.0.1:{stand_ins.free_port()}"
    result = run_module("dynamodb_scan_backup", {"table": "orders", "destination": f"file://{tmp_path}/b",
                                                 "region": REGION, "endpoint_url": silent, **role})

    assert result.failed and result.result.get("field") == field, result.output[-2000:]
    assert result.result["msg"].startswith(f"{field}:")
    assert "has space" not in result.output  # the external id is no_log
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(("field", "role"), [
    ("role_arn", {"arn": "arn:aws:iam::123456789012:role/"}),
    ("role_external_id", {"arn": "arn:aws:iam::123456789012:role/a", "external_id": "x" * 1225}),
    ("role_external_id", {"arn": "arn:aws:iam::123456789012:role/a", "external_id": "x"}),
    ("role_session_name", {"arn": "arn:aws:iam::123456789012:role/a", "session_name": "night run"}),
    ("role_duration", {"arn": "arn:aws:iam::123456789012:role/a", "duration_s": 43201}),
])
def test_role_to_assume_names_the_bad_field(field: str, role: dict[str, Any]) -> None:
    with pytest.raises(InputError) as refused:
        RoleToAssume(**role)
    assert refused.value.field == field


def test_role_to_assume_accepts_iam_shapes() -> None:
    role = RoleToAssume("arn:aws-us-gov:iam::123456789012:role/team/nightly/hippolyte+backup", "a:b/c=d@e.f-g_h",
                        duration_s=43200)
    assert role.assume_role_params() == {"RoleArn": role.arn, "RoleSessionName": "hippolyte",
                                         "DurationSeconds": 43200, "ExternalId": "a:b/c=d@e.f-g_h"}


@pytest.mark.parametrize("playbook", ["playbooks/backup.yml", "playbooks/restore.yml"])
def test_roles_refuse_bad_role_settings_naming_variable_and_host(playbook: str, tmp_path: Path) -> None:
    """Checked by each role's first assert: the endpoint is a port nothing listens on, so no AWS call is made."""
    silent = f"http://127.0.0.1:{stand_ins.free_port()}"
    inv = inventory(tmp_path / "inventory.json", silent, f"file://{tmp_path}/b",
                    hippolyte_role_arn="arn:aws:iam::123:role/backup", hippolyte_role_external_id="x",
                    hippolyte_role_duration=60)

    run = run_playbook(playbook, inv, {"table": "orders"})

    assert run.returncode != 0
    assert "Host night" in run.stdout
    assert "hippolyte_role_arn is 'arn:aws:iam::123:role/backup', not an IAM role ARN" in run.stdout
    assert "hippolyte_role_external_id is not 2 to 1224 characters" in run.stdout
    assert "hippolyte_role_duration is 60 s; give 900 to 43200 seconds" in run.stdout
    assert not (tmp_path / "b").exists()


def test_restore_takes_the_role_account_from_a_shared_destination(moto_server: Any, unique_name: str,
                                                                  tmp_path: Path) -> None:
    """Backups of the same table from two accounts share one destination: the restore role, given no
    hippolyte_account_id, restores the backup of the account its credentials (the assumed role) belong to."""
    role_ddb = role_account_dynamodb(moto_server.url, unique_name)
    default_ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server.url)
    for ddb, count in ((role_ddb, 12), (default_ddb, 5)):
        create_table(ddb, unique_name, rcu=20)
        put_items(ddb, unique_name, [every_type_item(f"k{n}") for n in range(count)])
    backups = tmp_path / "backups"
    role_arn = f"arn:aws:iam::{ROLE_ACCOUNT}:role/{unique_name}"
    as_role = inventory(tmp_path / "role.json", moto_server.url, f"file://{backups}", hippolyte_include=[unique_name],
                        hippolyte_role_arn=role_arn, hippolyte_role_external_id=EXTERNAL_ID)
    as_default = inventory(tmp_path / "default.json", moto_server.url, f"file://{backups}",
                           hippolyte_include=[unique_name])
    for inv in (as_role, as_default):
        backup = run_playbook("playbooks/backup.yml", inv)
        assert backup.returncode == 0, backup.stdout[-4000:] + backup.stderr[-2000:]
    assert len({m.relative_to(backups).parts[0] for m in backups.rglob("hippolyte-manifest.json")}) == 2

    for inv, ddb, count in ((as_role, role_ddb, 12), (as_default, default_ddb, 5)):
        restore = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-back"})
        assert restore.returncode == 0, restore.stdout[-4000:] + restore.stderr[-2000:]
        assert len(scan_all(ddb, f"{unique_name}-back")) == count
