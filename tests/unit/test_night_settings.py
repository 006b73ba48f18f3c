"""night_settings: the backup role's after-the-night variables checked before AWS is touched, each problem one
sentence naming the variable and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_settings import (
    drill_problems,
    night_ops_problems,
    notify_problems,
    retention_problems,
)

TOPIC = "arn:aws:sns:eu-west-1:123456789012:backups"


@pytest.mark.parametrize("retention", [{}, {"keep_last": 7}, {"keep_daily": 7, "max_age_days": None},
                                       {"keep_weekly": 4, "incomplete_grace_hours": 48}])
def test_good_retention_has_no_problem(retention: dict[str, Any]) -> None:
    assert retention_problems(retention) == []


@pytest.mark.parametrize(("retention", "problem"), [
    ({"keep_last": 0}, "hippolyte_retention.keep_last: no retention rule is set"),
    ({"keep_last": -1}, "hippolyte_retention.keep_last: must be 0 or more, got -1; use 0 to turn the rule off"),
    ({"keep_last": 3, "max_age_days": 0}, "hippolyte_retention.max_age_days: must be at least 1, got 0"),
    ({"keep_last": 3, "incomplete_grace_hours": 0}, "hippolyte_retention.incomplete_grace_hours: must be at least"),
])
def test_bad_retention_names_the_key(retention: dict[str, Any], problem: str) -> None:
    (found,) = retention_problems(retention)
    assert found.startswith(problem)


@pytest.mark.parametrize("notify", [{}, {"sns_topic_arn": TOPIC}, {"webhook_file": "/var/spool/night.json"},
                                    {"sns_topic_arn": TOPIC, "webhook_file": "/tmp/x.json"}])
def test_good_notify_has_no_problem(notify: dict[str, Any]) -> None:
    assert notify_problems(notify) == []


def test_bad_notify_names_each_key() -> None:
    problems = notify_problems({"sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q", "webhook_file": "out.json"})
    assert problems == [
        "hippolyte_notify.sns_topic_arn 'arn:aws:sqs:eu-west-1:123456789012:q' is not an SNS topic ARN: "
        "use arn:aws:sns:<region>:<12-digit account>:<topic name>",
        "hippolyte_notify.webhook_file 'out.json' is not an absolute path: give the file's full path on the controller"]


@pytest.mark.parametrize("notify", [{"sns_topic_arn": ""}, {"sns_topic_arn": None, "webhook_file": None}])
def test_notify_that_sends_nothing_is_a_problem(notify: dict[str, Any]) -> None:
    assert notify_problems(notify) == ["hippolyte_notify sends nothing: set sns_topic_arn, webhook_file, or both"]


@pytest.mark.parametrize("drill", [None, True, False, {}, {"table": "orders"}, {"table": None}])
def test_good_drill_has_no_problem(drill: Any) -> None:
    assert drill_problems(drill) == []


def test_a_drill_of_another_type_is_refused_with_an_example() -> None:
    assert drill_problems("yes") == ["hippolyte_drill must be true, false or a dict, got 'yes': e.g. true"]
    assert drill_problems(1) == ["hippolyte_drill must be true, false or a dict, got 1: e.g. true"]


def test_unknown_drill_keys_are_named_with_the_closest_known_one() -> None:
    assert drill_problems({"tabel": "orders", "when": "always"}) == [
        "hippolyte_drill has an unknown key 'tabel': did you mean table?",
        "hippolyte_drill has an unknown key 'when': known keys are table"]


@pytest.mark.parametrize("table", ["ab", "orders/2", "x" * 256])
def test_a_drill_table_that_is_not_a_table_name(table: str) -> None:
    (problem,) = drill_problems({"table": table})
    assert problem.startswith(f"hippolyte_drill.table {table!r} is not a DynamoDB table name")


def test_every_problem_of_the_three_at_once_in_order() -> None:
    problems = night_ops_problems({"keep_last": 0}, {"webhook_file": "relative"}, {"tabel": "x"})
    assert [p.split(" ")[0].split(".")[0].split(":")[0] for p in problems] == [
        "hippolyte_retention", "hippolyte_notify", "hippolyte_drill"]
    assert night_ops_problems({}, {}, True) == []
