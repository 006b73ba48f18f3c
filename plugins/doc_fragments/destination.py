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
      - Must be given, by the task or once for a play or block in C(module_defaults) under
        C(group/hippolyte.dynamodb.destination), the action group that carries the options below too. A task
        without it fails before any AWS call.
    type: str
    required: false
  s3_endpoint_url:
    description:
      - Endpoint for S3 when it differs from O(endpoint_url) (a VPC endpoint, an S3-compatible store,
        or a local stand-in next to a DynamoDB one).
    type: str
  bucket_owner:
    description:
      - Account id (12 digits) that must own the C(s3://) destination's bucket. Every S3 call names it, so
        S3 refuses to write backups into, or read them from, a bucket another account owns.
      - Defaults to the account of the module's credentials (the account the backups belong to).
      - Ignored for a C(file://) destination.
    type: str
  sse:
    description:
      - Server-side encryption S3 is asked for on every object written to an C(s3://) destination (data parts,
        manifests, claims, leases; DynamoDB's exports and EMR's steps too, where the module starts them).
      - V(AES256) is SSE-S3; V(aws:kms) is SSE-KMS with O(kms_key_id), or the account's C(aws/s3) key.
      - Unset, S3 applies the bucket's default encryption. A C(file://) destination relies on its disk
        (files are 0600).
    type: str
    choices: [AES256, aws:kms]
  kms_key_id:
    description: The KMS key (id, ARN or alias) for O(sse=aws:kms).
    type: str
"""
