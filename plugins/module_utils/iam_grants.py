"""Every IAM grant the collection's roles hold, each with the call that needs it: the one source of the
policies `roles/setup` creates (filter `iam_policies`) and of the grant tables in docs/security.md and
docs/setup.md (tools/iam_docs.py).

A grant belongs to a flow (a backup engine, a restore engine, the drill, retention, the lease, the run
summary) and an inline policy of the backup or the restore role. Policy names carry the region, so setting
up a second region of an account adds its policies beside the first region's instead of replacing them.
A grant whose call no client makes itself (AWS makes it on the caller's behalf, or authorizes a request
parameter as another action) says so in `implied`, with AWS's documented reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import InputError

BACKUP, RESTORE = "backup", "restore"
ENGINES = ("local", "export", "emr", "datapipeline")
# Tags the engines put on what they create (emr_job_flow.TAG_DESTINATION, pipeline_runner's unique id).
EMR_DESTINATION_TAG = "hippolyte:destination"
PIPELINE_TAG = "hippolyte:unique-id"
LEASE_FOLDER = "@hippolyte-lease"  # night/run_lease.LEASE_FOLDER
DRILL_TABLES = "*-drill-*"  # restoring/drill.scratch_name: <table>-drill-<YYYYMMDD>
DEFAULT_RESTORE_TABLES = ("*-restored-*",)  # the restore role's default target, <table>-restored-<time>

Conditions = Mapping[str, Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Grant:
    """Actions on resources (templates, see Scope.values), under conditions, and the calls that need them."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    needed_by: str
    conditions: Conditions = field(default_factory=dict)
    implied: str = ""  # why no client call shows it (AWS's documented reason); empty: a recorded call needs it
    # Actions only a failure makes (a flow that succeeds never does), each with that failure.
    on_failure: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Flow:
    """What one documented flow needs, in the inline policy `policy` of the `role`."""

    name: str
    role: str
    policy: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Scope:
    """What the policies of one account and region are about (the setup role's variables)."""

    partition: str
    account: str
    region: str
    bucket: str
    prefix: str  # the destination's key prefix, "" or ending with "/"
    destination: str  # s3://bucket/prefix, as the engines tag their clusters
    engines: tuple[str, ...] = ENGINES
    retention: bool = False
    drill: bool = False
    topic: str = "hippolyte-backup-runs"
    kms_key_arn: str = ""
    emr_roles: tuple[str, ...] = ("EMR_DefaultRole", "EMR_EC2_DefaultRole")
    pipeline_roles: tuple[str, ...] = ("DataPipelineDefaultRole", "DataPipelineDefaultResourceRole")
    restore_tables: tuple[str, ...] = DEFAULT_RESTORE_TABLES

    def validate(self) -> None:
        unknown = sorted(set(self.engines) - set(ENGINES))
        if unknown:
            raise InputError("hippolyte_setup.engines", f"{', '.join(unknown)} unknown", f"use {', '.join(ENGINES)}")
        if not self.restore_tables or any(not p or "/" in p for p in self.restore_tables):
            raise InputError("hippolyte_setup.restore_tables", f"{list(self.restore_tables)} must be table name "
                             "patterns without '/'", 'list names or globs, e.g. ["*-restored-*"], or ["*"] for any')

    def values(self) -> dict[str, str]:
        arn = f"arn:{self.partition}"
        return {"table": f"{arn}:dynamodb:{self.region}:{self.account}:table",
                "objects": f"{arn}:s3:::{self.bucket}/{self.prefix}*",
                "lease": f"{arn}:s3:::{self.bucket}/{self.prefix}{self.account}/{self.region}/{LEASE_FOLDER}/*",
                "bucket": f"{arn}:s3:::{self.bucket}", "prefix": self.prefix,
                "topic": f"{arn}:sns:{self.region}:{self.account}:{self.topic}",
                "cluster": f"{arn}:elasticmapreduce:{self.region}:{self.account}:cluster/*",
                "role": f"{arn}:iam::{self.account}:role", "region": self.region, "account": self.account,
                "destination": self.destination.rstrip("/")[:256], "kms_key": self.kms_key_arn,
                "logs": f"{arn}:logs:{self.region}:{self.account}:log-group:/aws-dynamodb/*"}


