"""The current views (setup_diff) of what setup manages in an account and region, read from S3, IAM and SNS.
Read only: nothing here writes. A resource that does not exist reads as None, and so does a setting never set
(a bucket without a policy, a topic without tags reads as {})."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.setup_diff import (
    LIFECYCLE_RULE,
    Resource,
    SetupTarget,
    View,
    bucket_view,
    lifecycle_view,
    object_lock_view,
    policy_view,
    role_view,
    topic_view,
)

T = TypeVar("T")
# The codes S3, IAM and SNS answer for what is not there (a bucket, or one of its settings never set).
ABSENT_CODES = ("404", "NoSuchBucket", "NoSuchEntity", "NotFound", "NoSuchBucketPolicy", "NoSuchTagSet",
                "NoSuchLifecycleConfiguration", "ServerSideEncryptionConfigurationNotFoundError",
                "NoSuchPublicAccessBlockConfiguration", "OwnershipControlsNotFoundError",
                "ObjectLockConfigurationNotFoundError")


def unless_absent(call: Callable[[], T]) -> T | None:
    """The call's answer, or None where AWS says there is no such thing."""
    try:
        return call()
    except Exception as exc:
        if is_error(exc, *ABSENT_CODES):
            return None
        raise


def document(value: Any) -> Any:
    """A policy document as IAM or S3 gives it: parsed by botocore already, or URL-encoded JSON text."""
    return json.loads(unquote(value)) if isinstance(value, str) else value


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def read_bucket(s3: Any, bucket: str, owner: str) -> tuple[View | None, View | None]:
    """The bucket's view and its lifecycle rule's (None each when absent)."""
    mine = {"Bucket": bucket, "ExpectedBucketOwner": owner}
    if unless_absent(lambda: s3.head_bucket(**mine)) is None:
        return None, None
    encryption = unless_absent(lambda: s3.get_bucket_encryption(**mine))
    default = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"] \
        if encryption else None
    block = unless_absent(lambda: s3.get_public_access_block(**mine))
    ownership = unless_absent(lambda: s3.get_bucket_ownership_controls(**mine))
    policy = unless_absent(lambda: s3.get_bucket_policy(**mine))
    tags = unless_absent(lambda: s3.get_bucket_tagging(**mine))
    lock = (unless_absent(lambda: s3.get_object_lock_configuration(**mine)) or {}).get("ObjectLockConfiguration", {})
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    view = bucket_view(
        s3.get_bucket_versioning(**mine).get("Status", "Disabled"),
        {"algorithm": default["SSEAlgorithm"],
         **({"kms_key_id": default["KMSMasterKeyID"]} if default.get("KMSMasterKeyID") else {})} if default else None,
        block["PublicAccessBlockConfiguration"] if block else None,
        ownership["OwnershipControls"]["Rules"][0]["ObjectOwnership"] if ownership else None,
        json.loads(policy["Policy"]) if policy else None,
        tag_dict(tags["TagSet"] if tags else None),
        object_lock_view(lock.get("ObjectLockEnabled") == "Enabled", retention and {
            "mode": retention.get("Mode"), "days": retention.get("Days"), "years": retention.get("Years")}))
    lifecycle = unless_absent(lambda: s3.get_bucket_lifecycle_configuration(**mine))
    rule = next((r for r in (lifecycle or {}).get("Rules", []) if r.get("ID") == LIFECYCLE_RULE), None)
    if rule is None:
        return view, None
    where = rule.get("Filter", {})
    prefix = where.get("Prefix", where.get("And", {}).get("Prefix", rule.get("Prefix", "")))
    return view, lifecycle_view(prefix, rule["Status"],
                                rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation", 0),
                                rule.get("Expiration", {}).get("Days", 0),
                                rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0))


def read_topic(sns: Any, arn: str) -> View | None:
    if unless_absent(lambda: sns.get_topic_attributes(TopicArn=arn)) is None:
        return None
    subscriptions = all_items(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
    tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags")
    return topic_view([(s["Protocol"], s["Endpoint"]) for s in subscriptions], tag_dict(tags))


def read_managed_policy(iam: Any, arn: str) -> View | None:
    policy = unless_absent(lambda: iam.get_policy(PolicyArn=arn))
    if policy is None:
        return None
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["Policy"]["DefaultVersionId"])
    return policy_view(document(version["PolicyVersion"]["Document"]))


def read_role(iam: Any, name: str) -> tuple[View | None, list[str]]:
    """The role's view and the names of its inline policies (None and [] when it does not exist)."""
    answer = unless_absent(lambda: iam.get_role(RoleName=name))
    if answer is None:
        return None, []
    role = answer["Role"]
    attached = all_items(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    inline = all_items(iam, "list_role_policies", "PolicyNames", RoleName=name)
    return role_view(role["Path"], role.get("Description", ""), document(role["AssumeRolePolicyDocument"]),
                     [p["PolicyArn"] for p in attached], tag_dict(role.get("Tags"))), inline


def read_current(target: SetupTarget, s3: Any, iam: Any, sns: Any, account: str) -> dict[Resource, View | None]:
    """The current view of every resource setup manages; a resource missing from the answer does not exist."""
    bucket, rule = read_bucket(s3, target.bucket, account)
    current: dict[Resource, View | None] = {
        Resource("bucket", target.bucket): bucket,
        Resource("lifecycle rule", f"{target.bucket}/{LIFECYCLE_RULE}"): rule,
        Resource("topic", target.topic_arn): read_topic(sns, target.topic_arn),
    }
    for policy in target.managed():
        current[Resource("managed policy", policy["name"])] = read_managed_policy(
            iam, target.policy_arn(policy["name"]))
    for role in target.roles:
        view, inline = read_role(iam, role["name"])
        current[Resource("role", role["name"])] = view
        for policy in target.inline():
            if policy["role"] == role["role"] and policy["name"] in inline:
                found = iam.get_role_policy(RoleName=role["name"], PolicyName=policy["name"])
                current[Resource("inline policy", f"{role['name']}/{policy['name']}")] = policy_view(
                    document(found["PolicyDocument"]))
    return current
