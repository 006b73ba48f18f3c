# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The names that become parts of a backup's path or key, checked against AWS's own rules before use.

A backup lives at `<destination>/<account>/<region>/<table>/<time>/`, so a name holding `/`, `..`
or a control character would put it (or read it) somewhere else. Every such name is checked here:
the table, account and region by AWS's rules, anything else (a run id, an export id, a folder name
read back from a listing) as one plain path segment. Some DynamoDB-compatible servers accept table
names DynamoDB refuses; such a table is refused here like any other bad name.

Regions follow AWS's pattern (`eu-west-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`); names
that local stand-ins accept but AWS has no region for (`local`, `localhost`) are refused, so a backup
made against a stand-in has the layout a real one has.
"""

from __future__ import annotations

import re
from typing import NamedTuple, TypeGuard
from urllib.parse import unquote, urlparse

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
ACCOUNT_ID = re.compile(r"[0-9]{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
ARN_PARTITION = r"arn:aws[-a-z]*"
# SNS's topic name, up to 256 letters, digits, - and _; its ARN adds partition, region and account (.fifo allowed).
SNS_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
SNS_TOPIC_ARN = re.compile(
    rf"{ARN_PARTITION}:sns:{REGION.pattern}:{ACCOUNT_ID.pattern}:{SNS_TOPIC_NAME.pattern}(\.fifo)?")
# A KMS key by ARN: IAM policies cannot name a key by its id or alias.
KMS_KEY_ARN = re.compile(rf"{ARN_PARTITION}:kms:{REGION.pattern}:{ACCOUNT_ID.pattern}:key/[A-Za-z0-9-]+")
# IAM's rules for a role or user name and each segment of its path.
IAM_PATH_AND_NAME = r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
ROLE_ARN = re.compile(rf"{ARN_PARTITION}:iam::{ACCOUNT_ID.pattern}:role/{IAM_PATH_AND_NAME}", re.ASCII)
# Who may be trusted to assume a role: a role, a user, or a role's session.
PRINCIPAL_ARN = re.compile(rf"{ARN_PARTITION}:(?:iam::{ACCOUNT_ID.pattern}:(?:role|user)/{IAM_PATH_AND_NAME}"
                           rf"|sts::{ACCOUNT_ID.pattern}:assumed-role/.+)", re.ASCII)
SEGMENT_MAX_CHARS = 255  # the longest name a file system or a table allows
_SEPARATORS = ("/", "\\")
_DOT_SEGMENTS = (".", "..")


def is_valid_table_name(name: object) -> bool:
    """Whether DynamoDB itself would accept `name` as a table name."""
    return isinstance(name, str) and bool(TABLE_NAME.fullmatch(name)) and name.strip(".") != ""


def check_table_name(field: str, name: object) -> str:
    if not is_valid_table_name(name):
        raise InputError(field, f"{name!r} is not a DynamoDB table name",
                         "a table name is 3 to 255 letters, digits, '_', '-' or '.', and not dots only")
    return str(name)


def is_valid_account_id(account: object) -> bool:
    return isinstance(account, str) and bool(ACCOUNT_ID.fullmatch(account))


def check_account_id(field: str, account: object) -> str:
    if not is_valid_account_id(account):
        raise InputError(field, f"{account!r} is not an AWS account id", "an account id is exactly 12 digits")
    return str(account)


def is_valid_region(region: object) -> TypeGuard[str]:
    return isinstance(region, str) and bool(REGION.fullmatch(region))


def check_region(field: str, region: object) -> str:
    if not is_valid_region(region):
        raise InputError(field, f"{region!r} is not an AWS region", "use a region name such as eu-west-1")
    return region


def segment_problem(value: object) -> str | None:
    """Why `value` cannot be one segment of a path or key (None when it can)."""
    if not isinstance(value, str) or not value:
        return "is empty"
    if len(value) > SEGMENT_MAX_CHARS:
        return f"is longer than {SEGMENT_MAX_CHARS} characters"
    if value in _DOT_SEGMENTS:
        return f"is {value!r}, which names a folder other than its own"
    if any(sep in value for sep in _SEPARATORS):
        return "holds a path separator"
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return "holds a control character"
    return None


def is_valid_segment(value: object) -> bool:
    return segment_problem(value) is None


def check_segment(field: str, value: object) -> str:
    """A run id, export id or folder name that becomes one segment of a path or key."""
    problem = segment_problem(value)
    if problem:
        raise InputError(field, f"{value!r} {problem}",
                         "use a name of letters, digits, '.', '-' or '_' without '/' (and not '.' or '..')")
    return str(value)


def check_relative_key(field: str, key: object) -> str:
    """A key relative to a backup folder (`data/part-00000.json.gz`): every segment a plain one."""
    if not isinstance(key, str) or not key:
        raise InputError(field, "is empty", "name a file inside the backup folder")
    for segment in key.split("/"):
        problem = segment_problem(segment)
        if problem:
            raise InputError(field, f"{key!r} leaves the backup folder (a segment {problem})",
                             "name a file inside the backup folder")
    return key


def _dot_or_control(segments: list[str]) -> bool:
    return any(s in _DOT_SEGMENTS or any(ord(c) < 32 or ord(c) == 127 for c in s) for s in segments)


def check_destination(url: str, field: str = "destination") -> str:
    """Refuse a destination holding `.` or `..` segments (or, on S3, empty ones), a query or a fragment.

    Such a path is refused rather than normalised: `/backups/../etc` reads as one place and is
    another, and on S3 `a//b` and `a/./b` are keys of their own, not `a/b`. A query or fragment
    (`file:///x/prod#2`, `s3://b/p?x=1`) is not part of the folder: it would be dropped, and the
    backups written beside (or read from) another place than the one named."""
    parsed = urlparse(url)
    if "?" in url or "#" in url:  # also an empty one (`s3://b/p?`), which urlparse does not report
        raise InputError(field, f"{url} holds a query ('?') or a fragment ('#'), which is no part of a folder or "
                         "prefix and would be dropped", "remove it: folder and prefix names cannot hold '?' or '#'")
    if parsed.scheme == "file":
        path = unquote(parsed.path)
        if _dot_or_control(path.split("/")):
            raise InputError(field, f"{url} holds '.' or '..' segments or control characters",
                             "write the folder as a plain absolute path, e.g. file:///var/backups/ddb")
    elif parsed.scheme == "s3":
        prefix = parsed.path.strip("/")
        segments = prefix.split("/") if prefix else []
        if _dot_or_control(segments) or "" in segments:
            raise InputError(field, f"{url} holds '.', '..' or empty segments or control characters",
                             "write it as s3://bucket/prefix with plain folder names")
    return url


def is_sns_topic_arn(arn: object) -> bool:
    return isinstance(arn, str) and SNS_TOPIC_ARN.fullmatch(arn) is not None


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> Arn | None:
    """The parts of an ARN (`arn:partition:service:region:account:resource`), or None for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


def sibling_table_arn(arn: Arn, name: str) -> str:
    """The ARN of table `name` in the account and region of the table ARN `arn`."""
    return f"arn:{arn.partition}:{arn.service}:{arn.region}:{arn.account}:table/{name}"


def account_of(arn: str | None, override: str | None) -> str:
    if override:
        return check_account_id("account_id", override)
    parts = parse_arn(arn or "")
    if parts is not None and parts.account:
        return parts.account
    raise InputError("account_id", "the table ARN carries no account id", "set account_id explicitly")
