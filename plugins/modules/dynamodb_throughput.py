#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: dynamodb_throughput
short_description: Raise a DynamoDB table's capacity for a job, and always put it back
version_added: 0.1.0
description:
  - O(state=boosted) raises the provisioned read and/or write capacity of a table and of its global
    secondary indexes to the given targets. Before anything changes, the original of every dimension
    it raises, and what the boost sets it to, are recorded on the table itself, as a tag, and read back.
    A boost only ever raises; a target at or below the current value leaves that dimension alone.
  - O(state=restored) puts back to its original every recorded value that is still exactly what the boost
    set, and removes the tag. A value someone else changed since (the application, an operator, autoscaling),
    the provisioned units of the table or a GSI or a scalable target's minimum or maximum, is theirs; it is
    left as it is and listed in RV(changed_by_others). With O(run_id), only a record of that run is put back;
    another run's is left alone and reported with RV(held_by).
  - A table whose billing mode changed since the boost keeps its capacity and its record is dropped
    (RV(record_retired)). So is a record more than 3 days past its RV(hold_until) when any value no longer
    matches what the boost set; a stale record is never applied. A record written by an older version, which
    does not say what the boost set, never lowers anything; values not at their original are left and listed.
  - O(state=reconciled) finds every table of the account and region (or only O(table)) that still
    carries a record of a run that is over (crashed or killed, its RV(hold_until) passed),
    and restores it by the same rules as O(state=restored). Records of other runs still within their
    hold are left alone and listed in RV(held). Run it at the start of every job that boosts.
  - A record names its run (O(run_id)) and holds the table for it until O(hold_s) from the boost.
    O(state=boosted) on a table held by another live run changes nothing and returns RV(held_by), so that
    run's boost is neither stacked on nor taken back, and a plan or backup reads the recorded original.
    The same run boosting again renews its hold.
  - Autoscaled dimensions (an Application Auto Scaling scalable target exists) are boosted by raising
    the target's MinCapacity (and MaxCapacity when the target is above it), never with UpdateTable;
    restoring puts each of them back when it is still what the boost set.
  - On-demand (PAY_PER_REQUEST) tables have nothing to raise; the result says so with RV(on_demand).
  - DynamoDB rations decreases (4 any time in a UTC day, then one an hour, 27 a day, the table and
    each index counted apart). A boost is refused, before anything changes, when any resource it
    would raise could not be decreased back before UTC midnight, unless O(force=true). When DynamoDB
    refuses a decrease on restore, the tag is kept, RV(next_decrease_slot) says when to try again, and
    a later O(state=reconciled) finishes the job.
  - Every UpdateTable waits until the table and all its indexes are ACTIVE (up to O(wait_timeout)),
    changes one resource per call, and retries when the table is busy or the call is throttled.
  - The record is compact JSON, base64-encoded to satisfy DynamoDB's tag character rules, split over
    C(<tag_key>), C(<tag_key>:2), ... when longer than 256 characters. See the collection's
    C(docs/throughput.md) for its fields.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  state:
    description:
      - V(boosted) raises capacity to the targets, V(restored) puts back the recorded original,
        V(reconciled) restores every table left with a record.
    type: str
    required: true
    choices: [boosted, restored, reconciled]
  table:
    description:
      - Name of the table. With O(state=boosted) or O(state=restored), this or O(tables) is required; with
        O(state=reconciled) it limits the search to this table.
    type: str
  tables:
    description:
      - Several tables in one call, side by side (one task for a whole night's boosts rather than a loop).
      - With O(state=boosted), each element is a dict with C(name) and C(read_capacity) (the plan's
        C(cluster_boosts) rows have both; other keys are ignored). A table whose boost is refused (decrease
        budget, another live run's hold, an error) does not fail the task; it is listed in RV(refused) and is
        read on its own capacity.
      - With O(state=restored), each element is a table name or a dict with C(name); a table without a record
        of O(run_id) is left as it is; what cannot be put back yet is listed in RV(pending) and RV(notes).
      - Mutually exclusive with O(table); the per-dimension targets other than C(read_capacity) apply to
        O(table) only.
    type: list
    elements: raw
  read_capacity:
    description: Target read capacity units of the table.
    type: int
  write_capacity:
    description: Target write capacity units of the table.
    type: int
  gsi_read_capacity:
    description: Target read capacity units of every global secondary index.
    type: int
  gsi_write_capacity:
    description: Target write capacity units of every global secondary index.
    type: int
  indexes:
    description:
      - Per-index targets, overriding O(gsi_read_capacity) and O(gsi_write_capacity) for the indexes named.
      - Maps an index name to a dictionary with C(read_capacity) and/or C(write_capacity).
    type: dict
    default: {}
  run_id:
    description:
      - Identifier of the run, stored in the record.
      - With O(state=reconciled), records written under this same run id are left alone (they belong to
        the live run).
      - With O(state=restored), only a record of this run is put back.
      - With O(state=boosted), a record of another run still within its hold is left as it is (RV(held_by)).
    type: str
  hold_s:
    description:
      - With O(state=boosted), how many seconds from now the run may still last (its deadline plus a
        margin). The record is held for this run until then (RV(hold_until)), so another run's reconcile
        does not take the boost back, and another run does not boost the table again.
      - Once the hold has passed, the run is taken for over and the next reconcile repairs the table.
      - When not given, 12 hours. Records written by older versions, without an expiry, are held
        12 hours from their C(at).
    type: int
  force:
    description:
      - With O(state=boosted), boost even when the decrease budget of today would not allow bringing
        the capacity back before UTC midnight.
      - With O(state=restored) it has no effect (a record whose billing mode changed is dropped anyway).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the table and its indexes to become ACTIVE before each change.
    type: int
    default: 600
  capacity_wait_s:
    description:
      - With O(state=boosted), seconds to wait, after the boost, for the raised capacity to be on the table
        (at least the new minimum of a raised scalable target, which autoscaling delivers later). The result
        says whether it arrived (RV(capacity_arrived)); with O(tables), a table whose capacity did not arrive is
        listed in RV(refused), so that an engine that fixes its rate when it starts (the cluster engines) reads
        it on its own capacity. Its boost is still held and put back as usual.
      - Not needed before M(hippolyte.dynamodb.dynamodb_scan_backup), whose rate follows the capacity.
      - When not given, nothing is waited for.
    type: int
  tag_key:
    description: Key of the tag holding the record (long records continue in C(<tag_key>:2), C(<tag_key>:3)...).
    type: str
    default: "hippolyte:capacity-original"
  autoscaling:
    description:
      - Look for Application Auto Scaling targets and change them instead of the capacity.
      - Set V(false) only where the account does not use Application Auto Scaling; a record holding
        autoscaled dimensions is then refused rather than restored with UpdateTable.
    type: bool
    default: true
  autoscaling_endpoint_url:
    description:
      - Endpoint for Application Auto Scaling when it differs from O(endpoint_url).
    type: str
extends_documentation_fragment:
  - hippolyte.dynamodb.attributes
  - hippolyte.dynamodb.assume_role
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - hippolyte.dynamodb.requirements
attributes:
  check_mode:
    support: full
    details: Reads the table, its tags and scalable targets, and reports what would change; writes nothing.
  diff_mode:
    support: full
    details: >-
      The before and after capacities (provisioned units and scalable targets) of the table and its indexes;
      with O(tables) or O(state=reconciled), of every table whose capacity changes, keyed by table name.
  idempotent:
    support: full
    details: >-
      Boosting again changes nothing once the targets are met and never overwrites the recorded original;
      restoring a table without a record changes nothing.
notes:
  - Needs C(dynamodb:DescribeTable), C(dynamodb:DescribeLimits), C(dynamodb:UpdateTable),
    C(dynamodb:ListTagsOfResource), C(dynamodb:TagResource), C(dynamodb:UntagResource),
    C(dynamodb:ListTables) (reconcile), and with O(autoscaling=true)
    C(application-autoscaling:DescribeScalableTargets) and C(application-autoscaling:RegisterScalableTarget).
  - Restoring never lowers (or raises) a value someone else changed during the boost; the module warns about each.
  - To repair a table held by a run you know is dead before its hold ends, use O(state=restored)
    on that table without O(run_id).
"""

EXAMPLES = r"""
- name: Raise every table a night's clusters read, in one task
  hippolyte.dynamodb.dynamodb_throughput:
    state: boosted
    tables: "{{ plan.cluster_boosts }}"  # [{name: orders, read_capacity: 400}, ...]
    run_id: nightly-20261122
    hold_s: 28800
  register: boosts

- name: Put back whatever this run still holds on them
  hippolyte.dynamodb.dynamodb_throughput:
    state: restored
    tables: "{{ plan.boosted_tables }}"
    run_id: nightly-20261122

- name: Repair tables a crashed run left boosted
  hippolyte.dynamodb.dynamodb_throughput:
    state: reconciled
    run_id: "{{ backup_run_id }}"
    region: eu-west-1
  register: repaired

- name: Back up with raised read capacity, and always put it back
  block:
    - name: Raise read capacity of orders for the backup
      hippolyte.dynamodb.dynamodb_throughput:
        state: boosted
        table: orders
        read_capacity: 300
        run_id: "{{ backup_run_id }}"
        hold_s: 28800  # the backup's deadline, 7 hours, plus an hour's margin
    - name: Back up orders
      hippolyte.dynamodb.dynamodb_scan_backup:
        table: orders
        destination: s3://acme-ddb-backups/dynamodb
  always:
    - name: Put the capacity of orders back
      hippolyte.dynamodb.dynamodb_throughput:
        state: restored
        table: orders

- name: Raise write capacity of a table and its indexes before a restore, one index more than the others
  hippolyte.dynamodb.dynamodb_throughput:
    state: boosted
    table: orders-restored
    write_capacity: 1000
    gsi_write_capacity: 500
    indexes:
      by_customer:
        write_capacity: 800
"""

RETURN = r"""
table:
  description: Name of the table.
  returned: when O(table) is given and O(state) is not V(reconciled)
  type: str
  sample: orders
before:
  description: Capacity before the change. C(units) per dimension, C(autoscaling) when a scalable target exists.
  returned: when O(state) is not V(reconciled)
  type: dict
  sample: {"billing_mode": "PROVISIONED", "table": {"read": {"units": 100}, "write": {"units": 50}},
           "indexes": {"by_customer": {"read": {"units": 10, "autoscaling": {"min": 10, "max": 200}},
                                       "write": {"units": 5}}}}
after:
  description: Capacity once the change is in effect (for autoscaled dimensions, the units autoscaling will reach).
  returned: when O(state) is not V(reconciled)
  type: dict
  sample: {"billing_mode": "PROVISIONED", "table": {"read": {"units": 300}, "write": {"units": 50}},
           "indexes": {"by_customer": {"read": {"units": 10, "autoscaling": {"min": 10, "max": 200}},
                                       "write": {"units": 5}}}}
original:
  description:
    - The recorded original of every dimension a boost changed (null when there is no record), what the boost
      set it to (C(boosted), null in records of older versions), the run that holds it and until when
      (C(hold_until), UTC).
  returned: when O(state) is not V(reconciled)
  type: dict
  sample: {"billing_mode": "PROVISIONED", "at": "2026-11-22T01:00:00Z", "run_id": "nightly-20261122",
           "hold_until": "2026-11-22T09:00:00Z",
           "table": {"read": {"units": 100, "boosted": {"units": 300}}}, "indexes": {}}
hold_until:
  description:
    - Until when (UTC) the record is held, for this run after a boost or a renewal, or for the run
      named in RV(held_by).
  returned: when O(state=boosted) changed or renewed this run's record, and with RV(held_by)
  type: str
  sample: "2026-11-22T09:00:00Z"
capacity_arrived:
  description: With O(capacity_wait_s), whether the raised capacity was on the table within that time.
  returned: when O(state=boosted) changed capacity and O(capacity_wait_s) is given
  type: bool
  sample: true
held_by:
  description:
    - The run id of another run whose record is on the table; nothing was changed. With O(state=boosted)
      that run is live (RV(hold_until) is its expiry); with O(state=restored) the record is not this run's.
  returned: >-
    when the table carries another run's record (O(state=boosted) while that run is live,
    O(state=restored) with O(run_id))
  type: str
  sample: nightly-20261121
on_demand:
  description: True when the table is on-demand; nothing was done and RV(msg) says why.
  returned: when O(state) is not V(reconciled)
  type: bool
  sample: false
msg:
  description: Why nothing was done to an on-demand table, or what O(state=reconciled) found and repaired.
  returned: when the table is on-demand, and with O(state=reconciled)
  type: str
  sample: "orders is on-demand (PAY_PER_REQUEST): it has no provisioned capacity to raise"
next_decrease_slot:
  description:
    - After a boost, the earliest UTC time its restore can decrease every raised resource.
    - After a restore DynamoDB refused in part, when the next decrease is allowed.
  returned: when something was boosted, or a decrease is pending
  type: str
  sample: "2026-11-22T05:00:00Z"
pending:
  description: Resources not yet put back, with the reason and, for refused decreases, the next slot.
  returned: when O(state) is V(restored) or V(reconciled)
  type: list
  elements: dict
  sample: [{"resource": "table", "reason": "DynamoDB refused the decrease (decrease budget)",
            "next_decrease_slot": "2026-11-22T05:00:00Z"}]
billing_mode_changed:
  description: The table's billing mode is not the one recorded at boost time; its capacity was left alone.
  returned: when O(state=restored)
  type: bool
  sample: false
changed_by_others:
  description:
    - Recorded values someone else changed since the boost, left as they are; C(boosted) is what the boost set
      (null when a record of an older version does not say). C(current) is what the table has.
    - With O(state=reconciled), the same rows of every table, each with C(table).
  returned: when O(state) is V(restored) or V(reconciled)
  type: list
  elements: dict
  sample: [{"resource": "table", "dimension": "read", "original": {"units": 5}, "boosted": {"units": 50},
            "current": {"units": 500}, "reason": "changed by someone else since the boost"}]
record_retired:
  description:
    - Why the record was dropped without putting anything back (billing mode switched, or a stale record no
      longer matching the table); null otherwise.
  returned: when O(state=restored)
  type: str
  sample: null
notes:
  description: >-
    What could not be put back as recorded (an index deleted, a value someone else changed, a retired record).
  returned: when O(state=restored)
  type: list
  elements: str
  sample: ["table read: changed by someone else since the boost; left at 500 (original 5, boost set 50)"]
checked:
  description: Number of tables looked at.
  returned: when O(state=reconciled)
  type: int
  sample: 42
repaired:
  description: Tables whose capacity is fully back and whose record was removed.
  returned: when O(state=reconciled)
  type: list
  elements: str
  sample: ["orders"]
left_alone:
  description: Tables whose record belongs to this very run (same O(run_id)).
  returned: when O(state=reconciled)
  type: list
  elements: dict
  sample: [{"table": "users", "reason": "recorded by this run (nightly-20261122)"}]
retired:
  description: Tables whose record was dropped without being applied, with the reason.
  returned: when O(state=reconciled)
  type: list
  elements: dict
  sample: [{"table": "orders",
            "reason": "billing mode switched from PROVISIONED to PAY_PER_REQUEST since the boost: ..."}]
held:
  description: Tables boosted by another run still within its hold, left alone, with that run and its expiry.
  returned: when O(state=reconciled)
  type: list
  elements: dict
  sample: [{"table": "orders", "held_by": "nightly-20261122-b", "hold_until": "2026-11-22T09:00:00Z"}]
errors:
  description: Tables that could not be repaired, with the error (the task fails when not empty).
  returned: when O(state=reconciled)
  type: list
  elements: dict
  sample: [{"table": "legacy", "error": "the capacity record in tag ... cannot be read"}]
per_table:
  description: With O(tables), the result of each table (as for O(table)), plus C(error) when it failed.
  returned: when O(tables) is given
  type: list
  elements: dict
  sample: [{"table": "orders", "changed": true, "msg": "raised 1 capacity setting(s) of orders; ..."}]
boosted:
  description: With O(tables) and O(state=boosted), the tables whose capacity this call raised.
  returned: when O(tables) is given and O(state=boosted)
  type: list
  elements: str
  sample: ["orders"]
refused:
  description: >-
    With O(tables) and O(state=boosted), the tables not to read on a boost (held by another run, refused, failed,
    or their raised capacity not there within O(capacity_wait_s)).
  returned: when O(tables) is given and O(state=boosted)
  type: list
  elements: str
  sample: []
put_back:
  description: With O(tables) and O(state=restored), the tables whose capacity this call put back.
  returned: when O(tables) is given and O(state=restored)
  type: list
  elements: str
  sample: ["orders"]
tables:
  description: The restore result (as for O(state=restored)) of every table that had a record.
  returned: when O(state=reconciled)
  type: dict
  sample: {"orders": {"changed": true, "pending": []}}
"""


from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    exit_with,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput_task import (
    DEFAULT_TAG_KEY,
    CapacityClients,
    ThroughputRequest,
    apply_state,
)

ARGUMENT_SPEC = dict(
    state=dict(type="str", required=True, choices=["boosted", "restored", "reconciled"]),
    table=dict(type="str"),
    tables=dict(type="list", elements="raw"),
    read_capacity=dict(type="int"),
    write_capacity=dict(type="int"),
    gsi_read_capacity=dict(type="int"),
    gsi_write_capacity=dict(type="int"),
    indexes=dict(type="dict", default={}),
    run_id=dict(type="str"),
    hold_s=dict(type="int"),
    force=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=600),
    capacity_wait_s=dict(type="int"),
    tag_key=dict(type="str", default=DEFAULT_TAG_KEY, no_log=False),
    autoscaling=dict(type="bool", default=True),
    autoscaling_endpoint_url=dict(type="str"),
    **ASSUME_ROLE_OPTIONS,
)


def main() -> None:
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                              mutually_exclusive=[("table", "tables")],
                              required_if=[("state", "boosted", ["table", "tables"], True),
                                           ("state", "restored", ["table", "tables"], True)])
    p = module.params
    settings = Settings(tag_key=p["tag_key"], run_id=p["run_id"], hold_s=p["hold_s"], force=p["force"],
                        wait_timeout=float(p["wait_timeout"]), check_mode=module.check_mode,
                        capacity_wait_s=None if p["capacity_wait_s"] is None else float(p["capacity_wait_s"]))
    request = ThroughputRequest(state=p["state"], settings=settings, table=p["table"], tables=p["tables"],
                                read_capacity=p["read_capacity"], write_capacity=p["write_capacity"],
                                gsi_read_capacity=p["gsi_read_capacity"], gsi_write_capacity=p["gsi_write_capacity"],
                                indexes=p["indexes"])
    clients = CapacityClients(
        dynamodb=lambda workers: aws_client(module, "dynamodb", pool_size=workers),
        autoscaling=(lambda: aws_client(module, "application-autoscaling", endpoint=p["autoscaling_endpoint_url"]))
        if p["autoscaling"] else None)
    answer = run_or_fail(module, lambda: apply_state(request, clients, diff=module._diff))
    exit_with(module, answer)


if __name__ == "__main__":
    main()
