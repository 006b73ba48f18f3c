#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_copy
short_description: Copy backups to a second destination, every object checked against its manifest
version_added: 0.1.0
description:
  - Copies the intact backups of O(destination) that the selection names to O(copy_to.destination), another
    bucket, region or account (or a C(file://) folder), under the same relative keys, so that
    M(hippolyte.dynamodb.backup_info), M(hippolyte.dynamodb.backup_restore) and M(hippolyte.dynamodb.backup_prune)
    work on the copy exactly as on the first destination.
  - Each data file is streamed (never held whole) and hashed on its way, and must match the SHA-256 and size its
    manifest records; the copy is then read back and checked again; only then is the manifest written, last. So a
    copy with a manifest is complete and checked, and a copy that fails a check, or breaks off, is removed and
    reported in RV(not_copied), and the task fails.
  - A folder whose manifest is already at the copy, byte for byte, is not copied again (RV(already_copied)) -
    run it again after a failure and it copies only what is missing.
  - Damaged or incomplete folders of the first destination are not backups and are never copied (verify them with
    M(hippolyte.dynamodb.backup_info) C(state=verified)).
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  copy_to:
    description: Where the copy goes, and how it is reached.
    type: dict
    required: true
    suboptions:
      destination:
        description: Root of the copy, C(s3://bucket/prefix) or C(file:///absolute/dir).
        type: str
        required: true
      region:
        description: Region of the copy's bucket. Default the module's O(region).
        type: str
      s3_endpoint_url:
        description: S3 endpoint for the copy (a stand-in, a VPC endpoint). Default AWS's own for O(copy_to.region).
        type: str
      role_arn:
        description:
          - A role to assume (with the module's own credentials) to write the copy, for a bucket in another
            account. Unset, the module's own credentials write it.
        type: str
      role_external_id:
        description: External id the role's trust policy asks for.
        type: str
      bucket_owner:
        description:
          - Account id that must own the copy's bucket; every S3 call names it. Default the account of the
            credentials that write the copy.
        type: str
      sse:
        description: Server-side encryption asked for on every object of the copy.
        type: str
        choices: [AES256, aws:kms]
      kms_key_id:
        description: The KMS key for O(copy_to.sse=aws:kms), one the copy's account can use.
        type: str
  tables:
    description: Table name patterns (shell globs matching the whole name). Only their backups are copied.
    type: list
    elements: str
    default: ["*"]
  accounts:
    description: Only these accounts (12 digits each). Default every account under O(destination).
    type: list
    elements: str
    default: []
  regions:
    description: Only these regions. Default every region under O(destination).
    type: list
    elements: str
    default: []
  night:
    description:
      - Only the backups that night's runs took (the night id their manifests record, as the plan's
        C(night.id)). Unset, every selected backup, imports too.
    type: str
  workers:
    description: Backup folders copied at the same time.
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
    details: Lists the folders that would be copied (RV(copied), with C(status=would copy)) and writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A folder already at the copy, manifest byte for byte, is left as it is.
notes:
  - Reading needs what M(hippolyte.dynamodb.backup_info) needs on O(destination); writing needs C(s3:PutObject),
    C(s3:ListBucket) and C(s3:DeleteObject) (to remove a failed copy) on the copy's bucket, granted to the
    credentials that write it (the bucket policy of another account's bucket, or O(copy_to.role_arn)).
  - Retention is per destination - run M(hippolyte.dynamodb.backup_prune) on the copy as well (the backup role
    does, with the same policy).
seealso:
  - module: hippolyte.dynamodb.backup_info
  - module: hippolyte.dynamodb.backup_prune
"""

EXAMPLES = r"""
- name: Copy tonight's backups to a bucket in another region, written by a role of the vault account
  hippolyte.dynamodb.backup_copy:
    destination: s3://acme-ddb-backups/dynamodb
    copy_to:
      destination: s3://acme-ddb-vault-eu-central-1/dynamodb
      region: eu-central-1
      role_arn: arn:aws:iam::222222222222:role/hippolyte-copy
      bucket_owner: "222222222222"
      sse: aws:kms
      kms_key_id: alias/ddb-vault
    night: "{{ backup_plan.night.id }}"
    accounts: ["111111111111"]

- name: Restore from the copy (same layout, so any backup module reads it)
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-vault-eu-central-1/dynamodb
    table: orders
    target: orders-restored
"""

RETURN = r"""
copied:
  description: Folders copied and checked (in check mode, that would be copied).
  returned: always
  type: list
  elements: dict
  contains:
    table: {description: Table backed up., type: str, returned: always, sample: orders}
    folder:
      description: Folder of the backup, relative to both destinations.
      type: str
      returned: always
      sample: 111111111111/eu-west-1/orders/2026-11-20-01-00-00
    status: {description: C(copied) or C(would copy)., type: str, returned: always, sample: copied}
    files: {description: "Objects copied, the manifest included.", type: int, returned: always, sample: 4}
    bytes: {description: Bytes copied., type: int, returned: always, sample: 52428800}
    source_url: {description: The folder copied., type: str, returned: always}
    copy_url: {description: The copy., type: str, returned: always}
already_copied:
  description: Folders whose manifest was already at the copy, byte for byte (same keys as RV(copied)).
  returned: always
  type: list
  elements: dict
not_copied:
  description:
    - Folders that could not be copied, each with its C(error) (a file that no longer matches its manifest at the
      source, a copy that reads back different, an S3 error); their partial copies were removed. The task fails
      when any is listed.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    COPY_TO_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    copy_store,
    destination_store,
    require_destination,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.second_copy import copy_result, copy_selection

ARGUMENT_SPEC = dict(
    tables=dict(type="list", elements="str", default=["*"]),
    accounts=dict(type="list", elements="str", default=[]),
    regions=dict(type="list", elements="str", default=[]),
    night=dict(type="str"),
    workers=dict(type="int", default=8),
    **COPY_TO_OPTIONS,
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params

    def run():
        selection = copy_selection(p["tables"], p["accounts"], p["regions"], p["workers"])  # before any AWS call
        return copy_result(destination_store(module, p["workers"]), copy_store(module, p["workers"]), selection,
                           night=p["night"], workers=p["workers"], check_mode=module.check_mode)

    result = run_or_fail(module, run)
    if result["not_copied"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
