#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: datapipeline_backup
short_description: Back up one planned cluster of DynamoDB tables with an AWS Data Pipeline
version_added: 0.2.0
description:
  - Turns one cluster of a plan from M(hippolyte.dynamodb.dynamodb_backup_plan) into a Data Pipeline - one
    EMR cluster, and per table a C(DynamoDBExport) step of emr-dynamodb-tools writing into
    C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/data/).
  - The definition is validated locally before it is sent (object count within O(max_objects), every
    reference defined, unique ids, required fields), and Data Pipeline's own validation errors and
    warnings fail the task with their text.
  - The pipeline is found again by a uniqueId derived from O(run_id) and the cluster's id, so running
    the task again reuses the pipeline and its definition instead of creating a second one.
  - Once a table's export has finished, C(hippolyte-manifest.json) is written into its folder (data format
    C(emr-connector), engine C(datapipeline), consistency C(fuzzy-scan)) with the size, sha256 and line count
    of every file actually found in C(data/). A failed table never gets one. When every table is finished
    or failed the pipeline is deleted (O(delete_when_finished)).
  - O(state=executed_locally) was removed (it ran a definition with the in-process engine for the collection's own
    tests). For one release it fails before any AWS call, naming what to use instead; then the choice goes.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  cluster:
    description:
      - One element of the plan's C(clusters), unchanged (C(id), C(start_offset_s), C(end_offset_s) and
        C(tables), each with C(name) and C(read_percentage)).
    type: dict
    required: true
  run_id:
    description:
      - Identifies tonight's run; with the cluster's id it makes the pipeline's uniqueId.
      - Use a new value per run (for example the date); the same value finds the same pipeline again.
    type: str
    required: true
  state:
    description:
      - V(present) creates the pipeline and puts its definition, without starting it.
      - V(active) also activates it, then reports per-table status (waiting for the end with O(wait)),
        records finished tables and deletes the pipeline once every table is done.
      - V(absent) deletes the pipeline.
      - V(executed_locally) was removed; it fails before any AWS call (use
        M(hippolyte.dynamodb.dynamodb_scan_backup) for in-process backups). The choice goes in the next release.
    type: str
    choices: [present, active, absent, executed_locally]
    default: active
  taken_at:
    description:
      - Timestamp of the backup folders (C(YYYY-MM-DD-HH-MM-SS) or ISO 8601, UTC). By default the time the
        pipeline is defined; an existing pipeline keeps the folders of its definition.
    type: str
  account_id:
    description: Account id used in the backup path. By default it is taken from the first table's ARN.
    type: str
  service_role:
    description:
      - IAM role Data Pipeline uses (and the SNS alarm publishes with).
      - The same option as M(hippolyte.dynamodb.emr_backup)'s; O(role) is its deprecated older name.
    type: str
    default: DataPipelineDefaultRole
    aliases: [role]
  job_flow_role:
    description:
      - EC2 instance profile of the EMR cluster's instances.
      - The same option as M(hippolyte.dynamodb.emr_backup)'s; O(resource_role) is its deprecated older name.
    type: str
    default: DataPipelineDefaultResourceRole
    aliases: [resource_role]
  log_uri:
    description: S3 folder for the pipeline's logs. By default C(<destination>/datapipeline-logs/).
    type: str
  subnet_id:
    description: Subnet the EMR cluster is started in (the default VPC when unset).
    type: str
  release_label:
    description: EMR release of the cluster.
    type: str
    default: emr-5.23.0
  core_instance_bid_price:
    description: Spot bid in USD per instance-hour; makes the core nodes spot instances.
    type: float
  task_instance_type:
    description: EC2 type of the task nodes (required with O(task_instance_count)).
    type: str
  task_instance_count:
    description: Number of task nodes.
    type: int
    default: 0
  task_instance_bid_price:
    description: Spot bid in USD per instance-hour; makes the task nodes spot instances.
    type: float
  window_s:
    description:
      - Seconds after which the EMR cluster is terminated whatever it is doing (C(terminateAfter)).
      - By default the cluster's planned span (C(end_offset_s - start_offset_s)).
    type: int
  jar:
    description:
      - Jar with the export tool; C({region}) is replaced by the region.
      - By default the emr-dynamodb-tools jar AWS hosts for Data Pipeline in each region.
      - O(export_jar) is its deprecated older name.
    type: str
    default: s3://dynamodb-dpl-{region}/emr-ddb-storage-handler/4.11.0/emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar
    aliases: [export_jar]
  main_class:
    description: Main class of the export step. O(export_class) is its deprecated older name.
    type: str
    default: org.apache.hadoop.dynamodb.tools.DynamoDBExport
    aliases: [export_class]
  maximum_retries:
    description: Retries of a failed table's export activity.
    type: int
    default: 2
  read_percentage:
    description:
      - The host's read share - used for tables the plan gives none (on-demand tables), and the most a table whose
        boost was refused (O(boost_refused)) may take.
      - O(default_read_percentage) is its deprecated older name.
    type: float
    default: 0.5
    aliases: [default_read_percentage]
  sns_topic_arn:
    description: SNS topic told when an export fails (an C(SnsAlarm) object). Adds one object to the pipeline.
    type: str
  max_objects:
    description: Objects allowed per pipeline (the account's limit; the plan must use the same value).
    type: int
    default: 100
  wait:
    description:
      - With O(state=active), wait until every table is finished or failed, or O(wait_timeout) passes.
      - V(false) starts (or finds) the pipeline, reports each table and records the finished ones.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait), unless O(deadline) is given.
    type: int
    default: 25200
  deadline:
    description:
      - When to stop waiting (ISO 8601 with a UTC offset), for example the plan's C(deadline).
        Replaces O(wait_timeout) by the seconds left until then.
    type: str
  poll_interval:
    description: Seconds between two status polls with O(wait).
    type: int
    default: 60
  delete_when_finished:
    description: Delete the pipeline once every table's outcome is recorded.
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
    details: Builds and validates the definition and looks the pipeline up; creates, activates and deletes nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - V(present), V(active) and V(absent) find the pipeline by its uniqueId and change only what differs.
      - Once a finished pipeline is deleted, the same O(run_id) would start a new backup; use one O(run_id) per run.
