# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)
"""The `inventory_problems` filter: a host's `hippolyte_*` variables checked against a role's argument spec
(the rules are in module_utils/night/inventory_check.py). It reads files of this collection only; no AWS call."""

from functools import cache
from pathlib import Path

import yaml

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.inventory_check import (
    check_host,
    deprecated_names,
    night_ops_problems_of,
    rules_for,
)

ROLES = Path(__file__).resolve().parents[2] / "roles"


@cache
def role_options(role):
    # A role documents one entry point: `main`, or the backup role's `inventory` (left to the role's own check).
    (entry,) = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"].values()
    return entry["options"]


@cache
def known_names():
    # An inventory is shared by the roles (and the playbooks' `hippolyte_hosts`): a name any of them reads is known.
    names = {"hippolyte_hosts"}
    for spec in ROLES.glob("*/meta/argument_specs.yml"):
        names.update(role_options(spec.parent.parent.name))
    return frozenset(names)


def inventory_problems(values, role):
    """Every problem of `values` (a host's hippolyte_* variables) for `role`, one line each; for the backup role
    also the after-the-night settings' own rules (retention, notification, drill)."""
    found = check_host(values, role_options(role), known_names(), rules_for(role))
    problems = [str(problem) for problem in found]
    if role == "backup":
        problems += night_ops_problems_of(values, role_options(role)["hippolyte_retention"])
    return problems


def inventory_deprecations(values):
    """A warning for each setting of `values` (a host's hippolyte_* variables) given under its old name."""
    return deprecated_names(values)


class FilterModule:
    def filters(self):
        return {"inventory_problems": inventory_problems, "inventory_deprecations": inventory_deprecations}
