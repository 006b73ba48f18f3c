#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: setup_diff
short_description: What the setup role would create, change or remove in an account and region, before and after
version_added: 0.3.0
description:
  - Reads the resources the setup role (C(hippolyte.dynamodb.setup)) manages in one account and region - the
    backup bucket and its settings, its lifecycle rule C(hippolyte-backups), the SNS topic, this region's customer
    managed policies, the backup and restore roles, and the inline policies of earlier setups - and compares each
    with what setup makes of it. Never writes anything.
  - With C(--diff), each resource that differs is shown before and after, in the terms of C(hippolyte_setup)'s
    options (days of the lifecycle rule, the policy documents, the roles' trust and attached policies, tags). A
    resource already as setup makes it is not shown, so an unchanged setup shows nothing and reports no change.
  - The setup role runs it in check mode, because C(amazon.aws.s3_bucket) has no check mode and the other
    modules it uses show no diff.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  account:
    description: The account setup runs in (its bucket owner, and the account of the policies' ARNs).
    type: str
    required: true
  partition:
    description: The account's partition, for the policies' ARNs.
    type: str
    default: aws
  bucket:
    description: The backup bucket.
    type: str
    required: true
  s3_endpoint_url:
    description: The S3 endpoint, when not the module's O(endpoint_url) (a local stand-in, an S3 gateway).
    type: str
  encryption:
    description: The bucket's default encryption.
    type: str
    choices: [AES256, "aws:kms"]
    default: AES256
  kms_key_id:
    description: The KMS key's ARN, with O(encryption=aws:kms).
    type: str
    default: ""
  bucket_policy:
    description: The bucket policy document setup puts (the role's TLS-only policy).
    type: dict
    required: true
  tags:
    description: The tags of the bucket, the topic and the roles (setup removes others).
    type: dict
    default: {}
  lifecycle:
    description: The lifecycle rule C(hippolyte-backups); a number of days 0 means never.
    type: dict
    default: {}
    suboptions:
      prefix:
        description: The key prefix the rule applies to.
        type: str
        default: ""
      abort_multipart_days:
        description: Days before an incomplete multipart upload is aborted.
        type: int
        default: 7
      expiration_days:
        description: Days before every object expires.
        type: int
        default: 0
      noncurrent_expiration_days:
        description: Days an overwritten or deleted version is kept.
        type: int
        default: 30
  topic_arn:
    description: The SNS topic's ARN.
    type: str
    required: true
  subscriptions:
    description: The topic's subscriptions (setup removes others).
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: The subscription's protocol (C(email), C(https), ...).
        type: str
        required: true
      endpoint:
        description: Where it delivers.
        type: str
        required: true
  policies:
    description:
      - The policies of this account and region, as the C(hippolyte.dynamodb.iam_policies) filter lists them -
        C(kind) (C(managed) or C(inline)), C(role) (C(backup) or C(restore)), C(name) and C(document) (empty for
        a policy setup removes).
    type: list
    elements: dict
    default: []
  roles:
    description: The backup and restore roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role's name.
        type: str
        required: true
      path:
        description: The role's path.
        type: str
        default: /
      description:
        description: The role's description.
        type: str
        default: ""
      role:
        description: Which of the two it is; the policies of O(policies) with this C(role) are attached to it.
        type: str
        choices: [backup, restore]
        required: true
  trust_policy:
    description: Who may assume the roles (the C(hippolyte.dynamodb.iam_trust_policy) filter's document).
    type: dict
    required: true
  object_lock:
    description:
      - The bucket's S3 Object Lock (C(hippolyte_object_lock)). Unset, the bucket's Object Lock is left as it is and
        not compared. An existing bucket without Object Lock shows as a change the setup run refuses (see
        docs/setup.md).
    type: dict
    suboptions:
      mode:
        description: Mode of the default retention (and of the locks backups are written with).
        type: str
        choices: [GOVERNANCE, COMPLIANCE]
        required: true
      default_retention_days:
        description: Days of the bucket's default retention; 0 for none.
        type: int
        default: 0
extends_documentation_fragment:
  - hippolyte.dynamodb.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - hippolyte.dynamodb.requirements
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode and out of it.
  diff_mode:
    support: full
    details: Each resource that differs from what setup makes of it, before and after.
  idempotent:
    support: full
notes:
  - Needs the read calls of what it reads - C(s3:ListBucket) (HeadBucket), C(s3:GetBucketVersioning),
    C(s3:GetEncryptionConfiguration), C(s3:GetBucketPublicAccessBlock), C(s3:GetBucketOwnershipControls),
    C(s3:GetBucketPolicy), C(s3:GetBucketTagging), C(s3:GetLifecycleConfiguration), C(sns:GetTopicAttributes),
    C(sns:ListSubscriptionsByTopic), C(sns:ListTagsForResource), C(iam:GetPolicy), C(iam:GetPolicyVersion),
    C(iam:GetRole), C(iam:ListAttachedRolePolicies), C(iam:ListRolePolicies) and C(iam:GetRolePolicy) - which
    the credentials that run setup have.
"""

EXAMPLES = r"""
- name: Show what setup would change in this account and region (run with --check --diff)
  hippolyte.dynamodb.setup_diff:
    region: eu-west-1
    account: "111111111111"
    bucket: acme-ddb-backups
    bucket_policy: "{{ lookup('ansible.builtin.template', 'bucket-policy.json.j2') }}"
    lifecycle: {prefix: dynamodb/, expiration_days: 400}
    topic_arn: arn:aws:sns:eu-west-1:111111111111:hippolyte-backup-runs
    policies: "{{ setup_policies }}"
    roles:
      - {name: hippolyte-backup, description: Hippolyte nightly DynamoDB backups, role: backup}
      - {name: hippolyte-restore, description: Hippolyte DynamoDB restores, role: restore}
    trust_policy: "{{ [controller_arn] | hippolyte.dynamodb.iam_trust_policy('') }}"
  register: preview

- name: Say what would change
  ansible.builtin.debug:
    msg: "{{ preview.msg }}"
"""

RETURN = r"""
msg:
  description: What would be created, changed and removed, in one line.
  returned: always
  type: str
  sample: Would create bucket acme-ddb-backups, lifecycle rule acme-ddb-backups/hippolyte-backups; would change
    role hippolyte-backup
changes:
  description: Each resource that differs, with what setup would do to it (C(create), C(change) or C(remove)).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "lifecycle rule", "name": "acme-ddb-backups/hippolyte-backups", "action": "change"}]
exists:
  description: Whether the bucket and the topic exist now.
  returned: always
  type: dict
  sample: {"bucket": true, "topic": false}
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    AnsibleAWSModule,
    aws_client,
    run_or_fail,
    s3_client,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.setup_diff import (
    Resource,
    SetupTarget,
    changes,
    summary,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.setup_reading import read_current

ARGUMENT_SPEC = dict(
    account=dict(type="str", required=True),
    partition=dict(type="str", default="aws"),
    bucket=dict(type="str", required=True),
    s3_endpoint_url=dict(type="str"),
    encryption=dict(type="str", choices=["AES256", "aws:kms"], default="AES256"),
    kms_key_id=dict(type="str", default=""),
    bucket_policy=dict(type="dict", required=True),
    tags=dict(type="dict", default={}),
    lifecycle=dict(type="dict", default={}, options=dict(
        prefix=dict(type="str", default=""),
        abort_multipart_days=dict(type="int", default=7),
        expiration_days=dict(type="int", default=0),
        noncurrent_expiration_days=dict(type="int", default=30),
    )),
    topic_arn=dict(type="str", required=True),
    subscriptions=dict(type="list", elements="dict", default=[], options=dict(
        protocol=dict(type="str", required=True),
        endpoint=dict(type="str", required=True),
    )),
    policies=dict(type="list", elements="dict", default=[]),
    roles=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str", default=""),
        role=dict(type="str", choices=["backup", "restore"], required=True),
    )),
    trust_policy=dict(type="dict", required=True),
    object_lock=dict(type="dict", options=dict(
        mode=dict(type="str", choices=["GOVERNANCE", "COMPLIANCE"], required=True),
        default_retention_days=dict(type="int", default=0),
    )),
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                              required_if=[("encryption", "aws:kms", ("kms_key_id",))])
    p = module.params
    target = SetupTarget(
        bucket=p["bucket"], encryption=p["encryption"], kms_key_id=p["kms_key_id"], bucket_policy=p["bucket_policy"],
        tags={str(k): str(v) for k, v in p["tags"].items()}, lifecycle=p["lifecycle"], topic_arn=p["topic_arn"],
        subscriptions=tuple((s["protocol"], s["endpoint"]) for s in p["subscriptions"]),
        policies=tuple(p["policies"]), roles=tuple(p["roles"]), trust_policy=p["trust_policy"],
        policy_arn_prefix=f"arn:{p['partition']}:iam::{p['account']}:policy/", object_lock=p["object_lock"])

    def run():
        current = read_current(target, s3_client(module), aws_client(module, "iam"), aws_client(module, "sns"),
                               p["account"])
        return current, changes(target, current)

    current, found = run_or_fail(module, run)
    result = dict(changed=bool(found), msg=summary(found),
                  changes=[{"kind": c.resource.kind, "name": c.resource.name, "action": c.action} for c in found],
                  exists={"bucket": current[Resource("bucket", target.bucket)] is not None,
                          "topic": current[Resource("topic", target.topic_arn)] is not None})
    if module._diff:
        result["diff"] = [c.as_diff() for c in found]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