def _ddb(*actions: str) -> tuple[str, ...]:
    return tuple(f"dynamodb:{a}" for a in actions)


# The backup prefix may be listed only below the destination; HeadBucket (the writability check) carries no
# s3:prefix at all, so the key is required only when present (a listing without Prefix carries "").
LIST_PREFIX: Conditions = {"StringLikeIfExists": {"s3:prefix": ["{prefix}*"]}}
REGION_ONLY: Conditions = {"StringEquals": {"aws:RequestedRegion": ["{region}"]}}
LIST_BACKUPS = Grant("ListBackups", ("s3:ListBucket",), ("{bucket}",),
                     "HeadBucket (the writability check), ListObjectsV2 under the destination (catalog, resume)",
                     LIST_PREFIX)
READ_BACKUPS = Grant("ReadBackups", ("s3:GetObject",), ("{objects}",),
                     "GetObject of manifests and data files (find, verify and read a backup)")
READ_SCHEMA = Grant("ReadTableDefinitions",
                    _ddb("DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource",
                         "GetResourcePolicy", "DescribeContributorInsights", "DescribeKinesisStreamingDestination"),
                    ("{table}/*",), "DescribeTable, DescribeTimeToLive, DescribeContinuousBackups, "
                    "ListTagsOfResource, GetResourcePolicy, DescribeContributorInsights, "
                    "DescribeKinesisStreamingDestination: the schema and settings a manifest captures, the capacity "
                    "records in tags")

# The settings a restore puts on the table it created, after the load (restoring/table_settings.py); each only
# when the backup captured it, and a refused one is reported as not restored rather than failing the restore.
# Autoscaling is not granted: RegisterScalableTarget cannot be limited to the restored tables, and the restore
# role must not move production's scaling; a restore of an autoscaled table reports it refused (not_restored).
RESTORE_SETTINGS = Grant("RestoreTableSettings",
                         _ddb("UpdateContinuousBackups", "UpdateContributorInsights", "PutResourcePolicy",
                              "EnableKinesisStreamingDestination"), ("{restore_tables}",),
                         "UpdateContinuousBackups (PITR), UpdateContributorInsights, PutResourcePolicy, "
                         "EnableKinesisStreamingDestination (restore_streaming): the settings captured at backup time")
