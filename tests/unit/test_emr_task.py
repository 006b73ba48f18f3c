"""emr_backup's options, checked by engines/emr_task before any AWS call: each bad one is named and no client is
made (the clients point at a port nothing listens on). The runs themselves, on moto, are in
tests/integration/test_engine_tasks.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import (
    run_emr_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.emr_backup import ARGUMENT_SPEC
from tests.support.engine_clients import StandInClients, module_options

NIGHT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1",
                                            "subnet_id": "subnet-0abc", "tags": {}, **given})


def planned(cid: str, *tables: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600, "tables": list(tables)}


def table(name: str, share: float = 0.5, boost_rcu: int | None = None) -> dict[str, Any]:
    return {"name": name, "read_percentage": share, "size_bytes": 1000, "rcu": 10,
            **({"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {})}


def active(emr: Any, name: str) -> list[str]:
    return [c["Id"] for c in emr.list_clusters(ClusterStates=ACTIVE)["Clusters"] if c["Name"] == name]


@pytest.mark.parametrize(("given", "field"), [
    ({"wait_timeout": -1}, "wait_timeout"),
    ({"poll_interval": 0}, "poll_interval"),
    ({"deadline": "when the window closes"}, "deadline"),
    ({"read_percentage": 1.5}, "read_percentage"),
    ({"subnet_id": None}, "subnet_id"),
    ({"jar": "https://example.com/tools.jar"}, "jar"),
    ({"cluster": {"id": "c01", "tables": []}}, "cluster.tables"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")  # nothing listens there
    with pytest.raises(InputError) as err:
        run_emr_backup(options(planned("c01", table("orders")), **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []


def test_absent_needs_the_cluster_id_only() -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")
    with pytest.raises(InputError) as err:
        run_emr_backup(options({"tables": []}, state="absent"), clients, check_mode=False)
    assert err.value.field == "cluster.id" and clients.asked == []
