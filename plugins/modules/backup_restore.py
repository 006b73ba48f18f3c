#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_restore
short_description: Restore a DynamoDB backup into a new or empty table
version_added: 0.1.0
description:
  - Finds the newest intact backup a night took of O(table) under O(destination) (or the newest at or before
    O(at)), recreates the table under a new name from the schema captured at backup time (keys,
    attribute definitions, LSIs, GSIs, billing mode, capacities, streams, SSE, table class, deletion
    protection, TTL and tags), loads every item with parallel BatchWriteItem, and verifies the count.
  - Items DynamoDB leaves unprocessed are retried with backoff until written. If no item at all can
    be written for O(stall_timeout) seconds the task fails and says how many items are missing.
  - Refuses a target table that exists and holds items unless O(force=true).
  - A rerun into a table tagged as the restore of the same backup compares it with the backup item by item; it is a
    no-op only when the table still holds exactly the backup. A table changed since fails naming the differences;
    with O(force=true) it is emptied and the backup loaded again.
  - Before the target table is created, every data file's size and sha256 are checked against the manifest
    (streamed, O(readers) files at a time); a damaged backup fails naming the file and the reason, and
    nothing is created or written. Each file is checked again while it loads.
  - Reads every engine's format - C(dynamodb-json) (local engine), C(emr-connector) (Data Pipeline and EMR,
    both line styles) and C(native-export) (export engine) - and imports dynamodump folders (O(dynamodump)).
  - Restores backups made elsewhere (O(adopt_from)) - a native export tree or the emr-connector folder the
    original Hippolyte's Data Pipeline wrote - by first adopting the folder as an ordinary backup of O(table).
  - With O(engine=import), DynamoDB's own C(ImportTable) builds the new table from the backup's C(data/) files in
    S3 (gzip DynamoDB JSON), on AWS's side and without write capacity, priced per GB of uncompressed data. It
    creates keys, attribute definitions, GSIs, billing mode, capacities and SSE; once it completed, streams, table
    class, TTL, tags, point-in-time recovery and deletion protection are applied as captured, then the count is
    verified. O(engine=auto) (the default) chooses import or load by size and estimated time and cost and returns
    why (RV(engine_choice)).
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
      - Restore the newest intact backup a night took at or before this time (default now).
      - An ISO 8601 date - C(2026-11-20), C(20261120), C(2026-W47-5) or C(2026-324), all the same day - means
        up to the end of that day (UTC unless an offset is given), or up to now for today. An ISO 8601 date
        and time (C(2026-11-20T06:30:00Z); UTC without an offset) or a backup folder name
        (C(2026-11-20-06-30-00)) is that moment, and names an imported backup filed at exactly that time.
        Any other form is refused, and so is a time after now.
      - With O(dynamodump) or O(adopt_from), the time the import is filed at (the next free second when a
        backup already holds that one); a date means now for today, the end of the day for an earlier one.
    type: str
  point_in_time:
    description:
      - Restore the table as it was at this second (an ISO 8601 date and time, UTC without an offset). When the
        second is inside the table's point-in-time recovery window (and the new table is in the table's own
        account and region), DynamoDB's C(RestoreTableToPointInTime) makes the new table, and the settings it
        does not carry (TTL, tags, autoscaling with O(restore_autoscaling), point-in-time recovery, the resource
        policy, contributor insights, on-demand and warm throughput, deletion protection) are read from the table
        as it is now and put on the new one. Otherwise the newest backup at or before that second is restored.
        RV(point_in_time) says which, and why.
      - Not with O(at), O(dynamodump), O(adopt_from) or O(compare_with).
    type: str
  increments_until:
    description:
      - Restore the table to the latest increment boundary at or before this second (an ISO 8601 date and time,
        UTC without an offset) - the newest intact point-in-time full backup (the export engine's) at or before it,
        restored as any backup is, then the incremental exports M(hippolyte.dynamodb.backup_increment) took
        after it, oldest first, end to end (puts, and deletes for items the window removed). Each increment's
        files are checked against its manifest before any of its changes is written. Last, the table's item
        count and keys are compared with what the full backup and the increments imply.
      - The boundary reached is the end of the last increment applied (the table as it was just before that
        second); RV(increments) names the full backup and every increment applied.
      - Not with O(at), O(point_in_time), O(dynamodump), O(adopt_from) or O(compare_with).
    type: str
  imports:
    description:
      - Also consider imported backups (dynamodump imports, adopted folders) when choosing the newest
        backup. By default only the backups nights took are, and an import is restored when named by its
        exact time in O(at), or by O(dynamodump) or O(adopt_from).
    type: bool
    default: false
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
    description:
      - Load into an existing table even if it holds items (existing items with the same keys are replaced).
      - A table tagged as the restore of the same backup that no longer holds it is emptied first, then loaded.
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
        the load ends, even when it fails. The load starts once the raised capacity is on the table (up to
        O(wait_timeout)); the put-back lowers only what is still at the boost and leaves, and names in its message, a
        write capacity someone else changed during the load. Unset, the table loads at its backed-up capacity.
    type: int
  dynamodump:
    description:
      - Root of a dump written by the dynamodump tool (C(file:///dir) or C(s3://bucket/prefix)), holding
        C(<table>/schema.json) and C(<table>/data/0001.json) ... The table's folder is first imported under
        O(destination) as an ordinary backup, taken at O(at) (default now; give O(at) to make a rerun find
        the same import), then restored. The import is known by its source and the digest of its content, recorded
        in its manifest. Importing the same dump again reuses it, another dump at the same O(at) is filed at the
        next free second, and the restore takes the import itself, never a night's backup of the same time.
      - If the restore then fails, the backup this import just made is removed again (one imported by an
        earlier run stays). A dump whose C(schema.json) names a table DynamoDB would refuse is not imported.
      - In check mode nothing is imported.
    type: str
  adopt_from:
    description:
      - A backup made elsewhere, without C(hippolyte-manifest.json) (C(s3://bucket/prefix) or C(file:///dir)), either
        a native DynamoDB export (the C(AWSDynamoDB/<export id>/) folder with C(manifest-summary.json),
        C(manifest-files.json) and C(data/*.json.gz), or any folder holding exactly one such tree), or an
        emr-connector folder (data files named by UUID, with or without C(manifest) and C(_SUCCESS); JSON lines
        with any casing of the type keys, or the legacy C(name\u0003{"s":"v"}\u0002...) lines).
      - The folder is first copied unchanged under O(destination) as a backup of O(table) (its
        C(hippolyte-manifest.json) written last, with each copy's size, sha256 and item count), then restored
        like any backup. It is filed at O(at), else at a native export's export time, else now (the next free
        second when that folder is taken); the same source adopted before (same place, same content digest,
        as its manifest records) is found, not copied again, and another source never takes its place. If the
        restore then fails, the backup this adoption just made is removed again.
      - Every item is read while it is copied; an item without the key attributes fails naming the file and
        line, before the target table is created. In check mode the folder and schema are checked, nothing is
        copied or created.
      - The schema comes from O(schema_from), else O(key_attributes), else (a native export) the table its
        C(manifest-summary.json) names, when that table still exists in O(region).
    type: str
  adopt_format:
    description: What O(adopt_from) holds; V(auto) finds a C(manifest-summary.json) or takes an emr-connector folder.
    type: str
    choices: [auto, native-export, emr-connector]
    default: auto
  schema_from:
    description:
      - A live table whose key schema, attribute definitions, indexes, billing mode, capacities and settings an
        adopted backup (O(adopt_from)) takes.
    type: str
  key_attributes:
    description:
      - The adopted backup's keys when no table has its schema (O(adopt_from)), the partition key then the sort
        key if any. The table is restored on demand, without indexes.
    type: list
    elements: dict
    suboptions:
      name:
        description: Attribute name.
        type: str
        required: true
      type:
        description: Attribute type.
        type: str
        choices: [S, N, B]
        required: true
  engine:
    description:
      - How to restore. V(load) writes every item from the controller with BatchWriteItem. V(import) has DynamoDB
        build the new table with C(ImportTable). V(auto) imports when the backup's uncompressed size reaches
        O(import_threshold_gb) or the load would take longer than O(max_load_hours), and loads otherwise.
      - Import cannot create local secondary indexes nor write into an existing table, and reads only gzip
        DynamoDB JSON in S3 (C(dynamodb-json) and C(native-export) backups). V(auto) then loads and says why;
        V(import) fails before anything is created, naming the LSIs or the reason. O(stage_to) lifts the S3 and
        format limits.
      - A rerun finds the import an earlier run started (C(ListImports) on the target, and a client token
        derived from the backup and the request) rather than starting a second one. After a failed import, the
        retry is a new import (AWS answers a token it has seen with that failed import for 8 hours, so the next
        attempt's token is used).
    type: str
    choices: [auto, load, import]
    default: auto
  stage_to:
    description:
      - C(s3://bucket/prefix) where a backup that cannot be imported as stored (a C(file://) destination, the
        C(emr-connector) format) is first copied as gzip DynamoDB JSON, under the backup's own folder path, each
        file checked against the manifest on the way. A complete staged copy of the same backup is reused.
      - Refused, before anything is written, when it is inside, equal to or contains O(destination) (or the
        S3 folder of O(adopt_from) or O(dynamodump)), as a staged copy there could overwrite a backup's own files.
      - Staging never deletes anything. A folder there that holds objects a staging of the same backup did not
        write is refused, as C(ImportTable) would read them as data.
    type: str
  stage_bucket_owner:
    description:
      - Account (12 digits) that must own the O(stage_to) bucket. Every S3 call of the staging names it
        (C(ExpectedBucketOwner)), and so does the import (C(S3BucketOwner)), so a bucket of that name owned by another
        account receives nothing.
      - Default, like O(bucket_owner), the account of the module's credentials.
    type: str
  target_kms_key_id:
    description:
      - KMS key (key id, ARN or alias) the new table is encrypted with, e.g. C(alias/aws/dynamodb) for the AWS
        managed key.
      - Default, the backed-up table's key when it can serve the new table (its own account and region, compared with
        the target's, O(target_connection)). A backup encrypted with a customer managed key of another account or
        region fails before anything is created, asking for this option; a table that used DynamoDB's default
        encryption is created with it. RV(table_key) says which key was used and why.
    type: str
  max_rejected_items:
    description:
      - Items an import may reject (DynamoDB logs them in CloudWatch, RV(import_report.log_group)) without failing
        the restore. Above it the restore fails, and the imported table is left unmarked.
    type: int
    default: 0
  max_load_hours:
    description: With O(engine=auto), import when the load is estimated to take longer than this.
    type: float
    default: 6
  import_threshold_gb:
    description:
      - With O(engine=auto), import a backup of at least this uncompressed size (the table's size when backed up,
        else four times the stored gzip bytes).
    type: float
    default: 100
  load_items_per_s:
    description:
      - Items per second the load is assumed to write, for O(engine=auto)'s estimate; a provisioned table's write
        capacity (or O(write_capacity)) caps it.
    type: float
    default: 5000
  restore_autoscaling:
    description:
      - Register the backed-up table's Application Auto Scaling targets and scaling policies (table and GSIs) on
        the new table, after the load and its write boost. Needs C(application-autoscaling:RegisterScalableTarget)
        and C(application-autoscaling:PutScalingPolicy), which cannot be limited to restored tables and which the
        restore role of the setup role does not hold. Unset, they are listed in RV(not_restored).
    type: bool
    default: false
  restore_streaming:
    description:
      - Re-attach the Kinesis streaming destinations the backed-up table had (after the load, so only writes made
        after the restore flow). Off by default because the destination is usually the source's production stream;
        unset, each is listed in RV(not_restored).
    type: bool
    default: false
  compare:
    description:
      - After the load, compare the table with the backup item by item - counts, and a 16-byte digest of each
        item's canonical form (attribute order, set order and number spelling such as C(1.0) or C(1) do not count)
        matched by primary key over a parallel Scan - and fail naming the first keys missing, extra or changed.
        A table that differs is not tagged as restored, so running the restore again compares again.
      - Keeps every backup key with its digest in memory, about 160 bytes per item with short keys (1.6 GB for
        ten million items).
    type: bool
    default: false
  compare_with:
    description:
      - Restore nothing; compare this live table with the backup (found as for a restore) and return RV(drift), the
        items added, removed and changed since the backup. Never changes anything, also outside check mode.
    type: str
  target_connection:
    description:
      - Restore into another region or account. The backup is still found and read with the module's own
        connection (O(region), O(endpoint_url), O(role_arn)); the new table is created, loaded, counted and compared
        with this one, its schema recreated there from the manifest.
    type: dict
    suboptions:
      region:
        description: Region of the new table. Default O(region).
        type: str
      endpoint_url:
        description: DynamoDB (and STS) endpoint there. Default the AWS endpoint of the region (not O(endpoint_url)).
        type: str
      role_arn:
        description:
          - Role of the target account, assumed with the module's own credentials (not with O(role_arn)), for
            O(role_duration) seconds at a time, renewed as needed. Unset, the module's own credentials are used.
        type: str
      role_external_id:
        description: External id the target role's trust policy requires.
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
  - A table the restore creates gets the settings captured at backup time, after its load - on-demand and warm
    throughput, point-in-time recovery, contributor insights, Application Auto Scaling targets and policies (table
    and GSIs, renamed to the new table) with O(restore_autoscaling), Kinesis destinations only with
    O(restore_streaming), the resource policy (the source table's ARNs replaced by the new table's) and deletion
    protection last. What was not captured or
    could not be set is listed in RV(not_restored), never dropped silently.
  - Needs C(dynamodb:UpdateContinuousBackups), C(dynamodb:PutResourcePolicy), C(dynamodb:UpdateContributorInsights)
    and C(dynamodb:UpdateTable) when the backed-up table had those settings, and
    C(application-autoscaling:RegisterScalableTarget) and C(application-autoscaling:PutScalingPolicy) with
    O(restore_autoscaling); a refused call is listed in RV(not_restored).
"""

EXAMPLES = r"""
- name: Restore the newest backup of orders into a new table
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    region: eu-west-1
  register: restored

- name: Restore a console export of orders, keys and indexes taken from the live table
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    adopt_from: s3://acme-exports/orders/AWSDynamoDB/01763773200000-0a1b2c3d
    schema_from: orders
    target: orders-from-export

- name: Restore a Data Pipeline backup of the original Hippolyte (a table keyed on customer and date)
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: invoices
    adopt_from: s3://acme-legacy-backups/invoices/2019-03-01-01-00-00
    key_attributes:
      - {name: customer, type: S}
      - {name: date, type: N}

- name: Restore a large table with DynamoDB's import (no write capacity used), accepting 10 rejected items
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: events
    engine: import
    max_rejected_items: 10
  register: restored

- name: Restore a local backup by import, staged to S3 first
  hippolyte.dynamodb.backup_restore:
    destination: file:///srv/ddb-backups
    table: events
    engine: import
    stage_to: s3://acme-ddb-staging/imports
- name: Restore orders into the disaster-recovery account in us-west-2, compared item by item with the backup
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    region: eu-west-1
    compare: true
    target_connection:
      region: us-west-2
      role_arn: arn:aws:iam::222222222222:role/hippolyte-restore

- name: How far has the live orders table moved on since last night's backup?
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    compare_with: orders
  register: orders_drift

- name: Restore orders as it was at 06:30:15 on 20 November (point-in-time recovery inside its window)
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    point_in_time: "2026-11-20T06:30:15Z"
    target: orders-0630
  register: restored  # restored.point_in_time says whether PITR or a backup made it, and why

- name: Restore orders to its newest 15-minute recovery point at or before 14:00 on 20 November
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    increments_until: "2026-11-20T14:00:00Z"
    target: orders-1400
  register: restored  # restored.increments: the full backup, the increments applied, the boundary reached

- name: Restore orders as it was at the end of 20 November into orders-20nov
  hippolyte.dynamodb.backup_restore:
    destination: s3://acme-ddb-backups/dynamodb
    table: orders
    at: "2026-11-20"
    target: orders-20nov
"""

RETURN = r"""
backup_url:
  description: Folder of the backup restored (with O(adopt_from), the adopted copy; in check mode the folder to adopt).
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
engine:
  description: The engine that ran, V(load) or V(import).
  returned: when a backup was found
  type: str
  sample: import
point_in_time:
  description: With O(point_in_time), how the restore was made and why.
  returned: with O(point_in_time)
  type: dict
  contains:
    moment: {description: The second restored., type: str, sample: "2026-11-20T06:30:15+00:00"}
    source:
      description: C(point-in-time recovery), or C(backup) (the newest at or before the second).
      type: str
      sample: point-in-time recovery
    reason:
      description: Why, for example the table's recovery window.
      type: str
increments:
  description: With O(increments_until), the full backup and the increments applied after it.
  returned: with O(increments_until)
  type: dict
  contains:
    full_backup: {description: The full backup restored first., type: str}
    full_backup_time: {description: Its point in time., type: str}
    until: {description: O(increments_until) as read., type: str}
    restored_to: {description: The boundary reached (the end of the last increment applied)., type: str}
    expected_items: {description: Items the full backup and the increments imply (null in check mode)., type: int}
    increments:
      description: Each increment applied, oldest first - C(window_start), C(window_end), C(backup_url), and
        C(puts) and C(deletes) written.
      type: list
      elements: dict
  sample:
    full_backup: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-20-01-00-00
    full_backup_time: "2026-11-20T01:00:00+00:00"
    until: "2026-11-20T14:00:00+00:00"
    restored_to: "2026-11-20T13:45:00+00:00"
    expected_items: 200312
    increments:
      - window_start: "2026-11-20T01:00:00+00:00"
        window_end: "2026-11-20T01:15:00+00:00"
        backup_url: "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/increments/2026-11-20-01-00-00_2026\
          -11-20-01-15-00"
        puts: 120
        deletes: 3
engine_choice:
  description: Why that engine ran, and the estimated time and cost of both for this backup.
  returned: when a backup was found
  type: dict
  contains:
    engine:
      description: V(load) or V(import).
      type: str
    reason:
      description: The rule that chose it.
      type: str
    source_gb:
      description: Uncompressed size of the backup in GB, what an import is billed on.
      type: float
    estimates:
      description: C(load) and C(import), each with C(hours) and C(usd).
      type: dict
  sample:
    engine: import
    reason: "2048.0 GB reaches import_threshold_gb (100); import about 29.8 h and 307.20 USD, load about ..."
    source_gb: 2048.0
    estimates: {load: {hours: 111.111, usd: 2500.0}, import: {hours: 29.8, usd: 307.2}}
import_report:
  description: The import, when one ran (null for a load or a restore already done).
  returned: when a backup was found
  type: dict
  contains:
    import_arn:
      description: ARN of the import.
      type: str
    status:
      description: Its final status.
      type: str
    processed_items:
      description: Items DynamoDB read.
      type: int
    processed_bytes:
      description: Bytes DynamoDB read.
      type: int
    imported_items:
      description: Items written to the table.
      type: int
    rejected_items:
      description: Items DynamoDB rejected (C(ErrorCount)).
      type: int
    log_group:
      description: CloudWatch log group holding the rejected items' errors.
      type: str
    source:
      description: The S3 prefix imported.
      type: str
    staged_to:
      description: Folder of the staged copy, when O(stage_to) was used.
      type: str
table_key:
  description:
    - The KMS key of the table this restore created (or, in check mode, would create) and why (O(target_kms_key_id)).
      Null when no table was created.
  returned: when a backup was found
  type: dict
  contains:
    kms_key_id:
      description: The key given to C(CreateTable) or C(ImportTable); null for DynamoDB's default encryption.
      type: str
    reason:
      description: Why this key.
      type: str
  sample: {kms_key_id: "arn:aws:kms:us-west-2:222222222222:key/0a1b2c3d", reason: target_kms_key_id was given}
not_restored:
  description:
    - Settings of the backed-up table that the new table did not get, and why - not captured at backup time (an
      endpoint without the call, a backup older than the capture), refused by DynamoDB, or not asked for
      (O(restore_streaming)). Empty when every captured setting was restored; null when no table was created.
  returned: when a backup was found
  type: list
  elements: dict
  contains:
    setting:
      description: The setting, e.g. C(resource policy) or C(Kinesis streaming destination <stream ARN>).
      type: str
    reason:
      description: Why it was not restored.
      type: str
  sample: [{setting: "Kinesis streaming destination arn:aws:kinesis:eu-west-1:111111111111:stream/orders",
            reason: "not re-attached: restored writes would flow into the source's stream; set restore_streaming:
              true to re-attach it"}]
compare:
  description:
    - The restored table against the backup (first 10 keys of each difference, attribute name to value, binary
      as base64). Also in the failed result when they differ, and when a rerun finds the table tagged as this
      backup's restore no longer holding it.
  returned: when O(compare=true)
  type: dict
  sample: {equal: false, backup_items: 2007, table_items: 2006, missing: [{pk: k03}], extra: [], changed: [{pk: k05}],
           missing_count: 1, extra_count: 0, changed_count: 1}
table:
  description: The live table compared (O(compare_with)).
  returned: when O(compare_with) is set
  type: str
  sample: orders
drift:
  description: How the live table of O(compare_with) differs from the backup (first 10 keys of each).
  returned: when O(compare_with) is set
  type: dict
  sample: {in_sync: false, backup_items: 20, table_items: 21, added: 3, removed: 2, changed: 1,
           added_keys: [{pk: a1}], removed_keys: [{pk: k00}], changed_keys: [{pk: k04}]}
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    caller_account,
    connected_client,
    connection_account,
    credentials_account,
    destination_store,
    require_destination,
    run_or_fail,
    s3_client,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import ImportSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import RestoreSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore_task import (
    RestoreClients,
    RestoreRates,
    RestoreRequest,
    restore_request,
)

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    at=dict(type="str"),
    point_in_time=dict(type="str"),
    increments_until=dict(type="str"),
    imports=dict(type="bool", default=False),
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
    adopt_from=dict(type="str"),
    adopt_format=dict(type="str", choices=["auto", "native-export", "emr-connector"], default="auto"),
    schema_from=dict(type="str"),
    key_attributes=dict(type="list", elements="dict", no_log=False, options=dict(
        name=dict(type="str", required=True), type=dict(type="str", choices=["S", "N", "B"], required=True))),
    run_id=dict(type="str"),
    engine=dict(type="str", choices=["auto", "load", "import"], default="auto"),
    stage_to=dict(type="str"),
    stage_bucket_owner=dict(type="str"),
    target_kms_key_id=dict(type="str"),
    max_rejected_items=dict(type="int", default=0),
    max_load_hours=dict(type="float", default=6),
    import_threshold_gb=dict(type="float", default=100),
    load_items_per_s=dict(type="float", default=5000),
    restore_autoscaling=dict(type="bool", default=False),
    restore_streaming=dict(type="bool", default=False),
    compare=dict(type="bool", default=False),
    compare_with=dict(type="str"),
    target_connection=dict(type="dict", options=dict(
        region=dict(type="str"), endpoint_url=dict(type="str"), role_arn=dict(type="str"),
        role_external_id=dict(type="str", no_log=True))),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                              mutually_exclusive=[("dynamodump", "adopt_from"), ("schema_from", "key_attributes"),
                                                  ("compare_with", "dynamodump"), ("compare_with", "adopt_from"),
                                                  ("compare_with", "target_connection")])
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    where = p["target_connection"]
    pool = p["workers"] + p["readers"]
    request = RestoreRequest(
        table=p["table"], region=module.region, at=p["at"], imports=p["imports"], account_id=p["account_id"],
        target=p["target"], dynamodump=p["dynamodump"], adopt_from=p["adopt_from"], adopt_format=p["adopt_format"],
        schema_from=p["schema_from"], key_attributes=tuple((k["name"], k["type"]) for k in p["key_attributes"] or ()),
        stage_to=p["stage_to"], stage_bucket_owner=p["stage_bucket_owner"], sse=p["sse"], kms_key_id=p["kms_key_id"],
        restore_autoscaling=p["restore_autoscaling"], compare_with=p["compare_with"],
        point_in_time=p["point_in_time"], increments_until=p["increments_until"],
        settings=RestoreSettings(workers=p["workers"], readers=p["readers"], force=p["force"], verify=p["verify"],
                                 verify_before_write=p["verify_before_write"], wait_timeout_s=p["wait_timeout"],
                                 stall_timeout_s=p["stall_timeout"], write_capacity=p["write_capacity"],
                                 run_id=p["run_id"], compare=p["compare"], target_kms_key_id=p["target_kms_key_id"],
                                 restore_streaming=p["restore_streaming"],
                                 target_account=lambda: connection_account(module, where)),
        import_settings=ImportSettings(engine=p["engine"], max_rejected_items=p["max_rejected_items"],
                                       max_load_hours=p["max_load_hours"], import_threshold_gb=p["import_threshold_gb"],
                                       rates=RestoreRates(load_items_per_s=p["load_items_per_s"])))
    clients = RestoreClients(
        dynamodb=lambda: aws_client(module, "dynamodb", pool_size=pool),
        store=lambda readers: destination_store(module, readers), s3=lambda: s3_client(module),
        own_account=lambda: credentials_account(module), caller_account=lambda: caller_account(module),
        autoscaling=lambda: (connected_client(module, "application-autoscaling", where) if where
                             else aws_client(module, "application-autoscaling")),
        target_dynamodb=(lambda: connected_client(module, "dynamodb", where, pool)) if where else None)
    compared: dict = {}  # a restored table's comparison, for the failed result when it differs
    stop = watch_controller(module)
    answer = run_or_fail(module, lambda: restore_request(request, clients, module.check_mode, stop, module.log,
                                                         compared),
                         facts=lambda: {"compare": compared} if compared else {})
    module.exit_json(**answer.facts())


if __name__ == "__main__":
    main()
