"""The setup playbook on moto server: what it creates, a second run that changes nothing, check mode.

Each test runs in its own moto account (credentials from an STS AssumeRole into a fresh account id), so the
fixed role and topic names never meet another test's. The stand-in speaks only plain HTTP, so the TLS-only rule
is checked as the policy S3 holds (moto enforces it: every request over HTTP is then refused).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, client
from tests.support.ansible_run import run_playbook
from tests.support.iam_readback import attached_policies, role_statements
from tests.support.tables import create_table, put_items, simple_items
from tests.support.windows import open_window


def recap(output: str) -> dict[str, int]:
    """The counters of the one host's PLAY RECAP line."""
    (line,) = [row for row in output.splitlines() if re.match(r"^\S+\s+: ok=", row)]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


@pytest.fixture
def account(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto account; the playbook runs with its credentials."""
    account_id = f"{random.randrange(10**11, 10**12):012d}"
    creds = client("sts", moto_server.url).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/admin", RoleSessionName="setup")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    return account_id


def aws(service: str, moto_server: Any) -> Any:
    """A client with the account's credentials (the environment the fixture set)."""
    return boto3.Session(region_name=REGION).client(service, endpoint_url=moto_server.url)


def inventory(path: Path, endpoint: str, bucket: str, **host_vars: Any) -> Path:
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "hippolyte_region": REGION, "hippolyte_endpoint_url": endpoint, **host_vars}
    path.write_text(json.dumps({"all": {"vars": {"hippolyte_destination": f"s3://{bucket}/dynamodb"},
                                        "hosts": {"acct": host}}}))
    return path


