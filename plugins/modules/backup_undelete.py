#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_undelete
short_description: Put back into a live table the items a backup holds and the table lost
version_added: 0.1.0
description:
  - Undoes an accidental delete without a restore into a new table - compares the live O(table) with the newest
    intact backup (of O(source_table), the table itself by default; at or before O(at) when given), item by item,
    then writes back the items the backup holds and the table does not.
  - A missing item is written with a conditional PutItem (the item must still be absent), so an item the
    application wrote back meanwhile is never overwritten; it is counted in RV(appeared) and left as it is.
  - An item that exists in both but differs is listed (RV(differing_keys)) and overwritten only with
    O(overwrite_changed) - DynamoDB keeps no write time, so the table's version may be the newer one.
  - O(key_prefix) and O(keys) limit what is put back. Writes are held to O(write_units_per_second).
  - Run it in check mode first - it compares and reports exactly what a run would write, and writes nothing.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  table:
    description: The live table to put items back into. It must have the backup's primary key.
    type: str
    required: true
  source_table:
    description: The table whose backup is read. Default O(table).
    type: str
  at:
    description:
      - Use the newest intact backup taken at or before this time (any ISO 8601 spelling; a date alone means up to
        the end of that day). Default the newest.
    type: str
  account_id:
    description: The account whose backups are read, when the destination holds several. Default the caller's.
    type: str
  write_units_per_second:
    description: The most write units per second the writes take from the live table (one per started KB of item).
    type: float
    default: 100
  overwrite_changed:
    description: Also overwrite items that exist in the table with other values than in the backup.
    type: bool
    default: false
  key_prefix:
    description: Only items whose partition key is a string starting with this.
    type: str
  keys:
    description:
      - 'Only these items, each key in DynamoDB JSON with every key attribute, for example
        C({"pk": {"S": "order-1"}, "sk": {"N": "3"}}).'
    type: list
    elements: dict
    default: []
  workers:
    description: Writers (and backup readers) side by side.
    type: int
    default: 4
  segments:
    description: Parallel Scan segments of the comparison.
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
    details: >-
      Compares and returns what would be put back (RV(missing), RV(differing) and their first keys); writes nothing.
  diff_mode:
    support: full
    details: The first keys that would be put back (before, absent; after, present).
  idempotent:
    support: full
    details: Run again, the items put back are no longer missing, so nothing more is written.
notes:
  - Needs C(dynamodb:Scan), C(dynamodb:DescribeTable) and C(dynamodb:PutItem) on the live table. The restore role
    of the setup role has no write on live tables unless C(hippolyte_setup.undelete_tables) names them.
  - The comparison holds every key of the backup in memory (about 160 bytes per item).
seealso:
  - module: hippolyte.dynamodb.backup_restore
"""

EXAMPLES = r"""
- name: What would go back into orders from last night's backup (nothing is written)
  hippolyte.dynamodb.backup_undelete:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
  check_mode: true
  register: preview

- name: Put back the deleted orders of customer 42, at 200 write units a second
  hippolyte.dynamodb.backup_undelete:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    key_prefix: "customer-42#"
    at: "2026-11-20T06:00:00Z"
    write_units_per_second: 200
"""

RETURN = r"""
backup_url:
  description: The backup read.
  type: str
  returned: success
  sample: s3://b/p/111111111111/eu-west-1/orders/2026-11-20-01-00-00
missing: {description: Selected items the backup holds and the table lacked., type: int, returned: success, sample: 1}
differing: {description: Selected items both hold with other values., type: int, returned: success, sample: 3}
written: {description: Missing items put back (0 in check mode)., type: int, returned: success, sample: 120}
overwritten: {description: Differing items overwritten (O(overwrite_changed))., type: int, returned: success, sample: 0}
appeared:
  description: Missing items written back by someone else between the comparison and the write, left as they are.
  type: int
  returned: success
  sample: 0
write_units: {description: Write units used., type: float, returned: success, sample: 120.0}
missing_keys: {description: The first missing keys (up to 10)., type: list, elements: dict, returned: success}
differing_keys: {description: The first differing keys (up to 10)., type: list, elements: dict, returned: success}
compare:
  description: The whole comparison of the table with the backup, every difference counted.
  type: dict
  returned: success
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    credentials_account,
    destination_store,
    require_destination,
    run_or_fail,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.undelete import (
    UndeleteRequest,
    undelete_answer,
)

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    source_table=dict(type="str"),
    at=dict(type="str"),
    account_id=dict(type="str"),
    write_units_per_second=dict(type="float", default=100),
    overwrite_changed=dict(type="bool", default=False),
    key_prefix=dict(type="str", no_log=False),
    keys=dict(type="list", elements="dict", default=[], no_log=False),
    workers=dict(type="int", default=4),
    segments=dict(type="int", default=8),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    request = UndeleteRequest(table=p["table"], write_units_per_second=p["write_units_per_second"],
                              overwrite_changed=p["overwrite_changed"], key_prefix=p["key_prefix"],
                              keys=tuple(p["keys"]), workers=p["workers"], segments=p["segments"])
    run_or_fail(module, lambda: (require_destination(module), request.validate()))  # before any AWS call
    stop = watch_controller(module)
    result = run_or_fail(module, lambda: undelete_answer(
        aws_client(module, "dynamodb", p["workers"] + p["segments"]), destination_store(module, p["workers"]),
        module.region, request, source_table=p["source_table"], account=p["account_id"], at=p["at"],
        own_account=lambda: credentials_account(module), check_mode=module.check_mode, stop=stop))
    if module._diff:
        result["diff"] = {"before": {"absent": result["missing_keys"]}, "after": {"present": result["missing_keys"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
