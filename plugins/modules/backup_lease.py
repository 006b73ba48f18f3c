#!/usr/bin/python
# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
module: backup_lease
short_description: Take or give back the one-run-at-a-time lease of an account and region
version_added: 0.3.0
description:
  - Two backup runs of the same account and region at once (cron and AWX, a slow night and the next) would
    boost the same tables twice and put each other's capacity back. A run takes this lease before it changes
    anything and gives it back when it ends; the backup role does both.
  - The lease is an object in the destination,
    C(<destination>/<account>/<region>/@hippolyte-lease/<generation>/lease.json), holding the run id, the
    holder, when it was taken and until when it holds, and the machine and process of the Ansible controller
    that took it. Each lease is a new generation created with an exclusive write (S3 C(If-None-Match),
    file:// an exclusive link), so of two runs asking at the same moment exactly one gets it.
  - O(state=held) takes the lease when there is none, or when the newest has expired (RV(how) C(expired)), or
    when it was taken by a controller on this same machine whose process is gone (C(controller gone), a
    killed or crashed run), or when O(break_lease=true) (C(broken)). Otherwise the task fails, naming the
    run that holds it and until when, after waiting up to O(wait_s) for it to be given back.
  - A lease lives as long as its run. It is taken for O(hold_s) (default 600 seconds) and O(state=kept), run in
    the background (C(async) with C(poll) 0), renews it every O(renew_every_s) to the renewal plus O(hold_s), for as
    long as the Ansible controller that took it lives. So a live run keeps its lease however long it lasts, and
    a dead one's lease expires O(hold_s) after its last renewal. The backup role does this.
  - A lease file is written whole or not at all (a complete temporary file linked to its name on file://, a
    conditional PUT on S3). An empty or unreadable lease file (written by hand, or by an older version on a full
    disk) is a broken lease - O(break_lease=true) takes it over, and it expires 600 seconds after it
    was written.
  - O(state=released) stops the lease's keeper (on this machine) and gives back the lease taken with O(nonce).
    When that lease is no longer held (the keeper could not renew it for longer than O(hold_s), the controller
    suspended or the store unreachable, and another run took it over), the task fails naming the run that took
    it and when (RV(lost_to)) - tables both runs started after that may have been backed up twice.
author:
  - Hippolyte for Ansible developers (!UNKNOWN)
options:
  state:
    description:
      - V(held) takes the lease, V(released) gives it back.
      - V(kept) renews the lease taken with O(nonce) until it is given back, taken over, or the controller that
        took it is gone; it returns only then, so run it in the background (C(async) with C(poll) 0).
    type: str
    choices: [held, kept, released]
    default: held
  run_id:
    description: The run asking; stored in the lease and shown to any other run that finds it.
    type: str
    required: true
  holder:
    description: Who asks, as shown to other runs (the role passes the inventory host). Default this machine's name.
    type: str
  account_id:
    description:
      - The account whose tables the run backs up. By default the account of the credentials (STS), or, where
        the endpoint answers no STS call, the account in a table's ARN.
    type: str
  expires_at:
    description:
      - Until when the lease holds without being renewed or given back (ISO 8601 with an offset), instead of
        O(hold_s).
    type: str
  hold_s:
    description:
      - Seconds from now the lease holds without a renewal (O(state=held)), and from each renewal (O(state=kept)).
      - Default 600 - ten missed renewals at the default O(renew_every_s).
    type: int
  renew_every_s:
    description: With O(state=kept), seconds between two renewals.
    type: int
    default: 60
  wait_s:
    description: With O(state=held), seconds to wait for a lease held by another run to be given back (0 fails at once).
    type: int
    default: 0
  poll_interval:
    description: Seconds between two looks at a held lease while waiting.
    type: int
    default: 15
  break_lease:
    description:
      - Take the lease even though another run holds it. Only for a run known to be dead on another machine
        (a dead run on this machine is recognised without it); the report names the lease broken.
    type: bool
    default: false
  nonce:
    description: With O(state=kept) or O(state=released), the C(nonce) in RV(lease) of the lease this run took.
    type: str
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
    details: Reads the newest lease and says whether it would be taken, kept or given back; writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: Neither is repeatable - a second take is another run, and a second give-back fails (the lease is no
      longer this run's).
notes:
  - Needs C(s3:PutObject), C(s3:GetObject), C(s3:ListBucket) and C(s3:DeleteObject) on the destination, and
    C(sts:GetCallerIdentity) (or C(dynamodb:ListTables) and C(dynamodb:DescribeTable)) to find the account.
"""

EXAMPLES = r"""
- name: Take the account's lease, waiting up to 10 minutes for another run
  hippolyte.dynamodb.backup_lease:
    state: held
    run_id: nightly-20261123
    holder: payments-prod-eu
    destination: s3://acme-ddb-backups/dynamodb
    wait_s: 600
  register: lease

- name: Keep it while the run lives (renewed every minute, in the background)
  hippolyte.dynamodb.backup_lease:
    state: kept
    run_id: nightly-20261123
    destination: s3://acme-ddb-backups/dynamodb
    nonce: "{{ lease.lease.nonce }}"
  async: 172800  # the keeper ends itself with the run
  poll: 0

- name: Give it back
  hippolyte.dynamodb.backup_lease:
    state: released
    run_id: nightly-20261123
    destination: s3://acme-ddb-backups/dynamodb
    nonce: "{{ lease.lease.nonce }}"
"""

RETURN = r"""
lease:
  description: The lease this task took (O(state=held)), or the one that holds it when refused.
  returned: always
  type: dict
  sample: {"run_id": "nightly-20261123", "holder": "payments-prod-eu", "taken_at": "2026-11-23T00:00:02+00:00",
           "expires_at": "2026-11-23T00:10:02+00:00", "generation": 3, "nonce": "9f1c...", "host": "awx-task-1",
           "boot_id": "0b4f...", "controller_pid": 4242, "controller_start": "987654", "renewed_at": "",
           "keeper_pid": null, "keeper_start": null}
url:
  description: Where the lease is stored.
  returned: when a lease was taken
  type: str
  sample: s3://acme-ddb-backups/dynamodb/111111111111/eu-west-1/@hippolyte-lease/00000003/lease.json
how:
  description:
    - How it was taken - C(free), C(expired), C(controller gone) (a dead run on this machine), C(broken)
      (O(break_lease)).
  returned: when a lease was taken
  type: str
  sample: free
taken_over:
  description:
    - The lease this one replaced (expired, dead or broken), else null. A broken (unreadable) one is named by its
      C(generation) only.
  returned: when a lease was taken
  type: dict
lost_to:
  description:
    - With O(state=released) or O(state=kept), when this run's lease was taken over, by whom and when, else null.
  returned: with O(state=released) or O(state=kept)
  type: str
  sample: lease lost to payments-prod-eu (run hippolyte-payments-prod-eu-2026-11-23-03-10-00 on cron-2) at
    2026-11-23T03:10:04+00:00
stopped:
  description: With O(state=kept), why the keeper stopped - C(lease lost) (given back, taken over or broken) or
    C(controller gone) (the lease then expires O(hold_s) after its last renewal).
  returned: with O(state=kept)
  type: str
  sample: lease lost
account_id:
  description: The account the lease is for.
  returned: always
  type: str
  sample: "111111111111"
"""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import (
    ASSUME_ROLE_OPTIONS,
    DESTINATION_OPTIONS,
    AnsibleAWSModule,
    credentials_account,
    destination_store,
    exit_with,
    require_destination,
    run_or_fail,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.run_lease import LeaseRequest, lease_task

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["held", "kept", "released"], default="held"),
    run_id=dict(type="str", required=True),
    holder=dict(type="str"),
    account_id=dict(type="str"),
    expires_at=dict(type="str"),
    hold_s=dict(type="int"),
    renew_every_s=dict(type="int", default=60),
    wait_s=dict(type="int", default=0),
    poll_interval=dict(type="int", default=15),
    break_lease=dict(type="bool", default=False),
    nonce=dict(type="str", no_log=False),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                              mutually_exclusive=[("expires_at", "hold_s")],
                              required_if=[("state", "kept", ["nonce"]), ("state", "released", ["nonce"])])
    run_or_fail(module, lambda: require_destination(module))  # before any AWS call
    p = module.params
    request = LeaseRequest(state=p["state"], run_id=p["run_id"], region=module.region, holder=p["holder"],
                           account_id=p["account_id"], expires_at=p["expires_at"], hold_s=p["hold_s"],
                           renew_every_s=p["renew_every_s"], wait_s=p["wait_s"], poll_interval=p["poll_interval"],
                           break_lease=p["break_lease"], nonce=p["nonce"])
    answer = run_or_fail(module, lambda: lease_task(request, lambda: destination_store(module),
                                                    lambda: credentials_account(module), module.check_mode))
    exit_with(module, answer)


if __name__ == "__main__":
    main()
