# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The collection's one wall clock: UTC, to the second (backup folders, manifests and records are named by it)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
