# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # What every module of the collection needs on the host it runs on (the controller, for the roles). It
    # replaces amazon.aws.boto3, whose Python floor is amazon.aws's own, not this collection's.
    DOCUMENTATION = r"""
options: {}
requirements:
  - python >= 3.11
  - boto3 >= 1.34
  - botocore >= 1.34
"""
