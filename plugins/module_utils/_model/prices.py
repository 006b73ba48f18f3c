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
# A backup writes one object per part (the local engine's default part_size_mb, 64), plus its folder
# claim and its manifest.
PART_BYTES = 64 * 1024**2
OBJECTS_PER_BACKUP = 2


def usd(value: float) -> str:
    """An amount as the reports print it: cents, four decimals below a dollar, six below a hundredth of a cent (a
    small night costs that)."""
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    return f"${value:,.4f}" if value >= 0.0001 else f"${value:.6f}"


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
    # Data Pipeline bills each activity (one per table) by how often it runs: a low-frequency activity on AWS
    # is 0.60 USD a month, so a nightly one is 0.02 a night.
    datapipeline_activity_usd: float = 0.02
    s3_put_thousand_usd: float = 0.005  # S3 Standard PUT, COPY, POST and LIST requests, per 1,000
    # EMR clusters' instances on spot (the backup role's hippolyte_emr.spot.core puts its core nodes there):
    # spot saves spot_discount of their EC2 price; the EMR fee inside instance_hour_usd is not discounted.
    spot_instances_per_cluster: int = 0
    spot_discount: float = 0.6
    emr_fee_hour_usd: float = 0.048

    def validate(self, prefix: str = "model") -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value < 0:
                raise InputError(f"{prefix}.{spec.name}", f"must not be negative, got {value}", "give a price >= 0")
        if self.instances_per_cluster < 1:
            raise InputError(f"{prefix}.instances_per_cluster", f"must be at least 1, got {self.instances_per_cluster}",
                             "a cluster has at least its master node")
        if self.spot_instances_per_cluster >= self.instances_per_cluster:
            raise InputError(f"{prefix}.spot_instances_per_cluster",
                             f"must be fewer than instances_per_cluster ({self.instances_per_cluster}), got "
                             f"{self.spot_instances_per_cluster}", "the master node runs on demand")
        if self.spot_discount > 1:
            raise InputError(f"{prefix}.spot_discount", f"must be at most 1, got {self.spot_discount}",
                             "give the share of the on-demand EC2 price spot saves, e.g. 0.6")
        if self.emr_fee_hour_usd > self.instance_hour_usd:
            raise InputError(f"{prefix}.emr_fee_hour_usd", f"must not exceed instance_hour_usd "
                             f"({self.instance_hour_usd}), got {self.emr_fee_hour_usd}",
                             "it is the EMR part of an instance's hourly price")

    @property
    def cluster_usd_per_s(self) -> float:
        # EMR and EC2 bill per second, so a cluster costs in proportion to how long it runs.
        return self.instance_hour_usd * self.instances_per_cluster / SECONDS_PER_HOUR

    def cluster_cost(self, runtime_s: float, engine: str) -> float:
        return self.engine_cluster_usd_per_s(engine) * runtime_s

    def engine_cluster_usd_per_s(self, engine: str) -> float:
        """A cluster's price per second on `engine`: an EMR cluster's spot instances pay less for their EC2 part."""
        spot = self.spot_instances_per_cluster if engine == "emr" else 0
        saved = spot * (self.instance_hour_usd - self.emr_fee_hour_usd) * self.spot_discount
        return self.cluster_usd_per_s - saved / SECONDS_PER_HOUR

    def pipeline_fee(self, engine: str) -> float:
        """What Data Pipeline charges for one table's activity in a night; other engines have no such fee."""
        return self.datapipeline_activity_usd if engine == "datapipeline" else 0.0

    def s3_request_cost(self, size_bytes: int) -> float:
        """The PUT requests of one table's backup: one per part, its folder claim and its manifest."""
        return (math.ceil(size_bytes / PART_BYTES) + OBJECTS_PER_BACKUP) * self.s3_put_thousand_usd / 1000

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
