"""What setup's check mode shows (module_utils/setup/setup_diff.py): which resources differ, before and after,
and policy documents compared as IAM and S3 read them. What moto answers is read in
tests/integration/test_setup_playbook.py."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.setup_diff import (
    Resource,
    SetupTarget,
    canonical,
    changes,
    summary,
    wanted,
)

PREFIX = "arn:aws:iam::111111111111:policy/"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]}}]}
GRANTS = {"Version": "2012-10-17", "Statement": [{"Sid": "Scan", "Effect": "Allow", "Action": ["dynamodb:Scan"],
                                                  "Resource": "*"}]}


def target(**changed: Any) -> SetupTarget:
    values: dict[str, Any] = dict(
        bucket="acme", encryption="AES256", kms_key_id="", bucket_policy={"Statement": []}, tags={"team": "data"},
        lifecycle={"prefix": "dynamodb/", "abort_multipart_days": 7, "expiration_days": 0,
                   "noncurrent_expiration_days": 30},
        topic_arn="arn:aws:sns:eu-west-1:111111111111:runs", subscriptions=(),
        policies=({"kind": "managed", "role": "backup", "name": "hippolyte-backup-eu-west-1-1", "document": GRANTS},
                  {"kind": "managed", "role": "backup", "name": "hippolyte-backup-eu-west-1-2", "document": None},
                  {"kind": "inline", "role": "backup", "name": "hippolyte-backup-local", "document": None}),
        roles=({"name": "hippolyte-backup", "path": "/", "description": "backups", "role": "backup"},),
        trust_policy=TRUST, policy_arn_prefix=PREFIX)
    return SetupTarget(**{**values, **changed})


def as_set_up(setup: SetupTarget) -> dict[Resource, Any]:
    """What an account looks like right after setup ran (absent resources left out)."""
    return {resource: view for resource, view in wanted(setup, {}).items() if view is not None}


def test_an_account_as_setup_makes_it_shows_nothing() -> None:
    setup = target()
    assert changes(setup, as_set_up(setup)) == []
    assert summary([]) == "Nothing would change: every resource is as setup makes it"


def test_an_empty_account_shows_what_would_be_created_and_nothing_to_remove() -> None:
    found = changes(target(), {})
    assert [(c.resource.kind, c.action) for c in found] == [
        ("bucket", "create"), ("lifecycle rule", "create"), ("topic", "create"), ("managed policy", "create"),
        ("role", "create")]
    assert found[0].as_diff()["before"] == "" and found[0].as_diff()["before_header"] == "bucket acme (absent)"
    assert found[0].as_diff()["after"]["versioning"] == "Enabled"
    assert summary(found).startswith("Would create bucket acme, lifecycle rule acme/hippolyte-backups, topic")


def test_a_changed_setting_shows_its_resource_before_and_after() -> None:
    current = as_set_up(target())
    found = changes(target(lifecycle={**target().lifecycle, "expiration_days": 90}), current)
    (change,) = found
    assert change.resource == Resource("lifecycle rule", "acme/hippolyte-backups")
    assert (change.before["expiration_days"], change.after["expiration_days"]) == (0, 90)
    assert summary(found) == "Would change lifecycle rule acme/hippolyte-backups"


def test_a_role_keeps_other_regions_policies_and_loses_a_part_setup_deletes() -> None:
    current = as_set_up(target())
    role = Resource("role", "hippolyte-backup")
    other_region, deleted_part = PREFIX + "hippolyte-backup-us-east-1-1", PREFIX + "hippolyte-backup-eu-west-1-2"
    current[role] = {**current[role], "managed_policies": sorted([*current[role]["managed_policies"], other_region,
                                                                  deleted_part])}
    current[Resource("managed policy", "hippolyte-backup-eu-west-1-2")] = {"document": GRANTS}
    current[Resource("inline policy", "hippolyte-backup/hippolyte-backup-local")] = {"document": GRANTS}

    found = {c.resource: c for c in changes(target(), current)}

    assert found[role].after["managed_policies"] == [PREFIX + "hippolyte-backup-eu-west-1-1", other_region]
    assert found[Resource("managed policy", "hippolyte-backup-eu-west-1-2")].action == "remove"
    removed = found[Resource("inline policy", "hippolyte-backup/hippolyte-backup-local")]
    assert removed.after is None and removed.as_diff()["after_header"].endswith("(removed)")
    assert summary(list(found.values())).startswith("Would change role hippolyte-backup; would remove managed")


def shuffled(document: Any, rng: random.Random) -> Any:
    """The same document with every list in another order, and a one-element list spelt as its element."""
    if isinstance(document, dict):
        return {key: shuffled(value, rng) for key, value in document.items()}
    if isinstance(document, list):
        items = [shuffled(item, rng) for item in document]
        rng.shuffle(items)
        return items[0] if len(items) == 1 and rng.random() < 0.5 else items
    return document


documents = st.recursive(st.text(max_size=5) | st.booleans(),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                     max_size=4), max_leaves=20)


@given(documents, st.integers(0, 2**32))
def test_a_policy_reordered_or_respelt_reads_the_same(document: Any, seed: int) -> None:
    assert canonical(shuffled(document, random.Random(seed))) == canonical(document)
    assert canonical(canonical(document)) == canonical(document)
