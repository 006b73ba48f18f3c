"""billing_mode: the one rule that reads a table description's billing mode."""

from __future__ import annotations

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import (
    ON_DEMAND,
    PROVISIONED,
    billing_mode,
)


def test_names_are_dynamodbs() -> None:
    assert (PROVISIONED, ON_DEMAND) == ("PROVISIONED", "PAY_PER_REQUEST")


def test_a_description_without_summary_is_provisioned() -> None:
    # DynamoDB omits BillingModeSummary for tables created provisioned and never switched.
    assert billing_mode({"TableName": "t", "ProvisionedThroughput": {"ReadCapacityUnits": 0}}) == PROVISIONED
    assert billing_mode({"BillingModeSummary": {}}) == PROVISIONED


def test_the_summary_says_the_mode() -> None:
    assert billing_mode({"BillingModeSummary": {"BillingMode": ON_DEMAND}}) == ON_DEMAND
    assert billing_mode({"BillingModeSummary": {"BillingMode": PROVISIONED}}) == PROVISIONED
