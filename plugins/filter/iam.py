# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)
"""Filters that render the setup role's IAM policies (the grants live in module_utils/iam_grants.py); each is documented
in the YAML file of its name beside this one."""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.iam_grants import (
    LEGACY_POLICIES,
    policies,
    scope_of,
    trust_policy,
)


def iam_policies(values):
    """Every inline policy of this account and region, {role: backup|restore, name, document}, then the
    region-less names of earlier setups with document None (to be removed)."""
    legacy = [{"role": role, "name": name, "document": None} for role, names in LEGACY_POLICIES.items()
              for name in names]
    return policies(scope_of(values)) + legacy


class FilterModule:
    def filters(self):
        return {"iam_policies": iam_policies, "iam_trust_policy": trust_policy}
