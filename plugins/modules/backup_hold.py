#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_hold
short_description: Place or lift an S3 Object Lock legal hold on a table's backups
version_added: 0.1.0
description:
  - Places (O(state=present)) or lifts (O(state=absent)) an S3 Object Lock legal hold on every object of the
    backups of O(table) under O(destination), or only of the backup (or the day's backups) O(at) names.
  - A held object version cannot be deleted by anyone, whatever its retain-until date and lock mode, until the hold
    is lifted; M(hippolyte.dynamodb.backup_prune) skips a held backup and reports it in its C(locked) result.
  - Reads each object's hold first (one C(HeadObject) each) and changes only those that differ, so a second run
    changes nothing.
  - The destination's bucket must have S3 Object Lock (the setup playbook with C(hippolyte_object_lock) creates it
    so); a C(file://) destination or a bucket without it is refused before anything changes.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  table:
    description: The table whose backups are held or released (its exact name).
    type: str
    required: true
  state:
    description: V(present) places the legal hold, V(absent) lifts it.
    type: str
    choices: [present, absent]
    default: present
  at:
    description:
      - Only the backup taken at this time (its folder name, C(2026-11-20-01-00-00), or an ISO 8601 time), or every
        backup of that day for a date alone (C(2026-11-20)). Unset, every backup of the table.
    type: str
  accounts:
    description: Only the backups of these accounts (12 digits each). Default every account under O(destination).
    type: list
    elements: str
    default: []
  regions:
    description: Only the backups of these regions. Default every region under O(destination).
    type: list
    elements: str
    default: []
  workers:
    description: Manifests read at the same time while listing the backups.
    type: int
    default: 8
extends_documentation_fragment:
  - hippolyte.dynamodb.attributes
  - hippolyte.dynamodb.destination
  - hippolyte.dynamodb.assume_role
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - hippolyte.dynamodb.requirements
attributes:
  check_mode:
    support: full
    details: Reads every hold and reports the folders whose hold would change (RV(backups[].changed)); changes none.
  diff_mode:
    support: full
    details: One diff per backup folder whose hold changes, the objects held before and after.
  idempotent:
    support: full
    details: A hold already in the state asked is left as it is.
notes:
  - Needs C(s3:GetObjectLegalHold), C(s3:PutObjectLegalHold) and C(s3:GetBucketObjectLockConfiguration) on the
    destination, beside what listing the catalog needs. The setup playbook gives them to no role, as a legal hold is
    an operator's decision, run with the operator's own credentials.
  - The hold is set on each object's current version, the one backups are read from.
seealso:
  - module: hippolyte.dynamodb.backup_prune
  - module: hippolyte.dynamodb.backup_info
"""

EXAMPLES = r"""
- name: Keep every backup of orders for the audit, whatever retention says
  hippolyte.dynamodb.backup_hold:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    state: present

- name: Hold only the night of 20 November, show what changes first
  hippolyte.dynamodb.backup_hold:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    at: "2026-11-20"
  check_mode: true
  diff: true

- name: The audit is over, let retention prune them again
  hippolyte.dynamodb.backup_hold:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    state: absent
"""

RETURN = r"""
backups:
  description: Every selected backup folder of the table, oldest first, with how many of its objects changed.
  returned: always
  type: list
  elements: dict
  contains:
    folder:
      description: Folder of the backup, relative to O(destination).
      type: str
      returned: always
      sample: 111111111111/eu-west-1/orders/2026-11-20-01-00-00
    url:
      description: Folder of the backup.
      type: str
      returned: always
      sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-20-01-00-00
    objects: {description: Objects in the folder., type: int, returned: always, sample: 3}
    changed:
      description: Objects whose hold was changed (in check mode, would be).
      type: int
      returned: always
      sample: 3
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    destination_store,
    exit_with,
    require_destination,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.legal_hold import HoldRequest, hold_answer

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    at=dict(type="str"),
    accounts=dict(type="list", elements="str", default=[]),
    regions=dict(type="list", elements="str", default=[]),
    workers=dict(type="int", default=8),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    request = HoldRequest(table=p["table"], state=p["state"], at=p["at"], accounts=p["accounts"],
                          regions=p["regions"], workers=p["workers"])
    answer = run_or_fail(module, lambda: hold_answer(request, lambda workers: destination_store(module, workers),
                                                     module.check_mode, module._diff))
    exit_with(module, answer)


if __name__ == "__main__":
    main()
