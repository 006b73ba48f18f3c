#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: dynamodb_scan_backup
short_description: Back up one DynamoDB table with a rate-limited parallel Scan (the local engine)
version_added: 0.1.0
description:
  - Reads the table with a parallel segmented Scan and streams its items, gzip-compressed, into
    C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/data/part-NNNNN.json.gz) in the
    C(dynamodb-json) format (the same as a native export, so DynamoDB's ImportTable can read it too).
  - Read capacity is held at or under O(read_percentage) of the table's provisioned read capacity
    (or O(on_demand_read_units) per second for on-demand tables), using the consumed capacity that
    DynamoDB reports for every page.
  - C(hippolyte-manifest.json) is written last, with the table's full schema, the item and byte
    counts and every data file's sha256. A backup without it is incomplete and is never restored;
    on failure the partial folder is removed.
  - The table is read as it changes (a fuzzy scan), not at one point in time; use the export engine
    for point-in-time consistency.
  - Memory stays flat whatever the size of the table.
author:
  - Hippolyte for Ansible developers
options:
  table:
    description: Name of the table to back up.
    type: str
    required: true
  read_percentage:
    description: Share of the table's provisioned read capacity the backup may consume, in (0, 1].
    type: float
    default: 0.5
  on_demand_read_units:
    description: Read units per second the backup may consume from an on-demand table.
    type: float
    default: 100.0
  read_units_per_second:
    description:
      - Explicit read rate limit, overriding O(read_percentage) and O(on_demand_read_units).
      - C(0) removes the limit (for benchmarks and tables nobody else uses).
    type: float
  workers:
    description: Threads scanning in parallel.
    type: int
    default: 4
  segments:
    description:
      - Scan TotalSegments. By default the larger of O(workers) and one per GiB of table.
    type: int
  part_size_mb:
    description: Uncompressed JSON per data file before a new part is started.
    type: int
    default: 64
  compression_level:
    description: gzip level of the data files (1 is fastest, 9 smallest).
    type: int
    default: 1
  consistent_read:
    description: Use strongly consistent reads (twice the read capacity).
    type: bool
    default: false
  account_id:
    description:
      - Account id used in the backup path. By default it is taken from the table's ARN.
    type: str
  run_id:
    description:
      - The run this backup belongs to (the O(hippolyte.dynamodb.dynamodb_throughput#module:run_id) of its boosts).
      - A table whose capacity another run boosted (its record names another run) is read at
        O(read_percentage) of the recorded original read capacity, not of the boosted figure that run
        takes back when it ends. Without it, the table's current read capacity is used.
    type: str
extends_documentation_fragment:
  - hippolyte.dynamodb.destination
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Checks the table and the destination and reports where the backup would go; writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run that is not in check mode takes a new backup, in a new folder.
notes:
  - Needs C(dynamodb:DescribeTable), C(dynamodb:Scan), C(dynamodb:DescribeTimeToLive),
    C(dynamodb:DescribeContinuousBackups), C(dynamodb:ListTagsOfResource) and, for S3,
    C(s3:PutObject), C(s3:ListBucket) and C(s3:AbortMultipartUpload).
"""

EXAMPLES = r"""
- name: Back up the orders table to S3 using at most half its read capacity
  hippolyte.dynamodb.dynamodb_scan_backup:
    table: orders
    destination: s3://acme-ddb-backups/dynamodb
    region: eu-west-1
    read_percentage: 0.5
  register: orders_backup

- name: Back up an on-demand table to a local folder at 200 read units per second
  hippolyte.dynamodb.dynamodb_scan_backup:
    table: sessions
    destination: file:///var/backups/ddb
    on_demand_read_units: 200
"""

RETURN = r"""
backup_url:
  description: Folder of the new backup.
  returned: always
  type: str
  sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00
manifest_url:
  description: Location of C(hippolyte-manifest.json).
  returned: success
  type: str
  sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00/hippolyte-manifest.json
item_count:
  description: Items written.
  returned: success
  type: int
  sample: 200000
byte_count:
  description: Compressed bytes written.
  returned: success
  type: int
  sample: 4823311
files:
  description: Data files with item count, size and sha256.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "data/part-00000.json.gz", "items": 50000, "bytes": 1205113, "sha256": "9f2c..."}]
duration_s:
  description: Wall-clock seconds of the scan.
  returned: success
  type: float
  sample: 7.4
items_per_second:
  description: Items backed up per second.
  returned: success
  type: float
  sample: 27027.0
read_units_limit:
  description: Read units per second the backup was allowed (null when unlimited).
  returned: success
  type: float
  sample: 50.0
read_units_consumed:
  description: Read capacity units the scan consumed, as DynamoDB reported them.
  returned: success
  type: float
  sample: 1180.5
segments:
  description: Scan TotalSegments used.
  returned: success
  type: int
  sample: 4
consistency:
  description: C(fuzzy-scan) (the table was read while it could change).
  returned: success
  type: str
  sample: fuzzy-scan
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    destination_store,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.scan_backup import (
    ScanSettings,
    account_of,
    backup_table,
    utc_now,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.table_schema import describe_table

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    read_percentage=dict(type="float", default=0.5),
    on_demand_read_units=dict(type="float", default=100.0),
    read_units_per_second=dict(type="float"),
    workers=dict(type="int", default=4),
    segments=dict(type="int"),
    part_size_mb=dict(type="int", default=64),
    compression_level=dict(type="int", default=1),
    consistent_read=dict(type="bool", default=False),
    account_id=dict(type="str"),
    run_id=dict(type="str"),
    **DESTINATION_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    settings = ScanSettings(
        workers=p["workers"], segments=p["segments"], read_percentage=p["read_percentage"],
        on_demand_read_units=p["on_demand_read_units"], read_units_per_second=p["read_units_per_second"],
        part_max_bytes=p["part_size_mb"] * 1024 * 1024, compression_level=p["compression_level"],
        consistent_read=p["consistent_read"], account_id=p["account_id"], run_id=p["run_id"])
    ddb = aws_client(module, "dynamodb", pool_size=p["workers"])
    store = run_or_fail(module, lambda: destination_store(module, p["workers"]))

    if module.check_mode:
        def check():
            settings.validate()
            table = describe_table(ddb, p["table"])
            store.check_writable()
            return backup_folder(account_of(table.get("TableArn"), p["account_id"]), module.region, p["table"],
                                 utc_now())

        folder = run_or_fail(module, check)
        module.exit_json(changed=True, backup_url=f"{store.url.rstrip('/')}/{folder}",
                         msg=f"would back up {p['table']} (check mode: nothing written)")

    result = run_or_fail(module, lambda: backup_table(ddb, store, p["table"], module.region, settings))
    doc = result.manifest
    module.exit_json(
        changed=True, backup_url=result.url, manifest_url=f"{result.url}/hippolyte-manifest.json",
        item_count=doc["item_count"], byte_count=doc["byte_count"], files=doc["files"],
        duration_s=round(result.duration_s, 3), items_per_second=round(result.items_per_second, 1),
        read_units_limit=result.read_units_limit, read_units_consumed=round(result.read_units_consumed, 2),
        segments=result.segments, consistency=doc["consistency"],
        msg=f"backed up {doc['item_count']} items of {p['table']} to {result.url}")


if __name__ == "__main__":
    main()
