"""What `--check --diff` of the setup role shows: every resource setup manages in an account and region (the
bucket, its lifecycle rule, the topic, the managed policies, the two roles, the inline policies of earlier setups),
before and after, as views in the terms of `hippolyte_setup`'s options. A resource already as setup would leave it
is not shown, so a check of an unchanged setup shows nothing.

Views are plain dicts of what setup sets and nothing else (a bucket's objects, a role's last use are not setup's):
`None` for a resource that does not exist, or that setup removes. Policy documents are compared in a canonical form
(lists as sets, a one-element list as its element), as IAM and S3 treat them; otherwise a document S3 or IAM gives
back reordered would show as a change that is none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

View = dict[str, Any]
LIFECYCLE_RULE = "hippolyte-backups"
OBJECT_OWNERSHIP = "BucketOwnerEnforced"
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                       "RestrictPublicBuckets": True}


@dataclass(frozen=True)
class Resource:
    kind: str  # bucket, lifecycle rule, topic, managed policy, role, inline policy
    name: str


@dataclass(frozen=True)
class Change:
    """One resource that differs from what setup makes of it."""

    resource: Resource
    before: View | None
    after: View | None

    @property
    def action(self) -> str:
        return "create" if self.before is None else "remove" if self.after is None else "change"

    def as_diff(self) -> dict[str, Any]:
        """In Ansible's diff form (a dict shown as sorted JSON; "" for a side that does not exist)."""
        title = f"{self.resource.kind} {self.resource.name}"
        return {"before_header": title + (" (absent)" if self.before is None else ""),
                "after_header": title + (" (removed)" if self.after is None else ""),
                "before": "" if self.before is None else self.before,
                "after": "" if self.after is None else self.after}


@dataclass(frozen=True)
class SetupTarget:
    """What setup makes of one account and region (the setup role's values, as its tasks pass them on)."""

    bucket: str
    encryption: str  # AES256 | aws:kms
    kms_key_id: str
    bucket_policy: Mapping[str, Any]
    tags: Mapping[str, str]
    lifecycle: Mapping[str, Any]  # prefix, abort_multipart_days, expiration_days, noncurrent_expiration_days
    topic_arn: str
    subscriptions: tuple[tuple[str, str], ...]  # (protocol, endpoint)
    policies: tuple[Mapping[str, Any], ...]  # the iam_policies filter's list: kind, role, name, document
    roles: tuple[Mapping[str, Any], ...]  # name, path, description, role (backup | restore)
    trust_policy: Mapping[str, Any]
    policy_arn_prefix: str  # arn:<partition>:iam::<account>:policy/
    object_lock: Mapping[str, Any] | None = None  # mode, default_retention_days; None: setup leaves it as it is

    def policy_arn(self, name: str) -> str:
        return self.policy_arn_prefix + name

    def managed(self, role: str = "") -> list[Mapping[str, Any]]:
        return [p for p in self.policies if p["kind"] == "managed" and (not role or p["role"] == role)]

    def inline(self) -> list[Mapping[str, Any]]:
        return [p for p in self.policies if p["kind"] == "inline"]

    def role_name(self, role: str) -> str:
        return str(next(r["name"] for r in self.roles if r["role"] == role))


def canonical(document: Any) -> Any:
    """A policy document in one spelling: keys sorted, lists sorted, a list of one as its element."""
    if isinstance(document, Mapping):
        return {key: canonical(document[key]) for key in sorted(document)}
    if isinstance(document, list | tuple):
        items = sorted((canonical(item) for item in document), key=lambda item: json.dumps(item, sort_keys=True))
        return items[0] if len(items) == 1 else items
    return document


def encryption_view(algorithm: str, kms_key_id: str) -> View:
    return {"algorithm": algorithm, **({"kms_key_id": kms_key_id} if algorithm == "aws:kms" else {})}


def bucket_view(versioning: str, encryption: View | None, public_access_block: Mapping[str, bool] | None,
                object_ownership: str | None, policy: Mapping[str, Any] | None, tags: Mapping[str, str],
                object_lock: View | None = None) -> View:
    return {"versioning": versioning, "encryption": encryption, "public_access_block": public_access_block,
            "object_ownership": object_ownership, "policy": None if policy is None else canonical(policy),
            "tags": dict(tags), "object_lock": object_lock}


