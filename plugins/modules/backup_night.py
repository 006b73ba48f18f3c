#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_night
short_description: Run a whole night of a backup plan, every engine side by side through one driver
version_added: 0.2.0
description:
  - Runs the night of a plan from M(hippolyte.dynamodb.dynamodb_backup_plan) (its native exports, its EMR clusters,
    its Data Pipelines and its local lanes) side by side, watched together until every table is done or the plan's
    deadline.
  - Each cluster table's boost goes back within one O(poll_interval) of its step's end, whatever else still runs
    (the local lanes included). A cluster or pipeline that dies or fails with tables unfinished is relaunched for
    just those tables on on-demand capacity, while the window leaves room for them, at most O(relaunch_limit)
    times. At the deadline nothing new starts and every boost the night holds goes back.
  - Each engine gets the options its own module would (M(hippolyte.dynamodb.dynamodb_export),
    M(hippolyte.dynamodb.emr_backup), M(hippolyte.dynamodb.datapipeline_backup),
    M(hippolyte.dynamodb.dynamodb_scan_backup) with O(plan)), checked by that module's own rules before any AWS
    call. The result holds each engine's result in the shape its module returns.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  plan:
    description: The registered result of M(hippolyte.dynamodb.dynamodb_backup_plan).
    type: dict
    required: true
  run_id:
    description: This run's id (its boosts' capacity records; the local lanes' run).
    type: str
    required: true
  night_id:
    description: The night's id, which names the engines' work so that a rerun in the same window finds it.
    type: str
    required: true
  poll_interval:
    description: Seconds between two polls of the clusters.
    type: int
    default: 60
  relaunch_limit:
    description: How many times a cluster may be relaunched for its unfinished tables.
    type: int
    default: 2
  boost_refused:
    description: Tables whose cluster boost was refused (read at the host's share of their own capacity).
    type: list
    elements: str
    default: []
  autoscaling:
    description: Whether boosts also move the tables' Application Auto Scaling targets.
    type: bool
    default: true
  emr:
    description: Options of M(hippolyte.dynamodb.emr_backup) for every EMR cluster (its own names and defaults).
    type: dict
    default: {}
  datapipeline:
    description:
      - Options of M(hippolyte.dynamodb.datapipeline_backup) for every pipeline (its own names and defaults).
    type: dict
    default: {}
  sns_topic_arn:
    description: The pipelines' SNS topic for failures.
    type: str
  workers:
    description: Scan threads per local table.
    type: int
    default: 4
  max_concurrent_scans:
    description: At most this many local tables read at once.
    type: int
  consistent_read:
    description: Whether the local lanes read with strongly consistent scans.
    type: bool
    default: false
  resume:
    description: A rerun of the same night backs up only the local tables the first run did not finish.
    type: bool
    default: false
  progress_path:
    description: A file the local lanes append one line per finished table to.
    type: path
  lease:
    description:
      - The run's lease (from M(hippolyte.dynamodb.backup_lease)); once another run took it over, no local table
        and no cluster starts or is relaunched.
    type: dict
    suboptions:
      account_id:
        description: The lease's account.
        type: str
        required: true
      nonce:
        description: The lease's nonce.
        type: str
        required: true
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
    details: Each engine's preview (what its module does in check mode), and the local lanes' check.
  diff_mode:
    support: partial
    details: >-
      In check mode, the local lanes' diff (as M(hippolyte.dynamodb.dynamodb_scan_backup) with O(plan) shows it):
      the backup each local table would get and the boost it would hold.
  idempotent:
    support: partial
    details: >-
      Every engine's work is named after O(night_id): a rerun in the same window finds it; with O(resume), local
      tables backed up earlier in the window are kept.
notes:
  - Needs what each engine's module needs.
"""

EXAMPLES = r"""
- name: Run the night, every engine side by side
  hippolyte.dynamodb.backup_night:
    plan: "{{ night_plan }}"
    run_id: "nightly-{{ now(utc=true, fmt='%Y%m%d%H%M%S') }}"
    night_id: "nightly-{{ night_plan.night.id }}"
    destination: s3://acme-ddb-backups/dynamodb
    emr: {subnet_id: subnet-0abc}
  register: night
"""

RETURN = r"""
local:
  description: The local lanes' result, as M(hippolyte.dynamodb.dynamodb_scan_backup) with O(plan) returns it, with
    C(failed); null when the plan has no local lane.
  returned: always
  type: dict
exports:
  description: The exports' result, as M(hippolyte.dynamodb.dynamodb_export) returns it, with C(failed); null
    without exports.
  returned: always
  type: dict
emr:
  description: C(results), one per EMR cluster, as M(hippolyte.dynamodb.emr_backup) returns it, with C(failed)
    (a relaunched cluster's with every table's last outcome and C(earlier_attempts)); null without EMR clusters.
  returned: always
  type: dict
pipelines:
  description: C(results), one per pipeline, as M(hippolyte.dynamodb.datapipeline_backup) returns it, with
    C(failed); null without pipelines.
  returned: always
  type: dict
relaunches:
  description: Each cluster that ended with tables unfinished, relaunched or not, and why.
  returned: always
  type: list
  elements: dict
  sample: [{"cluster": "c01", "attempt": 1, "tables": ["orders"], "reason": "orders: TERMINATED", "relaunched": true}]
put_back_at_deadline:
  description: Tables still running on a cluster when the window closed (their boosts went back).
  returned: always
  type: list
  elements: str
  sample: []
notes:
  description: Starts AWS refused for now, polls it did not answer.
  returned: always
  type: list
  elements: str
  sample: []
done:
  description: Whether every cluster table ended before the deadline.
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DATAPIPELINE_BACKUP_OPTIONS,
    DESTINATION_OPTIONS,
    DYNAMODB_EXPORT_OPTIONS,
    EMR_BACKUP_OPTIONS,
    AnsibleAWSModule,
    ModuleClients,
    aws_client,
    checked_options,
    exit_with,
    require_destination,
    run_or_fail,
    watch_controller,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import (
    LanesRequest,
    run_lanes_task,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.backup_night import (
    night_engine_options,
    run_backup_night,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.run_lease import lost_to

ARGUMENT_SPEC = dict(
    plan=dict(type="dict", required=True),
    run_id=dict(type="str", required=True),
    night_id=dict(type="str", required=True),
    poll_interval=dict(type="int", default=60),
    relaunch_limit=dict(type="int", default=2),
    boost_refused=dict(type="list", elements="str", default=[]),
    autoscaling=dict(type="bool", default=True),
    emr=dict(type="dict", default={}),
    datapipeline=dict(type="dict", default={}),
    sns_topic_arn=dict(type="str"),
    workers=dict(type="int", default=4),
    max_concurrent_scans=dict(type="int"),
    consistent_read=dict(type="bool", default=False),
    resume=dict(type="bool", default=False),
    progress_path=dict(type="path"),
    lease=dict(type="dict", no_log=False, options=dict(account_id=dict(type="str", required=True),
                                                       nonce=dict(type="str", required=True, no_log=False))),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)
SPECS = {"exports": DYNAMODB_EXPORT_OPTIONS, "emr": EMR_BACKUP_OPTIONS, "pipelines": DATAPIPELINE_BACKUP_OPTIONS}


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    clients = ModuleClients(module)
    destination = {name: p[name] for name in DESTINATION_OPTIONS if p[name] is not None and name != "destination"}

    def engines():
        given = night_engine_options(p, destination)
        return {key: [checked_options(SPECS[key], options, key) for options in each] for key, each in given.items()}

    checked = run_or_fail(module, engines)  # every engine's settings, before any AWS call
    lease = p["lease"]
    settings = ScanSettings(workers=p["workers"], consistent_read=p["consistent_read"], run_id=p["run_id"])
    pool = p["workers"] * (p["max_concurrent_scans"] or 64)  # one connection per concurrent scan and worker

    def lease_lost():
        return lost_to(clients.store(), lease["account_id"], module.region, lease["nonce"]) if lease else None

    def lanes(check_mode):
        request = LanesRequest(p["plan"], module.region, settings, p["max_concurrent_scans"], None,
                               p["progress_path"], p["resume"], None, p["run_id"])
        aas = aws_client(module, "application-autoscaling") if p["autoscaling"] else None
        stop = None if check_mode else watch_controller(module)
        return run_lanes_task(request, aws_client(module, "dynamodb", pool_size=pool), aas, clients.store(),
                              check_mode=check_mode, diff=module._diff, stop=stop,
                              lease_lost=lease_lost if lease else None)

    exit_with(module, run_or_fail(module, lambda: run_backup_night(
        checked, p, clients, module.check_mode, lanes, lease_lost=lease_lost if lease else None,
        sleep=None if module.check_mode else clients.watch_sleep())))


if __name__ == "__main__":
    main()
