#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_info
short_description: List and verify the backups under a destination (the catalog)
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
  - O(state=pruned) moved to M(hippolyte.dynamodb.backup_prune) (same options, without O(state)). For one
    release it fails before anything is read or deleted, naming that module; an C(_info) module only reads.
  - A folder dated after now (beyond a few minutes of clock skew) is an anomaly, returned with
    RV(backups[].future_dated) and named in the message (C(msg)); it is never resumed, restored by default or counted.
  - Names read back from the listing are used only when they are what the backup layout writes (a 12-digit
    account, a region, a table name DynamoDB accepts, a folder time); anything else is skipped.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  state:
    description:
      - What to do with the selected backups.
      - V(pruned) fails, naming M(hippolyte.dynamodb.backup_prune), which replaces it; it goes in the next release.
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
        name (C(2026-11-20-06-30-00)) is that moment. UTC unless an offset is given.
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
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
    type: int
    default: 0
  keep_daily:
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
    type: int
    default: 0
  keep_weekly:
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
    type: int
    default: 0
  keep_monthly:
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
    type: int
    default: 0
  max_age_days:
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
    type: int
  incomplete_grace_hours:
    description: Moved to M(hippolyte.dynamodb.backup_prune) with O(state=pruned); ignored otherwise.
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
    details: Changes nothing in either mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Only reads.
seealso:
  - module: hippolyte.dynamodb.backup_prune
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
damaged:
  description: Number of damaged backups.
  returned: state=verified
  type: int
  sample: 0
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
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_task import (
    CatalogRequest,
    catalog_answer,
)

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
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    # keep_* and max_age_days stay in the spec one more release, so a task with state=pruned gets the error naming
    # backup_prune rather than an unknown option.
    request = CatalogRequest(state=p["state"], tables=p["tables"], accounts=p["accounts"], regions=p["regions"],
                             since=p["since"], until=p["until"], workers=p["workers"],
                             fail_on_damaged=p["fail_on_damaged"])
    answer = run_or_fail(module, lambda: catalog_answer(request, lambda workers: destination_store(module, workers)))
    exit_with(module, answer)


if __name__ == "__main__":
    main()