def object_lock_view(enabled: bool, default_retention: Mapping[str, Any] | None) -> View | None:
    """The bucket's S3 Object Lock (None: the bucket has none), its default retention as S3 holds it (mode, and
    days or years; None: none)."""
    if not enabled:
        return None
    return {"enabled": True, "default_retention": {key: value for key, value in default_retention.items() if value}
            if default_retention else None}


def lifecycle_view(prefix: str, status: str, abort_multipart_days: int, expiration_days: int,
                   noncurrent_expiration_days: int) -> View:
    """The rule in hippolyte_setup's terms: 0 days is never (no such action in the rule)."""
    return {"prefix": prefix, "status": status, "abort_multipart_days": abort_multipart_days,
            "expiration_days": expiration_days, "noncurrent_expiration_days": noncurrent_expiration_days}


def topic_view(subscriptions: Sequence[tuple[str, str]], tags: Mapping[str, str]) -> View:
    return {"subscriptions": sorted(f"{protocol}:{endpoint}" for protocol, endpoint in subscriptions),
            "tags": dict(tags)}


def policy_view(document: Mapping[str, Any]) -> View:
    return {"document": canonical(document)}


def role_view(path: str, description: str, trust_policy: Mapping[str, Any], managed_policies: Sequence[str],
              tags: Mapping[str, str]) -> View:
    return {"path": path, "description": description, "trust_policy": canonical(trust_policy),
            "managed_policies": sorted(managed_policies), "tags": dict(tags)}


def wanted(target: SetupTarget, current: Mapping[Resource, View | None]) -> dict[Resource, View | None]:
    """What each resource is once setup has run, in the order setup makes them. A role keeps the managed
    policies attached to it that setup does not manage (another region's: `purge_policies` is off), and loses
    those of this region's parts that setup deletes."""
    bucket = Resource("bucket", target.bucket)
    if target.object_lock:
        days = int(target.object_lock.get("default_retention_days") or 0)
        lock = object_lock_view(True, {"mode": target.object_lock["mode"], "days": days} if days else None)
    else:
        lock = (current.get(bucket) or {}).get("object_lock")  # not asked: setup leaves it as it is
    wanted_views: dict[Resource, View | None] = {
        bucket: bucket_view(
            "Enabled", encryption_view(target.encryption, target.kms_key_id), PUBLIC_ACCESS_BLOCK, OBJECT_OWNERSHIP,
            target.bucket_policy, target.tags, lock),
        Resource("lifecycle rule", f"{target.bucket}/{LIFECYCLE_RULE}"): lifecycle_view(
            target.lifecycle["prefix"], "Enabled", int(target.lifecycle["abort_multipart_days"]),
            int(target.lifecycle["expiration_days"]), int(target.lifecycle["noncurrent_expiration_days"])),
        Resource("topic", target.topic_arn): topic_view(target.subscriptions, target.tags),
    }
    for policy in target.managed():
        wanted_views[Resource("managed policy", policy["name"])] = (
            policy_view(policy["document"]) if policy["document"] else None)
    deleted = {target.policy_arn(p["name"]) for p in target.managed() if not p["document"]}
    for role in target.roles:
        resource = Resource("role", role["name"])
        attached = set((current.get(resource) or {}).get("managed_policies", ())) - deleted
        attached |= {target.policy_arn(p["name"]) for p in target.managed(role["role"]) if p["document"]}
        wanted_views[resource] = role_view(role["path"], role["description"], target.trust_policy, sorted(attached),
                                           target.tags)
    for policy in target.inline():
        wanted_views[Resource("inline policy", f"{target.role_name(policy['role'])}/{policy['name']}")] = None
    return wanted_views


def changes(target: SetupTarget, current: Mapping[Resource, View | None]) -> list[Change]:
    """Every resource whose current view (`current`, None or missing: absent) is not what setup makes of it."""
    return [Change(resource, current.get(resource), after)
            for resource, after in wanted(target, current).items() if current.get(resource) != after]


def summary(found: Sequence[Change]) -> str:
    """One line an operator reads in check mode: what would be created, changed and removed."""
    if not found:
        return "Nothing would change: every resource is as setup makes it"
    parts = []
    for action, verb in (("create", "create"), ("change", "change"), ("remove", "remove")):
        names = [f"{c.resource.kind} {c.resource.name}" for c in found if c.action == action]
        if names:
            parts.append(f"would {verb} " + ", ".join(names))
    text = "; ".join(parts)
    return text[0].upper() + text[1:]
