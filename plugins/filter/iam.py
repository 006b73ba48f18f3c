# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)
"""Filters that render the setup role's IAM policies (the grants live in module_utils/setup/iam_grants.py); each is
documented in the YAML file of its name beside this one."""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.iam_grants import (
    LEGACY_POLICIES,
    managed_policies,
    policies,
    scope_of,
    trust_policy,
)


def iam_policies(values):
    """The customer managed policies of this account and region, {kind: managed, role: backup|restore, name,
    document} (document None: a part no longer needed, to be removed), then the inline policies earlier setups
    created, {kind: inline, role, name, document: None}, to be removed."""
    scope = scope_of(values)
    inline = [{"role": p["role"], "name": p["name"]} for p in policies(scope)]
    inline += [{"role": role, "name": name} for role, names in LEGACY_POLICIES.items() for name in names]
    return ([dict(p, kind="managed") for p in managed_policies(scope)]
            + [dict(p, kind="inline", document=None) for p in inline])


class FilterModule:
    def filters(self):
        return {"iam_policies": iam_policies, "iam_trust_policy": trust_policy}
