#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: dynamodb_export
short_description: Back up DynamoDB tables with the native point-in-time export (the export engine)
version_added: 0.1.0
description:
  - Starts DynamoDB's ExportTableToPointInTime for every table in O(tables), all at the same
    O(export_time), each into its backup folder
    C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS of export_time>/data/), in the
    DynamoDB JSON format. DynamoDB writes C(AWSDynamoDB/<ExportId>/) below it, with its own
    C(manifest-summary.json), C(manifest-files.json) and C(data/*.json.gz).
  - The export reads the table's point-in-time recovery history, not the table, so it consumes no read
    capacity and the copy is consistent at one instant. Every table needs PITR enabled.
  - Watches each export with DescribeExport. When one completes, C(hippolyte-manifest.json) is written
    with the table's full schema, the item count of every data file (from DynamoDB's manifest, or
    counted when it has none), their sizes and sha256 (and the md5 DynamoDB recorded is checked).
    A failed export never gets a manifest; the task fails and names it.
  - Running again with the same O(run_id) and O(export_time) picks up exports already started into
    the same folders instead of starting new ones, and leaves finished ones alone.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  tables:
    description: Names of the tables to export.
    type: list
    elements: str
    required: true
  run_id:
    description:
      - Id of the backup run. With each table's name it makes the export's ClientToken, so a retried
        call never starts a second export.
    type: str
    required: true
  export_time:
    description:
      - Point in time to export, ISO 8601 (UTC when no zone is given); truncated to the second.
        Must lie in the tables' PITR window. Default is now.
      - Pass the same value when re-running a run, so its backup folders are the same.
    type: str
  clamp_export_time:
    description:
      - Export a table at the nearest time it can be exported at instead of failing, when O(export_time) is
        before its earliest restorable time (a table created, or PITR turned on, since) or still to come
        (a night's run started before its window opened). Each table's time is in RV(exports[].export_time) and
        names its folder. The backup role sets it, with the night's opening as O(export_time).
    type: bool
    default: false
  wait:
    description: Wait for the exports to finish. When false, the task returns once they are started.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for all exports to finish before failing (they keep running in AWS), unless
      O(deadline) is given.
    type: int
    default: 7200
  deadline:
    description:
      - When to stop waiting (ISO 8601 with a UTC offset), for example the plan's C(deadline). Replaces
        O(wait_timeout) by the seconds left until then.
    type: str
  poll_interval:
    description: Seconds between DescribeExport polls (whole seconds, like every engine's).
    type: int
    default: 30
  maximum_retries:
    description:
      - New exports started for a table after DynamoDB reports its export C(FAILED), before the table is
        reported as failed. Each retry writes into the same backup folder; only the successful export's
        files go into the manifest.
      - The same option as the cluster engines'; O(retries) is its deprecated older name.
    type: int
    default: 1
    aliases: [retries]
  bucket_owner:
    description:
      - Account id (12 digits) that must own the destination's bucket, when it is not the tables' account. Every S3
        call names it, and so does each export (C(S3BucketOwner)), which DynamoDB writes on the tables' behalf.
      - Defaults to the account of the module's credentials (the account the backups belong to).
      - The same option as every module's that writes backups; O(s3_bucket_owner) is its deprecated older name.
    type: str
    aliases: [s3_bucket_owner]
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
    details: Checks that every table exists and has PITR on and that the bucket is reachable; starts nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: With the same O(run_id) and O(export_time), exports already started or finished are not started again.
notes:
  - O(destination) must be C(s3://); DynamoDB cannot export to a local folder.
  - Needs C(dynamodb:DescribeTable), C(dynamodb:DescribeContinuousBackups), C(dynamodb:DescribeTimeToLive),
    C(dynamodb:ListTagsOfResource), C(dynamodb:ExportTableToPointInTime), C(dynamodb:DescribeExport),
    C(dynamodb:ListExports), and C(s3:PutObject), C(s3:GetObject), C(s3:ListBucket) (plus
    C(s3:AbortMultipartUpload) for DynamoDB's own writes) on the destination.
"""

EXAMPLES = r"""
- name: Export two tables at the same instant and wait for them
  hippolyte.dynamodb.dynamodb_export:
    tables: [orders, users]
    destination: s3://acme-ddb-backups/dynamodb
    run_id: "{{ hippolyte_run_id }}"
    export_time: "2026-11-22T01:00:00Z"
    region: eu-west-1
  register: exports

- name: Start the exports only; a later task with the same run_id and export_time waits for them
  hippolyte.dynamodb.dynamodb_export:
    tables: [orders]
    destination: s3://acme-ddb-backups/dynamodb
    run_id: nightly-2026-11-22
    export_time: "2026-11-22T01:00:00Z"
    wait: false
"""

RETURN = r"""
tables:
  description:
    - One row per table, the shape every engine returns - C(name), C(engine) (C(export)), C(status) (C(ok),
      C(failed) or C(running)), C(engine_state) (the export's - C(IN_PROGRESS), C(COMPLETED), C(FAILED)), C(items),
      C(bytes), C(started_at), C(finished_at), C(backup_url), C(manifest_url), C(error).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "orders", "engine": "export", "status": "ok", "engine_state": "COMPLETED", "items": 200000,
            "bytes": 10485760, "error": null}]
failed_tables:
  description: Names of the tables whose export failed.
  returned: always
  type: list
  elements: str
  sample: []
export_time:
  description: The point in time every table was exported at (UTC).
  returned: always
  type: str
  sample: "2026-11-22T01:00:00+00:00"
exports:
  description: One entry per table, in the order of O(tables).
  returned: always
  type: list
  elements: dict
  contains:
    table:
      description: Table name.
      type: str
      sample: orders
    export_time:
      description: The point in time this table is exported at (O(export_time), or later with O(clamp_export_time)).
      type: str
      sample: "2026-11-22T01:00:00+00:00"
    export_arn:
      description: ARN of the export (null in check mode).
      type: str
      sample: arn:aws:dynamodb:eu-west-1:111111111111:table/orders/export/01700000000000-abcdef12
    status:
      description: C(PENDING) (check mode), C(IN_PROGRESS), C(COMPLETED) or C(FAILED).
      type: str
      sample: COMPLETED
    started:
      description: Whether this task started the export (false when it found it running or finished).
      type: bool
      sample: true
    backup_url:
      description: The table's backup folder.
      type: str
      sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00
    manifest_url:
      description: Location of C(hippolyte-manifest.json) once written, else null.
      type: str
      sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00/hippolyte-manifest.json
    item_count:
      description: Items exported (null until the export completed).
      type: int
      sample: 200000
    failure:
      description: Why the export failed (null unless C(FAILED)).
      type: str
      sample: "S3NoSuchBucket: The specified bucket does not exist"
    attempts:
      description: Exports started for the table in this run (1 unless a failed one was retried).
      type: int
      sample: 1
    retried_failures:
      description: The failed exports that were retried, with their failure.
      type: list
      elements: str
      sample: ["arn:aws:dynamodb:eu-west-1:111111111111:table/orders/export/0170-ab: UNKNOWN: internal error"]
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    DYNAMODB_EXPORT_OPTIONS,
    run_engine_module,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import run_exports

ARGUMENT_SPEC = DYNAMODB_EXPORT_OPTIONS


def main():
    run_engine_module(ARGUMENT_SPEC, run_exports)


if __name__ == "__main__":
    main()
