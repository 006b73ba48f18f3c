"""capacity/throughput_task: what dynamodb_throughput does, called directly against moto tables (Application Auto
Scaling left out, as the module's autoscaling: false). The clock is fixed, so holds are deterministic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput_task import (
    CapacityClients,
    ThroughputRequest,
    apply_state,
    index_targets,
)
from tests.conftest import client
from tests.support.throughput_fixtures import capacity, create_table

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def settings(**kw: Any) -> Settings:
    return Settings(sleep=lambda s: None, clock=lambda: NOW, **kw)


class Clients:
    """CapacityClients that count how often a client was asked for."""

    def __init__(self, url: str) -> None:
        self.url, self.made = url, 0

    def dynamodb(self, workers: int) -> Any:
        assert workers >= 1
        self.made += 1
        return client("dynamodb", self.url)

    def clients(self) -> CapacityClients:
        return CapacityClients(dynamodb=self.dynamodb)


def test_index_targets_reads_read_and_write_per_index() -> None:
    assert index_targets({"by_a": {"read_capacity": "7"}, "by_b": {"read_capacity": 3, "write_capacity": 4}}) == {
        "by_a": {"read": 7}, "by_b": {"read": 3, "write": 4}}
    assert index_targets({}) == {}


@pytest.mark.parametrize(("indexes", "field"), [
    ({"by_a": 10}, "indexes.by_a"),
    ({"by_a": {}}, "indexes.by_a"),
    ({"by_a": {"reads": 10}}, "indexes.by_a"),
    ({"by_a": {"read_capacity": "ten"}}, "indexes.by_a.read_capacity"),
])
def test_index_targets_refuses_shapes_it_cannot_mean(indexes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as raised:
        index_targets(indexes)
    assert raised.value.field == field


@pytest.mark.parametrize(("kw", "field"), [
    ({"wait_timeout": -1.0}, "wait_timeout"),
    ({"capacity_wait_s": -1.0}, "capacity_wait_s"),
    ({"hold_s": -5}, "hold_s"),
])
def test_negative_times_fail_before_any_client(kw: dict[str, Any], field: str) -> None:
    made = Clients("http://127.0.0.1:9")  # nothing listens there: a client asked for would fail the test
    with pytest.raises(InputError) as raised:
        apply_state(ThroughputRequest("boosted", settings(**kw), table="orders", read_capacity=5), made.clients())
    assert raised.value.field == field and made.made == 0


def test_bad_indexes_fail_before_any_client() -> None:
    made = Clients("http://127.0.0.1:9")
    with pytest.raises(InputError) as raised:
        apply_state(ThroughputRequest("boosted", settings(), table="orders", indexes={"gsi": {"reads": 1}}),
                    made.clients())
    assert raised.value.field == "indexes.gsi" and made.made == 0


def test_one_table_boosted_then_put_back_with_diffs(moto_url: str, unique_name: str) -> None:
    create_table(moto_url, unique_name, read=5, write=5)
    made = Clients(moto_url)
    boosted = apply_state(ThroughputRequest("boosted", settings(run_id="night"), table=unique_name, read_capacity=40),
                          made.clients(), diff=True)
    assert boosted.facts["changed"] is True and not boosted.failed
    assert boosted.facts["diff"] == {"before": boosted.facts["before"], "after": boosted.facts["after"]}
    assert capacity(moto_url, unique_name)[None] == (40, 5)
    again = apply_state(ThroughputRequest("boosted", settings(run_id="night"), table=unique_name, read_capacity=40),
                        made.clients())
    assert again.facts["changed"] is False and "diff" not in again.facts
    back = apply_state(ThroughputRequest("restored", settings(run_id="night"), table=unique_name), made.clients())
    assert back.facts["changed"] is True and back.warnings == ()
    assert capacity(moto_url, unique_name)[None] == (5, 5)


def test_many_tables_answer_per_table(moto_url: str, unique_name: str) -> None:
    names = [f"{unique_name}-{n}" for n in range(2)]
    for name in names:
        create_table(moto_url, name, read=5, write=5)
    made = Clients(moto_url)
    rows = [{"name": name, "read_capacity": 30, "boost_rcu": 30} for name in names]
    boosted = apply_state(ThroughputRequest("boosted", settings(run_id="night"), tables=rows), made.clients(),
                          diff=True)
    assert sorted(r["table"] for r in boosted.facts["per_table"]) == names
    assert "tables" not in boosted.facts and set(boosted.facts["diff"]["after"]) == set(names)
    assert [capacity(moto_url, n)[None] for n in names] == [(30, 5), (30, 5)]
    back = apply_state(ThroughputRequest("restored", settings(run_id="night"), tables=names), made.clients())
    assert [capacity(moto_url, n)[None] for n in names] == [(5, 5), (5, 5)]
    assert all(row["changed"] for row in back.facts["per_table"])


def test_reconciled_repairs_a_dead_run_s_boost_and_says_so(moto_url: str, unique_name: str) -> None:
    create_table(moto_url, unique_name, read=5, write=5)
    made = Clients(moto_url)
    apply_state(ThroughputRequest("boosted", settings(run_id="crashed", hold_s=0), table=unique_name,
                                  read_capacity=25), made.clients())
    answer = apply_state(ThroughputRequest("reconciled", settings(run_id="next-night"), table=unique_name),
                         made.clients(), diff=True)
    assert not answer.failed and answer.warnings == ()
    assert answer.facts["repaired"] == [unique_name]
    assert answer.facts["msg"] == "checked 1 table(s): repaired 1, pending 0, held by live runs 0"
    assert list(answer.facts["diff"]["before"]) == [unique_name]
    assert capacity(moto_url, unique_name)[None] == (5, 5)


def test_a_put_back_that_finds_no_record_changes_nothing_and_warns_of_nothing(moto_url: str,
                                                                              unique_name: str) -> None:
    create_table(moto_url, unique_name, read=5, write=5)
    answer = apply_state(ThroughputRequest("restored", settings(run_id="night"), table=unique_name),
                         Clients(moto_url).clients(), diff=True)
    assert answer.facts["changed"] is False and answer.warnings == ()
    assert answer.facts["diff"]["before"] == answer.facts["diff"]["after"]


def test_a_put_back_over_capacity_someone_else_changed_leaves_it_and_warns(moto_url: str, unique_name: str) -> None:
    create_table(moto_url, unique_name, read=5, write=5)
    made = Clients(moto_url)
    apply_state(ThroughputRequest("boosted", settings(run_id="night"), table=unique_name, read_capacity=40),
                made.clients())
    client("dynamodb", moto_url).update_table(
        TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": 60, "WriteCapacityUnits": 5})
    back = apply_state(ThroughputRequest("restored", settings(run_id="night"), table=unique_name), made.clients())
    assert len(back.warnings) == 1 and back.warnings[0].startswith(f"{unique_name} ")
    assert capacity(moto_url, unique_name)[None] == (60, 5)
