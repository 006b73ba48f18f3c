"""The Data Pipeline definition builder: structure, object limits, references, a golden sample, bad inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    PipelineSettings,
    build_definition,
    fields_of,
    tables_per_pipeline,
    targets_of,
    unique_id,
    validate_objects,
)

GOLDEN = Path(__file__).parent / "golden" / "datapipeline_two_tables.json"
TAKEN_AT = datetime(2026, 11, 22, 1, 0, 0, tzinfo=UTC)


def settings(**overrides) -> PipelineSettings:
    values = dict(destination="s3://acme-ddb-backups/dynamodb", account="111111111111", region="eu-west-1",
                  taken_at=TAKEN_AT, service_role="DataPipelineDefaultRole",
                  job_flow_role="DataPipelineDefaultResourceRole",
                  log_uri="s3://acme-ddb-backups/logs/", subnet_id="subnet-0abc")
    values.update(overrides)
    return PipelineSettings(**values)


def cluster(n: int = 2, **table_overrides) -> dict:
    tables = [{"name": f"table-{i:03d}", "read_percentage": 0.5, "start_offset_s": 600, "duration_s": 900,
               **table_overrides} for i in range(n)]
    return {"id": "c01", "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 7200, "tables": tables}


def by_type(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if fields_of(o).get("type") == kind]


def test_structure_of_a_two_table_cluster():
    definition = build_definition(cluster(2, read_percentage=0.67), settings())
    objects = definition.objects
    assert len(objects) == 2 + 3 * 2
    default = fields_of(objects[0])
    assert default == {"scheduleType": "ONDEMAND", "failureAndRerunMode": "CASCADE", "role": "DataPipelineDefaultRole",
                       "resourceRole": "DataPipelineDefaultResourceRole", "pipelineLogUri": "s3://acme-ddb-backups/logs/"}
    (emr,) = by_type(objects, "EmrCluster")
    emr_fields = fields_of(emr)
    assert emr_fields["subnetId"] == "subnet-0abc"
    assert emr_fields["terminateAfter"] == "120 Minutes"  # the cluster's planned span of 7200 s
    assert "coreInstanceBidPrice" not in emr_fields and "taskInstanceType" not in emr_fields
    sources = by_type(objects, "DynamoDBDataNode")
    assert [fields_of(s)["tableName"] for s in sources] == ["table-000", "table-001"]
    assert {fields_of(s)["readThroughputPercent"] for s in sources} == {"0.67"}
    sinks = by_type(objects, "S3DataNode")
    assert fields_of(sinks[0])["directoryPath"] == \
        "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/table-000/2026-11-22-01-00-00/data/"
    activity = fields_of(by_type(objects, "EmrActivity")[0])
    jar, main_class, output, table, ratio = activity["step"].split(",")
    assert jar.startswith("s3://dynamodb-dpl-eu-west-1/") and jar.endswith("-jar-with-dependencies.jar")
    assert main_class == "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
    assert (output, table, ratio) == (fields_of(sinks[0])["directoryPath"], "table-000", "0.67")
    assert activity["maximumRetries"] == "2" and "onFail" not in activity
    assert [t.folder for t in definition.targets] == [
        "111111111111/eu-west-1/table-000/2026-11-22-01-00-00", "111111111111/eu-west-1/table-001/2026-11-22-01-00-00"]


def test_spot_nodes_alarm_window_and_on_demand_ratio():
    definition = build_definition(
        cluster(1, read_percentage=None),
        settings(core_instance_bid_price=0.1, task_instance_type="m5.2xlarge", task_instance_count=3,
                 task_instance_bid_price=0.2, sns_topic_arn="arn:aws:sns:eu-west-1:111111111111:backups",
                 window_s=25200, read_percentage=0.25, jar="s3://own/tools.jar",
                 main_class="com.example.Export", maximum_retries=0))
    emr = fields_of(by_type(definition.objects, "EmrCluster")[0])
    assert (emr["coreInstanceBidPrice"], emr["taskInstanceType"], emr["taskInstanceCount"],
            emr["taskInstanceBidPrice"], emr["terminateAfter"]) == ("0.1", "m5.2xlarge", "3", "0.2", "420 Minutes")
    (alarm,) = by_type(definition.objects, "SnsAlarm")
    activity = fields_of(by_type(definition.objects, "EmrActivity")[0])
    assert activity["onFail"] == alarm["id"]
    assert activity["step"].startswith("s3://own/tools.jar,com.example.Export,")
    assert activity["step"].endswith(",table-000,0.25") and activity["maximumRetries"] == "0"


@pytest.mark.parametrize(("max_objects", "tables"), [(100, 32), (500, 166)])
def test_object_limits(max_objects, tables):
    assert tables_per_pipeline(max_objects) == tables
    full = build_definition(cluster(tables), settings(max_objects=max_objects))
    assert len(full.objects) <= max_objects and len(full.targets) == tables
    with pytest.raises(InputError) as err:
        build_definition(cluster(tables + 1), settings(max_objects=max_objects))
    assert err.value.field == "cluster" and f"max_objects {max_objects}" in str(err.value)


def test_every_ref_resolves_and_ids_are_unique():
    objects = build_definition(cluster(32), settings(sns_topic_arn="arn:aws:sns:eu-west-1:1:t")).objects
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))
    refs = [f["refValue"] for o in objects for f in o["fields"] if "refValue" in f]
    assert refs and set(refs) <= set(ids)


def test_matches_the_golden_sample():
    objects = build_definition(cluster(2), settings(sns_topic_arn="arn:aws:sns:eu-west-1:111111111111:backups",
                                                    core_instance_bid_price=0.12)).objects
    assert objects == json.loads(GOLDEN.read_text())


def test_targets_read_back_from_objects():
    definition = build_definition(cluster(3), settings())
    assert targets_of(definition.objects, "s3://acme-ddb-backups/dynamodb/") == definition.targets
    with pytest.raises(InputError) as err:
        targets_of(definition.objects, "s3://elsewhere")
    assert err.value.field == "destination"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"service_role": ""}, "service_role"), ({"job_flow_role": ""}, "job_flow_role"),
    ({"read_percentage": 2.0}, "read_percentage"), ({"log_uri": ""}, "log_uri"),
    ({"task_instance_count": 2}, "task_instance_type"), ({"core_instance_count": 0}, "core_instance_count"),
    ({"destination": "s3://b/a,b"}, "destination"), ({"core_instance_bid_price": -1.0}, "core_instance_bid_price"),
])
def test_bad_settings_name_the_field(overrides, field):
    with pytest.raises(InputError) as err:
        build_definition(cluster(1), settings(**overrides))
    assert err.value.field == field


@pytest.mark.parametrize(("bad", "field"), [
    ({"id": "c01", "tables": []}, "cluster.tables"), ({"tables": [{"name": "aaa"}]}, "cluster.id"),
    ({"id": "c01", "tables": [{"name": "aaa"}, {"name": "aaa"}]}, "cluster.tables[1].name"),
    ({"id": "c01", "tables": [{"size_bytes": 1}]}, "cluster.tables[0].name"),
    ({"id": "c01", "tables": [{"name": "aaa", "read_percentage": 2}], "end_offset_s": 10},
     "cluster.tables[0].read_percentage"),
    ({"id": "c01", "tables": [{"name": "aaa"}]}, "window_s"),
])
def test_bad_clusters_name_the_field(bad, field):
    with pytest.raises(InputError) as err:
        build_definition(bad, settings())
    assert err.value.field == field


def test_local_validation_catches_what_moto_would_accept():
    good = build_definition(cluster(1), settings()).objects
    dangling = json.loads(json.dumps(good))
    dangling[-1]["fields"].append({"key": "onFail", "refValue": "NoSuchAlarm"})
    duplicate = [*good, good[-1]]
    missing = json.loads(json.dumps(good))
    missing[2]["fields"] = [f for f in missing[2]["fields"] if f["key"] != "tableName"]
    for objects, field in ((dangling, "Export001.onFail"), (duplicate, "pipelineObjects.id"),
                           (missing, "Source001.tableName"), (good[1:], "pipelineObjects.Default")):
        with pytest.raises(InputError) as err:
            validate_objects(objects)
        assert err.value.field == field
    with pytest.raises(InputError) as err:
        validate_objects(good, max_objects=4)
    assert err.value.field == "pipelineObjects"


def test_unique_id_is_stable_and_distinct():
    assert unique_id("2026-11-22", "c01") == unique_id("2026-11-22", "c01")
    assert unique_id("2026-11-22", "c01") != unique_id("2026-11-22", "c02")
    assert unique_id("2026-11-22", "c01") != unique_id("2026-11-23", "c01")
    assert unique_id("a", "c01").startswith("hippolyte-c01-")
