"""table_key: a restored table reuses the backed-up KMS key only in the key's own account and region."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import (
    TableKey,
    backed_up_key,
    choose_table_key,
)

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-000000000000"


def schema(sse: dict[str, Any] | None) -> dict[str, Any]:
    return {"TableName": "orders", "SSEDescription": sse}


def kms(arn: str | None = KEY_ARN) -> dict[str, Any]:
    return schema({"Status": "ENABLED", "SSEType": "KMS", **({"KMSMasterKeyArn": arn} if arn else {})})


class Accounts:
    """The `target_account` callable, counting how often it is asked (it costs an STS call)."""

    def __init__(self, account: str | None) -> None:
        self.account, self.asked = account, 0

    def __call__(self) -> str | None:
        self.asked += 1
        return self.account


@pytest.mark.parametrize("sse", [None, {}, {"Status": "ENABLED", "SSEType": "AES256"}])
def test_default_encryption_has_no_key(sse: dict[str, Any] | None) -> None:
    assert backed_up_key(schema(sse)) is None
    accounts = Accounts("123456789012")
    chosen = choose_table_key(schema(sse), "us-east-1", accounts, None)
    assert chosen == TableKey(None, chosen.reason) and "default encryption" in chosen.reason
    assert chosen.sse_specification() is None
    assert accounts.asked == 0


def test_a_kms_description_without_an_arn_counts_as_default_encryption() -> None:
    assert backed_up_key(kms(None)) is None
    assert backed_up_key(kms()) == KEY_ARN


def test_the_asked_key_wins_without_asking_the_account() -> None:
    accounts = Accounts("999999999999")
    chosen = choose_table_key(kms(), "ap-south-1", accounts, "alias/restores")
    assert chosen.kms_key_id == "alias/restores" and chosen.reason == "target_kms_key_id was given"
    assert chosen.sse_specification() == {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/restores"}
    assert chosen.as_dict() == {"kms_key_id": "alias/restores", "reason": "target_kms_key_id was given"}
    assert accounts.asked == 0


def test_the_backed_up_key_is_reused_in_its_own_account_and_region() -> None:
    accounts = Accounts("123456789012")
    chosen = choose_table_key(kms(), "eu-west-1", accounts, None)
    assert chosen.kms_key_id == KEY_ARN and chosen.reason.endswith("in the target's account and region")
    assert accounts.asked == 1


def test_an_unknown_target_account_checks_the_region_only_and_says_so() -> None:
    chosen = choose_table_key(kms(), "eu-west-1", Accounts(None), None)
    assert chosen.kms_key_id == KEY_ARN
    assert "the target's account is not known here" in chosen.reason


def test_another_region_is_refused_before_the_account_is_asked() -> None:
    accounts = Accounts("123456789012")
    with pytest.raises(InputError) as raised:
        choose_table_key(kms(), "us-east-1", accounts, None)
    assert raised.value.field == "target_kms_key_id"
    assert "account 123456789012, region eu-west-1" in raised.value.problem
    assert "a new table in region us-east-1 cannot use" in raised.value.problem
    assert "set target_kms_key_id" in raised.value.fix
    assert accounts.asked == 0


def test_another_account_in_the_same_region_is_refused_naming_both() -> None:
    with pytest.raises(InputError, match="target_kms_key_id") as raised:
        choose_table_key(kms(), "eu-west-1", Accounts("210987654321"), None)
    assert "a new table in account 210987654321, region eu-west-1 cannot use" in raised.value.problem


def test_a_key_that_is_not_an_arn_is_refused_as_of_unknown_account_and_region() -> None:
    with pytest.raises(InputError, match="an unknown account and region"):
        choose_table_key(kms("0a1b2c3d-aaaa-bbbb-cccc-000000000000"), "eu-west-1", Accounts("123456789012"), None)


REGIONS = st.sampled_from(["eu-west-1", "us-east-1", "ap-south-1"])
ACCOUNTS = st.sampled_from(["123456789012", "210987654321", None])


@settings(max_examples=100, deadline=None)
@given(key_region=REGIONS, key_account=st.sampled_from(["123456789012", "210987654321"]), target_region=REGIONS,
       target_account=ACCOUNTS)
def test_the_key_is_reused_exactly_when_nothing_says_it_is_foreign(key_region: str, key_account: str,
                                                                   target_region: str,
                                                                   target_account: str | None) -> None:
    arn = f"arn:aws:kms:{key_region}:{key_account}:key/k"
    foreign = key_region != target_region or (target_account is not None and target_account != key_account)
    try:
        chosen = choose_table_key(kms(arn), target_region, Accounts(target_account), None)
    except InputError as exc:
        assert foreign and exc.field == "target_kms_key_id"
    else:
        assert not foreign and chosen.kms_key_id == arn
