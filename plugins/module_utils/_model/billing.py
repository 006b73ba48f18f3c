# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Billing modes: their names (the only place they are written) and how a table description says which one a
table has."""

from __future__ import annotations

from typing import Any

PROVISIONED = "PROVISIONED"
ON_DEMAND = "PAY_PER_REQUEST"


def billing_mode(table: dict[str, Any]) -> str:
    """PROVISIONED or PAY_PER_REQUEST: the one rule every part of the collection reads a description with.

    DynamoDB leaves BillingModeSummary out of tables that were created provisioned and never switched
    (and some emulators never send it), so no summary means PROVISIONED. An on-demand table always has
    the summary, as it can only be made so by CreateTable or UpdateTable with BillingMode, both of which
    record it. Guessing from a zero read capacity instead would call a provisioned table on-demand.
    """
    return str((table.get("BillingModeSummary") or {}).get("BillingMode") or PROVISIONED)
