#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: dynamodb_backup_plan
short_description: Plan tonight's DynamoDB backups - engines, clusters, read capacity boosts and cost
version_added: 0.1.0
description:
  - Finds the tables to back up (ListTables, whole-name glob O(include) and O(exclude) patterns) and
    describes them concurrently, or takes them from O(tables) to plan what-ifs without AWS.
  - For every table it estimates how long a backup takes,
    C(activity_bootstrap_s + size_bytes / (read units per second * bytes_per_rcu_s)), raises its read
    capacity (a boost) where it would not finish in the window or where the cost model finds boosting
    cheaper than cluster time, chooses its engine, and packs the tables into clusters that fit the window
    (first-fit decreasing, then a balanced improvement pass).
  - Local (in-process) backups are planned against what one controller sustains - C(controller_max_scans)
    concurrent table scans and C(controller_bytes_per_s) read bytes per second, both in O(model) - so that
    at no instant of the window the planned local scans exceed either; RV(controller) reports the peaks.
  - On-demand tables are read at O(read_percentage) of the warm throughput DescribeTable reports
    (C(WarmThroughput.ReadUnitsPerSecond)), else at C(on_demand_read_units); each planned table says which
    in C(read_rate_source).
  - A boosted table's backup reads only the added capacity, so the application keeps its original RCU.
    Boosts stay under the table limit, the autoscaling MaxCapacity and the account's free capacity
    (from DescribeLimits).
  - Returns the plan and never changes anything in AWS. Tables that cannot be planned are listed with
    the reason; none is dropped silently.
  - The plan is also compared with the seed's rule (next-fit over ascending durations, boosts only where
    needed); the cheaper plan is returned and the other's figures are reported in RV(baseline).
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  include:
    description:
      - Glob patterns of table names to back up. A pattern matches the whole name, so C(orders) does not
        match C(orders-archive) but C(orders*) does.
      - A pattern that matches no table is an error.
    type: list
    elements: str
    default: ["*"]
  exclude:
    description: Glob patterns of table names to leave out, applied after O(include).
    type: list
    elements: str
    default: []
  tables:
    description:
      - Describe the tables here instead of discovering them; no AWS call is made.
      - Keys are C(name) (required), C(size_bytes), C(item_count), C(billing_mode) (C(PROVISIONED) or
        C(PAY_PER_REQUEST)), C(rcu) (required when provisioned), C(pitr), C(status),
        C(autoscaling_min_rcu), C(autoscaling_max_rcu), C(max_rcu), C(gsis) (a list of C(name), C(rcu)) and
        C(warm_read_units) (an on-demand table's warm read throughput, read units per second).
    type: list
    elements: dict
  starts_at:
    description:
      - Plan as if the run started at this time (ISO 8601 with an offset), for a what-if or a plan made ahead
        of its night. By default now, so a run started inside its window plans only what is left of it.
    type: str
  outside_window:
    description:
      - What a run started while the window is closed plans.
      - V(next) plans the next window, whole (a what-if, or a plan made ahead of its night).
      - V(now) plans from now for the window's full length, and the night is this run's own (its RV(night)
        is now), as for a backup taken by hand in the day. The backup role's default.
      - V(wait) waits until the window opens, then plans what is left of it (check mode and O(starts_at) do
        not wait; they plan as V(next)).
      - V(fail) fails, naming the window, before any AWS call.
    type: str
    choices: [next, now, wait, fail]
    default: next
  window:
    description:
      - The nightly backup window; it may cross midnight (C(22:00) to C(06:00)). A zero-length window is
        an error.
      - Its length is taken for the night of the window open now, or the next one, in its time zone, so
        a daylight-saving change that night is counted.
    type: dict
    default: {start: "00:00", end: "07:00", timezone: UTC}
    suboptions:
      start:
        description: Opening time, C(HH:MM).
        type: str
        default: "00:00"
      end:
        description: Closing time, C(HH:MM).
        type: str
        default: "07:00"
      timezone:
        description: IANA time zone of O(window.start) and O(window.end).
        type: str
        default: UTC
  engine:
    description:
      - V(auto) chooses per table by cost - V(local) (in-process, no cluster) for every table that fits the
        controller's spare capacity in the window, V(export) where PITR is on, it is cheaper and it ends
        inside the window, otherwise the cluster engine C(auto_cluster_engine).
      - Any other value puts every table on that engine; V(export) needs PITR on each table; with V(local),
        tables the controller cannot hold in the window are listed in RV(unplannable).
    type: str
    choices: [auto, datapipeline, emr, export, local]
    default: auto
  read_percentage:
    description: Share of a table's provisioned read capacity an unboosted backup may use, in (0, 1].
    type: float
    default: 0.5
  consistent_read:
    description:
      - Whether the local engine's scans read strongly consistent, as C(dynamodb_scan_backup)'s
        O(consistent_read) (give both the same value). A strongly consistent read unit moves 4 KB a second,
        an eventually consistent one 8 KB, so this halves the local engine's planned rate per unit.
      - The cluster engines always read eventually consistent.
    type: bool
    default: false
  max_objects:
    description:
      - Data Pipeline's objects-per-pipeline limit; a pipeline takes C((max_objects - 2) // 3) tables
        (100 gives 32, 500 gives 166). At least 5.
    type: int
    default: 100
  model:
    description:
      - Overrides of the planning constants and prices, as a flat dict. See the collection's
        C(docs/planning.md) for the meaning of each.
      - Timing and limits - C(cluster_bootstrap_s) (600), C(activity_bootstrap_s) (60), C(bytes_per_rcu_s)
        (0, from the read consistency - 8192 eventually consistent, 4096 strongly consistent),
        C(emr_max_steps) (256), C(auto_cluster_engine) (datapipeline; C(auto) asks the account whether it
        can use Data Pipeline and takes C(emr) when not), C(on_demand_read_units) (100,
        for on-demand tables without a warm throughput), C(local_max_bytes) (0, no limit),
        C(controller_max_scans) (64), C(controller_bytes_per_s) (20971520, 20 MiB/s),
        C(local_activity_s) (10), C(request_latency_s) (measured when discovering, the median of three
        ListTables round trips; else 0.01), C(requests_per_table) (9, a local backup's requests besides one
        Scan per 1 MB page), C(export_bootstrap_s)
        (900), C(export_bytes_per_s) (50 MiB), C(export_max_concurrent) (300), C(table_max_rcu) (from
        DescribeLimits when discovering, else 40000), C(account_max_rcu) (from DescribeLimits when discovering,
        else 0, no account cap on boosts, with a warning; a limit below what the account's tables already hold
        is not applied either),
        C(default_item_bytes) (1024), C(boost_min_saving_usd) (0.01).
      - Prices in USD - C(instance_hour_usd) (0.24), C(instances_per_cluster) (2), C(rcu_hour_usd)
        (0.00013), C(on_demand_read_million_usd) (0.125), C(export_gb_usd) (0.10),
        C(datapipeline_activity_usd) (0.02 a table a night), C(s3_put_thousand_usd) (0.005),
        C(spot_instances_per_cluster) (0, EMR instances on spot), C(spot_discount) (0.6, of their EC2 price),
        C(emr_fee_hour_usd) (0.048, the EMR fee inside C(instance_hour_usd), not discounted on spot).
      - C(local_max_lanes) is the deprecated name of C(controller_max_scans); giving both is an error.
    type: dict
    default: {}
  workers:
    description: Concurrent DescribeTable calls during discovery.
    type: int
    default: 16
  plan_path:
    description: Write the plan as JSON to this file.
    type: path
  report_path:
    description: Write the Markdown report to this file, and the SVG Gantt chart beside it (same name, C(.svg)).
    type: path
extends_documentation_fragment:
  - hippolyte.dynamodb.attributes
  - hippolyte.dynamodb.assume_role
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - hippolyte.dynamodb.requirements
attributes:
  check_mode:
    support: full
    details: Nothing in AWS ever changes, so check mode plans all the same; only O(plan_path) and
      O(report_path) are not written.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The same tables and settings give the same plan; files are rewritten only when their content changes.
notes:
  - Needs C(dynamodb:ListTables), C(dynamodb:DescribeTable), C(dynamodb:DescribeContinuousBackups),
    C(dynamodb:DescribeLimits) and C(application-autoscaling:DescribeScalableTargets). Without the last two
    the plan uses the model's limits and says so in its warnings.
  - Reads the tags of the selected provisioned tables with C(dynamodb:ListTagsOfResource), so that a table another
    run has boosted is planned on its recorded original read capacity, not on the boost that run takes
    back when it ends.
  - Estimated costs use the prices given in O(model); they are estimates, not a bill.
"""

EXAMPLES = r"""
- name: Plan tonight's backups of the orders tables
  hippolyte.dynamodb.dynamodb_backup_plan:
    region: eu-west-1
    include: ["orders*", "users"]
    exclude: ["*-tmp"]
    window: {start: "22:00", end: "06:00", timezone: Europe/Paris}
    read_percentage: 0.5
    report_path: /var/lib/hippolyte/plan.md
  register: backup_plan

- name: What if the window were two hours shorter and EMR instances dearer?
  hippolyte.dynamodb.dynamodb_backup_plan:
    tables:
      - {name: orders, size_bytes: 536870912000, rcu: 400, pitr: true}
      - {name: sessions, size_bytes: 2147483648, billing_mode: PAY_PER_REQUEST}
    window: {start: "00:00", end: "05:00"}
    engine: emr
    model: {instance_hour_usd: 0.30}
    starts_at: "2026-11-23T00:00:00+00:00"  # the whole window, whatever the time now
"""

RETURN = r"""
version:
  description:
    - The plan's format version (docs/planning.md, "The plan file"). A plan without it is read as version 1;
      a later version than this release knows is refused.
  returned: success
  type: int
  sample: 1
deadline:
  description: When the window closes (UTC, ISO 8601); give it to every engine module as its C(deadline).
  returned: always
  type: str
  sample: "2026-11-23T07:00:00+00:00"
clusters_by_engine:
  description: The planned clusters grouped by engine (C(local), C(export), C(emr), C(datapipeline)), in plan order.
  returned: always
  type: dict
cluster_boosts:
  description:
    - The tables of EMR and Data Pipeline clusters whose read capacity the plan raises (name, rcu, boost_rcu,
      and read_capacity, the same as boost_rcu, so the list is M(hippolyte.dynamodb.dynamodb_throughput)'s
      O(hippolyte.dynamodb.dynamodb_throughput#module:tables) as it is); the local engine raises and lowers
      its own tables' capacity around each backup, exports read none.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "orders", "rcu": 100, "boost_rcu": 400, "read_capacity": 400}]
boosted_tables:
  description: Every table the plan boosts, whatever its engine (what a run's last step puts back if still held).
  returned: always
  type: list
  elements: str
  sample: ["orders"]
night:
  description:
    - The night this run belongs to. C(at) is when its window opens (or opened); C(id) and C(stamp) are that
      time in two forms. Every run inside the same window (or before it opens) gets the same values, so a
      rerun's run id (the role uses C(hippolyte-<host>-<id>)) finds the clusters, exports and capacity records
      of the night's first run instead of starting them again.
  returned: always
  type: dict
  sample: {"at": "2026-11-23T00:00:00+00:00", "id": "20261123T000000Z", "stamp": "2026-11-23-00-00-00"}
export_tables:
  description: Names of the tables the plan gives to the native export engine.
  returned: always
  type: list
  elements: str
  sample: ["events"]
planned_tables:
  description: Names of every table the plan backs up, whatever its engine (what retention and the drill look at).
  returned: always
  type: list
  elements: str
  sample: ["events", "orders"]
window_s:
  description:
    - Seconds planned, from C(starts_at) in RV(window) to its end (less than the window's length when
      the run starts after the window opened, since a late start plans only what is left).
  returned: success
  type: int
  sample: 25200
window:
  description:
    - The window as given, when the night planned for opens (C(opens_at)) and when its plan starts
      (C(starts_at), the opening or now for a run started after it), UTC, ISO 8601. Planned offsets count
      from C(starts_at); the window closes C(window_s) seconds after it.
    - C(outside) is true for a run started while the window was closed and planned from its own start
      (O(outside_window=now)).
  returned: success
  type: dict
  sample: {"start": "00:00", "end": "07:00", "timezone": "UTC", "opens_at": "2026-11-23T00:00:00+00:00",
           "starts_at": "2026-11-23T01:30:00+00:00", "outside": false}
engine:
  description: The engine asked for (V(auto) when chosen per table).
  returned: success
  type: str
  sample: auto
engine_counts:
  description: Planned tables per engine.
  returned: success
  type: dict
  sample: {"datapipeline": 40, "export": 3, "local": 120}
table_count:
  description: Tables considered (planned and unplannable).
  returned: success
  type: int
  sample: 164
estimated_cost_usd:
  description: Estimated cost of the whole run.
  returned: success
  type: float
  sample: 12.4
cost_breakdown_usd:
  description:
    - The estimate by kind - C(clusters) (spot discounts included), C(boosts) (each held for its own table or
      cluster), C(on_demand_reads), C(exports), C(pipeline_fees) (Data Pipeline's per-activity fee) and
      C(s3_requests) (the backups' PUTs).
  returned: success
  type: dict
  sample: {"clusters": 9.1, "boosts": 2.3, "on_demand_reads": 0.5, "exports": 0.5, "pipeline_fees": 0.64,
           "s3_requests": 0.02}
makespan_s:
  description: Offset from the window's start at which the last cluster finishes.
  returned: success
  type: int
  sample: 21940
packing:
  description: Per engine, clusters used, the lower bound, what the seed's next-fit would use, and the method.
  returned: success
  type: dict
  sample: {"datapipeline": {"clusters": 5, "lower_bound": 5, "next_fit_ascending": 7,
           "method": "first-fit-decreasing", "capacity_s": 24600, "tables_per_cluster": 32}}
controller:
  description:
    - The controller model the local lanes were planned against (C(max_scans), C(bytes_per_s)), the most
      planned local scans and read bytes/s at any one instant (C(peak_scans), C(peak_bytes_per_s)), and
      C(bytes_per_read_unit), the bytes one read unit per second moves in the model, from O(consistent_read)
      (also returned, C(consistent_read)) unless the model sets C(bytes_per_rcu_s).
    - What a local table costs besides its bytes - C(local_activity_s), C(requests_per_table) and
      C(request_latency_s), the round trip each request waits (measured, or the model's).
  returned: success
  type: dict
  sample: {"max_scans": 64, "bytes_per_s": 20971520.0, "peak_scans": 64, "peak_bytes_per_s": 15901635.8,
           "bytes_per_read_unit": 8192.0, "consistent_read": false, "local_activity_s": 10,
           "request_latency_s": 0.0042, "requests_per_table": 9}
baseline:
  description: The seed rule's clusters and cost for the same tables, for comparison.
  returned: success
  type: dict
  sample: {"rule": "seed: ...", "clusters": 7, "estimated_cost_usd": 20.1, "unplannable": 0}
clusters:
  description:
    - Clusters in start order. Tables of a cluster run one after another (exports side by side). The
      local engine's clusters are lanes of the controller, which runs its lanes side by side; a lane's
      tables may start after a gap, at their C(start_offset_s).
    - Each table has C(name), C(engine), C(size_bytes), C(item_count), C(billing_mode), C(rcu), C(boost_rcu)
      (the read capacity to set during the backup), C(boosted), C(read_percentage) (share of C(boost_rcu)
      the backup may read), C(read_units_per_second), C(read_rate_source) (C(provisioned), or for an
      on-demand table C(warm-throughput) or C(default); null for exports), C(start_offset_s), C(duration_s), C(pitr),
      C(autoscaling), C(gsis), C(estimated_cost_usd) and C(facts). C(rcu), C(boost_rcu) and C(read_percentage)
      are null for on-demand tables.
    - C(facts) is what discovery read besides the description (C(tags), C(time_to_live), C(point_in_time_recovery),
      C(autoscaling) from the region's one listing of scalable targets and policies, and C(shape), a fingerprint of
      the description they were read with); the local engine's backup uses it instead of reading them again. Null
      for inline tables and when a call was refused.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "c01", "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 21940,
            "estimated_cost_usd": 2.9, "tables": [{"name": "orders", "engine": "datapipeline",
            "size_bytes": 53687091200, "item_count": 90000000, "billing_mode": "PROVISIONED", "rcu": 100,
            "boost_rcu": 300, "boosted": true, "read_percentage": 0.6666, "read_units_per_second": 200.0,
            "read_rate_source": "provisioned",
            "start_offset_s": 600, "duration_s": 5400, "pitr": false, "autoscaling": null, "gsis": [],
            "estimated_cost_usd": 0.4, "facts": null}]}]
unplannable:
  description:
    - Tables that cannot be backed up in this window, each with the reason.
    - Also a discovered table whose name DynamoDB itself would refuse (some DynamoDB-compatible servers accept
      such names); it is never backed up, since its name cannot safely name a backup folder.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "huge", "reason": "needs 52000 RCU, table limit 40000"}]
plan_warnings:
  description:
    - The plan's warnings (C(warnings) in the plan JSON file; renamed here because Ansible owns the
      C(warnings) key of a task result).
  returned: success
  type: list
  elements: str
  sample: ["account read capacity in use is unknown: boost headroom counts only the planned tables"]
report_markdown:
  description: The Markdown report.
  returned: success
  type: str
plan_path:
  description: Where the plan JSON was (or in check mode would be) written.
  returned: when O(plan_path) is set
  type: str
report_path:
  description: Where the Markdown report was (or would be) written.
  returned: when O(report_path) is set
  type: str
gantt_path:
  description: Where the SVG Gantt chart was (or would be) written.
  returned: when O(report_path) is set
  type: str
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    AnsibleAWSModule,
    aws_client,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.night_plan import (
    PlanClients,
    PlanRequest,
    plan_night,
)

ARGUMENT_SPEC = dict(
    include=dict(type="list", elements="str", default=["*"]),
    exclude=dict(type="list", elements="str", default=[]),
    tables=dict(type="list", elements="dict"),
    starts_at=dict(type="str"),
    outside_window=dict(type="str", default="next", choices=["next", "now", "wait", "fail"]),
    window=dict(type="dict", default={"start": "00:00", "end": "07:00", "timezone": "UTC"}, options=dict(
        start=dict(type="str", default="00:00"),
        end=dict(type="str", default="07:00"),
        timezone=dict(type="str", default="UTC"),
    )),
    engine=dict(type="str", default="auto", choices=["auto", "datapipeline", "emr", "export", "local"]),
    read_percentage=dict(type="float", default=0.5),
    consistent_read=dict(type="bool", default=False),
    max_objects=dict(type="int", default=100),
    model=dict(type="dict", default={}),
    workers=dict(type="int", default=16),
    plan_path=dict(type="path"),
    report_path=dict(type="path"),
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    request = PlanRequest(**{k: p[k] for k in ARGUMENT_SPEC if k in PlanRequest.__dataclass_fields__},
                          check_mode=module.check_mode)
    clients = PlanClients(dynamodb=lambda pool: aws_client(module, "dynamodb", pool),
                          autoscaling=lambda: aws_client(module, "application-autoscaling"),
                          datapipeline=lambda: aws_client(module, "datapipeline"))
    outcome = run_or_fail(module, lambda: plan_night(request, clients))
    module.exit_json(**outcome.result())


if __name__ == "__main__":
    main()
