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
  object_lock_mode:
    description:
      - S3 Object Lock mode every object written into a backup folder is locked in (data parts, manifests, claims),
        until the date O(object_lock_retention) gives it. The bucket must have Object Lock (the setup playbook with
        C(hippolyte_object_lock) creates it so).
      - V(GOVERNANCE) can be lifted by a principal allowed C(s3:BypassGovernanceRetention); V(COMPLIANCE) by nobody,
        root included, until the date.
      - Objects DynamoDB's exports, EMR or Data Pipeline write themselves get only the bucket's default retention.
      - Unset, nothing is locked. Refused for a C(file://) destination.
    type: str
    choices: [GOVERNANCE, COMPLIANCE]
  object_lock_retention:
    description:
      - The retention policy the locks must not outlast (the options of M(hippolyte.dynamodb.backup_prune)); required
        with O(object_lock_mode). Each backup is locked until the earliest moment this policy could prune it when a
        table gets at most one backup per UTC day, see docs/catalog.md. Count rules (O(object_lock_retention.keep_last),
        weekly, monthly) may keep a backup longer than its lock.
    type: dict
    suboptions:
      keep_last: {description: Keep the N newest intact backups of each table., type: int}
      keep_daily: {description: Keep the newest intact backup of each of the last N days (UTC)., type: int}
      keep_weekly: {description: Keep the newest intact backup of each of the last N ISO weeks., type: int}
      keep_monthly: {description: Keep the newest intact backup of each of the last N months., type: int}
      max_age_days: {description: Prune complete backups older than this many days., type: int}
      incomplete_grace_hours: {description: Prune an incomplete folder idle this long (not in the lock)., type: int}
"""
