#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_info
short_description: List, verify and prune the backups under a destination (the catalog)
version_added: 0.1.0
description:
  - Reads the catalog of O(destination) with one recursive listing (on S3 one paginated C(ListObjectsV2)
    without delimiter) and one read of each complete backup's manifest, in parallel; no call per object.
  - O(state=listed) returns every backup per account, region and table with its time, engine, data format,
    items, bytes, age, and whether it is complete (its manifest was written) or incomplete.
  - O(state=verified) re-reads every data file of the selected complete backups (streamed, in parallel) and
    checks its size, sha256 and item count against the manifest. Each backup is C(ok) or C(damaged), with the
    file and the reason (missing, size or sha256 mismatch, item count mismatch, unreadable manifest). The task
    fails after reporting them all when any is damaged, unless O(fail_on_damaged=false).
  - O(state=pruned) deletes the backups a retention policy does not keep. The policy counts, per table, only
    the intact backups nights took (the manifest reads and holds its own digest). Such a backup is kept when
    it is one of the O(keep_last) newest, or the newest of one of the last O(keep_daily) days (UTC),
    O(keep_weekly) ISO weeks or O(keep_monthly) months counted back from now. O(max_age_days) caps all of
    that, but nothing of a table is deleted unless O(keep_last) (at least 1) intact backups newer than it
    remain, so the newest intact backup of a table is never deleted.
  - What the policy does not count it never deletes - imports (dynamodump, adopted folders), folders whose
    manifest is damaged, folders dated after now. An incomplete folder is deleted once neither its time nor
    its latest write is within O(incomplete_grace_hours), so a folder being written now is never touched.
  - A folder dated after now (beyond a few minutes of clock skew) is an anomaly, returned with
    RV(backups[].future_dated) and named in the result's message; it is never resumed, restored by default or counted.
  - Names read back from the listing are used only when they are what the backup layout writes (a 12-digit
    account, a region, a table name DynamoDB accepts, a folder time); anything else is skipped.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  state:
    description: What to do with the selected backups.
    type: str
    choices: [listed, verified, pruned]
    default: listed
  tables:
    description: Table name patterns (shell globs matching the whole name, case-sensitive).
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
  since:
    description:
      - Only backups taken at or after this time. An ISO 8601 date (C(2026-11-20), C(20261120), C(2026-W47-5),
        C(2026-324)) starts at its first second; a date and time (C(2026-11-20T06:30:00Z)) or a backup folder
        name (C(2026-11-20-06-30-00)) is that moment. UTC unless an offset is given. Not with
        O(state=pruned), whose rules look at every backup of a table.
    type: str
  until:
    description: Only backups taken at or before this time (as O(since); a date alone ends at its last second).
    type: str
  workers:
    description: Manifests or data files read at the same time.
    type: int
    default: 8
  fail_on_damaged:
    description: With O(state=verified), fail the task when a backup is damaged (after reporting every backup).
    type: bool
    default: true
  keep_last:
    description: With O(state=pruned), keep the N newest intact backups of each table.
    type: int
    default: 0
  keep_daily:
    description: With O(state=pruned), keep the newest intact backup of each of the last N days (UTC, today too).
    type: int
    default: 0
  keep_weekly:
    description: With O(state=pruned), keep the newest intact backup of each of the last N ISO weeks (this one too).
    type: int
    default: 0
  keep_monthly:
    description: With O(state=pruned), keep the newest intact backup of each of the last N months (this one too).
    type: int
    default: 0
  max_age_days:
    description:
      - With O(state=pruned), delete complete backups older than this many days even when a keep rule would
        keep them (the newest of each table still stays). Unset, no age limit.
    type: int
  incomplete_grace_hours:
    description:
      - With O(state=pruned), delete an incomplete folder once both its time and its latest write are
        older than this. At least 1.
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
    details: With O(state=pruned), lists exactly the folders that would be deleted and deletes none.
  diff_mode:
    support: full
    details: With O(state=pruned), the diff lists the backup folders before and after.
  idempotent:
    support: full
    details: >-
      O(state=listed) and O(state=verified) change nothing; O(state=pruned) run again deletes nothing more
      until time moves a backup out of the policy.
notes:
  - O(state=pruned) needs at least one of O(keep_last), O(keep_daily), O(keep_weekly) or O(keep_monthly).
  - A period (day, week, month) without a backup keeps nothing; the generations are counted back from now.
"""

EXAMPLES = r"""
- name: List the backups of the orders tables taken in November
  hippolyte.dynamodb.backup_info:
    destination: s3://acme-ddb-backups/dynamodb
    tables: ["orders*"]
    since: "2026-11-01"
    until: "2026-11-30"
  register: catalog

