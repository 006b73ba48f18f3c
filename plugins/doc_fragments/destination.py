# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # Options of every module that reads or writes the backup destination.
    DOCUMENTATION = r"""
options:
  destination:
    description:
      - Root of the backups, C(s3://bucket/prefix) or C(file:///absolute/dir).
      - Backups live under C(<destination>/<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/).
    type: str
    required: true
  s3_endpoint_url:
    description:
      - Endpoint for S3 when it differs from O(endpoint_url) (a VPC endpoint, an S3-compatible store,
        or a local stand-in next to a DynamoDB one).
    type: str
"""
