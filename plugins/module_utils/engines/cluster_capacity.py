"""The capacity of a planned cluster's tables while its engine runs (options of doc fragment
hippolyte.dynamodb.cluster_capacity): which boosts were refused, and each boost put back as soon as its
table's step ends, not when the whole cluster does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings as CapacitySettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import put_back_many
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import EngineClients


@dataclass(frozen=True)
class ClusterCapacity:
    boost_refused: tuple[str, ...] = ()  # tables whose boost was refused: their share is capped
    put_back_boosts: bool = True
    capacity_run_id: str | None = None  # the run that holds the boosts (by default the engine's run id)
    autoscaling: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ClusterCapacity:
        return cls(tuple(options["boost_refused"] or ()), options["put_back_boosts"], options["capacity_run_id"],
                   options["autoscaling"])


class BoostsPutBack:
    """A watch's `on_done`: the boosted tables among those that ended get their capacity back at once.

    `put_back` and `notes` collect what was put back and what could not be yet (it stays recorded for reconcile)."""

    def __init__(self, clients: EngineClients, cluster: PlannedCluster, capacity: ClusterCapacity, run_id: str) -> None:
        # A refused boost may have left part of a record: every planned boost is put back.
        self.boosted = {t.name for t in cluster.tables if t.boost_target} if capacity.put_back_boosts else set()
        self.clients, self.capacity = clients, capacity
        self.settings = CapacitySettings(run_id=capacity.capacity_run_id or run_id)
        self.put_back: list[str] = []
        self.notes: list[str] = []

    def __call__(self, ended: list[TableOutcome]) -> None:
        names = [o.name for o in ended if o.name in self.boosted]
        if names:
            aas = self.clients.client("application-autoscaling") if self.capacity.autoscaling else None
            done = put_back_many(self.clients.client("dynamodb"), aas, names, self.settings)
            self.put_back += done["put_back"]
            self.notes += done["notes"]

    def report(self) -> dict[str, list[str]]:
        return {"capacity_put_back": list(self.put_back), "capacity_notes": list(self.notes)}
