"""Every IAM grant the collection's roles hold, each with the call that needs it: the one source of the
policies `roles/setup` creates (filter `iam_policies`) and of the grant tables in docs/security.md and
docs/setup.md (tools/iam_docs.py).

A grant belongs to a flow (a backup engine, a restore engine, the drill, retention, the lease, the run
summary) and a group of the backup or the restore role (`policies`). Setup packs each role's groups of a
region into customer managed policies (`managed_policies`), named with the region, so setting up a second
region of an account adds its policies beside the first region's instead of replacing them, and a role's
grants are not bound by IAM's 10,240-character quota on all inline policies of one role.
A grant whose call no client makes itself (AWS makes it on the caller's behalf, or authorizes a request
parameter as another action) says so in `implied`, with AWS's documented reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

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
    stage_to: str = ""  # s3://bucket/prefix an import restore stages to (backup_restore stage_to); "" for none
    undelete_tables: tuple[str, ...] = ()  # live tables backup_undelete may write items back into; none by default
    object_lock: bool = False  # hippolyte_object_lock: backups written locked, retention reading the locks

    def validate(self) -> None:
        unknown = sorted(set(self.engines) - set(ENGINES))
        if unknown:
            raise InputError("hippolyte_setup.engines", f"{', '.join(unknown)} unknown", f"use {', '.join(ENGINES)}")
        if any(not p or "/" in p for p in self.undelete_tables):
            raise InputError("hippolyte_setup.undelete_tables", f"{list(self.undelete_tables)} must be table name "
                             "patterns without '/'", 'list the live tables to repair, e.g. ["orders"]')
        if not self.restore_tables or any(not p or "/" in p for p in self.restore_tables):
            raise InputError("hippolyte_setup.restore_tables", f"{list(self.restore_tables)} must be table name "
                             "patterns without '/'", 'list names or globs, e.g. ["*-restored-*"], or ["*"] for any')
        if self.stage_to:
            stage_bucket, stage_prefix = self._stage()
            if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", stage_bucket):
                raise InputError("hippolyte_setup.stage_to", f"{self.stage_to!r} is not s3://bucket/prefix",
                                 "write the staging location as backup_restore's stage_to takes it")
            if stage_bucket == self.bucket and (stage_prefix.startswith(self.prefix)
                                                or self.prefix.startswith(stage_prefix)):
                raise InputError("hippolyte_setup.stage_to", f"{self.stage_to} overlaps the destination "
                                 f"s3://{self.bucket}/{self.prefix}: the restore role would write where backups are",
                                 "stage to another bucket, or to a prefix beside the destination's")

    def _stage(self) -> tuple[str, str]:
        """The staging bucket and key prefix ("" or ending with "/")."""
        bucket, _slash, prefix = self.stage_to.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""

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
                "logs": f"{arn}:logs:{self.region}:{self.account}:log-group:/aws-dynamodb/*",
                "stage_bucket": f"{arn}:s3:::{self._stage()[0]}", "stage_prefix": self._stage()[1],
                "stage_objects": f"{arn}:s3:::{self._stage()[0]}/{self._stage()[1]}*"}


def _ddb(*actions: str) -> tuple[str, ...]:
    return tuple(f"dynamodb:{a}" for a in actions)


# The backup prefix may be listed only below the destination; HeadBucket (the writability check) carries no
# s3:prefix at all, so the key is required only when present (a listing without Prefix carries "").
LIST_PREFIX: Conditions = {"StringLikeIfExists": {"s3:prefix": ["{prefix}*"]}}
REGION_ONLY: Conditions = {"StringEquals": {"aws:RequestedRegion": ["{region}"]}}
# The backup role writes new objects only: PutObject and CompleteMultipartUpload (s3:ObjectCreationOperation
# true) must carry If-None-Match; CreateMultipartUpload and UploadPart (false) accept no conditional header and
# create no object (S3 user guide, enforce conditional writes).
WRITE_NEW_ONLY: Conditions = {"Null": {"s3:if-none-match": ["false"]}}
UPLOAD_STEPS: Conditions = {"Bool": {"s3:ObjectCreationOperation": ["false"]}}
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
    # Always present: every engine plans with it, and writes its claims and manifests with WriteNewBackups.
    Flow("backup local", BACKUP, "backup-local", (
        Grant("ScanTables", _ddb("Scan"), ("{table}/*",), "Scan (the local engine's parallel segments)"),
        Grant("WriteNewBackups", ("s3:PutObject",), ("{objects}",),
              "PutObject, CompleteMultipartUpload, both with If-None-Match: * (claim, data, manifest; every "
              "engine's claims and manifests): new objects only, never one replaced", WRITE_NEW_ONLY),
        Grant("UploadParts", ("s3:PutObject",), ("{objects}",),
              "CreateMultipartUpload, UploadPart (a data file's parts, made an object only by the conditional "
              "CompleteMultipartUpload)", UPLOAD_STEPS),
        Grant("AbortUploads", ("s3:AbortMultipartUpload",), ("{objects}",), "AbortMultipartUpload",
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
              "DeleteObjects (backup_prune: folders the retention policy removes)"),
        Grant("PruneAroundLocks", ("s3:GetBucketObjectLockConfiguration",), ("{bucket}",),
              "GetObjectLockConfiguration (backup_prune: whether the folders it deletes may be locked)"),
    )),
    # Only with hippolyte_object_lock. Legal holds (backup_hold) are granted to no role: an operator's decision.
    Flow("object lock", BACKUP, "backup-local", (
        Grant("LockedBucket", ("s3:GetBucketObjectLockConfiguration",), ("{bucket}",),
              "GetObjectLockConfiguration (a locked night checks the bucket has Object Lock)"),
        Grant("LockNewBackups", ("s3:PutObjectRetention",), ("{objects}",),
              "PutObject and CreateMultipartUpload with ObjectLockMode and ObjectLockRetainUntilDate",
              implied="S3 authorizes the object lock headers of PutObject and CreateMultipartUpload as "
              "s3:PutObjectRetention (S3 user guide, Object Lock, required permissions)"),
        Grant("ReadLocks", ("s3:GetObjectRetention", "s3:GetObjectLegalHold"), ("{objects}",),
              "HeadObject of each object of a folder backup_prune would delete (its lock and legal hold)",
              implied="HeadObject answers an object's retention and legal hold only to a caller allowed "
              "s3:GetObjectRetention and s3:GetObjectLegalHold (S3 API reference, HeadObject)"),
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
    # Only with hippolyte_setup.stage_to: the staged copy an import restore writes, reuses and imports from.
    Flow("restore import staged", RESTORE, "restore", (
        Grant("StageCopies", ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"), ("{stage_objects}",),
              "HeadObject, GetObject (the staging marker: a complete staged copy is reused), PutObject (the marker, "
              "rewritten once complete; the staged parts), CreateMultipartUpload, UploadPart, "
              "CompleteMultipartUpload, and ImportTable reading the staged copy with the caller's s3:GetObject",
              on_failure={"s3:AbortMultipartUpload": "a staging that fails mid-upload aborts its open upload"}),
        Grant("ListStaging", ("s3:ListBucket",), ("{stage_bucket}",),
              "ListObjectsV2 under the staging prefix (what the folder holds before staging), and ImportTable "
              "listing its source", {"StringLikeIfExists": {"s3:prefix": ["{stage_prefix}*"]}}),
    )),
    Flow("restore compare", RESTORE, "restore", (READ_BACKUPS,)),
    # Only with hippolyte_setup.undelete_tables: writing lost items back into those live tables, nothing else.
    Flow("restore undelete", RESTORE, "restore", (
        Grant("UndeleteTables", _ddb("DescribeTable", "Scan", "PutItem"), ("{undelete_tables}",),
              "DescribeTable (the key), Scan (compare with the backup), PutItem (each missing item, conditional)"),
        READ_BACKUPS, LIST_BACKUPS,
    )),
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
    if flow.name == "restore import staged":
        return bool(scope.stage_to)
    if flow.name == "restore undelete":
        return bool(scope.undelete_tables)
    if flow.name == "object lock":
        return scope.object_lock
    return True


def policy_name(flow_policy: str, region: str) -> str:
    return f"hippolyte-{flow_policy}-{region}"


def _fill(template: str, values: Mapping[str, str], scope: Scope) -> list[str]:
    for patterns in ("restore_tables", "undelete_tables"):
        if template.startswith(f"{{{patterns}}}"):
            return [values["table"] + "/" + pattern + template.removeprefix(f"{{{patterns}}}")
                    for pattern in getattr(scope, patterns)]
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


# AWS's quotas (IAM user guide, IAM and AWS STS quotas): a customer managed policy holds at most 6,144
# characters without whitespace, and a role has 10 managed policies attached by default (20 at most on request).
MANAGED_POLICY_MAX_CHARS = 6144
ATTACHED_PER_ROLE = 10
# Managed policies one role gets per region: 4 regions of an account fit the default quota, with room to spare.
PARTS_PER_REGION = 2


def managed_policy_name(role: str, region: str, part: int) -> str:
    return f"hippolyte-{role}-{region}-{part}"


def managed_policies(scope: Scope) -> list[dict[str, Any]]:
    """The customer managed policies setup manages for this scope: role, name, document (None: to be removed).

    Each role's statements of the region, in flow order, are packed into at most PARTS_PER_REGION policies of
    at most MANAGED_POLICY_MAX_CHARS each; the parts not needed are listed as removed, so a narrowed inventory
    leaves none behind."""
    parts: dict[str, list[list[dict[str, Any]]]] = {}
    for policy in policies(scope):
        for doc in policy["document"]["Statement"] if policy["document"] else []:
            packed = parts.setdefault(policy["role"], [[]])
            if any(doc["Sid"] == s["Sid"] for part in packed for s in part):
                continue  # a grant two flows share (kms) appears once
            if packed[-1] and len(compact(_document(packed[-1] + [doc]))) > MANAGED_POLICY_MAX_CHARS:
                packed.append([])
            packed[-1].append(doc)
    out = []
    for role in (BACKUP, RESTORE):
        packed = [p for p in parts.get(role, []) if p]
        if len(packed) > PARTS_PER_REGION:
            raise InputError("hippolyte_setup", f"the {role} role's grants in {scope.region} need {len(packed)} "
                             f"managed policies of {MANAGED_POLICY_MAX_CHARS} characters, more than the "
                             f"{PARTS_PER_REGION} setup gives a role per region",
                             "list fewer restore_tables patterns or engines")
        out += [{"role": role, "name": managed_policy_name(role, scope.region, n + 1),
                 "document": _document(packed[n]) if n < len(packed) else None} for n in range(PARTS_PER_REGION)]
    return out


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


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
