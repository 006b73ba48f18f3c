#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_increment
short_description: Take DynamoDB incremental exports after a table's full export (15-minute recovery points)
version_added: 0.3.0
description:
  - Run from cron every few minutes (see the collection's C(docs/cron.md)). For every table in O(tables), asks
    DynamoDB for the incremental exports (C(ExportType=INCREMENTAL_EXPORT), view C(NEW_AND_OLD_IMAGES)) that are due,
    one window every O(every), end to end, each into
    C(<destination>/<account>/<region>/<table>/increments/<from>_<to>/data/), and writes its
    C(hippolyte-manifest.json) once DynamoDB finished it and its files check out.
  - The first window starts at the table's newest intact point-in-time full backup (the export engine's,
    M(hippolyte.dynamodb.dynamodb_export), which the night takes); each next one where the last one asked for ended.
    A window ends at most at the table's latest restorable time. A table without such a full backup is reported in
    RV(recovery_points) and skipped; nothing fails.
  - Windows asked for by an earlier run and not finished are picked up (ListExports, and the same ClientToken), so
    running again starts nothing twice. With O(wait), the run waits for the exports it asked for; without, the next
    run records those that finished.
  - A restore to any window's end is M(hippolyte.dynamodb.backup_restore) with
    O(hippolyte.dynamodb.backup_restore#module:increments_until).
  - Incremental exports are billed per GB of change data processed (see the DynamoDB pricing page); every
    table needs point-in-time recovery on.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  tables:
    description: Names of the tables to take increments of.
    type: list
    elements: str
    required: true
  every:
    description:
      - The length of each window, and so how far apart the recovery points are - hours and/or minutes, for
        example C(15m), C(1h), C(2h30m). DynamoDB takes 15 minutes to 24 hours.
    type: str
    default: 15m
  max_windows:
    description:
      - At most this many new windows per table in one run (the oldest first), so that a long outage is caught
        up over a few runs rather than in one burst of exports.
    type: int
    default: 96
  wait:
    description:
      - Wait for the exports asked for to finish. When false, the task returns once they are asked for.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the exports to finish before failing (they go on in AWS), unless O(deadline) is given.
    type: int
    default: 600
  deadline:
    description:
      - When to stop waiting (ISO 8601 with a UTC offset). Replaces O(wait_timeout) by the seconds left until then.
    type: str
  poll_interval:
    description: Seconds between DescribeExport polls.
    type: int
    default: 15
  maximum_retries:
    description:
      - New exports of a window after DynamoDB reports its export C(FAILED), before the window is reported as failed.
    type: int
    default: 1
  account_id:
    description: Account id used in the backup path. By default it is taken from each table's ARN.
    type: str
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
    details: Reads the tables, their recovery windows and the destination, and says which windows it would ask for.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A window already asked for is picked up, never asked for twice; a finished one is left alone.
notes:
  - O(destination) must be C(s3://); DynamoDB exports only to S3.
  - Needs the grants of M(hippolyte.dynamodb.dynamodb_export) (C(dynamodb:ExportTableToPointInTime),
    C(dynamodb:DescribeExport), C(dynamodb:ListExports), C(dynamodb:DescribeContinuousBackups), the S3 writes).
"""

EXAMPLES = r"""
- name: Take the increments due for two tables (cron runs this every 15 minutes)
  hippolyte.dynamodb.backup_increment:
    tables: [orders, users]
    destination: s3://acme-ddb-backups/dynamodb
    every: 15m
    region: eu-west-1
  register: increments

- name: Hourly points, asked for without waiting (the next run records those that finished)
  hippolyte.dynamodb.backup_increment:
    tables: [audit-log]
    destination: s3://acme-ddb-backups/dynamodb
    every: 1h
    wait: false
"""

RETURN = r"""
increments:
  description: One entry per window asked for or picked up in this run, table by table, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    table: {description: Table name., type: str, sample: orders}
    window_start: {description: ExportFromTime (included)., type: str, sample: "2026-11-20T01:00:00+00:00"}
    window_end:
      description: ExportToTime (excluded) - the recovery point.
      type: str
      sample: "2026-11-20T01:15:00+00:00"
    status:
      description: C(PENDING) (check mode), C(IN_PROGRESS), C(COMPLETED) or C(FAILED).
      type: str
      sample: COMPLETED
    started: {description: Whether this run asked for the export (false when it picked it up)., type: bool}
    export_arn: {description: ARN of the export (null in check mode)., type: str}
    backup_url: {description: The increment's folder., type: str}
    manifest_url:
      description: Its C(hippolyte-manifest.json) once written, else null.
      type: str
    item_count: {description: Changed items it holds (null until recorded)., type: int}
    failure: {description: Why the export failed (null unless C(FAILED))., type: str}
recovery_points:
  description: Per table, its newest restorable point after this run, and how old it is (the recovery point objective).
  returned: always
  type: list
  elements: dict
  contains:
    table: {description: Table name., type: str}
    full_backup_time:
      description: The point-in-time full backup the increments carry forward (null when none).
      type: str
    newest_point:
      description: The end of the newest increment chained to it, else its time (null when none).
      type: str
    age_s: {description: Seconds from the newest point to now., type: int}
    skipped:
      description: Why no window was asked for (no full backup yet), else null.
      type: str
    gap:
      description: Why the chain restarts later than it ended (PITR forgot that time), else null.
      type: str
  sample: [{"table": "orders", "full_backup_time": "2026-11-20T01:00:00+00:00",
            "newest_point": "2026-11-20T13:45:00+00:00", "age_s": 610, "skipped": null, "gap": null}]
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    BACKUP_INCREMENT_OPTIONS,
    run_engine_module,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.increment_task import run_increments

ARGUMENT_SPEC = BACKUP_INCREMENT_OPTIONS


def main():
    run_engine_module(ARGUMENT_SPEC, run_increments)


if __name__ == "__main__":
    main()
