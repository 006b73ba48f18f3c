"""table_settings: an operation a stand-in lacks answers at once; DynamoDB's own errors are left to the retries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import (
    _bare_500_is_final,
    _uncaptured,
)

OPERATION = SimpleNamespace(name="DescribeContributorInsights")


def answer(status: int, code: str | None) -> tuple[SimpleNamespace, dict[str, object]]:
    error = {"Code": code, "Message": "x"} if code is not None else {}
    return SimpleNamespace(status_code=status), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}


@pytest.mark.parametrize("code", [None, "", "500"])
def test_a_bare_500_is_raised_at_once_and_read_as_not_offered(code: str | None) -> None:
    with pytest.raises(ClientError) as raised:
        _bare_500_is_final(response=answer(500, code), operation=OPERATION)
    assert raised.value.operation_name == "DescribeContributorInsights"
    assert "does not offer DescribeContributorInsights" in str(_uncaptured(raised.value))


@pytest.mark.parametrize(("status", "code"), [(500, "InternalServerError"), (503, None), (400, "ThrottlingException")])
def test_dynamodbs_own_errors_are_left_to_the_retries(status: int, code: str | None) -> None:
    assert _bare_500_is_final(response=answer(status, code), operation=OPERATION) is None
    assert _bare_500_is_final(response=None, operation=OPERATION) is None  # a connection error: retried
