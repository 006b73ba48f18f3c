"""inventory_check: every hippolyte_* variable of a host checked against a role's argument spec (the roles' own
files) and the collection's rules, each problem naming the variable and the fix, all of them at once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.inventory_check import (
    Problem,
    check_host,
    deprecated_names,
    known_regions,
    night_ops_problems_of,
    option_hint,
    rules_for,
    typed_value,
)

ROLES = Path(__file__).resolve().parents[2] / "roles"
GOOD = {"hippolyte_destination": "s3://backups-prod/dynamodb", "hippolyte_region": "eu-west-1",
        "hippolyte_window": {"start": "01:00", "end": "05:00", "timezone": "Europe/London"},
        "hippolyte_include": ["orders-*", "users"], "hippolyte_read_percentage": "0.5"}


@cache
def spec(role: str) -> dict[str, Any]:
    (entry,) = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"].values()
    return dict(entry["options"])


def known() -> set[str]:
    return {name for role in ("backup", "restore", "setup") for name in spec(role)}


def problems(values: dict[str, Any], role: str = "backup") -> list[Problem]:
    return check_host(values, spec(role), known(), rules_for(role))


def one(values: dict[str, Any], role: str = "backup") -> Problem:
    (found,) = problems(values, role)
    return found


def test_a_good_host_has_no_problem() -> None:
    assert problems(GOOD) == []
    assert problems({**GOOD, "hippolyte_restore_table": "orders", "hippolyte_restore_at": "2026-11-20"},
                    "restore") == []


def test_an_increments_schedule_at_its_defaults_has_no_problem() -> None:
    assert problems({**GOOD, "hippolyte_increments": {"tables": ["orders", "users"]}}) == []
    assert problems({**GOOD, "hippolyte_increments": {"tables": ["orders"], "every": "2h30m", "max_windows": 4}}) == []


def test_a_missing_required_variable_says_what_to_set() -> None:
    found = one({"hippolyte_region": "eu-west-1"})
    assert found.variable == "hippolyte_destination" and found.problem == "is not set"
    assert found.fix == "set it in the inventory: Root of the backups, s3://bucket/prefix or file:///absolute/dir"
    assert one({**GOOD, "hippolyte_destination": ""}).problem == "is not set"


def test_a_misspelt_variable_gets_the_closest_name() -> None:
    found = one({**GOOD, "hippolyte_read_percentge": 0.3})
    assert found == Problem("hippolyte_read_percentge", "is not a variable of this collection, so it would be ignored",
                            "did you mean hippolyte_read_percentage?")
    assert problems({**GOOD, "other_tool_setting": 1}) == []  # not ours: not checked


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("hippolyte_read_percentage", "half", "is 'half', not a number"),
    ("hippolyte_scan_workers", "3.5", "is '3.5', not a whole number"),
    ("hippolyte_autoscaling", "maybe", "is 'maybe', not true or false"),
    ("hippolyte_include", "orders-*", "is 'orders-*', not a list"),
    ("hippolyte_window", "01:00-05:00", "is '01:00-05:00', not a dict"),
    ("hippolyte_scan_workers", True, "is True, not a whole number"),
])
def test_a_value_of_the_wrong_type_names_the_type(variable: str, value: Any, problem: str) -> None:
    found = one({**GOOD, variable: value})
    assert (found.variable, found.problem) == (variable, problem)
    assert found.fix.startswith("give ")


@pytest.mark.parametrize(("value", "converted"), [("yes", True), ("off", False), ("1", True), (False, False)])
def test_booleans_convert_as_ansible_converts_them(value: Any, converted: bool) -> None:
    assert typed_value("hippolyte_autoscaling", value, spec("backup")["hippolyte_autoscaling"]) is converted


def test_settings_of_a_dict_are_typed_one_by_one() -> None:
    typed = typed_value("hippolyte_retention", {"keep_last": "3", "max_age_days": None},
                        spec("backup")["hippolyte_retention"])
    assert typed == {"keep_last": 3, "max_age_days": None}
    with pytest.raises(InputError) as raised:
        typed_value("hippolyte_retention", {"keep_lats": 3}, spec("backup")["hippolyte_retention"])
    assert raised.value.field == "hippolyte_retention.keep_lats" and raised.value.problem == "is not a key it takes"
    with pytest.raises(InputError) as raised:
        typed_value("hippolyte_retention", {"keep_last": "three"}, spec("backup")["hippolyte_retention"])
    assert raised.value.field == "hippolyte_retention.keep_last"


def test_the_after_night_settings_are_checked_with_their_numbers_typed() -> None:
    retention = spec("backup")["hippolyte_retention"]
    # "0" is read as the number 0, as the module reads it: a policy that keeps nothing is named.
    kept_nothing = night_ops_problems_of({"hippolyte_retention": {"keep_last": "0"}}, retention)
    assert kept_nothing and all("hippolyte_retention" in problem for problem in kept_nothing)
    assert night_ops_problems_of({"hippolyte_retention": {"keep_last": "3"}}, retention) == []
    # Not a number: left to check_host, which names it; the drill's own rule still runs.
    drill = night_ops_problems_of({"hippolyte_retention": {"keep_last": "three"}, "hippolyte_drill": {"tabel": 1}},
                                  retention)
    assert len(drill) == 1 and "hippolyte_drill" in drill[0]


def test_a_list_item_of_the_wrong_type_is_named_by_its_index() -> None:
    found = one({**GOOD, "hippolyte_include": ["orders", ["nested"]]})
    assert (found.variable, found.problem) == ("hippolyte_include[1]", "is ['nested'], not a text")


def test_a_choice_not_offered_gets_the_closest_one() -> None:
    found = one({**GOOD, "hippolyte_engine": "lokal"})
    assert (found.variable, found.problem) == ("hippolyte_engine", "is 'lokal'")
    assert found.fix == "choose one of auto, datapipeline, emr, export, local (did you mean local?)"


@pytest.mark.parametrize(("changed", "variable", "problem"), [
    ({"hippolyte_destination": "s3://Backups_Prod/x"}, "hippolyte_destination",
     "names the bucket 'Backups_Prod', which S3 does not allow"),
    ({"hippolyte_destination": "s3://192.168.1.10/x"}, "hippolyte_destination",
     "names the bucket '192.168.1.10', which S3 does not allow"),
    ({"hippolyte_destination": "s3://xn--bucket/x"}, "hippolyte_destination",
     "names the bucket 'xn--bucket', which S3 does not allow"),
    ({"hippolyte_destination": "file://relative/dir"}, "hippolyte_destination", "is 'file://relative/dir'"),
    ({"hippolyte_region": "eu-west-l"}, "hippolyte_region", "is 'eu-west-l', which is not an AWS region"),
    ({"hippolyte_endpoint_url": "localhost:4566"}, "hippolyte_endpoint_url",
     "is 'localhost:4566', not an endpoint URL"),
    ({"hippolyte_bucket_owner": "12345"}, "hippolyte_bucket_owner", "is '12345', not an AWS account id"),
    ({"hippolyte_role_arn": "arn:aws:iam::123456789012:user/bob"}, "hippolyte_role_arn",
     "is 'arn:aws:iam::123456789012:user/bob', not an IAM role ARN"),
    ({"hippolyte_role_external_id": "abc"}, "hippolyte_role_external_id", "is set but hippolyte_role_arn is empty"),
    ({"hippolyte_role_duration": 60}, "hippolyte_role_duration", "is 60 s"),
    ({"hippolyte_read_percentage": 1.5}, "hippolyte_read_percentage", "is 1.5"),
    ({"hippolyte_max_objects": 4}, "hippolyte_max_objects", "is 4"),
    ({"hippolyte_include": ["orders-[0-9"]}, "hippolyte_include",
     "holds 'orders-[0-9', a glob whose [ ] set is not closed or is empty"),
    ({"hippolyte_exclude": ["orders/*"]}, "hippolyte_exclude", "holds 'orders/*', which matches no table name"),
    ({"hippolyte_emr": {"subnet": "subnet-1"}}, "hippolyte_emr.subnet", "is not a setting it takes"),
    ({"hippolyte_datapipeline": {"role": "a", "service_role": "b"}}, "hippolyte_datapipeline.role",
     "is the old name of service_role, which is set too"),
    ({"hippolyte_sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "hippolyte_sns_topic_arn",
     "is 'arn:aws:sqs:eu-west-1:123456789012:q', not an SNS topic ARN"),
    ({"hippolyte_report_dir": "  "}, "hippolyte_report_dir", "is empty"),
    ({"hippolyte_increments": {"tables": ["orders"], "every": "5m"}}, "hippolyte_increments.every",
     "'5m' is outside DynamoDB's incremental export window"),
    ({"hippolyte_increments": {"tables": ["orders"], "every": "quarter"}}, "hippolyte_increments.every",
     "'quarter' is not a duration"),
    ({"hippolyte_increments": {"tables": ["orders"], "max_windows": 0}}, "hippolyte_increments.max_windows", "is 0"),
])
def test_each_rule_names_its_variable(changed: dict[str, Any], variable: str, problem: str) -> None:
    found = one({**GOOD, **changed})
    assert (found.variable, found.problem) == (variable, problem)
    assert found.fix and str(found) == f"{variable} {problem}; {found.fix}"


def test_a_region_typo_gets_the_closest_region() -> None:
    assert "eu-west-1" in known_regions()
    assert one({**GOOD, "hippolyte_region": "eu-wets-1"}).fix.startswith("did you mean eu-west-1? ")


def test_a_window_problem_names_the_window_setting() -> None:
    found = one({**GOOD, "hippolyte_window": {"start": "25:00", "end": "05:00"}})
    assert found.variable.startswith("hippolyte_window") and "25:00" in found.problem


def test_a_misspelt_old_setting_name_gets_its_new_name() -> None:
    found = one({**GOOD, "hippolyte_datapipeline": {"rol": "x"}})
    assert found.fix.startswith("did you mean service_role? ")


def test_restore_rules() -> None:
    base = {"hippolyte_destination": "s3://backups/x", "hippolyte_restore_table": "orders"}
    assert one({**base, "hippolyte_restore_table": "o"}, "restore").problem == "is 'o', not a DynamoDB table name"
    assert problems({**base, "hippolyte_restore_target": ""}, "restore") == []  # optional: empty is the default
    assert one({**base, "hippolyte_restore_at": "2999-01-01"}, "restore").variable == "hippolyte_restore_at"
    assert one({**base, "hippolyte_restore_at": "last tuesday"}, "restore").variable == "hippolyte_restore_at"
    assert problems({**base, "hippolyte_restore_at": 20261120}, "restore") == []  # `-e at=20261120` is a number
    found = one({**base, "hippolyte_restore_stage_to": "file:///stage"}, "restore")
    assert found.problem == "is 'file:///stage', and ImportTable reads from S3 only"


@pytest.mark.parametrize("variable", ["hippolyte_restore_point_in_time", "hippolyte_restore_increments_until"])
def test_a_restore_to_a_second_is_checked_before_any_call(variable: str) -> None:
    base = {"hippolyte_destination": "s3://backups/x", "hippolyte_restore_table": "orders"}
    assert problems({**base, variable: "2026-11-20T06:30:15Z"}, "restore") == []
    day = one({**base, variable: "2026-11-20"}, "restore")
    assert (day.variable, day.problem) == (variable, "'2026-11-20' is a day, not a second")
    later = one({**base, variable: "2999-01-01T00:00:00Z"}, "restore")
    assert later.problem.startswith("'2999-01-01T00:00:00Z' is after now")
    both = one({**base, variable: "2026-11-20T06:30:15Z", "hippolyte_restore_at": "2026-11-19"}, "restore")
    assert (both.variable, both.problem) == (variable, "is given with hippolyte_restore_at")
    assert "-e point_in_time=" in both.fix


def test_setup_rules_read_one_setting_beside_another() -> None:
    base = {"hippolyte_destination": "s3://backups/x"}
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-000000000000"
    assert problems({**base, "hippolyte_setup": {"encryption": "aws:kms", "kms_key_id": key}}, "setup") == []
    found = one({**base, "hippolyte_setup": {"encryption": "aws:kms", "kms_key_id": "alias/backups"}}, "setup")
    assert (found.variable, found.problem) == ("hippolyte_setup.kms_key_id", "is 'alias/backups', not a KMS key ARN")
    found = one({**base, "hippolyte_setup": {"kms_key_id": key}}, "setup")
    assert found.problem.startswith("is set but encryption is ")
    assert one({**base, "hippolyte_setup": {"engines": ["local", "glue"]}}, "setup").problem == (
        "holds 'glue', not an engine")
    assert one({"hippolyte_destination": "file:///b"}, "setup").problem == (
        "is 'file:///b', and setup creates an S3 bucket")
    # setup may give an external id for the roles it creates, with no role to assume
    assert problems({**base, "hippolyte_role_external_id": "abc"}, "setup") == []


def test_every_problem_is_listed_at_once() -> None:
    found = problems({"hippolyte_region": "mars-1", "hippolyte_engine": "fast", "hippolyte_scan_wokers": 2,
                      "hippolyte_window": {"start": "01:00", "end": "05:00", "tz": "UTC"}})
    assert sorted(p.variable for p in found) == sorted(["hippolyte_scan_wokers", "hippolyte_destination",
                                                        "hippolyte_region", "hippolyte_engine",
                                                        "hippolyte_window.tz"])


def test_deprecated_names_are_warned_of() -> None:
    assert deprecated_names({"hippolyte_datapipeline": {"role": "a", "resource_role": "b", "subnet_id": "s"}}) == [
        "hippolyte_datapipeline.role is deprecated: rename it service_role (the old name is read for one more release)",
        "hippolyte_datapipeline.resource_role is deprecated: rename it job_flow_role (the old name is read for one "
        "more release)"]
    assert deprecated_names({"hippolyte_datapipeline": "not a dict"}) == deprecated_names({}) == []


def test_option_hint_is_the_first_sentence_without_markup() -> None:
    assert option_hint({"description": ["Root of O(x). More here.", "Second."]}) == "Root of x"
    assert option_hint({"description": "Uses C(s3://b/p) and V(auto)."}) == "Uses s3://b/p and auto"
    assert option_hint({}) == ""


def test_object_lock_rules_name_what_is_missing() -> None:
    lock = {"mode": "COMPLIANCE"}
    # The backup role locks each backup until the retention policy could prune it: it needs that policy.
    assert problems({**GOOD, "hippolyte_object_lock": lock, "hippolyte_retention": {"keep_daily": 7}}) == []
    found = one({**GOOD, "hippolyte_object_lock": lock})
    assert found.variable == "hippolyte_object_lock" and "hippolyte_retention is empty" in found.problem
    # The setup role only makes the bucket: no policy needed; an S3 destination and a mode are.
    assert problems({**GOOD, "hippolyte_object_lock": {**lock, "default_retention_days": 3}}, "setup") == []
    assert one({**GOOD, "hippolyte_object_lock": {"default_retention_days": 3}}, "setup").variable == (
        "hippolyte_object_lock.mode")
    assert one({**GOOD, "hippolyte_object_lock": {"mode": "LEGAL"}}, "setup").problem == "is 'LEGAL'"
    found = one({**GOOD, "hippolyte_destination": "file:///b", "hippolyte_object_lock": lock,
                 "hippolyte_retention": {"keep_daily": 7}})
    assert (found.variable, found.problem) == ("hippolyte_object_lock", "is set but hippolyte_destination is not s3://")
