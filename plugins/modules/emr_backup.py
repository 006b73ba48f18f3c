#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: emr_backup
short_description: Back up one planned cluster of DynamoDB tables with an Amazon EMR job flow
version_added: 0.1.0
description:
  - Runs one cluster of a plan from M(hippolyte.dynamodb.dynamodb_backup_plan) as one EMR job flow,
    with one C(DynamoDBExport) step per table in plan order. Each step writes the table's items into
    C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/data/) in the C(emr-connector) format.
  - Steps continue past a failed table (C(ActionOnFailure=CONTINUE)) and the cluster terminates itself
    after the last step.
  - This is the cluster engine for accounts where AWS Data Pipeline is closed to new customers.
  - Idempotent per O(run_id) and cluster id. The cluster is found by its name and tags before a new one
    is started, so a second call monitors the running cluster.
  - Monitors the steps with ListSteps. For every table whose step completed, C(hippolyte-manifest.json)
    is written with the table's schema, its data files, their sizes and sha256, and item counts. A failed
    or cancelled table never gets a manifest.
  - All input is validated before any AWS call. A missing O(subnet_id), more tables than EMR's 256 active
    steps, or a read percentage outside (0, 1] fail the task, and nothing is created.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  cluster:
    description:
      - One planned cluster, an element of C(clusters) in the plan that M(hippolyte.dynamodb.dynamodb_backup_plan)
        returns. Its C(id) and its C(tables) (each with C(name) and C(read_percentage)) are used.
    type: dict
    required: true
  run_id:
    description:
      - Identifies the backup run. The cluster is named C(hippolyte-<run_id>-<cluster id>) and tagged with it.
      - Use the same value to monitor or terminate the cluster later. A run whose cluster has already ended (in the
        last 14 days) is reported, not started again. Use a new value for a new backup.
    type: str
    required: true
  state:
    description:
      - V(present) starts the cluster (or finds the running one) and monitors it.
      - V(absent) terminates the run's cluster if it is still active.
    type: str
    choices: [present, absent]
    default: present
  account_id:
    description: Account id used in the backup path. By default the caller's account (STS GetCallerIdentity).
    type: str
  release_label:
    description: EMR release of the cluster.
    type: str
    default: emr-5.36.2
  service_role:
    description: EMR service role.
    type: str
    default: EMR_DefaultRole
  job_flow_role:
    description: Instance profile of the cluster's EC2 instances.
    type: str
    default: EMR_EC2_DefaultRole
  log_uri:
    description: C(s3://) location for the cluster's logs.
    type: str
  subnet_id:
    description:
      - Subnet the cluster starts in. It needs a route to DynamoDB and S3 (a gateway endpoint or NAT).
      - Required when O(state=present).
    type: str
  spot:
    description: Spot capacity for the cluster.
    type: dict
    suboptions:
      core:
        description: Run the core nodes on spot instances.
        type: bool
        default: false
      task_count:
        description: Extra task nodes on spot instances.
        type: int
        default: 0
      task_instance_type:
        description: Instance type of the spot task nodes. Defaults to O(core_instance_type).
        type: str
      bid_price:
        description: Maximum spot price in USD per hour. By default, capped at the on-demand price.
        type: str
  jar:
    description:
      - Jar of the export step. O(step_jar) is its deprecated older name.
      - Defaults to the emr-dynamodb-tools jar that AWS publishes for the region, under
        C(s3://dynamodb-dpl-<region>/emr-ddb-storage-handler/4.11.0/).
    type: str
    aliases: [step_jar]
  main_class:
    description:
      - Main class of the export step. It receives the output folder, the table name and the read ratio.
      - O(step_class) is its deprecated older name.
    type: str
    default: org.apache.hadoop.dynamodb.tools.DynamoDBExport
    aliases: [step_class]
  read_percentage:
    description:
      - The host's read share - given to the export of a table for which the plan sets no read percentage
        (on-demand), and the most a table whose boost was refused (O(boost_refused)) may take.
      - O(on_demand_read_ratio) is its deprecated older name.
    type: float
    default: 0.5
    aliases: [on_demand_read_ratio]
  maximum_retries:
    description:
      - New steps to add for a table whose step failed, while the cluster still runs.
      - The cluster terminates itself once it has no steps left, so a failure of the last step
        cannot be retried on the same cluster. That table is reported failed.
    type: int
    default: 2
  tags:
    description: Extra tags for the cluster.
    type: dict
    default: {}
  wait:
    description:
      - Wait until every step has finished, or until O(wait_timeout) passes.
      - With V(false), the module starts or finds the cluster, reports the step states, and writes the manifests
        of the tables that have finished so far. Call it again to continue monitoring.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the steps, unless O(deadline) is given. When they are not all finished by then,
      the task fails.
    type: int
    default: 7200
  deadline:
    description:
      - When to stop waiting (ISO 8601 with a UTC offset), for example the plan's C(deadline). Replaces
        O(wait_timeout) by the seconds left until then.
    type: str
  poll_interval:
    description: Seconds between two ListSteps calls.
    type: int
    default: 30
  fail_on_table_failure:
    description: Fail the task when a table's step failed or was cancelled. The result still lists every table.
    type: bool
    default: true
extends_documentation_fragment:
  - hippolyte.dynamodb.attributes
  - hippolyte.dynamodb.cluster_capacity
  - hippolyte.dynamodb.emr_instances
  - hippolyte.dynamodb.destination
  - hippolyte.dynamodb.assume_role
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - hippolyte.dynamodb.requirements
attributes:
  check_mode:
    support: full
    details: Builds and validates the RunJobFlow request, looks for the run's cluster and reports it. Nothing is
      created, terminated or written.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A second call with the same O(run_id) and cluster finds the cluster instead of starting another one.
      Manifests that already exist are not written again.
notes:
  - The destination must be C(s3://). EMR cannot write to a local folder.
  - Needs C(elasticmapreduce:RunJobFlow), C(elasticmapreduce:ListClusters), C(elasticmapreduce:DescribeCluster),
    C(elasticmapreduce:ListSteps), C(elasticmapreduce:AddJobFlowSteps) (retries), C(elasticmapreduce:TerminateJobFlows),
    C(elasticmapreduce:AddTags),
    C(iam:PassRole) on both roles, C(sts:GetCallerIdentity), C(dynamodb:DescribeTable),
    C(dynamodb:DescribeTimeToLive), C(dynamodb:DescribeContinuousBackups), C(dynamodb:ListTagsOfResource),
    C(s3:GetObject), C(s3:PutObject) and C(s3:ListBucket). See the collection's C(docs/engines-emr.md).
"""

EXAMPLES = r"""
- name: Plan tonight's backups on EMR
  hippolyte.dynamodb.dynamodb_backup_plan:
    engine: emr
    window: {start: "00:00", end: "07:00", timezone: UTC}
  register: plan

- name: Run every planned cluster and wait for it
  hippolyte.dynamodb.emr_backup:
    cluster: "{{ item }}"
    run_id: "nightly-{{ now(utc=true, fmt='%Y-%m-%d') }}"
    destination: s3://acme-ddb-backups/dynamodb
    subnet_id: subnet-0abc1234
    log_uri: s3://acme-ddb-backups/emr-logs/
    spot:
      task_count: 2
  loop: "{{ plan.clusters | selectattr('engine', 'equalto', 'emr') | list }}"

- name: Stop a run's cluster
  hippolyte.dynamodb.emr_backup:
    cluster: {id: c01, tables: []}
    run_id: nightly-2026-11-22
    destination: s3://acme-ddb-backups/dynamodb
    state: absent
"""

RETURN = r"""
capacity_put_back:
  description:
    - Boosted tables of the cluster whose read capacity this call put back as their step ended
      (O(put_back_boosts)).
  returned: state=present
  type: list
  elements: str
  sample: ["orders"]
capacity_notes:
  description:
    - Boosts that could not be put back yet (DynamoDB's decrease budget, an error); they stay recorded for
      reconcile.
  returned: state=present
  type: list
  elements: str
  sample: []
cluster_id:
  description: Id of the EMR cluster. It is null in check mode when no cluster exists yet, and after V(absent)
    when there was none.
  returned: always
  type: str
  sample: j-2AK7FJ3Q9GAPLF
cluster_state:
  description: The cluster's state at the last poll.
  returned: when a cluster exists
  type: str
  sample: RUNNING
created:
  description: Whether this call started the cluster.
  returned: state=present
  type: bool
  sample: true
done:
  description: Whether every table's step has finished.
  returned: state=present
  type: bool
  sample: true
tables:
  description:
    - One row per table, in plan order, the shape every engine returns - C(name), C(engine), C(status) (C(ok),
      C(failed) or C(running)), C(engine_state) (the step's - PENDING, RUNNING, COMPLETED, FAILED or CANCELLED),
      C(items), C(bytes), C(started_at), C(finished_at), C(backup_url), C(manifest_url), C(error), C(lane) (the
      cluster's id).
  returned: state=present
  type: list
  elements: dict
  sample: [{"name": "orders", "engine": "emr", "status": "ok", "engine_state": "COMPLETED", "error": null,
            "lane": "c01", "started_at": "2026-11-22T00:09:12+00:00", "finished_at": "2026-11-22T01:30:40+00:00",
            "backup_url": "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-00-00-05",
            "manifest_url": "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-00-00-05/hippolyte-manifest.json"}]
steps:
  description: The EMR step behind each table, in plan order.
  returned: state=present
  type: list
  elements: dict
  contains:
    name: {description: Table name., type: str, returned: always}
    status: {description: "PENDING, RUNNING, COMPLETED, FAILED or CANCELLED.", type: str, returned: always}
    step_id: {description: EMR step id., type: str, returned: always}
    reason: {description: Why the step failed., type: str, returned: always}
    manifest_written: {description: Whether this call wrote the manifest., type: bool, returned: always}
    attempts: {description: Steps run for the table so far (more than 1 after retries)., type: int, returned: always}
manifests_written:
  description: URLs of the manifests that this call wrote.
  returned: state=present
  type: list
  elements: str
  sample: ["s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-00-00-05/hippolyte-manifest.json"]
failed_tables:
  description: Tables whose step failed or was cancelled.
  returned: state=present
  type: list
  elements: str
  sample: []
job_flow:
  description: The RunJobFlow request built for the cluster.
  returned: state=present
  type: dict
  sample: {"Name": "hippolyte-nightly-2026-11-22-c01", "ReleaseLabel": "emr-5.36.2", "Steps": []}
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    EMR_BACKUP_OPTIONS,
    run_engine_module,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import run_emr_backup

ARGUMENT_SPEC = EMR_BACKUP_OPTIONS


def main():
    run_engine_module(ARGUMENT_SPEC, run_emr_backup)


if __name__ == "__main__":
    main()
