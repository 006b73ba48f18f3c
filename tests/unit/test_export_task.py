"""dynamodb_export's options, checked by engines/export_task before any AWS call: each bad one is named and no client
is made (the clients point at a port nothing listens on). The runs themselves, on moto, are in
tests/integration/test_engine_tasks.py."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import run_exports
from ansible_collections.hippolyte.dynamodb.plugins.modules.dynamodb_export import ARGUMENT_SPEC
from tests.support.engine_clients import StandInClients, module_options


def options(tables: list[str], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"tables": tables, "run_id": "night-1", **given})


@pytest.mark.parametrize(("given", "field"), [
    ({"poll_interval": 0}, "poll_interval"),
    ({"wait_timeout": -5}, "wait_timeout"),
    ({"deadline": "soon"}, "deadline"),
    ({"export_time": "yesterday-ish"}, "export_time"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")
    with pytest.raises(InputError) as err:
        run_exports(options(["orders"], **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []


def test_a_missing_destination_is_named_first() -> None:
    clients = StandInClients("http://127.0.0.1:9", None)
    with pytest.raises(InputError) as err:
        run_exports(options(["orders"], poll_interval=0), clients, check_mode=False)
    assert err.value.field == "destination" and clients.asked == []
