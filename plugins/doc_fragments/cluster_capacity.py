# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # Options of the cluster engines that read a table's capacity (Data Pipeline and EMR).
    DOCUMENTATION = r"""
options:
  boost_refused:
    description:
      - Tables of the cluster whose planned capacity boost was refused. They are read on their own capacity, so
        their share is capped at O(read_percentage).
    type: list
    elements: str
    default: []
  put_back_boosts:
    description:
      - Put back the read capacity of each boosted table of the cluster (a table with C(boost_rcu) in the plan,
        boosted under O(capacity_run_id), by default O(run_id), by M(hippolyte.dynamodb.dynamodb_throughput)) as
        soon as its export step has ended, ok or failed, instead of when the whole night ends.
      - A table without this run's capacity record is left as it is; what DynamoDB refuses to decrease stays
        recorded on the table and is named in RV(capacity_notes).
    type: bool
    default: true
  capacity_run_id:
    description:
      - The run id the boosts were recorded under, when it is not O(run_id) (the backup role names a cluster's
        work after the night, so a rerun finds it, and its boosts after the run that raised them).
    type: str
  autoscaling:
    description:
      - Put back autoscaled tables' boosts through Application Auto Scaling (their scalable target's minimum), as
        M(hippolyte.dynamodb.dynamodb_throughput) raised them. Set V(false) only where that API is not reachable.
    type: bool
    default: true
"""
