"""table_discovery: the tables a plan covers, chosen by whole-name globs and described from moto over HTTP; what a
least-privilege role or a stand-in cannot answer becomes a warning, never a wrong figure."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import _autoscaling
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    CapacityRecord,
    Dimension,
    record_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import shape_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.table_discovery import (
    discover,
    select,
    table_info,
    usable_cluster_engine,
    validate_patterns,
)
from tests.support.refusing_proxy import RefusingProxy
from tests.support.tables import create_table


def aws(service: str, url: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=url)


@pytest.mark.parametrize(("include", "exclude", "field"), [
    ([], [], "include"), ("orders", [], "include"), (["orders", ""], [], "include"), (["*"], None, "exclude"),
    (["*"], [1], "exclude")])
def test_patterns_must_be_lists_of_globs(include: Any, exclude: Any, field: str) -> None:
    with pytest.raises(InputError) as raised:
        validate_patterns(include, exclude)
    assert raised.value.field == field


def test_a_pattern_matches_the_whole_name_and_one_matching_nothing_is_an_error() -> None:
    names = ["orders", "orders-archive", "users", "scratch-tmp"]
    assert select(names, ["orders*", "users"], ["*-archive"]) == ["orders", "users"]
    assert select(names, ["*"], ["scratch-*"]) == ["orders", "orders-archive", "users"]
    with pytest.raises(InputError, match="pattern 'order' matches no table in this region"):
        select(names, ["orders", "order"], [])


NAMES = st.lists(st.from_regex(r"[a-c]{1,3}(-[a-c]{1,2})?", fullmatch=True), min_size=1, max_size=8, unique=True)
GLOBS = st.lists(st.from_regex(r"[a-c*?-]{1,4}", fullmatch=True), max_size=3)


@settings(max_examples=100, deadline=None)
@given(names=NAMES, exclude=GLOBS, data=st.data())
def test_selected_names_match_an_include_and_no_exclude(names: list[str], exclude: list[str],
                                                        data: st.DataObject) -> None:
    include = data.draw(st.lists(st.sampled_from([*names, "*", "a*", "?-*"]), min_size=1, max_size=3))
    if any(not any(fnmatchcase(n, p) for n in names) for p in include):
        with pytest.raises(InputError, match="matches no table"):
            select(names, include, exclude)
        return
    chosen = select(names, include, exclude)
    assert chosen == sorted(chosen)
    assert set(chosen) == {n for n in names if any(fnmatchcase(n, p) for p in include)
                           and not any(fnmatchcase(n, p) for p in exclude)}


def test_table_info_of_a_provisioned_and_an_on_demand_table() -> None:
    provisioned = {"TableName": "orders", "TableSizeBytes": 4096, "ItemCount": 3, "TableStatus": "UPDATING",
                   "ProvisionedThroughput": {"ReadCapacityUnits": 50},
                   "GlobalSecondaryIndexes": [{"IndexName": "by-city",
                                               "ProvisionedThroughput": {"ReadCapacityUnits": 7}}]}
    info = table_info(provisioned, TableFacts(shape="s", point_in_time_recovery="ENABLED"), (10, 400))
    assert (info.rcu, info.pitr, info.status, info.gsis) == (50, True, "UPDATING", (("by-city", 7),))
    assert (info.autoscaling_min_rcu, info.autoscaling_max_rcu, info.warm_read_units) == (10, 400, None)
    on_demand = {"TableName": "s", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 0}, "WarmThroughput": {"ReadUnitsPerSecond": 12000},
                 "GlobalSecondaryIndexes": [{"IndexName": "g", "ProvisionedThroughput": {"ReadCapacityUnits": 0}}]}
    info = table_info(on_demand, None, None)
    assert (info.on_demand, info.rcu, info.gsis, info.warm_read_units, info.size_bytes) == (
        True, 0, (("g", 0),), 12000, 0)


REGION = "ap-southeast-2"  # a region of its own: discover counts every table of its region


def test_discover_describes_the_selected_tables_and_counts_every_tables_capacity(moto_url: str,
                                                                                 unique_name: str) -> None:
    ddb = aws("dynamodb", moto_url, REGION)
    create_table(ddb, f"{unique_name}-a", rcu=30)
    create_table(ddb, f"{unique_name}-b", rcu=None)
    create_table(ddb, f"{unique_name}-skip", rcu=20)
    ddb.update_continuous_backups(TableName=f"{unique_name}-a",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    aas = aws("application-autoscaling", moto_url, REGION)
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{unique_name}-a",
                                 ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=5, MaxCapacity=300)
    tracking = {"TargetValue": 70.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}
    aas.put_scaling_policy(PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=f"table/{unique_name}-a",
                           ScalableDimension="dynamodb:table:ReadCapacityUnits", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration=tracking)
    found = discover(ddb, aas, [f"{unique_name}-*"], ["*-skip"], workers=4)
    assert [t.name for t in found.tables] == [f"{unique_name}-a", f"{unique_name}-b"]
    first, second = found.tables
    assert (first.rcu, first.pitr, first.autoscaling_max_rcu) == (30, True, 300)
    assert (second.on_demand, second.pitr) == (True, False)
    # What the backup will not read again: tags, TTL and PITR, with the shape of the description they belong to.
    ddb.tag_resource(ResourceArn=ddb.describe_table(TableName=f"{unique_name}-b")["Table"]["TableArn"],
                     Tags=[{"Key": "team", "Value": "payments"}])
    ddb.update_time_to_live(TableName=f"{unique_name}-b",
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    facts = discover(ddb, aas, [f"{unique_name}-b"], [], workers=4).tables[0].facts
    assert facts is not None
    assert facts.shape == shape_of(ddb.describe_table(TableName=f"{unique_name}-b")["Table"])
    assert (facts.tag_list(), dict(facts.time_to_live or ()), facts.point_in_time_recovery) == (
        [{"Key": "team", "Value": "payments"}], {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"},
        "DISABLED")
    assert first.facts is not None and first.facts.point_in_time_recovery == "ENABLED"
    assert found.account_rcu_in_use >= 50  # the skipped table's capacity is in use too
    assert found.unplannable == []
    # Its autoscaling, from the region's one listing, as the table's own capture would record it.
    scaling = first.facts.autoscaling
    assert scaling is not None
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in scaling["ScalableTargets"]] == [
        (f"table/{unique_name}-a", 5, 300)]
    assert [(p["PolicyName"], p["ResourceId"]) for p in scaling["ScalingPolicies"]] == [
        ("reads", f"table/{unique_name}-a")]
    assert scaling == _autoscaling(aas, f"{unique_name}-a", [])
    assert second.facts is not None and second.facts.autoscaling == {"ScalableTargets": [], "ScalingPolicies": []}


def test_a_table_another_run_boosted_is_planned_on_its_original_capacity(moto_url: str, unique_name: str) -> None:
    ddb = aws("dynamodb", moto_url, REGION)
    create_table(ddb, unique_name, rcu=900)
    record = CapacityRecord("PROVISIONED", "2026-11-20T01:00:00Z", "run-1", {None: {"read": Dimension(100)}},
                            boosted={None: {"read": Dimension(900)}})
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=record_tags(record, DEFAULT_TAG_KEY))
    (table,) = discover(ddb, aws("application-autoscaling", moto_url, REGION), [unique_name], []).tables
    assert table.rcu == 100
    # A TTL the role may not read leaves the plan's facts out, not the record its tags hold.
    with RefusingProxy(moto_url, {"DescribeTimeToLive": "AccessDeniedException"}) as proxy:
        (table,) = discover(aws("dynamodb", proxy.url, REGION), aws("application-autoscaling", moto_url, REGION),
                            [unique_name], []).tables
    assert (table.rcu, table.facts) == (100, None)


def test_calls_a_role_may_lack_become_warnings(moto_url: str, unique_name: str) -> None:
    create_table(aws("dynamodb", moto_url, REGION), unique_name, rcu=10)
    denied = dict.fromkeys(("DescribeScalableTargets", "DescribeLimits", "DescribeContinuousBackups"),
                           "AccessDeniedException")
    with RefusingProxy(moto_url, denied) as proxy:
        found = discover(aws("dynamodb", proxy.url, REGION), aws("application-autoscaling", proxy.url, REGION),
                         [unique_name], [])
    assert [t.pitr for t in found.tables] == [False]
    assert [t.facts for t in found.tables] == [None]  # unread: the backup reads them itself, and fails as it did
    assert (found.table_max_rcu, found.account_max_rcu) == (None, None)
    assert [w.split(" (")[0] for w in found.warnings] == ["could not read Application Auto Scaling targets",
                                                          "could not read DescribeLimits"]


def test_an_include_matching_nothing_is_refused_before_any_table_is_described(moto_url: str) -> None:
    with pytest.raises(InputError, match="matches no table"):
        discover(aws("dynamodb", moto_url, "sa-east-1"), None, ["nothing-here-*"], [])


def test_the_cluster_engine_falls_back_to_emr_where_data_pipeline_is_closed(moto_url: str) -> None:
    assert usable_cluster_engine(aws("datapipeline", moto_url, "us-east-1")) == "datapipeline"
    with RefusingProxy(moto_url, {"ListPipelines": "AccessDeniedException"}) as proxy:
        assert usable_cluster_engine(aws("datapipeline", proxy.url, "us-east-1")) == "emr"