def test_first_run_creates_everything_and_a_second_changes_nothing(
        moto_server: Any, account: str, unique_name: str, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, unique_name,
                    hippolyte_role_external_id="night-shift-42",
                    hippolyte_setup={"expiration_days": 400, "tags": {"team": "platform"}})

    first = run_playbook("playbooks/setup.yml", inv)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert recap(first.stdout)["changed"] >= 5
    assert "WARNING: no hippolyte_setup.controller_arn nor trusted_principals" in first.stdout  # whole account

    s3 = aws("s3", moto_server)
    assert s3.get_bucket_versioning(Bucket=unique_name)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=unique_name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=unique_name)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=unique_name)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{unique_name}", f"arn:aws:s3:::{unique_name}/*"]
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=unique_name)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert lifecycle["Expiration"] == {"Days": 400}
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert {"Key": "team", "Value": "platform"} in s3.get_bucket_tagging(Bucket=unique_name)["TagSet"]

    iam = aws("iam", moto_server)
    backup = iam.get_role(RoleName="hippolyte-backup")["Role"]
    (trust,) = backup["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": [f"arn:aws:iam::{account}:root"]} or \
        trust["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "night-shift-42"}}
    # Every engine's grants fit one managed policy of 6,144 characters; no inline policy is left.
    assert list(attached_policies(iam, "hippolyte-backup")) == [f"hippolyte-backup-{REGION}-1"]
    assert iam.list_role_policies(RoleName="hippolyte-backup")["PolicyNames"] == []
    backup_grants = role_statements(iam, "hippolyte-backup")
    assert {"WriteNewBackups", "Export", "StartTaggedClusters", "CreateTaggedPipelines"} <= set(backup_grants)
    writes = backup_grants["WriteNewBackups"]
    assert writes["Resource"] == f"arn:aws:s3:::{unique_name}/dynamodb/*"
    assert writes["Condition"] == {"Null": {"s3:if-none-match": ["false"]}}  # new objects only
    assert list(attached_policies(iam, "hippolyte-restore")) == [f"hippolyte-restore-{REGION}-1"]

    topic = f"arn:aws:sns:{REGION}:{account}:hippolyte-backup-runs"
    assert topic in [t["TopicArn"] for t in aws("sns", moto_server).list_topics()["Topics"]]
    assert backup_grants["RunSummaries"]["Resource"] == topic

    second = run_playbook("playbooks/setup.yml", inv)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert recap(second.stdout)["changed"] == 0, second.stdout[-4000:]

    check_again = run_playbook("playbooks/setup.yml", inv, options=("--check",))
    assert check_again.returncode == 0 and recap(check_again.stdout)["changed"] == 0, check_again.stdout[-4000:]


def test_check_mode_on_a_fresh_account_changes_nothing(moto_server: Any, account: str, unique_name: str,
                                                       tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, unique_name)

    check = run_playbook("playbooks/setup.yml", inv, options=("--check",))

    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert recap(check.stdout)["changed"] >= 2  # the preview of the bucket and topic, the two roles
    assert f"Would create bucket {unique_name} and topic" in check.stdout
    assert unique_name not in [b["Name"] for b in aws("s3", moto_server).list_buckets()["Buckets"]]
    assert aws("iam", moto_server).list_roles()["Roles"] == []
    assert aws("sns", moto_server).list_topics()["Topics"] == []


def test_kms_and_narrowed_engines(moto_server: Any, account: str, unique_name: str, tmp_path: Path) -> None:
    key = f"arn:aws:kms:{REGION}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    setup = {"encryption": "aws:kms", "kms_key_id": key}
    inv = inventory(tmp_path / "inventory.json", moto_server.url, unique_name, hippolyte_setup=setup,
                    hippolyte_role_arn=f"arn:aws:iam::{account}:role/ops/nightly-backup")
    assert run_playbook("playbooks/setup.yml", inv).returncode == 0

    encryption = aws("s3", moto_server).get_bucket_encryption(Bucket=unique_name)
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    iam = aws("iam", moto_server)
    assert iam.get_role(RoleName="nightly-backup")["Role"]["Path"] == "/ops/"
    kms = role_statements(iam, "nightly-backup")["BackupKey"]
    assert (kms["Action"], kms["Resource"]) == (["kms:Decrypt", "kms:GenerateDataKey"], key)
    assert role_statements(iam, "hippolyte-restore")["BackupKey"]["Action"] == ["kms:Decrypt"]

    # Narrowing the engines removes the policies of those left out; --check --diff first says which policy
    # would change and changes nothing.
    inventory(inv, moto_server.url, unique_name, hippolyte_role_arn=f"arn:aws:iam::{account}:role/ops/nightly-backup",
              hippolyte_setup={**setup, "engines": ["export"]})
    before = attached_policies(iam, "nightly-backup")
    preview = run_playbook("playbooks/setup.yml", inv, options=("--check", "--diff"))
    assert preview.returncode == 0, preview.stdout[-4000:]
    assert f"changed: [acct] => (item=hippolyte-backup-{REGION}-1 present)" in preview.stdout, preview.stdout[-4000:]
    assert attached_policies(iam, "nightly-backup") == before
    narrowed = run_playbook("playbooks/setup.yml", inv)
    assert narrowed.returncode == 0, narrowed.stdout[-4000:]
    narrowed_grants = role_statements(iam, "nightly-backup")
    assert {"WriteNewBackups", "Export", "RunSummaries", "BackupKey"} <= set(narrowed_grants)
    assert not {"StartTaggedClusters", "CreateTaggedPipelines"} & set(narrowed_grants)


# Bad settings: tests/integration/test_bad_inventories.py runs this playbook with each, counting AWS calls.

@pytest.mark.parametrize(("pipeline", "deprecated"), [
    ({"service_role": "NightPipelineRole", "job_flow_role": "NightPipelineEc2Role"}, []),
    ({"role": "NightPipelineRole", "resource_role": "NightPipelineEc2Role"}, ["role", "resource_role"]),
])
def test_the_data_pipeline_roles_by_their_names_or_the_deprecated_ones(
        moto_server: Any, account: str, unique_name: str, tmp_path: Path, pipeline: dict[str, str],
        deprecated: list[str]) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, unique_name, hippolyte_datapipeline=pipeline,
                    hippolyte_setup={"engines": ["datapipeline"]})

    run = run_playbook("playbooks/setup.yml", inv)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    passed = role_statements(aws("iam", moto_server), "hippolyte-backup")["PassPipelineRoles"]["Resource"]
    assert sorted(passed) == [f"arn:aws:iam::{account}:role/NightPipelineEc2Role",
                              f"arn:aws:iam::{account}:role/NightPipelineRole"]
    warned = re.findall(r"DEPRECATED: Host acct: hippolyte_datapipeline\.(\w+) is deprecated: rename it (\w+)",
                        run.stdout)
    assert warned == [(old, {"role": "service_role", "resource_role": "job_flow_role"}[old]) for old in deprecated]


def test_a_backup_after_setup_encrypts_every_object_it_writes(moto_server: Any, account: str, unique_name: str,
                                                              tmp_path: Path) -> None:
    """Setup with SSE-KMS, then a backup with the same inventory: every object version it wrote (data parts,
    claim, manifest, the lease it took and gave back) carries aws:kms and the key.

    moto gives an object put without encryption headers the bucket's default encryption, so the default that
    setup made is taken off again (after checking it) before the backup: what head_object then reports is what
    the backup itself asked S3 for. The TLS-only bucket policy is taken off too: moto refuses every request of
    the stand-in's plain HTTP under it (aws:SecureTransport is false), as S3 would."""
    key = f"arn:aws:kms:{REGION}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ddb = aws("dynamodb", moto_server)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(200))
    inv = inventory(tmp_path / "inventory.json", moto_server.url, unique_name,
                    hippolyte_setup={"encryption": "aws:kms", "kms_key_id": key},
                    hippolyte_sse="aws:kms", hippolyte_kms_key_id=key, hippolyte_include=[unique_name],
                    hippolyte_engine="local", hippolyte_autoscaling=False, hippolyte_window=open_window(),
                    hippolyte_report_dir=str(tmp_path / "reports"))
    setup = run_playbook("playbooks/setup.yml", inv)
    assert setup.returncode == 0, setup.stdout[-4000:] + setup.stderr[-2000:]
    s3 = aws("s3", moto_server)
    (rule,) = s3.get_bucket_encryption(Bucket=unique_name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    s3.delete_bucket_encryption(Bucket=unique_name)
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=unique_name)["Policy"]
    s3.delete_bucket_policy(Bucket=unique_name)

    backup = run_playbook("playbooks/backup.yml", inv)

    assert backup.returncode == 0, backup.stdout[-4000:] + backup.stderr[-2000:]
    versions = s3.list_object_versions(Bucket=unique_name, Prefix="dynamodb/")["Versions"]
    names = [v["Key"].rsplit("/", 1)[-1] for v in versions]
    assert "hippolyte-manifest.json" in names and "hippolyte-claim.json" in names and "lease.json" in names
    assert any("/data/" in v["Key"] for v in versions)
    for version in versions:
        head = s3.head_object(Bucket=unique_name, Key=version["Key"], VersionId=version["VersionId"])
        assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == ("aws:kms", key), version["Key"]
