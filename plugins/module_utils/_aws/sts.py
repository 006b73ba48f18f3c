# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""A boto3 session whose credentials come from sts:AssumeRole and are renewed before they expire.

The module assumes the role itself, so the assumed keys never leave its process (no task variable, no
log line), and botocore renews them for every call of a night longer than the role's session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import ROLE_ARN

try:
    import boto3
    import botocore.config
    import botocore.credentials
    import botocore.session
except ImportError:
    pass  # the module reports the missing dependency itself

# IAM's own rules (a role name and each path segment are [\w+=,.@-]) for ROLE_ARN; an external id adds ":" and "/".
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
MIN_DURATION_S, MAX_DURATION_S = 900, 43200
# botocore renews 15 min (when it can) and 10 min (always) before expiry; a 15-minute session would then be
# re-assumed on every call, so a short session is renewed a third and a sixth of its length ahead instead.
ADVISORY_RENEWAL_S, MANDATORY_RENEWAL_S = 15 * 60, 10 * 60


@dataclass(frozen=True)
class RoleToAssume:
    """The role a module works as; fields are named after the module options they come from."""

    arn: str
    external_id: str | None = None
    session_name: str = "hippolyte"
    duration_s: int = 3600

    def __post_init__(self) -> None:
        if not ROLE_ARN.fullmatch(self.arn):
            raise InputError("role_arn", f"{self.arn!r} is not an IAM role ARN",
                             "use arn:aws:iam::<12-digit account>:role/<path/>name")
        if self.external_id is not None and not EXTERNAL_ID.fullmatch(self.external_id):
            raise InputError("role_external_id", "must be 2 to 1224 characters of letters, digits and _+=,.@:/-",
                             "use the external id the role's trust policy expects")
        if not SESSION_NAME.fullmatch(self.session_name):
            raise InputError("role_session_name", f"{self.session_name!r} must be 2 to 64 characters of "
                             "letters, digits and _+=,.@-")
        if not MIN_DURATION_S <= self.duration_s <= MAX_DURATION_S:
            raise InputError("role_duration", f"{self.duration_s} s is outside {MIN_DURATION_S}..{MAX_DURATION_S}",
                             "give seconds within the role's maximum session duration (1 to 12 hours)")

    def assume_role_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"RoleArn": self.arn, "RoleSessionName": self.session_name,
                                  "DurationSeconds": self.duration_s}
        if self.external_id:
            params["ExternalId"] = self.external_id
        return params


def assumed_role_session(role: RoleToAssume, base: boto3.session.Session, region: str | None,
                         endpoint_url: str | None = None, verify: bool | str | None = None,
                         now: Callable[[], datetime] | None = None,
                         config: botocore.config.Config | None = None) -> boto3.session.Session:
    """A session that works as `role`, assumed with `base`'s credentials through STS at `endpoint_url` (its client
    made with `config`, as the caller's own clients are).

    The role is assumed once here, then again whenever the credentials come within a renewal margin of their
    expiry (as read by `now`, botocore's clock by default), so every client made from the session keeps
    working however long it lives.
    """
    sts = base.client("sts", region_name=region, endpoint_url=endpoint_url, verify=verify, config=config)

    def assume() -> dict[str, str]:
        issued = sts.assume_role(**role.assume_role_params())["Credentials"]
        return {"access_key": issued["AccessKeyId"], "secret_key": issued["SecretAccessKey"],
                "token": issued["SessionToken"], "expiry_time": issued["Expiration"].isoformat()}

    first = assume()
    credentials = botocore.credentials.RefreshableCredentials(
        access_key=first["access_key"], secret_key=first["secret_key"], token=first["token"],
        expiry_time=datetime.fromisoformat(first["expiry_time"]), refresh_using=assume, method="assume-role",
        advisory_timeout=min(ADVISORY_RENEWAL_S, role.duration_s // 3),
        mandatory_timeout=min(MANDATORY_RENEWAL_S, role.duration_s // 6), **({"time_fetcher": now} if now else {}))

    class Assumed(botocore.credentials.CredentialProvider):  # type: ignore[misc]  # botocore ships no types
        """The session's only credential source: the environment and profiles are never consulted."""

        METHOD = "assume-role"

        def load(self) -> botocore.credentials.Credentials:
            return credentials

    core = botocore.session.Session()
    core.register_component("credential_provider", botocore.credentials.CredentialResolver([Assumed()]))
    return boto3.session.Session(botocore_session=core, region_name=region)
