"""The Data Pipeline definition of one planned cluster: plain Python, no Ansible, no boto3.

One pipeline per planned cluster: a Default object, one EmrCluster, and per table three objects (a
DynamoDBDataNode, an EmrActivity running emr-dynamodb-tools' DynamoDBExport step, an S3DataNode
whose directoryPath is the table's backup folder's `data/`), plus an SnsAlarm when a topic is given.
Everything is checked here before it is sent, because the local stand-in does not validate.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_tool import (
    DEFAULT_JAR,
    DEFAULT_MAIN_CLASS,
    jar_in,
)

DEFAULT_SERVICE_ROLE = "DataPipelineDefaultRole"
DEFAULT_JOB_FLOW_ROLE = "DataPipelineDefaultResourceRole"
DEFAULT_RELEASE_LABEL = "emr-5.23.0"
DEFAULT_MAX_OBJECTS = 100  # Data Pipeline's default limit of objects per pipeline
SHARED_OBJECTS = 2  # Default and EmrCluster (an SnsAlarm, when configured, is a third)
OBJECTS_PER_TABLE = 3  # DynamoDBDataNode, EmrActivity, S3DataNode
MAX_READ_RATIO = 1.5  # DynamoDBExport accepts a read ratio up to 1.5 (the console's limit)

DEFAULT_ID = "Default"
CLUSTER_ID = "EmrClusterForBackup"
ALARM_ID = "FailureAlarm"

REQUIRED_FIELDS = {
    "Default": ("scheduleType", "failureAndRerunMode", "role", "resourceRole", "pipelineLogUri"),
    "EmrCluster": ("releaseLabel", "masterInstanceType", "coreInstanceType", "coreInstanceCount", "terminateAfter"),
    "DynamoDBDataNode": ("tableName", "readThroughputPercent"),
    "S3DataNode": ("directoryPath",),
    "EmrActivity": ("step", "runsOn", "input", "output", "maximumRetries"),
    "SnsAlarm": ("topicArn", "subject", "message", "role"),
}


def tables_per_pipeline(max_objects: int = DEFAULT_MAX_OBJECTS) -> int:
    """How many tables one pipeline holds: floor((max_objects - 2) / 3), the planner's rule."""
    return (max_objects - SHARED_OBJECTS) // OBJECTS_PER_TABLE


def unique_id(run_id: str, cluster_id: str) -> str:
    """CreatePipeline's uniqueId for one cluster of one run: the same inputs always give the same id."""
    digest = hashlib.sha256(f"{run_id}\0{cluster_id}".encode()).hexdigest()[:24]
    return f"hippolyte-{cluster_id}-{digest}"[:1024]


