#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_drill
short_description: Restore drill - restore one table's newest backup into a scratch table, check it, delete it
version_added: 0.1.0
description:
  - Picks one table of O(tables) for the night (rotating - the night's day of the year modulo the number of
    tables, names sorted - so each table is drilled in turn), or O(table) when given.
  - Restores the newest intact backup a night took of that table under O(destination) into the scratch table
    C(<table>-drill-<YYYYMMDD of the night>) exactly as M(hippolyte.dynamodb.backup_restore) does (every data
    file's size and sha256 checked before the table is created, the schema recreated, every item loaded), then
    counts the scratch table's items with a parallel Scan against the backup's manifest and compares the table
    with the backup item by item (as O(hippolyte.dynamodb.backup_restore#module:compare=true) does).
  - Deletes the scratch table afterwards, also when the restore or the count failed; its deletion protection
    (restored from the backup) is turned off first. A table of that name that existed before the drill is
    never deleted, the drill refuses to start instead.
  - Fails when the backup cannot be restored, the count differs, an item is missing, extra or changed (naming the
    first keys), or the scratch table cannot be deleted; the failed result still names the table, the backup and
    the scratch table.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  tables:
    description: The tables to rotate through (the backup role passes the tables backed up tonight).
    type: list
    elements: str
    default: []
  table:
    description: Drill this table instead of rotating through O(tables).
    type: str
  night:
    description:
      - The night (ISO 8601 time, UTC without a zone) that picks the table and dates the scratch table.
        Default now. The backup role passes the plan's night, so a rerun of the night drills the same table.
    type: str
  account_id:
    description: Account whose backup to restore (12 digits), when several accounts' backups share O(destination).
    type: str
  workers:
    description: Threads sending BatchWriteItem calls, and Scan segments of the count.
    type: int
    default: 8
  readers:
    description: Data files read and decoded at the same time.
    type: int
    default: 4
  wait_timeout:
    description: Seconds to wait for the scratch table to become ACTIVE, and to be deleted.
    type: int
    default: 600
  stall_timeout:
    description: Seconds without a single item accepted before the restore gives up.
    type: int
    default: 300
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
    details: Picks the table and finds its backup; creates, writes and deletes nothing.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run restores and deletes a scratch table; it leaves nothing behind.
"""

EXAMPLES = r"""
- name: Drill tonight's table among those backed up
  hippolyte.dynamodb.backup_drill:
    destination: s3://acme-ddb-backups/dynamodb
    tables: [orders, users, invoices]
    night: "2026-11-22T00:00:00Z"
  register: drill

- name: Drill the orders table now
  hippolyte.dynamodb.backup_drill:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
"""

RETURN = r"""
table:
  description: The table drilled.
  returned: always
  type: str
  sample: orders
scratch_table:
  description: The scratch table restored into (and deleted).
  returned: always
  type: str
  sample: orders-drill-20261122
backup_url:
  description: Folder of the backup restored (null when none was found).
  returned: always
  type: str
  sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-00-00-01
expected_items:
  description: Items in the backup, from its manifest.
  returned: always
  type: int
  sample: 2000
counted_items:
  description: Items counted in the scratch table after the restore (null in check mode or when it failed first).
  returned: always
  type: int
  sample: 2000
written_items:
  description: Items written into the scratch table.
  returned: always
  type: int
  sample: 2000
scratch_deleted:
  description: Whether the scratch table was deleted.
  returned: always
  type: bool
  sample: true
compare:
  description:
    - The scratch table compared item by item with the backup, as M(hippolyte.dynamodb.backup_restore)'s
      RV(hippolyte.dynamodb.backup_restore#module:compare); a difference fails the drill naming the first keys.
  returned: always (null when the drill did not get that far, or in check mode)
  type: dict
  sample: {equal: true, backup_items: 40, table_items: 40, missing: [], extra: [], changed: [],
           missing_count: 0, extra_count: 0, changed_count: 0}
duration_s:
  description: Wall-clock seconds of the drill.
  returned: always
  type: float
  sample: 12.5
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    destination_store,
    require_destination,
    run_or_fail,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.drill import (
    DrillRequest,
    drill_request,
    run_drill,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import RestoreSettings

ARGUMENT_SPEC = dict(
    tables=dict(type="list", elements="str", default=[]),
    table=dict(type="str"),
    night=dict(type="str"),
    account_id=dict(type="str"),
    workers=dict(type="int", default=8),
    readers=dict(type="int", default=4),
    wait_timeout=dict(type="int", default=600),
    stall_timeout=dict(type="int", default=300),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    request = DrillRequest(tables=p["tables"], table=p["table"], night=p["night"], account_id=p["account_id"],
                           settings=RestoreSettings(workers=p["workers"], readers=p["readers"],
                                                    wait_timeout_s=p["wait_timeout"],
                                                    stall_timeout_s=p["stall_timeout"]))
    drill = run_or_fail(module, lambda: drill_request(request))
    ddb = aws_client(module, "dynamodb", pool_size=p["workers"] + p["readers"])
    stop = watch_controller(module)
    run_or_fail(module, lambda: run_drill(drill, ddb, destination_store(module, p["readers"]), module.region,
                                          p["account_id"], request.settings, check_mode=module.check_mode,
                                          stop=stop),
                facts=drill.facts)
    module.exit_json(changed=drill.changed, msg=drill.msg, **drill.facts())


if __name__ == "__main__":
    main()
