"""The RunJobFlow request that backs up one planned cluster (docs/planning.md) on Amazon EMR.

One job flow per planned cluster: one DynamoDBExport step per table, in plan order, each writing
into its table's backup folder `<destination>/<account>/<region>/<table>/<timestamp>/data/`. Steps
continue past a failed table (ActionOnFailure CONTINUE) and the cluster terminates itself when the
last step ends (KeepJobFlowAliveWhenNoSteps false). Everything is validated here, before any AWS call.

Plain Python: no Ansible, no boto3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_name, folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_tool import DEFAULT_MAIN_CLASS, jar_in

DEFAULT_SERVICE_ROLE = "EMR_DefaultRole"
DEFAULT_JOB_FLOW_ROLE = "EMR_EC2_DefaultRole"
DEFAULT_RELEASE_LABEL = "emr-5.36.2"  # Hadoop 2, which the 4.11.0 tools jar is built for
MAX_ACTIVE_STEPS = 256  # EMR's limit of pending plus running steps per cluster
STEP_NAME_PREFIX = "hippolyte-export "
NAME_PREFIX = "hippolyte"

# Tags that identify a run's cluster, so a second run finds it instead of starting another.
TAG_RUN = "hippolyte:run-id"
TAG_CLUSTER = "hippolyte:cluster-id"
TAG_TAKEN_AT = "hippolyte:taken-at"
TAG_DESTINATION = "hippolyte:destination"

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class SpotSettings:
    """Spot capacity: core nodes on spot, and/or extra task nodes on spot."""

    core: bool = False
    task_count: int = 0
    task_instance_type: str | None = None  # defaults to the core instance type
    bid_price: str | None = None  # USD per hour; None caps at the on-demand price


@dataclass(frozen=True)
class JobFlowSettings:
    run_id: str
    destination: str  # s3://bucket/prefix, the backups' root
    account: str
    region: str
    subnet_id: str | None
    taken_at: datetime  # the backup folders' timestamp, shared by every table of the cluster
    release_label: str = DEFAULT_RELEASE_LABEL
    service_role: str = DEFAULT_SERVICE_ROLE
    job_flow_role: str = DEFAULT_JOB_FLOW_ROLE
    log_uri: str | None = None
    master_instance_type: str = "m5.xlarge"
    core_instance_type: str = "m5.xlarge"
    core_instance_count: int = 1
    spot: SpotSettings = field(default_factory=SpotSettings)
    jar: str | None = None  # None: export_tool's DEFAULT_JAR for the region
    main_class: str = DEFAULT_MAIN_CLASS
    read_percentage: float = 0.5  # for tables the plan gives no read percentage (on-demand)
    max_steps: int = MAX_ACTIVE_STEPS
    maximum_retries: int = 2  # new steps for a failed table while its cluster is still up
    tags: dict[str, str] = field(default_factory=dict)
    sse: str | None = None  # AES256 | aws:kms: how EMRFS asks S3 to encrypt what the steps write
    kms_key_id: str | None = None

    @property
    def jar_url(self) -> str:
        return jar_in(self.jar, self.region)


@dataclass(frozen=True)
class PlannedStep:
    table: str
    read_ratio: float
    folder: str  # backup folder relative to the destination
    output: str  # the step's output URL: <destination>/<folder>/data/


def job_flow_name(run_id: str, cluster_id: str) -> str:
    return f"{NAME_PREFIX}-{run_id}-{cluster_id}"


def format_ratio(ratio: float) -> str:
    return f"{ratio:.4f}".rstrip("0").rstrip(".")


def _in_unit_interval(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1


def _validate_settings(s: JobFlowSettings) -> None:
    if not s.subnet_id:
        raise InputError("subnet_id", "EMR needs a subnet to start the cluster in",
                         "give the id of a subnet (subnet-...) with a route to DynamoDB and S3")
    if not str(s.subnet_id).startswith("subnet-"):
        raise InputError("subnet_id", f"{s.subnet_id!r} is not a subnet id", "use an id like subnet-0abc1234")
    if not s.run_id or not _ID.match(s.run_id):
        raise InputError("run_id", f"{s.run_id!r} is not a run id",
                         "use 1 to 64 letters, digits, dots, dashes or underscores")
    if not s.destination.startswith("s3://") or len(s.destination.rstrip("/")) <= len("s3://"):
        raise InputError("destination", f"{s.destination!r} is not an s3:// URL",
                         "EMR writes to S3 only: use s3://bucket/prefix (the local engine writes to file://)")
    if not s.region:
        raise InputError("region", "the region is unknown", "set region (or AWS_REGION)")
    if not s.account:
        raise InputError("account_id", "the account of the backup path is unknown", "set account_id")
    if not s.release_label.startswith("emr-"):
        raise InputError("release_label", f"{s.release_label!r} is not an EMR release label", "use e.g. emr-5.36.2")
    for name in ("service_role", "job_flow_role", "master_instance_type", "core_instance_type", "main_class"):
        if not getattr(s, name):
            raise InputError(name, "must not be empty", "give a value or leave the option out for its default")
    if s.log_uri is not None and not s.log_uri.startswith("s3://"):
        raise InputError("log_uri", f"{s.log_uri!r} is not an s3:// URL", "use s3://bucket/prefix for EMR's logs")
    if s.core_instance_count < 1:
        raise InputError("core_instance_count", f"must be at least 1, got {s.core_instance_count}",
                         "the export runs on core nodes")
    if s.spot.task_count < 0:
        raise InputError("spot.task_count", f"must be 0 or more, got {s.spot.task_count}", "")
    if s.spot.bid_price is not None:
        try:
            if float(s.spot.bid_price) <= 0:
                raise ValueError
        except ValueError as exc:
            raise InputError("spot.bid_price", f"{s.spot.bid_price!r} is not a price in USD",
                             "use e.g. '0.10', or leave it out to cap at the on-demand price") from exc
    if not _in_unit_interval(s.read_percentage):
        raise InputError("read_percentage", f"must be in (0, 1], got {s.read_percentage}", "")
    if not 1 <= s.max_steps <= MAX_ACTIVE_STEPS:
        raise InputError("max_steps", f"must be in [1, {MAX_ACTIVE_STEPS}], got {s.max_steps}",
                         f"EMR allows at most {MAX_ACTIVE_STEPS} active steps per cluster")
    if not 0 <= s.maximum_retries <= 10:
        raise InputError("maximum_retries", f"must be in [0, 10], got {s.maximum_retries}", "")
    if not s.jar_url.startswith("s3://") and not s.jar_url.startswith("/"):
        raise InputError("jar", f"{s.jar_url!r} is neither an s3:// URL nor a path on the cluster", "")


def plan_steps(cluster: Any, s: JobFlowSettings) -> list[PlannedStep]:
    """The export steps of a planned cluster, in plan order; every table checked."""
    planned = PlannedCluster.from_json(cluster, engines=("emr", "datapipeline"), default_engine="emr").require_tables()
    if len(planned.tables) > s.max_steps:
        raise InputError("cluster.tables", f"cluster {planned.id} has {len(planned.tables)} tables, more than the "
                         f"{s.max_steps} steps an EMR cluster may hold",
                         f"plan with emr_max_steps at most {s.max_steps}")
    steps: list[PlannedStep] = []
    for table in planned.tables:
        folder = backup_folder(s.account, s.region, table.name, s.taken_at)
        output = f"{url_under(s.destination, join(folder, 'data'))}/"
        steps.append(PlannedStep(table.name, table.share(s.read_percentage), folder, output))
    return steps


def _instance_groups(s: JobFlowSettings) -> list[dict[str, Any]]:
    def group(name: str, role: str, itype: str, count: int, spot: bool) -> dict[str, Any]:
        out = {"Name": name, "InstanceRole": role, "InstanceType": itype, "InstanceCount": count,
               "Market": "SPOT" if spot else "ON_DEMAND"}
        if spot and s.spot.bid_price is not None:
            out["BidPrice"] = str(s.spot.bid_price)
        return out

    groups = [group("master", "MASTER", s.master_instance_type, 1, False),
              group("core", "CORE", s.core_instance_type, s.core_instance_count, s.spot.core)]
    if s.spot.task_count:
        groups.append(group("task-spot", "TASK", s.spot.task_instance_type or s.core_instance_type,
                            s.spot.task_count, True))
    return groups


def step_request(step: PlannedStep, s: JobFlowSettings) -> dict[str, Any]:
    # Args layout is fixed (output, table, ratio): monitoring maps a step back to its table by Args[1].
    return {"Name": (STEP_NAME_PREFIX + step.table)[:256], "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {"Jar": s.jar_url, "MainClass": s.main_class,
                              "Args": [step.output, step.table, format_ratio(step.read_ratio)]}}


def build_job_flow(cluster: Any, settings: JobFlowSettings) -> tuple[dict[str, Any], list[PlannedStep]]:
    """The RunJobFlow request for one planned cluster, and its steps; raises InputError on bad input."""
    _validate_settings(settings)
    steps = plan_steps(cluster, settings)
    cid = PlannedCluster.from_json(cluster).id
    tags = {**settings.tags, TAG_RUN: settings.run_id, TAG_CLUSTER: cid,
            TAG_TAKEN_AT: folder_name(settings.taken_at),
            TAG_DESTINATION: destination_tag(settings.destination)}
    request: dict[str, Any] = {
        "Name": job_flow_name(settings.run_id, cid),
        "ReleaseLabel": settings.release_label,
        "Applications": [{"Name": "Hadoop"}],
        "Instances": {"InstanceGroups": _instance_groups(settings), "Ec2SubnetId": settings.subnet_id,
                      "KeepJobFlowAliveWhenNoSteps": False, "TerminationProtected": False},
        "Steps": [step_request(step, settings) for step in steps],
        "ServiceRole": settings.service_role,
        "JobFlowRole": settings.job_flow_role,
        "VisibleToAllUsers": True,
        "Tags": [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())],
    }
    if settings.log_uri:
        request["LogUri"] = settings.log_uri
    if settings.sse:
        request["Configurations"] = [{"Classification": "emrfs-site", "Properties": emrfs_encryption(settings)}]
    return request, steps


def emrfs_encryption(settings: JobFlowSettings) -> dict[str, str]:
    """EMRFS's properties for S3 server-side encryption of every object the cluster writes."""
    properties = {"fs.s3.enableServerSideEncryption": "true"}
    if settings.sse == "aws:kms":
        properties["fs.s3.serverSideEncryption.kms.keyId"] = settings.kms_key_id or "alias/aws/s3"
    return properties


def destination_tag(destination: str) -> str:
    return destination.rstrip("/")[:256]


def taken_at_from_tags(tags: list[dict[str, str]]) -> datetime | None:
    value = {t.get("Key"): t.get("Value") for t in tags}.get(TAG_TAKEN_AT)
    if not value:
        return None
    return folder_time(value)
