# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # What each attribute means, said once; every module states its own support and details.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing it.
  diff_mode:
    description: Reports what changed (or would change, in check mode) with C(--diff).
  idempotent:
    description: Run twice in a row with the same options (outside check mode), the second run reports no change.
"""
