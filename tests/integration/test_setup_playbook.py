"""The setup playbook on moto server: what it creates, a second run that changes nothing, check mode and what
`--check --diff` shows.

Each test runs in its own moto account (credentials from an STS AssumeRole into a fresh account id), so the
fixed role and topic names never meet another test's; the tests that only read what one setup made, or run it
again unchanged or in check mode (each asserting that this changes nothing), share that account and its first run
(`set_up`, one xdist group so that it runs once). The stand-in speaks only plain HTTP, so the TLS-only rule
is checked as the policy S3 holds (moto enforces it: every request over HTTP is then refused).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import REGION
from tests.support.ansible_run import run_playbook
from tests.support.iam_readback import attached_policies, role_statements
from tests.support.setup_accounts import SetUpAccount, fresh_account, set_up_account, setup_inventory
from tests.support.tables import create_table, put_items, simple_items
from tests.support.windows import open_window

# Each shared account's tests in one xdist group, so that it is set up once (on one worker).
SHARED, SHARED_KMS, SHARED_PIPELINE = (pytest.mark.xdist_group(f"setup-{name}")
                                       for name in ("account", "kms", "pipeline"))
# What the shared account is set up with.
EXTERNAL_ID = "night-shift-42"
SET_UP = {"expiration_days": 400, "tags": {"team": "platform"}}
NAMED_PIPELINE_ROLES = {"service_role": "NightPipelineRole", "job_flow_role": "NightPipelineEc2Role"}
# The pipeline account's bucket is made with S3 Object Lock. Without a default retention: moto answers a bucket's
# default retention with both Days and Years (Years: 0), so amazon.aws.s3_bucket rewrites it at every run there.
OBJECT_LOCK = {"mode": "GOVERNANCE"}


def recap(output: str) -> dict[str, int]:
    """The counters of the one host's PLAY RECAP line."""
    (line,) = [row for row in output.splitlines() if re.match(r"^\S+\s+: ok=", row)]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def diffs(output: str) -> dict[str, list[str]]:
    """What --diff printed, by resource: the header after `before: ` (without " (absent)"), and the changed lines
    of its unified diff (each starting with - or +)."""
    found: dict[str, list[str]] = {}
    lines = iter(output.splitlines())
    for line in lines:
        if line.startswith("--- before: "):
            name = line[len("--- before: "):].removesuffix(" (absent)")
            found[name] = []
            for row in lines:
                if not row.strip():
                    break
                if row[:1] in "+-" and not row.startswith(("+++ ", "--- ")):
                    found[name].append(row)
    return found


