#!/usr/bin/env python3
"""Planning benchmark: generated long-tailed fleets of 100, 1,000 and 10,000 tables.

For each fleet it prints, with every table on the cluster engine (like for like with the seed),
the clusters used against the lower bound and the seed's next-fit over ascending durations; then,
with engine auto, the estimated cost against the seed's rule, and the planning time.

    python tools/bench_plan.py            (or: make bench-plan)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.ansible_run import ensure_collection_link  # noqa: E402

sys.path.insert(0, str(ensure_collection_link()))

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planner import (  # noqa: E402
    Model,
    PlanSettings,
    plan_backups,
)
from tests.support.plan_fixtures import account_in_use, long_tailed_fleet  # noqa: E402

FLEETS = (100, 1_000, 10_000)
WINDOW_S = 7 * 3600
TIME_TARGET_S = 2.0
# Fleets this large run with raised account limits; the default 80,000 RCU would leave no headroom.
SPARE_ACCOUNT_RCU = 500_000


def timed(tables, settings):
    started = time.perf_counter()
    plan = plan_backups(tables, settings)
    return plan, time.perf_counter() - started


def main() -> int:
    ok = True
    print(f"window {WINDOW_S} s, max_objects 100 (32 tables per pipeline), read_percentage 0.5, default prices")
    print(f"{'tables':>7} {'clusters':>8} {'bound':>6} {'nextfit':>7} | {'auto $':>9} {'seed $':>9} {'saving':>7} "
          f"{'engines (auto)':<38} {'unplannable':>11} | {'plan s':>6} {'auto s':>6}")
    for count in FLEETS:
        fleet = long_tailed_fleet(count)
        in_use = account_in_use(fleet)
        model = Model(account_max_rcu=in_use + SPARE_ACCOUNT_RCU)
        fixed, fixed_s = timed(fleet, PlanSettings(window_s=WINDOW_S, engine="datapipeline", model=model,
                                                   account_rcu_in_use=in_use))
        auto, auto_s = timed(fleet, PlanSettings(window_s=WINDOW_S, engine="auto", model=model,
                                                 account_rcu_in_use=in_use))
        packing = fixed.to_dict()["packing"]["datapipeline"]
        seed_cost = auto.baseline["estimated_cost_usd"]
        engines = ", ".join(f"{engine} {n}" for engine, n in auto.to_dict()["engine_counts"].items())
        print(f"{count:>7} {packing['clusters']:>8} {packing['lower_bound']:>6} {packing['next_fit_ascending']:>7} | "
              f"{auto.estimated_cost_usd:>9.2f} {seed_cost:>9.2f} {1 - auto.estimated_cost_usd / seed_cost:>6.1%} "
              f"{engines:<38} {len(auto.unplannable):>4}/{auto.baseline['unplannable']:<6} | "
              f"{fixed_s:>6.2f} {auto_s:>6.2f}")
        ok &= packing["clusters"] <= packing["lower_bound"] + 1
        ok &= packing["clusters"] <= packing["next_fit_ascending"]
        ok &= auto.estimated_cost_usd <= seed_cost and max(fixed_s, auto_s) < TIME_TARGET_S
    print("unplannable: ours/seed (on-demand tables too big for on_demand_read_units without PITR, "
          "or tables needing more than 40,000 RCU)")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