FLOWS: tuple[Flow, ...] = (
    Flow("plan and boost", BACKUP, "backup-local", (
        Grant("DiscoverTables", _ddb("ListTables", "DescribeLimits"), ("*",),
              "ListTables (discovery), DescribeLimits (the account's capacity limits); neither names a table",
              REGION_ONLY),
        READ_SCHEMA,
        Grant("BoostAndPutBack", _ddb("UpdateTable", "TagResource", "UntagResource"), ("{table}/*",),
              "TagResource (the capacity record, first), UpdateTable (boost, put back), UntagResource (record done)"),
        Grant("AutoscaledTables", ("application-autoscaling:DescribeScalableTargets",
                                   "application-autoscaling:RegisterScalableTarget",
                                   "application-autoscaling:DescribeScalingPolicies"), ("*",),
              "DescribeScalableTargets, RegisterScalableTarget: an autoscaled table's minimum raised and put back; "
              "DescribeScalingPolicies: the policies a manifest captures", REGION_ONLY),
    )),
    # Always present: every engine plans with it, and writes its claims and manifests with WriteBackups.
    Flow("backup local", BACKUP, "backup-local", (
        Grant("ScanTables", _ddb("Scan"), ("{table}/*",), "Scan (the local engine's parallel segments)"),
        Grant("WriteBackups", ("s3:PutObject", "s3:AbortMultipartUpload"), ("{objects}",),
              "PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload (claim, data, manifest; "
              "every engine's claims and manifests), AbortMultipartUpload",
              on_failure={"s3:AbortMultipartUpload": "a backup that fails mid-upload aborts its open upload"}),
        READ_BACKUPS, LIST_BACKUPS,
    )),
    Flow("lease", BACKUP, "backup-local", (
        Grant("RunLease", ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"), ("{lease}",),
              "PutObject If-None-Match (take), GetObject (read the holder), DeleteObjects (release, older "
              "generations): only under <account>/<region>/@hippolyte-lease/"),
    )),
    Flow("notification", BACKUP, "notify", (
        Grant("RunSummaries", ("sns:Publish",), ("{topic}",), "Publish (the run summary)"),
    )),
    Flow("drill", BACKUP, "drill", (
        Grant("DrillScratch", _ddb("CreateTable", "DescribeTable", "BatchWriteItem", "Scan", "UpdateTimeToLive",
                                   "TagResource", "UpdateTable", "DeleteTable"), ("{table}/" + DRILL_TABLES,),
              "CreateTable, UpdateTimeToLive and TagResource (the backup's schema), DescribeTable (wait), "
              "BatchWriteItem (load), Scan (count and compare), UpdateTable (deletion protection off), DeleteTable: "
              "only the drill's own scratch tables <table>-drill-<YYYYMMDD>"),
    )),
    Flow("retention", BACKUP, "retention", (
        Grant("PruneBackups", ("s3:DeleteObject",), ("{objects}",),
              "DeleteObjects (backup_info state=pruned: folders the retention policy removes)"),
    )),
    Flow("backup export", BACKUP, "backup-export", (
        Grant("Export", _ddb("ExportTableToPointInTime"), ("{table}/*",), "ExportTableToPointInTime"),
        Grant("WatchExports", _ddb("DescribeExport"), ("{table}/*/export/*",), "DescribeExport"),
        Grant("FindRunningExports", _ddb("ListExports"), ("*",), "ListExports (a rerun finds the night's exports)",
              REGION_ONLY),
        Grant("ExportWrites", ("s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"), ("{objects}",),
              "DynamoDB writing the export files", implied="DynamoDB writes an export's files with the "
              "caller's permissions, which need s3:AbortMultipartUpload, s3:PutObject and s3:PutObjectAcl "
              "on the destination (DynamoDB developer guide, Requesting a table export)"),
    )),
    Flow("backup emr", BACKUP, "backup-emr", (
        Grant("StartTaggedClusters", ("elasticmapreduce:RunJobFlow",), ("*",),
              "RunJobFlow, only with the hippolyte:destination tag of this destination",
              {"StringEquals": {f"aws:RequestTag/{EMR_DESTINATION_TAG}": ["{destination}"]}}),
        Grant("TagOnCreate", ("elasticmapreduce:AddTags",), ("{cluster}",), "RunJobFlow's Tags",
              {"StringEquals": {f"aws:RequestTag/{EMR_DESTINATION_TAG}": ["{destination}"]}},
              implied="EMR authorizes the Tags of RunJobFlow as elasticmapreduce:AddTags (EMR management "
              "guide, tag-based access control)"),
        Grant("FindClusters", ("elasticmapreduce:ListClusters",), ("*",),
              "ListClusters (a rerun finds the night's cluster)", REGION_ONLY),
        Grant("OwnClustersOnly", ("elasticmapreduce:DescribeCluster", "elasticmapreduce:ListSteps",
                                  "elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:TerminateJobFlows"),
              ("{cluster}",), "DescribeCluster, ListSteps (watch), AddJobFlowSteps (a table's export step), "
              "TerminateJobFlows: only clusters tagged for this destination",
              {"StringEquals": {f"aws:ResourceTag/{EMR_DESTINATION_TAG}": ["{destination}"]}},
              on_failure={"elasticmapreduce:AddJobFlowSteps": "a table's failed step is retried on the cluster"}),
        Grant("PassEmrRoles", ("iam:PassRole",), ("{role}/{emr_service_role}", "{role}/{emr_job_flow_role}"),
              "RunJobFlow's ServiceRole and JobFlowRole",
              {"StringEquals": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com", "ec2.amazonaws.com"]}},
              implied="passing a role to a service is authorized as iam:PassRole on the role, a check no "
              "request of its own (IAM user guide, granting a user permissions to pass a role)"),
    )),
    Flow("backup datapipeline", BACKUP, "backup-datapipeline", (
        Grant("CreateTaggedPipelines", ("datapipeline:CreatePipeline",), ("*",),
              "CreatePipeline, only with the hippolyte:unique-id tag",
              {"Null": {f"aws:RequestTag/{PIPELINE_TAG}": ["false"]}}),
        Grant("TagPipelineOnCreate", ("datapipeline:AddTags",), ("*",), "CreatePipeline's tags",
              {"Null": {f"aws:RequestTag/{PIPELINE_TAG}": ["false"]}},
              implied="Data Pipeline authorizes the tags of CreatePipeline as datapipeline:AddTags (Data Pipeline "
              "developer guide, controlling access to pipelines with tags)"),
        Grant("FindPipelines", ("datapipeline:ListPipelines",), ("*",), "ListPipelines (a rerun finds its pipeline)"),
        Grant("OwnPipelinesOnly", ("datapipeline:DescribePipelines", "datapipeline:GetPipelineDefinition",
                                   "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline",
                                   "datapipeline:QueryObjects", "datapipeline:DescribeObjects",
                                   "datapipeline:DeletePipeline"), ("*",),
              "DescribePipelines, Get/PutPipelineDefinition, ActivatePipeline, QueryObjects, DescribeObjects, "
              "DeletePipeline: only pipelines carrying the hippolyte:unique-id tag",
              {"Null": {f"datapipeline:Tag/{PIPELINE_TAG}": ["false"]}}),
        Grant("PassPipelineRoles", ("iam:PassRole",), ("{role}/{pipeline_role}", "{role}/{pipeline_resource_role}"),
              "PutPipelineDefinition's role and resourceRole",
              {"StringEquals": {"iam:PassedToService": ["datapipeline.amazonaws.com"]}},
              implied="passing a role to a service is authorized as iam:PassRole on the role, a check no "
              "request of its own (IAM user guide, granting a user permissions to pass a role)"),
        Grant("BucketEncryption", ("s3:GetEncryptionConfiguration",), ("{bucket}",),
              "GetBucketEncryption (Data Pipeline writes with the bucket's default encryption)"),
    )),
    Flow("backup kms", BACKUP, "kms", (
        Grant("BackupKey", ("kms:GenerateDataKey", "kms:Decrypt"), ("{kms_key}",), "S3 objects under SSE-KMS",
              implied="S3 calls kms:GenerateDataKey (writes) and kms:Decrypt (reads, multipart uploads) with the "
              "caller's permissions (S3 user guide, SSE-KMS permissions)"),
    )),
    Flow("restore load", RESTORE, "restore", (
        Grant("RestoreTables", _ddb("CreateTable", "DescribeTable", "BatchWriteItem", "Scan", "UpdateTimeToLive",
                                    "TagResource", "ListTagsOfResource", "UpdateTable", "UntagResource"),
              ("{restore_tables}",), "CreateTable, UpdateTimeToLive and TagResource (the backup's schema, the "
              "restored-from marker), DescribeTable (wait), BatchWriteItem (load), Scan (verify count, compare), "
              "ListTagsOfResource (a target's marker), TagResource, UpdateTable and UntagResource (write_capacity "
              "boost, recorded and put back)"),
        Grant("CapacityLimits", _ddb("DescribeLimits"), ("*",),
              "DescribeLimits (a write_capacity boost stays within the account's limits)", REGION_ONLY),
        READ_BACKUPS, LIST_BACKUPS,
        RESTORE_SETTINGS,
    )),
    Flow("restore import", RESTORE, "restore", (
        Grant("Import", _ddb("ImportTable"), ("{restore_tables}",), "ImportTable"),
        RESTORE_SETTINGS,
        Grant("WatchImports", _ddb("DescribeImport"), ("{restore_tables}/import/*",), "DescribeImport"),
        Grant("FindImports", _ddb("ListImports"), ("*",), "ListImports (a rerun finds its import)", REGION_ONLY),
        Grant("ImportReads", ("s3:GetObject", "s3:ListBucket"), ("{bucket}", "{objects}"),
              "DynamoDB reading the import's source", implied="ImportTable reads the source objects with the "
              "caller's s3:GetObject and s3:ListBucket (DynamoDB developer guide, import from S3: permissions)"),
        Grant("ImportLogs", ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                             "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:PutRetentionPolicy"), ("{logs}",),
              "ImportTable's error log", implied="ImportTable writes its errors to CloudWatch Logs "
              "/aws-dynamodb/imports with the caller's permissions (DynamoDB developer guide, import from S3)"),
    )),
    Flow("restore compare", RESTORE, "restore", (READ_BACKUPS,)),
    Flow("restore kms", RESTORE, "kms", (
        Grant("BackupKey", ("kms:Decrypt",), ("{kms_key}",), "S3 objects under SSE-KMS",
              implied="S3 calls kms:Decrypt with the caller's permissions to read an SSE-KMS object (S3 user "
              "guide, SSE-KMS permissions)"),
    )),
)