@pytest.fixture
def account(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto account; the playbook runs with its credentials."""
    fresh = fresh_account(moto_server.url)
    for name, value in fresh.env.items():
        monkeypatch.setenv(name, value)
    return fresh.id


@pytest.fixture(scope="module")
def set_up(moto_server: Any, tmp_path_factory: pytest.TempPathFactory) -> SetUpAccount:
    """One account set up once, with an external id, a lifecycle expiration and tags, and no controller named."""
    account = fresh_account(moto_server.url)
    return set_up_account(account, moto_server.url, tmp_path_factory.mktemp("set-up"), f"t-set-up-{account.id}",
                          hippolyte_role_external_id=EXTERNAL_ID, hippolyte_setup=SET_UP)


@dataclass(frozen=True)
class KmsSetUp:
    set_up: SetUpAccount
    key: str
    encryption: dict[str, Any]  # the bucket's default encryption, read right after the run


@pytest.fixture(scope="module")
def kms_set_up(moto_server: Any, tmp_path_factory: pytest.TempPathFactory) -> KmsSetUp:
    """One account set up with SSE-KMS and the backup role at a path. The bucket's encryption is read at once: the
    backup test takes it off later."""
    account = fresh_account(moto_server.url)
    key = f"arn:aws:kms:{REGION}:{account.id}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    set_up = set_up_account(account, moto_server.url, tmp_path_factory.mktemp("kms"), f"t-kms-{account.id}",
                            hippolyte_setup={"encryption": "aws:kms", "kms_key_id": key},
                            hippolyte_role_arn=f"arn:aws:iam::{account.id}:role/ops/nightly-backup")
    s3 = account.client("s3", moto_server.url)
    encryption = s3.get_bucket_encryption(Bucket=set_up.bucket)["ServerSideEncryptionConfiguration"] \
        if set_up.first.returncode == 0 else {}  # a failed setup: each test says how
    return KmsSetUp(set_up, key, encryption)


@pytest.fixture(scope="module")
def pipeline_set_up(moto_server: Any, tmp_path_factory: pytest.TempPathFactory) -> SetUpAccount:
    """One account set up for the Data Pipeline engine with the roles it passes named by their option names, its
    bucket made with S3 Object Lock."""
    account = fresh_account(moto_server.url)
    return set_up_account(account, moto_server.url, tmp_path_factory.mktemp("pipeline"), f"t-pipe-{account.id}",
                          hippolyte_datapipeline=NAMED_PIPELINE_ROLES, hippolyte_setup={"engines": ["datapipeline"]},
                          hippolyte_object_lock=OBJECT_LOCK)


def aws(service: str, moto_server: Any) -> Any:
    """A client with the account's credentials (the environment the fixture set)."""
    return boto3.Session(region_name=REGION).client(service, endpoint_url=moto_server.url)


@SHARED
def test_first_run_creates_everything(moto_server: Any, set_up: SetUpAccount) -> None:
    first, bucket, account = set_up.first, set_up.bucket, set_up.account.id
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert recap(first.stdout)["changed"] >= 5
    assert "WARNING: no hippolyte_setup.controller_arn nor trusted_principals" in first.stdout  # whole account

    s3 = set_up.account.client("s3", moto_server.url)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert lifecycle["Expiration"] == {"Days": 400}
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert {"Key": "team", "Value": "platform"} in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]

    iam = set_up.account.client("iam", moto_server.url)
    backup = iam.get_role(RoleName="hippolyte-backup")["Role"]
    (trust,) = backup["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": [f"arn:aws:iam::{account}:root"]} or \
        trust["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    # Every engine's grants fit one managed policy of 6,144 characters; no inline policy is left.
    assert list(attached_policies(iam, "hippolyte-backup")) == [f"hippolyte-backup-{REGION}-1"]
    assert iam.list_role_policies(RoleName="hippolyte-backup")["PolicyNames"] == []
    backup_grants = role_statements(iam, "hippolyte-backup")
    assert {"WriteNewBackups", "Export", "StartTaggedClusters", "CreateTaggedPipelines"} <= set(backup_grants)
    writes = backup_grants["WriteNewBackups"]
    assert writes["Resource"] == f"arn:aws:s3:::{bucket}/dynamodb/*"
    assert writes["Condition"] == {"Null": {"s3:if-none-match": ["false"]}}  # new objects only
    assert list(attached_policies(iam, "hippolyte-restore")) == [f"hippolyte-restore-{REGION}-1"]

    topic = f"arn:aws:sns:{REGION}:{account}:hippolyte-backup-runs"
    assert topic in [t["TopicArn"] for t in set_up.account.client("sns", moto_server.url).list_topics()["Topics"]]
    assert backup_grants["RunSummaries"]["Resource"] == topic


@SHARED
def test_a_second_run_changes_nothing_and_check_diff_shows_nothing(set_up: SetUpAccount) -> None:
    assert set_up.first.returncode == 0, set_up.first.stdout[-4000:]

    second = set_up.run()
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert recap(second.stdout)["changed"] == 0, second.stdout[-4000:]

    check_again = set_up.run(options=("--check", "--diff"))
    assert check_again.returncode == 0 and recap(check_again.stdout)["changed"] == 0, check_again.stdout[-4000:]
    assert diffs(check_again.stdout) == {}, check_again.stdout[-4000:]
    assert "Nothing would change: every resource is as setup makes it" in check_again.stdout


@SHARED
def test_check_diff_shows_each_changed_setting_before_and_after_and_changes_nothing(
        moto_server: Any, set_up: SetUpAccount, tmp_path: Path) -> None:
    assert set_up.first.returncode == 0, set_up.first.stdout[-4000:]
    account, bucket = set_up.account, set_up.bucket
    s3, iam, sns = (account.client(name, moto_server.url) for name in ("s3", "iam", "sns"))
    policy_arn = f"arn:aws:iam::{account.id}:policy/hippolyte-backup-{REGION}-1"
    before = {"lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
              "tags": s3.get_bucket_tagging(Bucket=bucket)["TagSet"],
              "policy": iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"],
              "subscriptions": sns.list_subscriptions()["Subscriptions"],
              "role": iam.get_role(RoleName="hippolyte-backup")["Role"]["AssumeRolePolicyDocument"]}
    changed = setup_inventory(tmp_path / "changed.json", moto_server.url, bucket,
                              hippolyte_role_external_id=EXTERNAL_ID, hippolyte_setup={
                                  **SET_UP, "expiration_days": 90, "engines": ["local"],
                                  "tags": {"team": "data"},
                                  "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}]})

    preview = set_up.run(changed, options=("--check", "--diff"))

    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]
    shown = diffs(preview.stdout)
    topic = f"arn:aws:sns:{REGION}:{account.id}:hippolyte-backup-runs"
    assert set(shown) >= {f"lifecycle rule {bucket}/hippolyte-backups", f"bucket {bucket}", f"topic {topic}",
                          f"managed policy hippolyte-backup-{REGION}-1", "role hippolyte-backup",
                          "role hippolyte-restore"}, preview.stdout[-4000:]
    assert shown[f"lifecycle rule {bucket}/hippolyte-backups"] == [
        '-    "expiration_days": 400,', '+    "expiration_days": 90,']
    assert sorted(shown[f"bucket {bucket}"]) == ['+        "team": "data"', '-        "team": "platform"']
    assert '+        "email:ops@example.com"' in shown[f"topic {topic}"]
    # The grants of the engines left out, removed from the backup role's policy; the export engine's among them.
    removed = shown[f"managed policy hippolyte-backup-{REGION}-1"]
    assert '-                "Sid": "Export"' in removed and '-                "Sid": "StartTaggedClusters"' in removed
    assert [row for row in removed if row.startswith("+")] == [], removed
    # The restore role's policy does not change: it is not shown.
    assert f"managed policy hippolyte-restore-{REGION}-1" not in shown
    assert "Would change bucket" in preview.stdout

    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == before["lifecycle"]
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == before["tags"]
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"] == before["policy"]
    assert sns.list_subscriptions()["Subscriptions"] == before["subscriptions"]
    assert iam.get_role(RoleName="hippolyte-backup")["Role"]["AssumeRolePolicyDocument"] == before["role"]


def test_check_mode_on_a_fresh_account_changes_nothing(moto_server: Any, account: str, unique_name: str,
                                                       tmp_path: Path) -> None:
    inv = setup_inventory(tmp_path / "inventory.json", moto_server.url, unique_name)

    check = run_playbook("playbooks/setup.yml", inv, options=("--check", "--diff"))

    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert recap(check.stdout)["changed"] >= 2  # the preview, the two roles
    assert f"Would create bucket {unique_name}, lifecycle rule {unique_name}/hippolyte-backups, topic" in check.stdout
    shown = diffs(check.stdout)
    assert '+    "versioning": "Enabled"' in shown[f"bucket {unique_name}"]
    assert '+    "object_ownership": "BucketOwnerEnforced",' in shown[f"bucket {unique_name}"]
    assert shown[f"lifecycle rule {unique_name}/hippolyte-backups"] == [
        "+{", '+    "abort_multipart_days": 7,', '+    "expiration_days": 0,', '+    "noncurrent_expiration_days": 30,',
        '+    "prefix": "dynamodb/",', '+    "status": "Enabled"', "+}"]
    assert '+    "path": "/",' in shown["role hippolyte-backup"]
    assert any('"Sid": "WriteNewBackups"' in line for line in shown[f"managed policy hippolyte-backup-{REGION}-1"])
    assert {f"topic arn:aws:sns:{REGION}:{account}:hippolyte-backup-runs",
            f"managed policy hippolyte-restore-{REGION}-1", "role hippolyte-restore"} <= set(shown)
    assert unique_name not in [b["Name"] for b in aws("s3", moto_server).list_buckets()["Buckets"]]
    assert aws("iam", moto_server).list_roles()["Roles"] == []
    assert aws("iam", moto_server).list_policies(Scope="Local")["Policies"] == []
    assert aws("sns", moto_server).list_topics()["Topics"] == []


@SHARED_KMS
def test_kms_and_narrowed_engines(moto_server: Any, kms_set_up: KmsSetUp, tmp_path: Path) -> None:
    set_up, key = kms_set_up.set_up, kms_set_up.key
    account = set_up.account
    assert set_up.first.returncode == 0, set_up.first.stdout[-4000:] + set_up.first.stderr[-2000:]

    (rule,) = kms_set_up.encryption["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    iam = account.client("iam", moto_server.url)
    assert iam.get_role(RoleName="nightly-backup")["Role"]["Path"] == "/ops/"
    kms = role_statements(iam, "nightly-backup")["BackupKey"]
    assert (kms["Action"], kms["Resource"]) == (["kms:Decrypt", "kms:GenerateDataKey"], key)
    assert role_statements(iam, "hippolyte-restore")["BackupKey"]["Action"] == ["kms:Decrypt"]

    # Narrowing the engines removes the policies of those left out; --check --diff first says which policy
    # would change and changes nothing.
    narrowed_inventory = setup_inventory(
        tmp_path / "narrowed.json", moto_server.url, set_up.bucket,
        hippolyte_role_arn=f"arn:aws:iam::{account.id}:role/ops/nightly-backup",
        hippolyte_setup={"encryption": "aws:kms", "kms_key_id": key, "engines": ["export"]})
    before = attached_policies(iam, "nightly-backup")
    preview = set_up.run(narrowed_inventory, options=("--check", "--diff"))
    assert preview.returncode == 0, preview.stdout[-4000:]
    assert f"changed: [acct] => (item=hippolyte-backup-{REGION}-1 present)" in preview.stdout, preview.stdout[-4000:]
    assert '-                "Sid": "StartTaggedClusters"' in diffs(preview.stdout)[
        f"managed policy hippolyte-backup-{REGION}-1"]
    assert attached_policies(iam, "nightly-backup") == before
    narrowed = set_up.run(narrowed_inventory)
    assert narrowed.returncode == 0, narrowed.stdout[-4000:]
    narrowed_grants = role_statements(iam, "nightly-backup")
    assert {"WriteNewBackups", "Export", "RunSummaries", "BackupKey"} <= set(narrowed_grants)
    assert not {"StartTaggedClusters", "CreateTaggedPipelines"} & set(narrowed_grants)


# Bad settings: tests/integration/test_bad_inventories.py runs this playbook with each, counting AWS calls.

def passed_pipeline_roles(moto_server: Any, set_up: SetUpAccount) -> list[str]:
    iam = set_up.account.client("iam", moto_server.url)
    return sorted(role_statements(iam, "hippolyte-backup")["PassPipelineRoles"]["Resource"])


def deprecation_warnings(output: str) -> list[tuple[str, str]]:
    return re.findall(r"DEPRECATED: Host acct: hippolyte_datapipeline\.(\w+) is deprecated: rename it (\w+)", output)


@SHARED_PIPELINE
def test_the_data_pipeline_roles_by_their_names(moto_server: Any, pipeline_set_up: SetUpAccount) -> None:
    run = pipeline_set_up.first
    account = pipeline_set_up.account.id

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert passed_pipeline_roles(moto_server, pipeline_set_up) == [
        f"arn:aws:iam::{account}:role/NightPipelineEc2Role", f"arn:aws:iam::{account}:role/NightPipelineRole"]
    assert deprecation_warnings(run.stdout) == []


@SHARED_PIPELINE
def test_the_data_pipeline_roles_by_the_deprecated_names(moto_server: Any, pipeline_set_up: SetUpAccount,
                                                         tmp_path: Path) -> None:
    """The same roles by their former names: the account set up with the new ones is left as it is."""
    deprecated = setup_inventory(tmp_path / "deprecated.json", moto_server.url, pipeline_set_up.bucket,
                                 hippolyte_datapipeline={"role": "NightPipelineRole",
                                                         "resource_role": "NightPipelineEc2Role"},
                                 hippolyte_setup={"engines": ["datapipeline"]}, hippolyte_object_lock=OBJECT_LOCK)
    account = pipeline_set_up.account.id

    run = pipeline_set_up.run(deprecated)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert recap(run.stdout)["changed"] == 0, run.stdout[-4000:]
    assert passed_pipeline_roles(moto_server, pipeline_set_up) == [
        f"arn:aws:iam::{account}:role/NightPipelineEc2Role", f"arn:aws:iam::{account}:role/NightPipelineRole"]
    assert deprecation_warnings(run.stdout) == [("role", "service_role"), ("resource_role", "job_flow_role")]


@SHARED_PIPELINE
def test_object_lock_makes_a_locked_bucket_and_grants_the_backup_role_the_locks(moto_server: Any,
                                                                                pipeline_set_up: SetUpAccount) -> None:
    """The bucket is created with Object Lock; the backup role may write locks and read
    them (legal holds stay an operator's). The deprecated-names test above reruns setup with the same lock and
    changes nothing."""
    run, bucket = pipeline_set_up.first, pipeline_set_up.bucket
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    s3 = pipeline_set_up.account.client("s3", moto_server.url)

    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock == {"ObjectLockEnabled": "Enabled"}
    grants = role_statements(pipeline_set_up.account.client("iam", moto_server.url), "hippolyte-backup")
    assert grants["LockNewBackups"]["Action"] in ("s3:PutObjectRetention", ["s3:PutObjectRetention"])
    assert sorted(grants["ReadLocks"]["Action"]) == ["s3:GetObjectLegalHold", "s3:GetObjectRetention"]
    assert grants["LockedBucket"]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert not any("PutObjectLegalHold" in str(g["Action"]) for g in grants.values())


@SHARED
def test_object_lock_on_an_existing_bucket_is_previewed_then_refused_saying_how(
        moto_server: Any, set_up: SetUpAccount, tmp_path: Path) -> None:
    assert set_up.first.returncode == 0, set_up.first.stdout[-4000:]
    s3 = set_up.account.client("s3", moto_server.url)
    locked = setup_inventory(tmp_path / "locked.json", moto_server.url, set_up.bucket,
                             hippolyte_role_external_id=EXTERNAL_ID, hippolyte_setup=SET_UP,
                             hippolyte_object_lock={"mode": "COMPLIANCE"})

    preview = set_up.run(locked, options=("--check", "--diff"))
    refused = set_up.run(locked)

    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]
    assert '-    "object_lock": null,' in diffs(preview.stdout)[f"bucket {set_up.bucket}"], preview.stdout[-4000:]
    assert refused.returncode != 0
    assert f"bucket {set_up.bucket} exists without S3 Object Lock" in refused.stdout, refused.stdout[-4000:]
    assert "put-object-lock-configuration" in refused.stdout
    with pytest.raises(s3.exceptions.ClientError, match="ObjectLockConfigurationNotFound"):
        s3.get_object_lock_configuration(Bucket=set_up.bucket)


@SHARED_KMS
def test_a_backup_after_setup_encrypts_every_object_it_writes(moto_server: Any, kms_set_up: KmsSetUp,
                                                              tmp_path: Path) -> None:
    """Setup with SSE-KMS, then a backup with the same inventory's settings: every object version it wrote (data
    parts, claim, manifest, the lease it took and gave back) carries aws:kms and the key.

    moto gives an object put without encryption headers the bucket's default encryption, so the default that
    setup made is taken off again (after checking it) before the backup: what head_object then reports is what
    the backup itself asked S3 for. The TLS-only bucket policy is taken off too: moto refuses every request of
    the stand-in's plain HTTP under it (aws:SecureTransport is false), as S3 would. The backup runs with the
    account's own credentials, as before the role setup made is used."""
    set_up, key = kms_set_up.set_up, kms_set_up.key
    account, bucket = set_up.account, set_up.bucket
    assert set_up.first.returncode == 0, set_up.first.stdout[-4000:] + set_up.first.stderr[-2000:]
    table = f"{bucket}-orders"
    ddb = account.client("dynamodb", moto_server.url)
    create_table(ddb, table, rcu=100)
    put_items(ddb, table, simple_items(200))
    inv = setup_inventory(tmp_path / "inventory.json", moto_server.url, bucket,
                          hippolyte_setup={"encryption": "aws:kms", "kms_key_id": key},
                          hippolyte_sse="aws:kms", hippolyte_kms_key_id=key, hippolyte_include=[table],
                          hippolyte_engine="local", hippolyte_autoscaling=False, hippolyte_window=open_window(),
                          hippolyte_report_dir=str(tmp_path / "reports"))
    s3 = account.client("s3", moto_server.url)
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    s3.delete_bucket_encryption(Bucket=bucket)
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)

    backup = run_playbook("playbooks/backup.yml", inv, env=account.env)

    assert backup.returncode == 0, backup.stdout[-4000:] + backup.stderr[-2000:]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="dynamodb/")["Versions"]
    names = [v["Key"].rsplit("/", 1)[-1] for v in versions]
    assert "hippolyte-manifest.json" in names and "hippolyte-claim.json" in names and "lease.json" in names
    assert any("/data/" in v["Key"] for v in versions)
    for version in versions:
        head = s3.head_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == ("aws:kms", key), version["Key"]
