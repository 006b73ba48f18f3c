# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""What a backup plan or a restore costs: cluster instance time, read and write capacity, exports, imports.

Prices are inputs with us-east-1 on-demand list prices as defaults; every estimate in a plan comes
from these few functions so that the planner's choices and the reported bill always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

BYTES_PER_GB = 1024**3  # AWS bills exports per GB of table size, counted in binary gigabytes
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD. Override them for your region or with your own discounts."""

    instance_hour_usd: float = 0.24  # m5.xlarge: 0.192 EC2 + 0.048 EMR
    instances_per_cluster: int = 2  # master + one core node, what an export pipeline launches
    rcu_hour_usd: float = 0.00013  # one provisioned read capacity unit for one hour
    on_demand_read_million_usd: float = 0.125  # one million read request units
    export_gb_usd: float = 0.10  # ExportTableToPointInTime, per GB of table
    import_gb_usd: float = 0.15  # ImportTable, per GB of uncompressed source data
    on_demand_write_million_usd: float = 1.25  # one million write request units
    wcu_hour_usd: float = 0.00065  # one provisioned write capacity unit for one hour

    def validate(self, prefix: str = "model") -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value < 0:
                raise InputError(f"{prefix}.{spec.name}", f"must not be negative, got {value}", "give a price >= 0")
        if self.instances_per_cluster < 1:
            raise InputError(f"{prefix}.instances_per_cluster", f"must be at least 1, got {self.instances_per_cluster}",
                             "a cluster has at least its master node")

    @property
    def cluster_usd_per_s(self) -> float:
        # EMR and EC2 bill per second, so a cluster costs in proportion to how long it runs.
        return self.instance_hour_usd * self.instances_per_cluster / SECONDS_PER_HOUR

    def cluster_cost(self, runtime_s: float) -> float:
        return self.cluster_usd_per_s * runtime_s

    def boost_cost(self, added_rcu: int, held_s: float) -> float:
        # Provisioned capacity is billed per started hour at the highest level set in that hour.
        if added_rcu <= 0:
            return 0.0
        return added_rcu * self.rcu_hour_usd * max(1, math.ceil(held_s / SECONDS_PER_HOUR))

    def on_demand_read_cost(self, size_bytes: int, bytes_per_read_unit: float) -> float:
        return math.ceil(size_bytes / bytes_per_read_unit) * self.on_demand_read_million_usd / 1e6

    def export_cost(self, size_bytes: int) -> float:
        return size_bytes / BYTES_PER_GB * self.export_gb_usd

    def import_cost(self, size_bytes: int) -> float:
        return size_bytes / BYTES_PER_GB * self.import_gb_usd

    def on_demand_write_cost(self, write_units: int) -> float:
        return write_units * self.on_demand_write_million_usd / 1e6

    def provisioned_write_cost(self, wcu: int, held_s: float) -> float:
        # Billed per started hour, like a read boost.
        return wcu * self.wcu_hour_usd * max(1, math.ceil(held_s / SECONDS_PER_HOUR))


@dataclass(frozen=True)
class RestoreRates:
    """How fast each restore engine goes, for estimates; measure yours and override them.

    A load runs on the controller (the issue that added import measured about 14,000 items/s against a
    local stand-in on 2 cores; on AWS the table's write capacity bounds it). An import runs on AWS's side;
    its rate is not published, so the default is a cautious figure plus the minutes it takes to start.
    """

    load_items_per_s: float = 5000.0
    import_bytes_per_s: float = 20 * 1024**2
    import_startup_s: float = 600.0

    def validate(self) -> None:
        for name in ("load_items_per_s", "import_bytes_per_s"):
            if getattr(self, name) <= 0:
                raise InputError(name, f"must be more than 0, got {getattr(self, name)}",
                                 "give a rate measured on your account")
