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
"""