@dataclass
class PipelineSettings:
    """Everything a definition needs besides the planned cluster (fields named as datapipeline_backup's options)."""

    destination: str  # root of the backups, s3://bucket/prefix (file:// only in tests)
    account: str
    region: str
    taken_at: datetime  # the backup folders' timestamp
    service_role: str  # the pipeline's role (the definition's `role`)
    job_flow_role: str  # the EMR instances' profile (the definition's `resourceRole`)
    log_uri: str
    subnet_id: str | None = None
    release_label: str = DEFAULT_RELEASE_LABEL
    master_instance_type: str = "m5.xlarge"
    core_instance_type: str = "m5.xlarge"
    core_instance_count: int = 1
    core_instance_bid_price: float | None = None  # spot core nodes when set
    task_instance_type: str | None = None
    task_instance_count: int = 0
    task_instance_bid_price: float | None = None  # spot task nodes when set
    window_s: int | None = None  # terminateAfter; by default the cluster's planned span
    jar: str = DEFAULT_JAR
    main_class: str = DEFAULT_MAIN_CLASS
    maximum_retries: int = 2
    read_percentage: float = 0.5  # for on-demand tables, whose plan has no read_percentage
    sns_topic_arn: str | None = None
    max_objects: int = DEFAULT_MAX_OBJECTS

    def validate(self) -> None:
        for name in ("service_role", "job_flow_role", "log_uri", "account", "region"):
            if not getattr(self, name):
                raise InputError(name, "is required for a Data Pipeline definition",
                                 "see docs/engines-datapipeline.md for the roles and their policies")
        if "," in self.destination:
            raise InputError("destination", "must not contain a comma (it separates the export step's arguments)",
                             "choose a bucket prefix without commas")
        if self.max_objects < SHARED_OBJECTS + OBJECTS_PER_TABLE:
            raise InputError("max_objects", f"must be at least {SHARED_OBJECTS + OBJECTS_PER_TABLE}",
                             "Data Pipeline's default limit is 100")
        if self.core_instance_count < 1:
            raise InputError("core_instance_count", "must be at least 1", "")
        if self.task_instance_count < 0:
            raise InputError("task_instance_count", "must not be negative", "")
        if self.task_instance_count and not self.task_instance_type:
            raise InputError("task_instance_type", "is required when task_instance_count is above 0", "")
        if self.maximum_retries < 0:
            raise InputError("maximum_retries", "must not be negative", "")
        if not 0 < self.read_percentage <= MAX_READ_RATIO:
            raise InputError("read_percentage", f"must be in (0, {MAX_READ_RATIO}]", "")
        for name in ("core_instance_bid_price", "task_instance_bid_price"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InputError(name, "must be a positive price in USD per instance-hour", "or leave it unset")


@dataclass
class TableTarget:
    """One table of a definition and where its backup goes."""

    table: str
    folder: str  # <account>/<region>/<table>/<timestamp>, relative to the destination
    directory: str  # the S3DataNode's directoryPath
    read_ratio: float
    activity_id: str
    maximum_retries: int


@dataclass
class Definition:
    objects: list[dict[str, Any]]
    targets: list[TableTarget] = field(default_factory=list)


def _field(key: str, value: Any) -> dict[str, str]:
    return {"key": key, "stringValue": str(value)}


def _ref(key: str, object_id: str) -> dict[str, str]:
    return {"key": key, "refValue": object_id}


def _obj(object_id: str, name: str, kind: str | None, fields: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": object_id, "name": name, "fields": ([_field("type", kind)] if kind else []) + fields}


def _period(seconds: int) -> str:
    return f"{max(1, math.ceil(seconds / 60))} Minutes"


def build_definition(cluster: dict[str, Any] | PlannedCluster, settings: PipelineSettings) -> Definition:
    """The pipeline objects for one planned cluster, validated."""
    settings.validate()
    planned = PlannedCluster.from_json(cluster, engines=("datapipeline", "emr"),
                                       default_engine="datapipeline").require_tables()
    tables = planned.tables
    shared = SHARED_OBJECTS + (1 if settings.sns_topic_arn else 0)
    needed = shared + OBJECTS_PER_TABLE * len(tables)
    if needed > settings.max_objects:
        raise InputError("cluster", f"{len(tables)} tables need {needed} pipeline objects, above max_objects "
                         f"{settings.max_objects} (at most {(settings.max_objects - shared) // OBJECTS_PER_TABLE} "
                         "tables per pipeline)", "plan with the same max_objects, or raise the account's limit")
    span = settings.window_s or int(planned.end_offset_s - planned.start_offset_s)
    if span <= 0:
        raise InputError("window_s", "the cluster has no planned span to derive terminateAfter from",
                         "set window_s to the backup window in seconds")

    objects = [_obj(DEFAULT_ID, DEFAULT_ID, None, [
        _field("scheduleType", "ONDEMAND"), _field("failureAndRerunMode", "CASCADE"),
        _field("role", settings.service_role), _field("resourceRole", settings.job_flow_role),
        _field("pipelineLogUri", settings.log_uri)])]
    emr = [_field("releaseLabel", settings.release_label), _field("masterInstanceType", settings.master_instance_type),
           _field("coreInstanceType", settings.core_instance_type),
           _field("coreInstanceCount", settings.core_instance_count), _field("region", settings.region),
           _field("terminateAfter", _period(span))]
    if settings.subnet_id:
        emr.append(_field("subnetId", settings.subnet_id))
    if settings.core_instance_bid_price is not None:
        emr.append(_field("coreInstanceBidPrice", settings.core_instance_bid_price))
    if settings.task_instance_count:
        emr += [_field("taskInstanceType", settings.task_instance_type),
                _field("taskInstanceCount", settings.task_instance_count)]
        if settings.task_instance_bid_price is not None:
            emr.append(_field("taskInstanceBidPrice", settings.task_instance_bid_price))
    objects.append(_obj(CLUSTER_ID, f"EMR cluster for {planned.id}", "EmrCluster", emr))
    if settings.sns_topic_arn:
        objects.append(_obj(ALARM_ID, "Backup failure alarm", "SnsAlarm", [
            _field("topicArn", settings.sns_topic_arn), _field("role", settings.service_role),
            _field("subject", f"DynamoDB backup failed: #{{node.name}} ({planned.id})"),
            _field("message", "Activity #{node.name} failed: #{node.errorMessage}")]))

    jar = jar_in(settings.jar, settings.region)
    targets = []
    for index, table in enumerate(tables, start=1):
        name = table.name
        ratio = table.share(settings.read_percentage)
        if not 0 < ratio <= MAX_READ_RATIO:
            raise InputError(f"cluster.tables[{index - 1}].read_percentage",
                             f"must be in (0, {MAX_READ_RATIO}], got {ratio}", "")
        folder = backup_folder(settings.account, settings.region, name, settings.taken_at)
        directory = f"{url_under(settings.destination, join(folder, 'data'))}/"
        source, sink, activity = f"Source{index:03d}", f"Backup{index:03d}", f"Export{index:03d}"
        objects.append(_obj(source, f"{name} table", "DynamoDBDataNode", [
            _field("tableName", name), _field("readThroughputPercent", ratio)]))
        objects.append(_obj(sink, f"{name} backup folder", "S3DataNode", [_field("directoryPath", directory)]))
        step = ",".join([jar, settings.main_class, directory, name, str(ratio)])
        fields = [_field("step", step), _ref("runsOn", CLUSTER_ID), _ref("input", source), _ref("output", sink),
                  _field("maximumRetries", settings.maximum_retries), _field("resizeClusterBeforeRunning", "false")]
        if settings.sns_topic_arn:
            fields.append(_ref("onFail", ALARM_ID))
        objects.append(_obj(activity, f"Export {name}", "EmrActivity", fields))
        targets.append(TableTarget(name, folder, directory, ratio, activity, settings.maximum_retries))
    validate_objects(objects, settings.max_objects)
    return Definition(objects, targets)


def fields_of(obj: dict[str, Any]) -> dict[str, str]:
    """An object's fields as {key: value}, refs and strings alike."""
    return {f["key"]: f.get("stringValue", f.get("refValue")) for f in obj.get("fields", [])}


def validate_objects(objects: list[dict[str, Any]], max_objects: int = DEFAULT_MAX_OBJECTS) -> None:
    """What Data Pipeline would refuse, found before sending: each problem an InputError naming the field."""
    if len(objects) > max_objects:
        raise InputError("pipelineObjects", f"{len(objects)} objects, above max_objects {max_objects}",
                         "split the cluster into more pipelines")
    ids = [o.get("id") for o in objects]
    for index, object_id in enumerate(ids):
        if not object_id or not objects[index].get("name"):
            raise InputError(f"pipelineObjects[{index}].id", "every object needs an id and a name", "")
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError("pipelineObjects.id", f"ids are not unique: {', '.join(duplicates)}", "")
    known = set(ids)
    if DEFAULT_ID not in known:
        raise InputError("pipelineObjects.Default", "the Default object is missing", "")
    for obj in objects:
        for f in obj.get("fields", []):
            if ("stringValue" in f) == ("refValue" in f):
                raise InputError(f"{obj['id']}.{f.get('key')}", "needs exactly one of stringValue and refValue", "")
            if "refValue" in f and f["refValue"] not in known:
                raise InputError(f"{obj['id']}.{f['key']}", f"refers to {f['refValue']!r}, which is not defined", "")
        values = fields_of(obj)
        kind = "Default" if obj["id"] == DEFAULT_ID else values.get("type")
        if kind not in REQUIRED_FIELDS:
            raise InputError(f"{obj['id']}.type", f"unknown or missing object type {kind!r}", "")
        for key in REQUIRED_FIELDS[kind]:
            if values.get(key) in (None, ""):
                raise InputError(f"{obj['id']}.{key}", f"is required on a {kind}", "")


def targets_of(objects: list[dict[str, Any]], destination: str) -> list[TableTarget]:
    """The tables of an existing definition (as sent, or as GetPipelineDefinition returns it)."""
    by_id = {o["id"]: o for o in objects}
    root = destination.rstrip("/") + "/"
    targets = []
    for obj in objects:
        values = fields_of(obj)
        if values.get("type") != "EmrActivity":
            continue
        source = fields_of(by_id.get(values.get("input") or "", {}))
        sink = fields_of(by_id.get(values.get("output") or "", {}))
        directory = sink.get("directoryPath") or ""
        if not directory.startswith(root) or not source.get("tableName"):
            raise InputError("destination", f"activity {obj['id']} writes to {directory!r}, outside {root}",
                             "use the destination the pipeline was created with")
        folder = directory[len(root):].strip("/")
        folder = folder[: -len("/data")] if folder.endswith("/data") else folder
        targets.append(TableTarget(source["tableName"], folder, directory, float(source["readThroughputPercent"]),
                                   obj["id"], int(values.get("maximumRetries") or 0)))
    return targets