def flow_present(flow: Flow, scope: Scope) -> bool:
    """Whether setup grants this flow for this scope (an engine left out, retention off, no KMS: absent)."""
    engine = flow.name.removeprefix("backup ")
    if engine in ENGINES:
        return engine in scope.engines
    if flow.name in ("retention", "drill"):
        return bool(getattr(scope, flow.name))
    if flow.name.endswith(" kms"):
        return bool(scope.kms_key_arn)
    return True


def policy_name(flow_policy: str, region: str) -> str:
    return f"hippolyte-{flow_policy}-{region}"


def _fill(template: str, values: Mapping[str, str], scope: Scope) -> list[str]:
    if template.startswith("{restore_tables}"):
        return [values["table"] + "/" + pattern + template.removeprefix("{restore_tables}")
                for pattern in scope.restore_tables]
    extra = {"emr_service_role": scope.emr_roles[0], "emr_job_flow_role": scope.emr_roles[1],
             "pipeline_role": scope.pipeline_roles[0], "pipeline_resource_role": scope.pipeline_roles[1]}
    return [template.format(**values, **extra)]


def statement(grant: Grant, scope: Scope) -> dict[str, Any]:
    values = scope.values()
    resources = [r for template in grant.resources for r in _fill(template, values, scope)]
    doc: dict[str, Any] = {"Sid": grant.sid, "Effect": "Allow", "Action": sorted(grant.actions),
                           "Resource": resources[0] if len(resources) == 1 else resources}
    if grant.conditions:
        doc["Condition"] = {op: {key: [v.format(**values) for v in vals] for key, vals in keys.items()}
                            for op, keys in grant.conditions.items()}
    return doc


