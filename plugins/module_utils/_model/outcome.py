# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The per-table result every engine returns (`TableOutcome`); the run report reads only this."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class TableOutcome:
    """One table's result; every engine returns this shape, and the run report reads only this."""

    name: str
    engine: str
    status: str  # ok | failed | running (a cluster engine's table not finished yet) | not run (window closed)
    items: int = 0
    bytes: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    manifest_url: str | None = None
    error: str | None = None
    backup_url: str | None = None
    engine_state: str | None = None  # the engine's own word for it (COMPLETED, WAITING_ON_DEPENDENCIES...)
    lane: str = ""  # the planned cluster (or local lane) it belongs to
    planned_start: str | None = None
    planned_end: str | None = None
    read_units_consumed: float = 0.0
    boosted: bool = False
    resumed: bool = False  # backed up earlier in this window by another run: kept, not taken again

    @property
    def done(self) -> bool:
        return self.status in ("ok", "failed")

    def to_result(self) -> dict[str, Any]:
        return asdict(self)

    def record(self, doc: dict[str, Any], manifest_url: str) -> None:
        """Fill the figures from the table's manifest."""
        self.items, self.bytes, self.manifest_url = doc["item_count"], doc["byte_count"], manifest_url


def failed_names(outcomes: list[TableOutcome]) -> list[str]:
    return [o.name for o in outcomes if o.status == "failed"]