notes:
  - Like every engine module, it returns RV(tables) as one row per table in the shape every engine shares
    (see the collection's C(docs/engines.md), "One engine interface").
  - Data Pipeline is closed to new customers; accounts without it use M(hippolyte.dynamodb.emr_backup).
  - Needs C(datapipeline:CreatePipeline), C(PutPipelineDefinition), C(GetPipelineDefinition),
    C(ActivatePipeline), C(DescribePipelines), C(ListPipelines), C(QueryObjects), C(DescribeObjects),
    C(DeletePipeline), C(AddTags), C(iam:PassRole) on both roles, C(dynamodb:DescribeTable) (and the other
    read calls of the schema capture) and C(s3:ListBucket), C(s3:GetObject), C(s3:PutObject) on the destination.
  - See docs/engines-datapipeline.md for the pipeline and resource roles' least-privilege policies.
"""

EXAMPLES = r"""
- name: Plan tonight's backups
  hippolyte.dynamodb.dynamodb_backup_plan:
    engine: datapipeline
    window: {start: "01:00", end: "08:00"}
  register: plan

- name: Start one pipeline per planned cluster
  hippolyte.dynamodb.datapipeline_backup:
    cluster: "{{ item }}"
    run_id: "{{ now(utc=true, fmt='%Y-%m-%d') }}"
    destination: s3://acme-ddb-backups/dynamodb
    subnet_id: subnet-0abc1234
    sns_topic_arn: arn:aws:sns:eu-west-1:111111111111:backup-failures
    state: active
    wait: false
  loop: "{{ plan.clusters | selectattr('engine', 'equalto', 'datapipeline') }}"
  loop_control:
    label: "{{ item.id }}"

- name: Wait for them, write the manifests and delete the pipelines
  hippolyte.dynamodb.datapipeline_backup:
    cluster: "{{ item }}"
    run_id: "{{ now(utc=true, fmt='%Y-%m-%d') }}"
    destination: s3://acme-ddb-backups/dynamodb
    state: active
    wait: true
    wait_timeout: 25200
  loop: "{{ plan.clusters | selectattr('engine', 'equalto', 'datapipeline') }}"
"""

RETURN = r"""
capacity_put_back:
  description:
    - Boosted tables of the cluster whose read capacity this call put back as their step ended
      (O(put_back_boosts)).
  returned: O(state=present) or O(state=active)
  type: list
  elements: str
  sample: ["orders"]
capacity_notes:
  description:
    - Boosts that could not be put back yet (DynamoDB's decrease budget, an error); they stay recorded for
      reconcile.
  returned: O(state=present) or O(state=active)
  type: list
  elements: str
  sample: []
pipeline_id:
  description: Id of the pipeline (null when none exists).
  returned: always
  type: str
  sample: df-0123456789ABCDEFGHIJ
unique_id:
  description: The pipeline's uniqueId, derived from O(run_id) and the cluster's id.
  returned: always
  type: str
  sample: hippolyte-c01-5f0e3c9a1b2d4e6f7a8b9c0d
state:
  description:
    - The pipeline's state as Data Pipeline reports it (C(PENDING), C(SCHEDULED), C(FINISHED)...),
      C(DELETED) once deleted, or C(ABSENT) when there is none.
  returned: always
  type: str
  sample: SCHEDULED
object_count:
  description: Objects in the definition.
  returned: unless O(state=absent)
  type: int
  sample: 8
done:
  description: Every table is finished or failed.
  returned: always
  type: bool
  sample: false
tables:
  description:
    - One row per table, the shape every engine returns - C(name), C(engine), C(status) (C(ok), C(failed) or
      C(running)), C(engine_state) (Data Pipeline's own - C(FINISHED), C(FAILED), C(WAITING_ON_DEPENDENCIES)...),
      C(items), C(bytes), C(started_at), C(finished_at), C(backup_url), C(manifest_url) (once recorded), C(error),
      C(lane) (the cluster's id).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "orders", "engine": "datapipeline", "status": "ok", "engine_state": "FINISHED", "error": null,
            "items": 90000000, "bytes": 5368709120, "lane": "c01",
            "backup_url": "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00",
            "manifest_url": "s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/orders/2026-11-22-01-00-00/hippolyte-manifest.json"}]
failed_tables:
  description: Names of the tables whose backup failed.
  returned: always
  type: list
  elements: str
  sample: []
definition:
  description: The pipeline objects, in check mode only.
  returned: check mode
  type: list
  elements: dict
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    DATAPIPELINE_BACKUP_OPTIONS,
    run_engine_module,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import run_datapipeline_backup

ARGUMENT_SPEC = DATAPIPELINE_BACKUP_OPTIONS


def main():
    run_engine_module(ARGUMENT_SPEC, run_datapipeline_backup)


if __name__ == "__main__":
    main()
