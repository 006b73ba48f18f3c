#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: dynamodb_scan_backup
short_description: Back up DynamoDB tables with rate-limited parallel Scans (the local engine)
version_added: 0.1.0
description:
  - Reads the table with a parallel segmented Scan and streams its items, gzip-compressed, into
    C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/data/part-NNNNN.json.gz) in the
    C(dynamodb-json) format (the same as a native export, so DynamoDB's ImportTable can read it too).
  - Read capacity is held at or under O(read_percentage) of the table's provisioned read capacity
    (or O(on_demand_read_units) per second for on-demand tables), using the consumed capacity that
    DynamoDB reports for every page. The capacity is re-read during the scan (every 5 seconds while a
    boost of this run has not reached the table, then every minute), so the rate follows it; a boost is
    read on only once it is there, never beyond what it added, and never beyond O(read_percentage) of the
    table's own capacity (the recorded original) before (see the collection's C(docs/throughput.md)).
  - C(hippolyte-manifest.json) is written last, with the table's full schema, the item and byte
    counts and every data file's sha256. A backup without it is incomplete and is never restored;
    on failure the partial folder is removed.
  - The table is read as it changes (a fuzzy scan), not at one point in time; use the export engine
    for point-in-time consistency.
  - Memory stays flat whatever the size of the table.
  - With O(plan) instead of O(table), one call backs up every table of the plan's local lanes in one
    process, lanes side by side, each lane's tables in planned order, each table at its own planned
    read share, under controller-wide caps (O(max_concurrent_scans), O(max_read_units_per_second)). A
    table the plan boosts is boosted just before its backup and put back right after. One failing table
    never stops the others; every table's outcome is returned in RV(tables).
  - With O(plan), the run ends at the plan's window end (its C(deadline)) - no table starts after it (each is
    listed in RV(not_run) and the task fails), and a table in flight finishes with its boost.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  table:
    description:
      - Name of the table to back up.
      - Exactly one of O(table) and O(plan) is required.
    type: str
  plan:
    description:
      - The result of M(hippolyte.dynamodb.dynamodb_backup_plan) (or its JSON plan file's content); every
        table of its C(local) clusters is backed up, each cluster a lane.
      - Its tables' C(read_percentage) and C(read_units_per_second) replace O(read_percentage) and
        O(on_demand_read_units) for that table.
    type: dict
  max_concurrent_scans:
    description:
      - With O(plan), the most tables read at the same time by this controller.
      - By default the plan's C(controller.max_scans), the figure the planner packed the lanes for.
    type: int
  max_read_units_per_second:
    description:
      - With O(plan), the read units per second all tables together may consume (the controller's
        bandwidth).
      - By default the plan's C(controller.bytes_per_s) in read units; C(0) for no cap beyond each table's own.
    type: float
  progress_path:
    description:
      - With O(plan), a file that gets one line per finished table (table, items, seconds, tables left,
        window left), so a long night can be followed with C(tail -f).
    type: path
  resume:
    description:
      - With O(plan), a table that already has an intact backup written by a run of the same night (its
        manifest's origin names the plan's night), taken since the plan's window opened and not dated after
        now, keeps it and is not read again, so a rerun backs up only what is missing. An import, a folder
        of unknown origin or one dated after now never counts. Such tables are listed in RV(resumed).
    type: bool
    default: false
  autoscaling:
    description:
      - With O(plan), boosts of autoscaled tables raise the scalable target's minimum instead of the
        table's capacity (see M(hippolyte.dynamodb.dynamodb_throughput)).
      - Each backup's manifest records the table's scalable targets and scaling policies (with
        C(application-autoscaling:DescribeScalableTargets) and C(application-autoscaling:DescribeScalingPolicies)),
        which a restore registers on the new table. V(false) records them as not captured.
    type: bool
    default: true
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
  lease:
    description:
      - With O(plan), the run's lease (the C(account_id) and the C(lease.nonce) that
        M(hippolyte.dynamodb.backup_lease) returned), looked at before each table starts - once another run has
        taken it over, no table starts (each is listed in RV(not_run), the takeover in RV(lease_lost)).
    type: dict
    suboptions:
      account_id:
        description: The account of the lease.
        type: str
        required: true
      nonce:
        description: The nonce of the lease this run took.
        type: str
        required: true
  run_id:
    description:
      - The run this backup belongs to (the O(hippolyte.dynamodb.dynamodb_throughput#module:run_id) of its boosts).
      - A table whose capacity another run boosted (its record names another run) is read at
        O(read_percentage) of the recorded original read capacity, not of the boosted figure that run
        takes back when it ends. Without it, a record on the table is taken for the caller's own boost.
      - With O(plan), it also names the run in the capacity records of the boosts the lanes hold.
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
    details: >-
      Checks the table and the destination and reports where the backup would go; writes nothing. With O(plan)
      and O(resume), the tables a real run would keep from earlier in the night are listed in RV(resumed) and only
      the others would be backed up: the task reports a change only when at least one table would be.
  diff_mode:
    support: partial
    details: >-
      In check mode with O(plan), the backup each table would get and the boost each would hold while it is
      read (the table's capacity before and after, its indexes and scalable targets), keyed by table name; a
      table kept from earlier in the night (O(resume)) is not listed.
  idempotent:
    support: partial
    details: >-
      Every run that is not in check mode takes new backups, in new folders, except with O(plan) and O(resume),
      where a table already backed up earlier in the window is kept (not changed).
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

- name: Plan the night, then back up every local lane in one call
  hippolyte.dynamodb.dynamodb_backup_plan:
    include: ["*"]
    engine: local
  register: night_plan

- name: Run the plan's local lanes side by side
  hippolyte.dynamodb.dynamodb_scan_backup:
    plan: "{{ night_plan }}"
    destination: s3://acme-ddb-backups/dynamodb
    run_id: "nightly-{{ now(utc=true, fmt='%Y%m%d') }}"
    max_concurrent_scans: 32
    progress_path: /var/log/hippolyte/progress.log
  register: night_local
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
  description: >-
    The highest rate, in read units per second, the backup was allowed (null when unlimited); it follows the
    table's capacity during the scan.
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
tables:
  description:
    - With O(plan), one entry per planned local table, in the order they finished.
  returned: when O(plan) is given
  type: list
  elements: dict
  contains:
    name: {description: Table name., type: str, returned: always}
    engine: {description: Always C(local)., type: str, returned: always}
    status:
      description: C(ok), C(failed), or C(not run) (its turn came after the window closed, so it never started).
      type: str
      returned: always
    items: {description: Items backed up., type: int, returned: always}
    bytes: {description: Compressed bytes written., type: int, returned: always}
    started_at: {description: When its backup started (UTC ISO 8601)., type: str, returned: always}
    finished_at: {description: When it finished., type: str, returned: always}
    planned_start: {description: When the plan started it (window start plus its offset)., type: str, returned: always}
    planned_end: {description: When the plan expected it to finish., type: str, returned: always}
    manifest_url: {description: Its manifest (null when it failed)., type: str, returned: always}
    error: {description: Why it failed (null when ok)., type: str, returned: always}
    lane: {description: The plan cluster (lane) it ran in., type: str, returned: always}
    read_units_consumed: {description: Read units its scan consumed., type: float, returned: always}
    boosted: {description: Whether its planned boost was held during its backup., type: bool, returned: always}
    resumed: {description: Whether an earlier backup of this window was kept (O(resume))., type: bool, returned: always}
  sample: [{"name": "orders", "engine": "local", "status": "ok", "items": 2000, "bytes": 48211,
            "started_at": "2026-11-22T00:00:01+00:00", "finished_at": "2026-11-22T00:00:03+00:00",
            "planned_start": "2026-11-22T00:00:00+00:00", "planned_end": "2026-11-22T00:00:12+00:00",
            "manifest_url": "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-00-00-01/hippolyte-manifest.json",
            "error": null, "lane": "c01", "read_units_consumed": 12.5, "boosted": false}]
failed_tables:
  description: With O(plan), names of the tables whose backup failed.
  returned: when O(plan) is given
  type: list
  elements: str
  sample: []
lease_lost:
  description: With O(lease), who took the run's lease over and when, once a lane found it lost; else null.
  returned: when O(plan) is given
  type: str
  sample: lease lost to payments-prod-eu (run hippolyte-payments-prod-eu-2026-11-23-03-10-00 on cron-2) at
    2026-11-23T03:10:04+00:00
capacity_notes:
  description: With O(plan), boosts refused or not yet put back (the next run's reconcile finishes them).
  returned: when O(plan) is given
  type: list
  elements: str
  sample: []
not_run:
  description:
    - With O(plan), tables never started because the window had closed when their turn came, or because the run's
      O(lease) had been taken over. Then no table starts; a table in flight finishes with its boost. The task
      then fails, naming them.
  returned: when O(plan) is given
  type: list
  elements: str
  sample: []
resumed:
  description: >-
    With O(plan) and O(resume), tables whose backup from earlier in the window was kept (in check mode, would
    be kept).
  returned: when O(plan) is given
  type: list
  elements: str
  sample: []
deadline:
  description: With O(plan), when the window closes (UTC ISO 8601).
  returned: when O(plan) is given
  type: str
  sample: "2026-11-22T07:00:00+00:00"
overran:
  description: With O(plan), tables that finished after the window closed.
  returned: when O(plan) is given
  type: list
  elements: str
  sample: []
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    destination_store,
    exit_with,
    require_destination,
    run_or_fail,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import (
    LanesRequest,
    run_lanes_task,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_task import (
    backup_one,
    connection_pool,
    preview_one,
    scan_settings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.run_lease import lost_to

ARGUMENT_SPEC = dict(
    table=dict(type="str"),
    plan=dict(type="dict"),
    max_concurrent_scans=dict(type="int"),
    max_read_units_per_second=dict(type="float"),
    progress_path=dict(type="path"),
    autoscaling=dict(type="bool", default=True),
    resume=dict(type="bool", default=False),
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
    lease=dict(type="dict", no_log=False, options=dict(account_id=dict(type="str", required=True),
                                                       nonce=dict(type="str", required=True, no_log=False))),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                              required_one_of=[("table", "plan")], mutually_exclusive=[("table", "plan")])
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    settings = scan_settings(p)
    pool = connection_pool(p)
    ddb = aws_client(module, "dynamodb", pool_size=pool)
    store = run_or_fail(module, lambda: destination_store(module, pool))
    if p["plan"] is not None:
        aas = aws_client(module, "application-autoscaling") if p["autoscaling"] else None
        lease = p["lease"]
        request = LanesRequest(p["plan"], module.region, settings, p["max_concurrent_scans"],
                               p["max_read_units_per_second"], p["progress_path"], p["resume"], p["account_id"],
                               p["run_id"])
        answer = run_or_fail(module, lambda: run_lanes_task(
            request, ddb, aas, store, check_mode=module.check_mode, diff=module._diff,
            stop=None if module.check_mode else watch_controller(module),
            lease_lost=(lambda: lost_to(store, lease["account_id"], module.region, lease["nonce"])) if lease else None))
        exit_with(module, answer)

    if module.check_mode:
        module.exit_json(**run_or_fail(module, lambda: preview_one(ddb, store, p["table"], module.region, settings)))

    stop = watch_controller(module)
    aas = aws_client(module, "application-autoscaling") if p["autoscaling"] else None
    module.exit_json(**run_or_fail(module, lambda: backup_one(ddb, store, p["table"], module.region, settings,
                                                              stop=stop, aas=aas)))


if __name__ == "__main__":
    main()
