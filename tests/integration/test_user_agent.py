"""Every request the collection sends carries one fixed User-Agent that names it: CloudTrail's userAgent then tells
the backups' calls from the applications', and botocore does not rebuild the header for every request. Seen on the
wire, through a proxy in front of moto, for a module's own credentials and for a role it assumes (STS included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import COLLECTION_VERSION, USER_AGENT
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Request
from tests.support.role_account import EXTERNAL_ID, ROLE_ACCOUNT, role_account_dynamodb
from tests.support.tables import create_table
from tests.support.windows import open_window

REPO = Path(__file__).resolve().parents[2]


class RecordingProxy(ForwardingProxy):
    """Forwards every request unchanged and keeps its operation and User-Agent."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.agents: list[tuple[str, str]] = []

    def serve(self, request: Request, send: Answer) -> None:
        agent = next((v for k, v in request.headers.items() if k.lower() == "user-agent"), "")
        self.agents.append((request.operation, agent))
        send(self.forward(request))


def test_the_user_agent_gives_the_version_galaxy_yml_gives() -> None:
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert galaxy["version"] == COLLECTION_VERSION
    assert USER_AGENT.endswith(f" {galaxy['namespace']}.{galaxy['name']}/{galaxy['version']}")


@pytest.mark.parametrize("assumed", [False, True], ids=["own-credentials", "assumed-role"])
def test_every_request_names_the_collection_with_one_fixed_user_agent(moto_server: Any, unique_name: str,
                                                                      assumed: bool) -> None:
    role: dict[str, str] = {}
    if assumed:
        create_table(role_account_dynamodb(moto_server.url, unique_name), unique_name, rcu=5)
        role = {"role_arn": f"arn:aws:iam::{ROLE_ACCOUNT}:role/{unique_name}", "role_external_id": EXTERNAL_ID}
    else:
        create_table(client("dynamodb", moto_server.url), unique_name, rcu=5)
    with RecordingProxy(moto_server.url) as proxy:
        run = run_module("dynamodb_backup_plan", {"include": [unique_name], "region": REGION,
                                                  "endpoint_url": proxy.url, "engine": "local",
                                                  "window": open_window(), **role})
    assert not run.failed, run.output[-2000:]
    assert run.result["planned_tables"] == [unique_name]
    operations = {operation for operation, _agent in proxy.agents}
    assert {"ListTables", "DescribeTable"} <= operations
    # STS's AssumeRole is the only request here without an X-Amz-Target (a form POST), made only for the role.
    assert any(operation.startswith("POST ") for operation in operations) == assumed
    (agent,) = {agent for _operation, agent in proxy.agents}  # one string for every request (botocore adds its own)
    assert agent.startswith(USER_AGENT + " ") or agent == USER_AGENT
