# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # The EMR cluster's size, shared by the Data Pipeline and EMR engines.
    DOCUMENTATION = r"""
options:
  master_instance_type:
    description: Instance type of the master node.
    type: str
    default: m5.xlarge
  core_instance_type:
    description: Instance type of the core nodes.
    type: str
    default: m5.xlarge
  core_instance_count:
    description: Number of core nodes.
    type: int
    default: 1
"""
