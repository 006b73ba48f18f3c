"""The IAM policies a role holds, read back as IAM stores them (for tests of what setup created)."""

from __future__ import annotations

from typing import Any


def attached_policies(iam: Any, role: str) -> dict[str, dict[str, Any]]:
    """The customer managed policies attached to `role`: name -> default version's document."""
    out = {}
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        out[attached["PolicyName"]] = version["PolicyVersion"]["Document"]
    return out


def role_statements(iam: Any, role: str) -> dict[str, dict[str, Any]]:
    """Every statement of the role's attached policies, by Sid (inline policies must be gone: none are read)."""
    return {s["Sid"]: s for doc in attached_policies(iam, role).values() for s in doc["Statement"]}
