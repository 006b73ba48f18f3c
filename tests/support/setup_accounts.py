"""Fresh moto accounts for the setup playbook's tests, so the fixed role and topic names of one test never meet
another's, and a setup run that several tests of a module share."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tests.conftest import REGION, client
from tests.support.ansible_run import run_playbook

SETUP_PLAYBOOK = "playbooks/setup.yml"


@dataclass(frozen=True)
class Account:
    """A fresh moto account: its id and the environment variables of its credentials (an STS AssumeRole into it)."""

    id: str
    env: dict[str, str]

    def client(self, service: str, endpoint_url: str, region: str = REGION) -> Any:
        return boto3.Session(aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                             aws_session_token=self.env["AWS_SESSION_TOKEN"],
                             region_name=region).client(service, endpoint_url=endpoint_url)


def fresh_account(moto_url: str) -> Account:
    account_id = f"{random.randrange(10**11, 10**12):012d}"
    creds = client("sts", moto_url).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/admin", RoleSessionName="setup")["Credentials"]
    return Account(account_id, {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                                "AWS_SESSION_TOKEN": creds["SessionToken"]})


def setup_inventory(path: Path, endpoint: str, bucket: str, **host_vars: Any) -> Path:
    """One host `acct` in REGION, backing up to s3://<bucket>/dynamodb, with `host_vars`."""
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "hippolyte_region": REGION, "hippolyte_endpoint_url": endpoint, **host_vars}
    path.write_text(json.dumps({"all": {"vars": {"hippolyte_destination": f"s3://{bucket}/dynamodb"},
                                        "hosts": {"acct": host}}}))
    return path


@dataclass(frozen=True)
class SetUpAccount:
    """An account the setup playbook ran in once (`first`), with the inventory it ran with."""

    account: Account
    bucket: str
    inventory: Path
    first: subprocess.CompletedProcess[str]

    def run(self, inventory: Path | None = None, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """The setup playbook again in this account, with this inventory or another."""
        return run_playbook(SETUP_PLAYBOOK, inventory or self.inventory, options=options, env=self.account.env)


def set_up_account(account: Account, moto_url: str, folder: Path, bucket: str, **host_vars: Any) -> SetUpAccount:
    """`account`, set up by the playbook with `host_vars` (whether that succeeded is the caller's to check)."""
    inventory = setup_inventory(folder / "inventory.json", moto_url, bucket, **host_vars)
    return SetUpAccount(account, bucket, inventory, run_playbook(SETUP_PLAYBOOK, inventory, env=account.env))
