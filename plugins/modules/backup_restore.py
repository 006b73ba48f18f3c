#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_restore
short_description: Restore a DynamoDB backup into a new or empty table
version_added: 0.1.0
description:
  - Finds the newest complete backup of O(table) under O(destination) (or the newest at or before
    O(at)), recreates the table under a new name from the schema captured at backup time (keys,
    attribute definitions, LSIs, GSIs, billing mode, capacities, streams, SSE, table class, deletion
    protection, TTL and tags), loads every item with parallel BatchWriteItem, and verifies the count.
  - Items DynamoDB leaves unprocessed are retried with backoff until written. If no item at all can
    be written for O(stall_timeout) seconds the task fails and says how many items are missing.
  - Refuses a target table that exists and holds items unless O(force=true).
  - Before the target table is created, every data file's size and sha256 are checked against the manifest
    (streamed, O(readers) files at a time); a damaged backup fails naming the file and the reason, and
    nothing is created or written. Each file is checked again while it loads.
  - Reads every engine's format - C(dynamodb-json) (local engine), C(emr-connector) (Data Pipeline and EMR,
    both line styles) and C(native-export) (export engine) - and imports dynamodump folders (O(dynamodump)).
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  table:
    description:
      - Name of the backed-up table. Checked against DynamoDB's naming rules (3 to 255 of C(a-z A-Z 0-9 _ - .))
        before any call, so it cannot lead outside O(destination).
    type: str
    required: true
  at:
    description:
      - Restore the newest complete backup taken at or before this time. A date (C(2026-11-20) means
        the end of that day), an ISO 8601 time, or a backup folder name (C(2026-11-20-01-00-00)).
        Times without a zone are UTC.
    type: str
  account_id:
    description:
      - Account whose backup to restore (12 digits).
      - Default, when backups of O(table) exist for several accounts under O(destination), the account of the
        module's credentials (the assumed O(role_arn) when given), asked only then.
    type: str
  target:
    description:
      - Name of the table to restore into, checked like O(table). Default
        C(<table>-restored-<YYYYMMDD-HHMMSS of the backup>).
    type: str
  force:
    description: Load into an existing table even if it holds items (existing items with the same keys are replaced).
    type: bool
    default: false
  workers:
    description: Threads sending BatchWriteItem calls.
    type: int
    default: 8
  readers:
    description: Data files read and decoded at the same time.
    type: int
    default: 4
  verify:
    description: Count the restored table's items with a parallel Scan and fail if it differs from the backup.
    type: bool
    default: true
  verify_before_write:
    description:
      - Check every data file's size and sha256 before creating the target table. V(false) reads the backup
        once only (the check while loading stays), so a damaged file is found after part of it was written.
    type: bool
    default: true
  write_capacity:
    description:
      - Write capacity units for a new provisioned table (and each GSI) while it loads. The original is
        recorded on the table first (as M(hippolyte.dynamodb.dynamodb_throughput) does) and put back when
        the load ends, even when it fails. Unset, the table loads at its backed-up capacity.
    type: int
  dynamodump:
    description:
      - Root of a dump written by the dynamodump tool (C(file:///dir) or C(s3://bucket/prefix)), holding
        C(<table>/schema.json) and C(<table>/data/0001.json) ... The table's folder is first imported under
        O(destination) as an ordinary backup, taken at O(at) (default now; give O(at) to make a rerun find
        the same import), then restored.
      - If the restore then fails, the backup this import just made is removed again (one imported by an
        earlier run stays). A dump whose C(schema.json) names a table DynamoDB would refuse is not imported.
      - In check mode nothing is imported.
    type: str
  run_id:
    description: Identifies this run in the capacity record of a boosted load.
    type: str
  wait_timeout:
    description: Seconds to wait for the new table to become ACTIVE.
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
    details: Finds the backup and checks the target; creates and writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: >-
      A finished restore tags its table with the backup it came from; restoring the same backup into
      the same target again changes nothing.
notes:
  - The restored table is a new table; point applications at it, or rename by your own procedure.
"""

EXAMPLES = r"""
- name: Restore the newest backup of orders into a new table
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    region: eu-west-1
  register: restored

- name: Restore orders as it was at the end of 20 November into orders-20nov
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    at: "2026-11-20"
    target: orders-20nov
"""

RETURN = r"""
backup_url:
  description: Folder of the backup restored.
  returned: always
  type: str
  sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-20-01-00-00
target:
  description: Name of the table restored into.
  returned: always
  type: str
  sample: orders-restored-20261120-010000
created:
  description: Whether the target table was created.
  returned: always
  type: bool
  sample: true
expected_items:
  description: Items in the backup, from its manifest.
  returned: always
  type: int
  sample: 200000
written_items:
  description: Items written by this run.
  returned: always
  type: int
  sample: 200000
counted_items:
  description: Items counted in the target after the restore (null when O(verify=false) or nothing was done).
  returned: always
  type: int
  sample: 200000
retried_items:
  description: Items DynamoDB left unprocessed at least once and that were sent again.
  returned: always
  type: int
  sample: 0
duration_s:
  description: Wall-clock seconds of the restore.
  returned: always
  type: float
  sample: 31.2
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    credentials_account,
    destination_store,
    run_or_fail,
    s3_client,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog import find_backup, parse_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.dynodump import discarded_on_failure, import_dump
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.names import check_account_id, check_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restore import RestoreSettings, restore_backup

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    at=dict(type="str"),
    account_id=dict(type="str"),
    target=dict(type="str"),
    force=dict(type="bool", default=False),
    workers=dict(type="int", default=8),
    readers=dict(type="int", default=4),
    verify=dict(type="bool", default=True),
    verify_before_write=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    stall_timeout=dict(type="int", default=300),
    write_capacity=dict(type="int"),
    dynamodump=dict(type="str"),
    run_id=dict(type="str"),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    settings = RestoreSettings(workers=p["workers"], readers=p["readers"], force=p["force"], verify=p["verify"],
                               verify_before_write=p["verify_before_write"],
                               wait_timeout_s=p["wait_timeout"], stall_timeout_s=p["stall_timeout"],
                               write_capacity=p["write_capacity"], run_id=p["run_id"])
    ddb = aws_client(module, "dynamodb", pool_size=p["workers"] + p["readers"])
    stop = watch_controller(module)

    def restore():
        settings.validate()
        # Names that become paths or tables are checked before any call.
        check_table_name("table", p["table"])
        if p["target"]:
            check_table_name("target", p["target"])
        if p["account_id"]:
            check_account_id("account_id", p["account_id"])
        at = parse_time(p["at"]) if p["at"] else None
        store = destination_store(module, p["readers"])
        imported = None
        if p["dynamodump"] and not module.check_mode:
            # A dump is first imported as an ordinary backup (taken at `at`), then restored like one.
            dump = open_store(p["dynamodump"], s3_client(module) if p["dynamodump"].startswith("s3://") else None)
            imported = import_dump(dump, p["table"], store, module.region, p["account_id"], at)
        with discarded_on_failure(store, imported):
            ref = find_backup(store, p["table"], module.region, p["account_id"], at,
                              own_account=lambda: credentials_account(module))
            target = check_table_name("target", p["target"] or f"{p['table']}-restored-{ref.taken_at:%Y%m%d-%H%M%S}")
            return store, restore_backup(ddb, store, ref.folder, target, settings, check_mode=module.check_mode,
                                         stop=stop)

    store, result = run_or_fail(module, restore)
    module.exit_json(
        changed=result.changed, backup_url=f"{store.url.rstrip('/')}/{result.source}", target=result.target,
        created=result.created, expected_items=result.expected_items, written_items=result.written_items,
        counted_items=result.counted_items, retried_items=result.retried_items,
        duration_s=round(result.duration_s, 3), msg=result.msg)


if __name__ == "__main__":
    main()
