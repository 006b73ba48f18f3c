#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_prune
short_description: Delete the backups a retention policy does not keep
version_added: 0.1.0
description:
  - Reads the catalog of O(destination) (one recursive listing, one read of each complete backup's manifest, as
    M(hippolyte.dynamodb.backup_info) does) and deletes the backup folders a retention policy does not keep.
  - The policy counts, per table, only the intact backups nights took (the manifest reads and holds its own
    digest). Such a backup is kept when it is one of the O(keep_last) newest, or the newest of one of the last
    O(keep_daily) days (UTC), O(keep_weekly) ISO weeks or O(keep_monthly) months counted back from now.
    O(max_age_days) caps all of that, but nothing of a table is deleted unless O(keep_last) (at least 1) intact
    backups newer than it remain, so the newest intact backup of a table is never deleted.
  - What the policy does not count it never deletes - imports (dynamodump, adopted folders), folders whose
    manifest is damaged, folders dated after now (an anomaly, returned with RV(backups[].future_dated)). An
    incomplete folder is deleted once neither its time nor its latest write is within O(incomplete_grace_hours),
    so a folder being written now is never touched.
  - Names read back from the listing are used only when they are what the backup layout writes (a 12-digit
    account, a region, a table name DynamoDB accepts, a folder time); anything else is skipped, never deleted.
  - Replaces O(hippolyte.dynamodb.backup_info#module:state=pruned), with the same options less C(state).
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  tables:
    description:
      - Table name patterns (shell globs matching the whole name, case-sensitive). Only their backups are
        considered; the backups of a table no longer backed up stay unless a pattern names it.
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
  workers:
    description: Manifests read at the same time.
    type: int
    default: 8
  keep_last:
    description: Keep the N newest intact backups of each table.
    type: int
    default: 0
  keep_daily:
    description: Keep the newest intact backup of each of the last N days (UTC, today too).
    type: int
    default: 0
  keep_weekly:
    description: Keep the newest intact backup of each of the last N ISO weeks (this one too).
    type: int
    default: 0
  keep_monthly:
    description: Keep the newest intact backup of each of the last N months (this one too).
    type: int
    default: 0
  max_age_days:
    description:
      - Delete complete backups older than this many days even when a keep rule would keep them (the newest of
        each table still stays). Unset, no age limit.
    type: int
  incomplete_grace_hours:
    description:
      - Delete an incomplete folder once both its time and its latest write are older than this. At least 1.
    type: int
    default: 24
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
    details: Lists exactly the folders that would be deleted (RV(deleted)) and deletes none.
  diff_mode:
    support: full
    details: >-
      One diff per table that loses a folder - every backup folder before (with why it stays or goes), the kept
      ones after.
  idempotent:
    support: full
    details: Run again, deletes nothing more until time moves a backup out of the policy.
notes:
  - Needs at least one of O(keep_last), O(keep_daily), O(keep_weekly) or O(keep_monthly).
  - A period (day, week, month) without a backup keeps nothing; the generations are counted back from now.
  - On S3 it needs C(s3:DeleteObject) on the destination's objects, beside what listing the catalog needs.
  - On a bucket with S3 Object Lock, every object of a folder about to be deleted is read (one C(HeadObject) each,
    C(s3:GetObjectRetention) and C(s3:GetObjectLegalHold)) and a folder still locked or held is skipped
    (RV(locked)), since deleting it would only hide its locked versions behind delete markers. Whether the bucket
    has Object Lock is asked first (C(s3:GetBucketObjectLockConfiguration)); a role denied it prunes as if the
    bucket had none, with a warning naming the grant.
seealso:
  - module: hippolyte.dynamodb.backup_info
"""

EXAMPLES = r"""
- name: Keep 3 newest, 7 nightly, 5 weekly and 12 monthly backups; show what would go first
  hippolyte.dynamodb.backup_prune:
    destination: s3://acme-ddb-backups/dynamodb
    keep_last: 3
    keep_daily: 7
    keep_weekly: 5
    keep_monthly: 12
    incomplete_grace_hours: 48
  check_mode: true
  diff: true

- name: Prune one account's orders tables, nothing older than 90 days
  hippolyte.dynamodb.backup_prune:
    destination: s3://acme-ddb-backups/dynamodb
    accounts: ["111111111111"]
    tables: ["orders*"]
    keep_daily: 14
    max_age_days: 90
  register: pruned
"""

RETURN = r"""
backups:
  description:
    - Every selected backup folder, oldest first, as M(hippolyte.dynamodb.backup_info) lists it, with what the
      policy does with it and why.
  returned: always
  type: list
  elements: dict
  contains:
    account: {description: Account id of the backup., type: str, returned: always, sample: "111111111111"}
    region: {description: Region of the table., type: str, returned: always, sample: eu-west-1}
    table: {description: Table backed up., type: str, returned: always, sample: orders}
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
    taken_at: {description: When the backup started (UTC)., type: str, returned: always, sample: "2026-11-20T01:00:00Z"}
    complete: {description: Whether its manifest was written., type: bool, returned: always, sample: true}
    engine: {description: Engine that wrote it (null when incomplete)., type: str, returned: always, sample: local}
    data_format:
      description: Format of its data files (null when incomplete).
      type: str
      returned: always
      sample: dynamodb-json
    items: {description: Items in the backup (null when incomplete)., type: int, returned: always, sample: 200000}
    bytes:
      description: Bytes of its data files (for an incomplete folder, of what it holds so far).
      type: int
      returned: always
      sample: 52428800
    age_s: {description: Seconds since the backup started., type: int, returned: always, sample: 86400}
    manifest_error: {description: Why its manifest cannot be read., type: str, returned: when it is unreadable}
    intact:
      description: Whether it is complete and its manifest reads and holds its own digest.
      type: bool
      returned: always
      sample: true
    origin:
      description:
        - How the folder came to be (null when its manifest cannot be read). C(kind=night) with C(engine),
          C(night) and C(run), or C(kind=import) with C(source), C(content_sha256) and C(imported_at).
      type: dict
      returned: always
      sample: {"kind": "night", "engine": "local", "night": "20261120T010000Z", "run": "hippolyte-prod-2026-11-20"}
    future_dated:
      description: Dated after now beyond the clock skew allowed; an anomaly, never counted or deleted.
      type: bool
      returned: always
      sample: false
    action: {description: C(keep) or C(delete)., type: str, returned: always, sample: delete}
    reasons:
      description: Why it is kept (every rule that keeps it) or deleted.
      type: list
      elements: str
      returned: always
      sample: ["keep_daily: newest of its day"]
deleted:
  description: Folders deleted (in check mode, that would be deleted), relative to O(destination).
  returned: always
  type: list
  elements: str
  sample: [111111111111/eu-west-1/orders/2026-10-02-01-00-00]
refused:
  description:
    - Folders the store refused to delete (S3 refuses each key inside a successful answer when the caller may not
      delete), with the files still there. Such a folder is not in RV(deleted), and the task fails naming it.
  returned: always
  type: dict
  sample: {111111111111/eu-west-1/orders/2026-10-02-01-00-00: [data/part-00000.json.gz]}
locked:
  description:
    - Folders the policy would delete but S3 Object Lock still protects (a retain-until date not reached, or a legal
      hold, on any of their objects), left in place and kept in RV(backups) with the reason; a later prune deletes
      them once the lock ends or the hold is lifted. They never fail the task. Always empty for a C(file://)
      destination or a bucket without Object Lock.
  returned: always
  type: dict
  sample:
    111111111111/eu-west-1/orders/2026-10-02-01-00-00:
      retain_until: "2026-10-09T00:00:00+00:00"
      legal_hold: false
      objects: 3
increments_deleted:
  description:
    - Increment folders (M(hippolyte.dynamodb.backup_increment)) deleted, or that would be in check mode, because no
      point-in-time full backup that stays can carry them forward - their window starts before the table's oldest
      kept one, or none is kept. A folder still locked is in RV(locked) instead; one without its manifest is left
      until its window ended O(incomplete_grace_hours) ago (its export may still be writing it).
  returned: always
  type: list
  elements: str
  sample: [111111111111/eu-west-1/orders/increments/2026-10-02-01-00-00_2026-10-02-01-15-00]
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
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_task import PruneRequest, prune_answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy

ARGUMENT_SPEC = dict(
    tables=dict(type="list", elements="str", default=["*"]),
    accounts=dict(type="list", elements="str", default=[]),
    regions=dict(type="list", elements="str", default=[]),
    workers=dict(type="int", default=8),
    keep_last=dict(type="int", default=0),
    keep_daily=dict(type="int", default=0),
    keep_weekly=dict(type="int", default=0),
    keep_monthly=dict(type="int", default=0),
    max_age_days=dict(type="int"),
    incomplete_grace_hours=dict(type="int", default=24),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    request = PruneRequest(tables=p["tables"], accounts=p["accounts"], regions=p["regions"], workers=p["workers"],
                           policy=Policy(keep_last=p["keep_last"], keep_daily=p["keep_daily"],
                                         keep_weekly=p["keep_weekly"], keep_monthly=p["keep_monthly"],
                                         max_age_days=p["max_age_days"],
                                         incomplete_grace_hours=p["incomplete_grace_hours"]))
    answer = run_or_fail(module, lambda: prune_answer(request, lambda workers: destination_store(module, workers),
                                                      module.check_mode, module._diff))
    exit_with(module, answer)


if __name__ == "__main__":
    main()
