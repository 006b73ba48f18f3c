"""The EMR RunJobFlow request built from a planned cluster: structure, step order and arguments, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    MAX_ACTIVE_STEPS,
    TAG_CLUSTER,
    TAG_RUN,
    TAG_TAKEN_AT,
    JobFlowSettings,
    SpotSettings,
    build_job_flow,
    taken_at_from_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_tool import DEFAULT_MAIN_CLASS

TAKEN = datetime(2026, 11, 22, 1, 0, 0, tzinfo=UTC)


def settings(**overrides) -> JobFlowSettings:
    base = dict(run_id="nightly-2026-11-22", destination="s3://acme-backups/ddb/", account="111111111111",
                region="eu-west-1", subnet_id="subnet-0abc", taken_at=TAKEN, log_uri="s3://acme-logs/emr/")
    base.update(overrides)
    return JobFlowSettings(**base)


def cluster(*tables: tuple[str, float | None], cid: str = "c01") -> dict:
    return {"id": cid, "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": r, "size_bytes": 10, "rcu": 10} for n, r in tables]}


def test_request_structure() -> None:
    request, steps = build_job_flow(cluster(("orders", 0.5), ("users", 1.0)), settings())
    assert request["Name"] == "hippolyte-nightly-2026-11-22-c01"
    assert request["ReleaseLabel"].startswith("emr-")
    assert request["LogUri"] == "s3://acme-logs/emr/"
    assert request["ServiceRole"] == "EMR_DefaultRole" and request["JobFlowRole"] == "EMR_EC2_DefaultRole"
    instances = request["Instances"]
    assert instances["Ec2SubnetId"] == "subnet-0abc"
    assert instances["KeepJobFlowAliveWhenNoSteps"] is False
    roles = [(g["InstanceRole"], g["InstanceCount"], g["Market"]) for g in instances["InstanceGroups"]]
    assert roles == [("MASTER", 1, "ON_DEMAND"), ("CORE", 1, "ON_DEMAND")]
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags[TAG_RUN] == "nightly-2026-11-22" and tags[TAG_CLUSTER] == "c01"
    assert taken_at_from_tags(request["Tags"]) == TAKEN and tags[TAG_TAKEN_AT] == "2026-11-22-01-00-00"
    assert [s.table for s in steps] == ["orders", "users"]


def test_steps_in_plan_order_with_export_arguments() -> None:
    names = [("zeta", 0.25), ("alpha", 0.6667), ("mid", None)]
    request, _steps = build_job_flow(cluster(*names), settings(read_percentage=0.3))
    assert [s["HadoopJarStep"]["Args"][1] for s in request["Steps"]] == ["zeta", "alpha", "mid"]
    first = request["Steps"][0]
    assert first["ActionOnFailure"] == "CONTINUE"
    jar_step = first["HadoopJarStep"]
    assert jar_step["MainClass"] == DEFAULT_MAIN_CLASS
    assert jar_step["Jar"].startswith("s3://dynamodb-dpl-eu-west-1/") and jar_step["Jar"].endswith(".jar")
    assert jar_step["Args"] == ["s3://acme-backups/ddb/111111111111/eu-west-1/zeta/2026-11-22-01-00-00/data/",
                                "zeta", "0.25"]
    assert request["Steps"][1]["HadoopJarStep"]["Args"][2] == "0.6667"
    assert request["Steps"][2]["HadoopJarStep"]["Args"][2] == "0.3"  # on-demand table: the configured ratio


def test_custom_jar_and_class() -> None:
    request, _steps = build_job_flow(cluster(("orders", 0.5)),
                                     settings(jar="s3://my-jars/tools.jar", main_class="com.acme.Export"))
    step = request["Steps"][0]["HadoopJarStep"]
    assert (step["Jar"], step["MainClass"]) == ("s3://my-jars/tools.jar", "com.acme.Export")


def test_spot_core_and_task_nodes() -> None:
    spot = SpotSettings(core=True, task_count=3, task_instance_type="r5.xlarge", bid_price="0.12")
    request, _steps = build_job_flow(cluster(("orders", 0.5)), settings(spot=spot, core_instance_count=2))
    groups = {g["InstanceRole"]: g for g in request["Instances"]["InstanceGroups"]}
    assert groups["MASTER"]["Market"] == "ON_DEMAND" and "BidPrice" not in groups["MASTER"]
    assert groups["CORE"] == {"Name": "core", "InstanceRole": "CORE", "InstanceType": "m5.xlarge",
                              "InstanceCount": 2, "Market": "SPOT", "BidPrice": "0.12"}
    assert groups["TASK"]["InstanceType"] == "r5.xlarge" and groups["TASK"]["InstanceCount"] == 3
    assert groups["TASK"]["Market"] == "SPOT"


def test_missing_subnet_is_named() -> None:
    with pytest.raises(InputError) as err:
        build_job_flow(cluster(("orders", 0.5)), settings(subnet_id=None))
    assert err.value.field == "subnet_id"


def test_too_many_steps() -> None:
    big = cluster(*[(f"table-{n:04d}", 0.5) for n in range(MAX_ACTIVE_STEPS + 1)])
    with pytest.raises(InputError) as err:
        build_job_flow(big, settings())
    assert err.value.field == "cluster.tables" and "257 tables" in str(err.value)
    request, _steps = build_job_flow(cluster(*[(f"table-{n:04d}", 0.5) for n in range(MAX_ACTIVE_STEPS)]), settings())
    assert len(request["Steps"]) == MAX_ACTIVE_STEPS


@pytest.mark.parametrize("ratio", [0, -0.1, 1.01, 2, "0.5", True])
def test_read_ratio_outside_unit_interval(ratio: object) -> None:
    with pytest.raises(InputError) as err:
        build_job_flow(cluster(("orders", 0.5), ("users", ratio)), settings())
    assert err.value.field == "cluster.tables[1].read_percentage"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"destination": "file:///var/backups"}, "destination"),
    ({"log_uri": "/var/log/emr"}, "log_uri"),
    ({"run_id": "bad id!"}, "run_id"),
    ({"core_instance_count": 0}, "core_instance_count"),
    ({"release_label": "5.36.0"}, "release_label"),
    ({"spot": SpotSettings(bid_price="cheap")}, "spot.bid_price"),
    ({"subnet_id": "vpc-123"}, "subnet_id"),
    ({"maximum_retries": -1}, "maximum_retries"),
    ({"region": ""}, "region"),
    ({"account": ""}, "account_id"),
    ({"read_percentage": 1.5}, "read_percentage"),
    ({"jar": "https://example.com/tools.jar"}, "jar"),
    ({"main_class": ""}, "main_class"),
])
def test_bad_settings(overrides: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        build_job_flow(cluster(("orders", 0.5)), settings(**overrides))
    assert err.value.field == field


@pytest.mark.parametrize(("bad", "field"), [
    ({"id": "c01", "tables": []}, "cluster.tables"),
    ({"tables": [{"name": "orders", "read_percentage": 0.5}]}, "cluster.id"),
    ({"id": "c01", "engine": "export", "tables": [{"name": "orders"}]}, "cluster.engine"),
    ({"id": "c01", "tables": [{"name": "orders"}, {"name": "orders"}]}, "cluster.tables[1].name"),
    ({"id": "c01", "tables": [{"name": "x"}]}, "cluster.tables[0].name"),
    ("c01", "cluster"),
])
def test_bad_clusters(bad: object, field: str) -> None:
    with pytest.raises(InputError) as err:
        build_job_flow(bad, settings())
    assert err.value.field == field
