"""The collection's one wall clock: UTC, to the second (backup folders, manifests and records are named by it)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
