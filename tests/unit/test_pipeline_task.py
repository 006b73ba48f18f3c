"""datapipeline_backup's options, checked by engines/pipeline_task before any AWS call: the removed state first, then
each bad option named, and no client made (the clients point at a port nothing listens on). The runs themselves, on
moto, are in tests/integration/test_engine_tasks.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import (
    run_datapipeline_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.datapipeline_backup import ARGUMENT_SPEC
from tests.support.engine_clients import StandInClients, module_options

NIGHT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def planned(cid: str, names: list[str], boost_rcu: int | None = None) -> dict[str, Any]:
    boosted = {"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {}
    return {"id": cid, "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": 0.5, **boosted} for n in names]}


def options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1", **given})


def test_the_removed_state_fails_first() -> None:
    clients = StandInClients("http://127.0.0.1:9", None)  # no destination either: the state is named first
    with pytest.raises(InputError) as err:
        run_datapipeline_backup(options(planned("c01", ["orders"]), state="executed_locally"), clients, False)
    assert err.value.field == "state" and "dynamodb_scan_backup" in str(err.value) and clients.asked == []


@pytest.mark.parametrize(("given", "field"), [
    ({"destination": "file:///var/backups"}, "destination"),
    ({"service_role": ""}, "service_role"),
    ({"read_percentage": 2.0}, "read_percentage"),
    ({"poll_interval": 0}, "poll_interval"),
    ({"taken_at": "tonight"}, "taken_at"),
    ({"cluster": planned("c01", [f"t{n:03d}" for n in range(40)])}, "cluster"),
    ({"cluster": {"tables": []}, "state": "absent"}, "cluster.id"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", given.pop("destination", "s3://bucket/ddb"))
    with pytest.raises(InputError) as err:
        run_datapipeline_backup(options(planned("c01", ["orders"]), **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []
