"""The night's actual cost: the plan's prices applied to what ran (night/night_cost.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import Prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_cost import (
    bill_text,
    cluster_boosts,
    night_cost,
    plan_prices,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_report import table_rows
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    PlanSettings,
    model_from_dict,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups

START = "2026-12-07T00:00:00+00:00"
MIB = 1024**2


def plan_of(clusters: list[dict], **extra) -> dict:
    return {"window": {"starts_at": START}, "window_s": 25200, "clusters": clusters, **extra}


def table(name: str, **fields) -> dict:
    return {"name": name, "start_offset_s": 0, "duration_s": 60, "size_bytes": 0, **fields}


def row(name: str, engine: str, started: str, finished: str, **fields) -> dict:
    return {"name": name, "engine": engine, "status": "ok", "started_at": f"2026-12-07T{started}+00:00",
            "finished_at": f"2026-12-07T{finished}+00:00", "bytes": 0, **fields}


def test_a_local_boost_is_charged_for_its_own_table_only():
    plan = plan_of([{"id": "c1", "engine": "local", "start_offset_s": 0,
                     "tables": [table("a", billing_mode="PROVISIONED", rcu=100, boost_rcu=1100, boosted=True)]}])
    ran = [row("a", "local", "00:10:00", "00:40:00", boosted=True)]
    cost = night_cost(plan, ran, Prices())
    assert cost.boosted_rcu_hours == pytest.approx(1000 * 0.5)
    assert cost.usd["boosts"] == pytest.approx(Prices().boost_cost(1000, 1800))
    # The same table read on its own capacity (the boost refused) adds nothing.
    assert night_cost(plan, [row("a", "local", "00:10:00", "00:40:00", boosted=False)], Prices()).usd["boosts"] == 0


def test_a_cluster_boost_is_held_from_the_start_to_its_step_or_to_the_run_end():
    plan = plan_of([{"id": "c1", "engine": "emr", "start_offset_s": 0,
                     "tables": [table("a", billing_mode="PROVISIONED"), table("b", billing_mode="PROVISIONED")]}])
    ran = [row("a", "emr", "00:20:00", "01:00:00"), row("b", "emr", "00:20:00", "03:00:00")]
    at_step = night_cost(plan, ran, Prices(), {"a": (500, True)})
    at_run_end = night_cost(plan, ran, Prices(), {"a": (500, False)})
    assert at_step.boosted_rcu_hours == pytest.approx(500 * 1.0)
    assert at_run_end.boosted_rcu_hours == pytest.approx(500 * 3.0)
    # The cluster ran from its launch to its last table's end: three hours.
    assert at_step.cluster_seconds == 3 * 3600
    assert at_step.usd["clusters"] == pytest.approx(Prices().cluster_cost(3 * 3600, "emr"))


def test_on_demand_reads_exports_fees_and_writes():
    plan = plan_of([{"id": "c1", "engine": "datapipeline", "start_offset_s": 600,
                     "tables": [table("od", billing_mode="PAY_PER_REQUEST", size_bytes=80 * MIB)]},
                    {"id": "c2", "engine": "local", "start_offset_s": 0,
                     "tables": [table("lo", billing_mode="PAY_PER_REQUEST")]},
                    {"id": "c3", "engine": "export", "start_offset_s": 0,
                     "tables": [table("ex", billing_mode="PROVISIONED", size_bytes=3 * 1024**3)]}])
    ran = [row("od", "datapipeline", "00:20:00", "00:30:00", bytes=80 * MIB),
           row("lo", "local", "00:00:00", "00:00:05", bytes=MIB, read_units_consumed=1234.5),
           row("ex", "export", "00:00:00", "00:30:00")]
    prices = Prices()
    cost = night_cost(plan, ran, prices)
    # The local scan counted its units; the pipeline's are its bytes at 8 KB a unit (eventually consistent).
    assert cost.on_demand_read_units == pytest.approx(1234.5 + 80 * MIB / 8192)
    # An export bills the table's size when the row has no bytes.
    assert cost.exported_bytes == 3 * 1024**3 and cost.usd["exports"] == pytest.approx(prices.export_cost(3 * 1024**3))
    assert cost.usd["pipeline_fees"] == prices.datapipeline_activity_usd
    # 80 MiB is two 64 MiB parts plus the claim and manifest; 1 MiB one part plus both: no writes for the export.
    assert cost.s3_puts == 4 + 3
    # The pipeline was launched 600 s into the night and its table ended at 00:30.
    assert cost.cluster_seconds == 1800 - 600
    assert cost.total_usd == pytest.approx(sum(cost.usd.values()))


def test_tables_kept_or_never_started_cost_nothing():
    plan = plan_of([{"id": "c1", "engine": "emr", "start_offset_s": 0, "tables": [table("a"), table("b")]}])
    ran = [row("a", "emr", "00:00:00", "01:00:00", resumed=True), {"name": "b", "engine": "emr", "status": "not run"}]
    cost = night_cost(plan, ran, Prices(), {"a": (100, True)})
    assert cost.total_usd == 0 and cost.cluster_seconds == 0 and cost.s3_puts == 0


def test_the_bill_of_a_planned_night_run_as_planned_is_its_estimate():
    # Every table runs exactly its planned time: the bill's parts come out as the plan's.
    tables = [TableInfo(f"table-{n}", size_bytes=(n + 1) * 200 * MIB, item_count=1000, rcu=50) for n in range(4)]
    tables.append(TableInfo("on-demand", size_bytes=300 * MIB, item_count=10, billing_mode="PAY_PER_REQUEST"))
    plan = plan_backups(tables, PlanSettings(window_s=3600, engine="local")).document().to_json()
    plan["window"] = {"starts_at": START}
    engines = [{"tables": [{"name": t["name"], "engine": "local", "status": "ok", "boosted": t["boosted"],
                            "bytes": t["size_bytes"], "started_at": _at(t["start_offset_s"]),
                            "finished_at": _at(t["start_offset_s"] + t["duration_s"])}
                           for c in plan["clusters"] for t in c["tables"]]}]
    cost = night_cost(plan, table_rows(engines, PlanDocument.from_json(plan)), plan_prices(plan))
    for part in ("boosts", "on_demand_reads", "s3_requests"):
        assert cost.usd[part] == pytest.approx(plan["cost_breakdown_usd"][part], abs=1e-4), part
    assert any(t["boosted"] for c in plan["clusters"] for t in c["tables"])  # the case charges a boost


def test_the_plan_carries_its_prices_and_the_bill_uses_them():
    plan = plan_backups([TableInfo("t", size_bytes=MIB, item_count=1, rcu=5)],
                        PlanSettings(window_s=3600, model=model_from_dict({"rcu_hour_usd": 0.5}))).document().to_json()
    assert plan["prices"]["rcu_hour_usd"] == 0.5 and plan_prices(plan).rcu_hour_usd == 0.5
    assert plan_prices({}) == Prices() and plan_prices({"prices": {"unknown": 1}}) == Prices()


def test_cluster_boosts_come_from_the_registered_boost_and_the_engines_put_back():
    boosts = {"per_table": [
        {"table": "a", "changed": True, "before": {"table": {"read": {"units": 10}}},
         "after": {"table": {"read": {"units": 510}}}},
        {"table": "b", "changed": True, "before": {"table": {"read": {"units": 10}}},
         "after": {"table": {"read": {"units": 110}}}},
        {"table": "c", "changed": False}, {"table": "d", "error": "LimitExceeded", "changed": True}]}
    engines = [{"tables": [], "capacity_put_back": ["a"]}]
    assert cluster_boosts(boosts, engines) == {"a": (500, True), "b": (100, False)}
    assert cluster_boosts(None, engines) == {}


def test_the_bill_in_one_line():
    text = bill_text({"total_usd": 1.5, "usd": {"boosts": 1.25, "clusters": 0.25, "exports": 0.0},
                      "boosted_rcu_hours": 9615.4, "cluster_seconds": 1200, "exported_bytes": 0, "s3_puts": 12})
    assert text == ("$1.50 (boosts $1.25, clusters $0.2500); boosts held 9,615.40 RCU-hours, clusters ran 1,200 s, "
                    "0 B exported, 12 S3 writes")


def _at(offset_s: float) -> str:
    return (datetime.fromisoformat(START) + timedelta(seconds=offset_s)).isoformat()
