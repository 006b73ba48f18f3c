"""capacity/capacity_control on moto: a boost records the originals in the table's tag and raises the capacity, its
put-back restores them and removes the tag, another run's boost is left alone, and many tables are boosted or put
back side by side with one table's error as its own row; the options' checks name their field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_HOLD,
    DEFAULT_TAG_KEY,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings,
    boost,
    boost_many,
    boosted_while,
    put_back,
    put_back_many,
    read_boosts,
    table_names,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from tests.conftest import client
from tests.support.tables import create_table

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def settings(run_id: str = "run-1", **extra: Any) -> Settings:
    return Settings(run_id=run_id, clock=lambda: NOW, poll_s=0.01, **extra)


def read_units(ddb: Any, table: str) -> int:
    return int(ddb.describe_table(TableName=table)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"])


def tag_keys(ddb: Any, table: str) -> list[str]:
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    return [t["Key"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]]


@pytest.fixture
def ddb(moto_url: str) -> Any:
    return client("dynamodb", moto_url)


def test_a_boost_is_recorded_raised_and_put_back(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=10, wcu=5)
    raised = boost(ddb, None, unique_name, Targets(read=100), settings())
    assert raised["changed"] and read_units(ddb, unique_name) == 100
    assert DEFAULT_TAG_KEY in tag_keys(ddb, unique_name)
    # The default hold, counted from the injected clock.
    assert datetime.fromisoformat(raised["hold_until"].replace("Z", "+00:00")) == NOW + DEFAULT_HOLD

    back = put_back(ddb, None, unique_name, settings())
    assert back["changed"] and read_units(ddb, unique_name) == 10
    assert DEFAULT_TAG_KEY not in tag_keys(ddb, unique_name)
    again = put_back(ddb, None, unique_name, settings())
    assert not again["changed"] and "nothing to put back" in again["msg"]


def test_check_mode_says_what_it_would_raise_and_changes_nothing(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=10, wcu=5)
    would = boost(ddb, None, unique_name, Targets(read=100), settings(check_mode=True))
    assert would["changed"] and read_units(ddb, unique_name) == 10
    assert DEFAULT_TAG_KEY not in tag_keys(ddb, unique_name)


def test_another_live_runs_boost_is_left_to_it(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=10, wcu=5)
    boost(ddb, None, unique_name, Targets(read=100), settings("run-1", hold_s=3600))
    other = boost(ddb, None, unique_name, Targets(read=200), settings("run-2"))
    assert (other["changed"], other["held_by"]) == (False, "run-1")
    assert read_units(ddb, unique_name) == 100
    left = put_back(ddb, None, unique_name, settings("run-2"))
    assert (left["changed"], read_units(ddb, unique_name)) == (False, 100)
    put_back(ddb, None, unique_name, settings("run-1"))
    assert read_units(ddb, unique_name) == 10


def test_an_on_demand_table_has_nothing_to_raise(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=None)
    result = boost(ddb, None, unique_name, Targets(read=100), settings())
    assert (result["changed"], result["on_demand"]) == (False, True)


def test_boosted_while_holds_the_boost_only_inside(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=10, wcu=5)
    problems: list[str] = []
    with boosted_while(ddb, None, unique_name, Targets(read=50), settings(), problems) as held:
        assert held and read_units(ddb, unique_name) == 50
    assert read_units(ddb, unique_name) == 10 and problems == []
    with boosted_while(ddb, None, f"{unique_name}-gone", Targets(read=50), settings(), problems) as held:
        assert not held
    assert problems and problems[0].startswith(f"{unique_name}-gone: boost refused")


def test_many_tables_side_by_side_one_error_is_its_own_row(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name, rcu=10, wcu=5)
    gone = f"{unique_name}-gone"
    many = boost_many(ddb, None, [(unique_name, Targets(read=40)), (gone, Targets(read=40))], settings())
    assert (many["boosted"], many["refused"]) == ([unique_name], [gone])
    assert many["msg"] == f"boosted 1 of 2 table(s); refused: {gone}"
    back = put_back_many(ddb, None, [unique_name, gone], settings())
    assert back["put_back"] == [unique_name] and read_units(ddb, unique_name) == 10
    assert any(note.startswith(f"{gone}: boost not put back") for note in back["notes"])


def test_the_hold_runs_from_the_clock() -> None:
    assert settings(hold_s=600).hold_until() == NOW + timedelta(seconds=600)


def test_boost_rows_are_read_as_the_plan_writes_them() -> None:
    rows = [{"name": "orders", "read_capacity": 400, "rcu": 10}, {"name": "users", "read_capacity": "25"}]
    assert read_boosts(rows) == [("orders", Targets(read=400)), ("users", Targets(read=25))]
    assert table_names("tables", ["orders", {"name": "users"}]) == ["orders", "users"]


@pytest.mark.parametrize(("raw", "field"), [
    ("orders", "tables"), ([{"read_capacity": 4}], "tables[0].name"),
    ([{"name": "a", "read_capacity": True}], "tables[0].read_capacity"),
    ([{"name": "a", "read_capacity": "1.5"}], "tables[0].read_capacity"),
])
def test_bad_boost_rows_name_their_field(raw: Any, field: str) -> None:
    with pytest.raises(InputError) as refused:
        read_boosts(raw)
    assert refused.value.field == field


@pytest.mark.parametrize(("raw", "field"),
                         [("orders", "tables"), (["a", {"name": ""}], "tables[1]"), ([3], "tables[0]")])
def test_bad_table_lists_name_their_field(raw: Any, field: str) -> None:
    with pytest.raises(InputError) as refused:
        table_names("tables", raw)
    assert refused.value.field == field


@pytest.mark.parametrize("bad", [{"wait_timeout": -1}, {"capacity_wait_s": -1}, {"hold_s": -1}])
def test_bad_settings_name_their_field(bad: dict[str, float]) -> None:
    with pytest.raises(InputError) as refused:
        Settings(**bad).validate()  # type: ignore[arg-type]
    assert refused.value.field == next(iter(bad))
