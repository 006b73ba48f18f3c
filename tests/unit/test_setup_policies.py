"""The policies setup renders come from plugins/module_utils/setup/iam_grants.py, and the docs' grant tables are
generated from the same grants, so neither can drift."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.iam_grants import (
    ATTACHED_PER_ROLE,
    BACKUP,
    ENGINES,
    MANAGED_POLICY_MAX_CHARS,
    RESTORE,
    Scope,
    compact,
    managed_policies,
    policies,
    trust_policy,
)
from tests.support.iam_evaluator import Request, decide

REPO = Path(__file__).resolve().parents[2]
SCOPE = Scope("aws", "111111111111", "eu-west-1", "acme", "dynamodb/", "s3://acme/dynamodb")


def by_name(scope: Scope) -> dict[str, dict | None]:
    return {p["name"]: p["document"] for p in policies(scope)}


def sids(document: dict | None) -> set[str]:
    return {s["Sid"] for s in (document or {"Statement": []})["Statement"]}


def test_the_docs_tables_are_what_the_grants_say() -> None:
    check = subprocess.run([sys.executable, str(REPO / "tools" / "iam_docs.py"), "--check"], capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout


def test_policy_names_carry_the_region_so_two_regions_keep_both() -> None:
    east = by_name(Scope(**{**SCOPE.__dict__, "region": "us-east-1"}))
    assert set(by_name(SCOPE)).isdisjoint(east)
    assert "arn:aws:dynamodb:us-east-1:111111111111:table/*" in compact(east["hippolyte-backup-local-us-east-1"])


def test_no_delete_of_backups_without_retention_and_retention_has_its_own_policy() -> None:
    plain = by_name(SCOPE)
    deletes = [s for doc in plain.values() if doc for s in doc["Statement"] if "s3:DeleteObject" in s["Action"]]
    assert [s["Resource"] for s in deletes] == [
        "arn:aws:s3:::acme/dynamodb/111111111111/eu-west-1/@hippolyte-lease/*"]
    assert plain["hippolyte-retention-eu-west-1"] is None and plain["hippolyte-drill-eu-west-1"] is None
    kept = by_name(Scope(**{**SCOPE.__dict__, "retention": True}))
    assert sids(kept["hippolyte-retention-eu-west-1"]) == {"PruneBackups", "PruneAroundLocks"}


def test_object_lock_grants_only_with_the_lock_and_no_role_places_legal_holds() -> None:
    plain = compact(by_name(SCOPE)["hippolyte-backup-local-eu-west-1"])
    assert "s3:PutObjectRetention" not in plain
    locked = by_name(Scope(**{**SCOPE.__dict__, "object_lock": True}))
    assert {"LockedBucket", "LockNewBackups", "ReadLocks"} <= sids(locked["hippolyte-backup-local-eu-west-1"])
    assert not any("PutObjectLegalHold" in compact(doc) for doc in locked.values() if doc)


def test_restore_role_is_scoped_to_its_region_and_tables_and_can_import_and_count() -> None:
    restore = compact(by_name(SCOPE)["hippolyte-restore-eu-west-1"])
    for action in ("dynamodb:Scan", "dynamodb:ImportTable", "dynamodb:DescribeImport"):
        assert action in restore
    assert "table/*-restored-*" in restore and '"table/*"' not in restore and "us-east-1" not in restore
    wide = compact(by_name(Scope(**{**SCOPE.__dict__, "restore_tables": ("*",)}))["hippolyte-restore-eu-west-1"])
    assert "eu-west-1:111111111111:table/*\"" in wide


def test_engines_left_out_have_their_policy_removed() -> None:
    narrowed = by_name(Scope(**{**SCOPE.__dict__, "engines": ("local", "export")}))
    assert narrowed["hippolyte-backup-emr-eu-west-1"] is None and narrowed["hippolyte-backup-export-eu-west-1"]


def test_bad_scope_names_the_field() -> None:
    with pytest.raises(InputError, match="restore_tables"):
        policies(Scope(**{**SCOPE.__dict__, "restore_tables": ("a/b",)}))
    with pytest.raises(InputError, match="engines"):
        policies(Scope(**{**SCOPE.__dict__, "engines": ("glue",)}))


def test_trust_requires_the_external_id_only_when_set() -> None:
    principals = ["arn:aws:iam::111111111111:role/hippolyte-controller"]
    (plain,) = trust_policy(principals, "")["Statement"]
    assert plain == {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}
    (guarded,) = trust_policy(principals, 'a"b')["Statement"]
    assert guarded["Condition"] == {"StringEquals": {"sts:ExternalId": 'a"b'}}


def documents(scope: Scope, role: str) -> list[dict]:
    return [p["document"] for p in policies(scope) if p["role"] == role and p["document"]]


TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/"
REGION_CONTEXT = {"aws:RequestedRegion": "eu-west-1"}


@pytest.mark.parametrize(("role", "action", "resource", "context", "decision"), [
    # HeadBucket (the writability check) carries no s3:prefix; a listing of the whole bucket carries "".
    ("backup", "s3:ListBucket", "arn:aws:s3:::acme", {}, "Allow"),
    ("backup", "s3:ListBucket", "arn:aws:s3:::acme", {"s3:prefix": ""}, "ImplicitDeny"),
    ("backup", "s3:ListBucket", "arn:aws:s3:::acme", {"s3:prefix": "other-team/"}, "ImplicitDeny"),
    ("backup", "s3:ListBucket", "arn:aws:s3:::acme", {"s3:prefix": "dynamodb/111111111111/"}, "Allow"),
    # Completed backups: no delete without retention, only the lease.
    ("backup", "s3:DeleteObject", "arn:aws:s3:::acme/dynamodb/111111111111/eu-west-1/t/2026/data/p.gz", {},
     "ImplicitDeny"),
    ("backup", "s3:DeleteObject", "arn:aws:s3:::acme/dynamodb/111111111111/eu-west-1/@hippolyte-lease/1/l.json", {},
     "Allow"),
    # Cluster control only on what the collection tagged for this destination.
    ("backup", "elasticmapreduce:AddJobFlowSteps", "arn:aws:elasticmapreduce:eu-west-1:111111111111:cluster/j-1",
     {}, "ImplicitDeny"),
    ("backup", "elasticmapreduce:AddJobFlowSteps", "arn:aws:elasticmapreduce:eu-west-1:111111111111:cluster/j-1",
     {"aws:ResourceTag/hippolyte:destination": "s3://other/x"}, "ImplicitDeny"),
    ("backup", "elasticmapreduce:TerminateJobFlows", "arn:aws:elasticmapreduce:eu-west-1:111111111111:cluster/j-1",
     {"aws:ResourceTag/hippolyte:destination": "s3://acme/dynamodb"}, "Allow"),
    ("backup", "elasticmapreduce:RunJobFlow", "*", REGION_CONTEXT, "ImplicitDeny"),
    ("backup", "datapipeline:PutPipelineDefinition", "*", {}, "ImplicitDeny"),
    ("backup", "datapipeline:PutPipelineDefinition", "*", {"datapipeline:Tag/hippolyte:unique-id": "u"}, "Allow"),
    # The restore role: its region, its tables, and what a default restore calls.
    ("restore", "dynamodb:Scan", TABLE + "orders-restored-2026-11-22", {}, "Allow"),
    ("restore", "dynamodb:ImportTable", TABLE + "orders-restored-2026-11-22", {}, "Allow"),
    ("restore", "dynamodb:DescribeImport", TABLE + "orders-restored-2026-11-22/import/01", {}, "Allow"),
    ("restore", "dynamodb:BatchWriteItem", TABLE + "orders", {}, "ImplicitDeny"),
    ("restore", "dynamodb:UpdateTable", TABLE + "orders", {}, "ImplicitDeny"),
    ("restore", "dynamodb:CreateTable", "arn:aws:dynamodb:us-east-1:111111111111:table/orders-restored-1", {},
     "ImplicitDeny"),
    ("restore", "application-autoscaling:RegisterScalableTarget", "*", REGION_CONTEXT, "ImplicitDeny"),
])
def test_the_situations_of_the_review(role: str, action: str, resource: str, context: dict, decision: str) -> None:
    scope = Scope(**{**SCOPE.__dict__, "engines": ("local", "emr", "datapipeline")})
    assert decide(documents(scope, role), Request(action, resource, context)) == decision


def test_the_drill_may_create_and_delete_only_its_scratch_tables() -> None:
    docs = documents(Scope(**{**SCOPE.__dict__, "drill": True}), "backup")
    assert decide(docs, Request("dynamodb:DeleteTable", TABLE + "orders-drill-20261207")) == "Allow"
    assert decide(docs, Request("dynamodb:CreateTable", TABLE + "orders-drill-20261207")) == "Allow"
    assert decide(docs, Request("dynamodb:DeleteTable", TABLE + "orders")) == "ImplicitDeny"
    assert decide(documents(SCOPE, "backup"), Request("dynamodb:CreateTable", TABLE + "x-drill-1")) == "ImplicitDeny"


REGIONS_4 = ("eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1")
ENGINE_SETS = [tuple(e for e, keep in zip(ENGINES, mask, strict=True) if keep)
               for mask in itertools.product((True, False), repeat=len(ENGINES))]


@pytest.mark.parametrize("engines", ENGINE_SETS, ids=lambda e: "+".join(e) or "none")
def test_every_engine_set_in_four_regions_fits_the_managed_policy_quotas(engines: tuple[str, ...]) -> None:
    """AWS's quotas: a customer managed policy of at most 6,144 characters (whitespace not counted) and 10
    managed policies attached to a role by default. Everything on (retention, drill, KMS, three restore table
    patterns, long bucket and prefix) in four regions of one account."""
    attached: dict[str, list[str]] = {BACKUP: [], RESTORE: []}
    for region in REGIONS_4:
        scope = Scope("aws-us-gov", "111111111111", region, "b" * 63, "p" * 60 + "/", "s3://" + "b" * 63 + "/p",
                      engines=("local", *engines), retention=True, drill=True,
                      kms_key_arn=f"arn:aws:kms:{region}:111111111111:key/{'1' * 36}",
                      restore_tables=("*-restored-*", "dr-*", "staging-*"))
        rendered = managed_policies(scope)
        for policy in rendered:
            if policy["document"]:
                assert len(compact(policy["document"])) <= MANAGED_POLICY_MAX_CHARS, policy["name"]
                attached[policy["role"]].append(policy["name"])
        # Nothing is lost in the packing: every grant of the inline groups is in exactly one managed policy.
        grouped = sorted(s["Sid"] + policy["role"] for policy in policies(scope) if policy["document"]
                         for s in policy["document"]["Statement"])
        packed = sorted(s["Sid"] + policy["role"] for policy in rendered if policy["document"]
                        for s in policy["document"]["Statement"])
        assert sorted(set(grouped)) == packed
    assert all(len(names) <= ATTACHED_PER_ROLE for names in attached.values()), attached


def test_a_part_no_longer_needed_is_listed_for_removal() -> None:
    small = {p["name"]: p["document"] for p in managed_policies(SCOPE)}
    assert small["hippolyte-backup-eu-west-1-1"] and small["hippolyte-backup-eu-west-1-2"] is None
    assert list(small) == [f"hippolyte-{role}-eu-west-1-{n}" for role in (BACKUP, RESTORE) for n in (1, 2)]


def test_the_staging_location_is_granted_to_the_restore_role_only_when_set_and_never_over_the_backups() -> None:
    assert "StageCopies" not in compact(by_name(SCOPE)["hippolyte-restore-eu-west-1"])
    staged = by_name(Scope(**{**SCOPE.__dict__, "stage_to": "s3://acme-staging/imports"}))
    restore = {s["Sid"]: s for s in staged["hippolyte-restore-eu-west-1"]["Statement"]}
    assert restore["StageCopies"]["Resource"] == "arn:aws:s3:::acme-staging/imports/*"
    assert restore["ListStaging"]["Condition"] == {"StringLikeIfExists": {"s3:prefix": ["imports/*"]}}
    assert "acme-staging" not in compact(staged["hippolyte-backup-local-eu-west-1"])
    for overlapping in ("s3://acme", "s3://acme/dynamodb/stage", "s3://acme/dynamodb"):
        with pytest.raises(InputError, match=r"hippolyte_setup\.stage_to: .* overlaps the destination"):
            policies(Scope(**{**SCOPE.__dict__, "stage_to": overlapping}))
    policies(Scope(**{**SCOPE.__dict__, "stage_to": "s3://acme/staging"}))  # beside the destination: allowed


def test_live_tables_are_written_only_when_named_for_undelete() -> None:
    plain = compact(by_name(SCOPE)["hippolyte-restore-eu-west-1"])
    assert "UndeleteTables" not in plain and "dynamodb:PutItem" not in plain
    named = by_name(Scope(**{**SCOPE.__dict__, "undelete_tables": ("orders", "users-*")}))
    restore = {s["Sid"]: s for s in named["hippolyte-restore-eu-west-1"]["Statement"]}
    assert sorted(restore["UndeleteTables"]["Action"]) == ["dynamodb:DescribeTable", "dynamodb:PutItem",
                                                           "dynamodb:Scan"]
    table = f"arn:aws:dynamodb:eu-west-1:{SCOPE.account}:table"
    assert sorted(restore["UndeleteTables"]["Resource"]) == [f"{table}/orders", f"{table}/users-*"]
    assert "PutItem" not in compact(named["hippolyte-backup-local-eu-west-1"])  # the backup role never writes
    with pytest.raises(InputError, match="undelete_tables"):
        policies(Scope(**{**SCOPE.__dict__, "undelete_tables": ("a/b",)}))
