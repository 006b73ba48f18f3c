# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)


class ModuleDocFragment:
    # The role every module of the collection can assume itself.
    DOCUMENTATION = r"""
options:
  role_arn:
    description:
      - IAM role to work as, C(arn:aws:iam::<account>:role/<path/>name). The module assumes it with its own
        credentials (O(access_key), O(profile) or the environment) and makes every AWS call as the role.
      - The assumed credentials stay inside the module, never in its result or a task variable, and are renewed
        before they expire, so a call made after the role's session would have ended still works.
      - STS is called on O(endpoint_url) when it is set.
      - Unset, the module works with its own credentials.
    type: str
  role_external_id:
    description:
      - External id the role's trust policy requires (C(sts:ExternalId)), 2 to 1224 characters of letters,
        digits and C(_+=,.@:/-).
    type: str
  role_session_name:
    description:
      - Name of the assumed-role session, as CloudTrail shows it; 2 to 64 characters of letters, digits and
        C(_+=,.@-).
    type: str
    default: hippolyte
  role_duration:
    description:
      - Seconds each assumed session lasts (900 to 43200, within the role's maximum session duration).
        The module assumes the role again before the session ends, for as long as it runs.
    type: int
    default: 3600
"""
