"""Generated fleets of tables for planner tests and the planning benchmark.

Sizes follow a long tail (log-normal: most tables are small, a few hold most of the bytes), as in
real accounts; read capacity is loosely correlated with size; a share of tables is on-demand,
has PITR on, or is autoscaled. Most on-demand tables report a warm throughput, as DescribeTable does.
"""

from __future__ import annotations

import math
import random

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo

MEDIAN_BYTES = 150 * 1024**2
SIZE_SIGMA = 2.3
MAX_BYTES = 2 * 1024**4
WARM_READ_UNITS = (4000, 12000, 12000, 40000)  # 12,000 is what a new on-demand table starts with
WARM_REPORTED = 0.9


def long_tailed_fleet(count: int, seed: int = 7) -> list[TableInfo]:
    rng = random.Random(seed)
    warm_rng = random.Random(seed + 1)  # apart, so the other figures stay those of earlier fleets
    tables = []
    for number in range(count):
        empty = rng.random() < 0.03
        size = 0 if empty else min(MAX_BYTES, int(rng.lognormvariate(math.log(MEDIAN_BYTES), SIZE_SIGMA)))
        on_demand = rng.random() < 0.2
        # Bigger tables tend to carry more traffic, with a wide spread around the trend.
        rcu = max(1, min(20000, int(5 * (size / MEDIAN_BYTES + 1) ** 0.5 * rng.lognormvariate(2.5, 1.0))))
        autoscaled = not on_demand and rng.random() < 0.1
        warm = warm_rng.choice(WARM_READ_UNITS) if on_demand and warm_rng.random() < WARM_REPORTED else None
        tables.append(TableInfo(
            name=f"table-{number:05d}", size_bytes=size, item_count=size // 900,
            billing_mode=ON_DEMAND if on_demand else PROVISIONED, rcu=0 if on_demand else rcu,
            pitr=rng.random() < 0.35,
            autoscaling_min_rcu=rcu if autoscaled else None, autoscaling_max_rcu=rcu * 50 if autoscaled else None,
            warm_read_units=warm))
    return tables


def account_in_use(tables: list[TableInfo]) -> int:
    return sum(t.rcu for t in tables if t.billing_mode == PROVISIONED)