def policies(scope: Scope) -> list[dict[str, Any]]:
    """Every inline policy setup manages for this scope: role, name, document (None: to be removed)."""
    scope.validate()
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    present: dict[tuple[str, str], bool] = {}
    for flow in FLOWS:
        key = (flow.role, flow.policy)
        out.setdefault(key, [])
        present[key] = present.get(key, False) or flow_present(flow, scope)
        if flow_present(flow, scope):
            for grant in flow.grants:
                doc = statement(grant, scope)
                if doc["Sid"] not in {s["Sid"] for s in out[key]}:
                    out[key].append(doc)
    return [{"role": role, "name": policy_name(policy, scope.region),
             "document": {"Version": "2012-10-17", "Statement": out[(role, policy)]} if present[(role, policy)]
             else None} for role, policy in out]


# The names setup used before policies carried their region: removed so no grant of them outlives the change.
LEGACY_POLICIES = {BACKUP: ("hippolyte-backup-local", "hippolyte-backup-export", "hippolyte-backup-emr",
                            "hippolyte-backup-datapipeline", "hippolyte-notify", "hippolyte-kms"),
                   RESTORE: ("hippolyte-restore", "hippolyte-kms")}


def trust_policy(principals: Sequence[str], external_id: str) -> dict[str, Any]:
    """Who may assume the roles: the named principals, with the external id required when one is set."""
    doc: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
    if external_id:
        doc["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [doc]}


def scope_of(values: Mapping[str, Any]) -> Scope:
    """The scope from the setup role's variables (names as the Scope's fields)."""
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return Scope(**fields)


def compact(document: Mapping[str, Any]) -> str:
    """A policy as IAM stores it without whitespace (what counts against a role's inline policy quota)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)
