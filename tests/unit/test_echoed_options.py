"""A result echoes its module's options back (`invocation.module_args`), except a value too large to be worth
handling twice: a night's plan of hundreds of tables is replaced by a note of its size, every other option is shown
as given."""

from __future__ import annotations

import json

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import ECHO_LIMIT_BYTES, echoed_options


def test_small_options_are_echoed_as_given_and_a_large_one_by_its_size() -> None:
    plan = {"clusters": [{"id": f"local-{n}", "tables": [{"name": f"t-{n}", "pad": "p" * 200}]} for n in range(400)]}
    params = {"plan": plan, "run_id": "night-1", "workers": 4, "resume": True, "emr": None,
              "boost_refused": ["a", "b"], "window": {"start": "00:00", "end": "07:00"}}
    assert len(json.dumps(plan)) > ECHO_LIMIT_BYTES

    shown = echoed_options(params)

    assert shown["plan"] == f"({len(json.dumps(plan))} bytes of JSON, not echoed back)"
    assert {k: v for k, v in shown.items() if k != "plan"} == {k: v for k, v in params.items() if k != "plan"}
    assert params["plan"] is plan  # the module's own options are left as they are


def test_a_value_at_the_limit_is_still_echoed() -> None:
    text = "x" * (ECHO_LIMIT_BYTES - 4)  # a list of it is ["..."]: exactly at the limit
    assert len(json.dumps([text])) == ECHO_LIMIT_BYTES
    assert echoed_options({"names": [text]}) == {"names": [text]}