- name: Verify every backup taken since 13 November, reporting damage without failing
  hippolyte.dynamodb.backup_info:
    destination: s3://acme-ddb-backups/dynamodb
    state: verified
    since: "2026-11-13T00:00:00Z"
    fail_on_damaged: false
  register: verified

- name: Keep 7 nightly, 5 weekly and 12 monthly backups; show what would go first
  hippolyte.dynamodb.backup_info:
    destination: s3://acme-ddb-backups/dynamodb
    state: pruned
    keep_last: 3
    keep_daily: 7
    keep_weekly: 5
    keep_monthly: 12
    incomplete_grace_hours: 48
  check_mode: true
  diff: true
"""

RETURN = r"""
backups:
  description:
    - The selected backups, oldest first. O(state=verified) returns the complete ones only.
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
          C(night) and C(run) (null for backups written before origins were recorded), or C(kind=import)
          with C(source), C(content_sha256) and C(imported_at).
      type: dict
      returned: always
      sample: {"kind": "night", "engine": "local", "night": "20261120T010000Z", "run": "hippolyte-prod-2026-11-20"}
    future_dated:
      description: Dated after now beyond the clock skew allowed; an anomaly, never trusted.
      type: bool
      returned: always
      sample: false
    status: {description: C(ok) or C(damaged)., type: str, returned: state=verified, sample: ok}
    damage:
      description: The damaged files, each with C(file) (its URL) and C(reason).
      type: list
      elements: dict
      returned: state=verified
      sample: [{"file": "s3://b/p/111111111111/eu-west-1/orders/2026-11-20-01-00-00/data/part-00000.json.gz",
                "reason": "sha256 is 9f..., the manifest says 3a..."}]
    files_checked: {description: Data files its manifest lists., type: int, returned: state=verified, sample: 12}
    bytes_read: {description: Bytes read to verify it., type: int, returned: state=verified, sample: 52428800}
    action: {description: C(keep) or C(delete)., type: str, returned: state=pruned, sample: delete}
    reasons:
      description: Why it is kept (every rule that keeps it) or deleted.
      type: list
      elements: str
      returned: state=pruned
      sample: ["keep_daily: newest of its day"]
damaged:
  description: Number of damaged backups.
  returned: state=verified
  type: int
  sample: 0
deleted:
  description: Folders deleted (in check mode, that would be deleted), relative to O(destination).
  returned: state=pruned
  type: list
  elements: str
  sample: [111111111111/eu-west-1/orders/2026-10-02-01-00-00]
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    destination_store,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.moments import parse_since, parse_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.catalog import Selection
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.catalog_states import (
    list_catalog,
    prune_catalog,
    verify_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.retention import Policy

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["listed", "verified", "pruned"], default="listed"),
    tables=dict(type="list", elements="str", default=["*"]),
    accounts=dict(type="list", elements="str", default=[]),
    regions=dict(type="list", elements="str", default=[]),
    since=dict(type="str"),
    until=dict(type="str"),
    workers=dict(type="int", default=8),
    fail_on_damaged=dict(type="bool", default=True),
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
    p = module.params

    def run():
        if p["workers"] < 1:
            raise InputError("workers", f"must be at least 1, got {p['workers']}", "use 1 to 64")
        if p["state"] == "pruned" and (p["since"] or p["until"]):
            raise InputError("since" if p["since"] else "until", "cannot narrow state=pruned by time: its rules "
                             "look at every backup of a table", "select by tables, accounts or regions instead")
        selection = Selection(tables=p["tables"], accounts=p["accounts"], regions=p["regions"],
                              since=parse_since(p["since"]) if p["since"] else None,
                              until=parse_until(p["until"]) if p["until"] else None)
        selection.validate()
        if p["state"] == "pruned":
            policy = Policy(keep_last=p["keep_last"], keep_daily=p["keep_daily"], keep_weekly=p["keep_weekly"],
                            keep_monthly=p["keep_monthly"], max_age_days=p["max_age_days"],
                            incomplete_grace_hours=p["incomplete_grace_hours"])
            policy.validate()
            return prune_catalog(destination_store(module, p["workers"]), selection, policy, p["workers"],
                                 module.check_mode)
        store = destination_store(module, p["workers"])
        if p["state"] == "verified":
            return verify_catalog(store, selection, p["workers"])
        return list_catalog(store, selection, p["workers"])

    outcome = run_or_fail(module, run)
    result = dict(changed=outcome.changed, backups=outcome.backups, msg=outcome.msg)
    if p["state"] == "verified":
        result["damaged"] = outcome.damaged
        if outcome.damaged and p["fail_on_damaged"]:
            module.fail_json(**result)
    if p["state"] == "pruned":
        result["deleted"] = outcome.deleted
        if module._diff:
            result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
