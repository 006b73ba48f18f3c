# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The KMS key a restored table is encrypted with, and why.

A table encrypted with a customer managed key records that key's ARN in its backup. A KMS key belongs to one
account and one region: a table in another region cannot use it at all (CreateTable fails), and a table in
another account would depend on the source account's key (a DR copy that fails when production's key is
disabled). So the backed-up key is reused only in its own account and region; elsewhere the restore asks for
`target_kms_key_id` before anything is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import parse_arn


@dataclass(frozen=True)
class TableKey:
    """`kms_key_id`: SSESpecification's KMSMasterKeyId for the new table; None: DynamoDB's default encryption."""

    kms_key_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"kms_key_id": self.kms_key_id, "reason": self.reason}

    def sse_specification(self) -> dict[str, Any] | None:
        if self.kms_key_id is None:
            return None
        return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": self.kms_key_id}


def backed_up_key(schema: dict[str, Any]) -> str | None:
    """The ARN of the customer or AWS managed KMS key the backed-up table used (None: DynamoDB's owned key)."""
    sse = schema.get("SSEDescription") or {}
    return str(sse.get("KMSMasterKeyArn") or "") or None if sse.get("SSEType") == "KMS" else None


def choose_table_key(schema: dict[str, Any], target_region: str, target_account: Callable[[], str | None],
                     asked: str | None) -> TableKey:
    """The key of a new table restored from `schema` into `target_region` and the account `target_account()`
    returns (asked only when it matters; None when the endpoint cannot say). `asked`: the target_kms_key_id option."""
    if asked:
        return TableKey(asked, "target_kms_key_id was given")
    source = backed_up_key(schema)
    if source is None:
        return TableKey(None, "the backed-up table used DynamoDB's default encryption, and so does the new table")
    arn = parse_arn(source)
    account = target_account() if arn is not None and arn.region == target_region else None
    if arn is None or arn.region != target_region or (account is not None and arn.account != account):
        where = f"account {arn.account}, region {arn.region}" if arn else "an unknown account and region"
        target = f"account {account}, region {target_region}" if account else f"region {target_region}"
        raise InputError("target_kms_key_id", f"the backed-up table was encrypted with the KMS key {source} "
                         f"({where}), which a new table in {target} cannot use; nothing was created",
                         "set target_kms_key_id to a KMS key of the target's account and region (key id, ARN or "
                         "alias, e.g. alias/aws/dynamodb for the AWS managed key)")
    checked = "account and region" if account is not None else "region (the target's account is not known here)"
    return TableKey(source, f"the backed-up table's key, in the target's {checked}")
