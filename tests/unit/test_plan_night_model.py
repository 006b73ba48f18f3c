"""The planner's model of a night: options for every table that fits, the account limit, the read unit,
requests and start-up, lanes over the controller, and what the night costs."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import Prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import controller_limits
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.account_headroom import account_headroom
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.controller_load import Placement, fit_lanes
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    Model,
    PlanSettings,
    model_from_dict,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_options import (
    OURS,
    Option,
    table_options,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import (
    PlacedTable,
    _fit_controller,
    plan_backups,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.request_model import request_time_s

SEVEN_HOURS = 7 * 3600


def provisioned(name: str, size_bytes: int, rcu: int, **extra) -> TableInfo:
    return TableInfo(name=name, size_bytes=size_bytes, item_count=max(1, size_bytes // 1000),
                     billing_mode="PROVISIONED", rcu=rcu, **extra)


def test_a_table_needing_more_than_its_share_of_the_controller_is_boosted_not_refused():
    # The case: a need just under 98 units/s, above the controller's per-scan share, once read as
    # "needs 98 RCU, table limit 40000" because the boost was rounded down below the need.
    plan_settings = PlanSettings(window_s=3600, engine="local", model=Model(request_latency_s=0.0))
    room = 3600 - plan_settings.local_startup_s()
    table = provisioned("t", int(97.3 * plan_settings.bytes_per_read_unit("local") * room), 10)
    options, reasons = table_options(table, table.size_bytes, plan_settings, OURS)
    assert reasons == []
    boosts = [o for o in options if o.mandatory_boost]
    assert boosts and all(o.added_rcu == 98 and 97.29 <= o.read_units_per_second <= 97.3 for o in boosts)
    assert all(o.duration_s <= 3600 for o in options)


@settings(max_examples=300, deadline=None)
@given(need_share=st.floats(0.0, 1.0), rcu=st.integers(1, 39_000), window_s=st.integers(600, 12 * 3600),
       read_percentage=st.floats(0.01, 1.0), max_scans=st.integers(1, 128),
       controller_bytes=st.floats(1024.0, 100 * 1024**2), latency=st.sampled_from([0.0, 0.0005, 0.01, 0.1]))
def test_every_local_table_within_the_controller_and_its_limit_gets_an_option(
        need_share, rcu, window_s, read_percentage, max_scans, controller_bytes, latency):
    model = Model(controller_max_scans=max_scans, controller_bytes_per_s=controller_bytes, request_latency_s=latency)
    plan_settings = PlanSettings(window_s=window_s, engine="local", read_percentage=read_percentage, model=model)
    unit = plan_settings.bytes_per_read_unit("local")
    ceiling = model.controller_bytes_per_s / unit
    room = window_s - plan_settings.local_startup_s()
    need = min(ceiling, model.table_max_rcu - rcu) * need_share  # read units per second that just fit
    size = int(need * unit * room)
    room -= request_time_s(size, model.requests_per_table, latency)  # what its requests leave of the window
    table = provisioned("t", size, rcu)
    exact_need = size / (unit * room) if room > 0 else math.inf
    if size == 0 or exact_need > ceiling or rcu + math.ceil(exact_need) > model.table_max_rcu:
        return
    options, reasons = table_options(table, size, plan_settings, OURS)
    assert options, reasons
    assert all(o.duration_s <= window_s for o in options)


def slow_tables(count: int) -> list[TableInfo]:
    """Tables of 100 GiB at 100 RCU: a 7-hour window needs each boosted by over 1,000 RCU on a cluster."""
    return [provisioned(f"t{i}", 100 * 1024**3, 100) for i in range(count)]


def test_an_account_limit_below_what_its_tables_hold_is_not_a_cap():
    # The hidden fleet: tables already holding 1.3 million RCU against an assumed 80,000.
    result = plan_backups(slow_tables(3), PlanSettings(window_s=SEVEN_HOURS, engine="datapipeline",
                                                       model=Model(account_max_rcu=80_000),
                                                       account_rcu_in_use=1_300_000)).document().to_json()
    assert result["unplannable"] == []
    assert all(t["boosted"] for c in result["clusters"] for t in c["tables"])
    assert any("80000 RCU is below the 1300000 RCU" in w and "without an account cap" in w
               for w in result["warnings"])


def test_an_unknown_account_limit_plans_boosts_without_a_cap_and_says_so():
    result = plan_backups(slow_tables(3), PlanSettings(window_s=SEVEN_HOURS, engine="datapipeline",
                                                       account_rcu_in_use=1_300_000)).document().to_json()
    assert result["unplannable"] == []
    assert any("limit is unknown" in w and "model.account_max_rcu" in w for w in result["warnings"])
    # A plan that boosts nothing has nothing to cap, and no warning about it.
    small = plan_backups([provisioned("s", 1024, 100)], PlanSettings(window_s=SEVEN_HOURS)).document().to_json()
    assert not any("account" in w for w in small["warnings"])


def test_a_known_account_limit_still_caps_the_boosts():
    result = plan_backups(slow_tables(3), PlanSettings(window_s=SEVEN_HOURS, engine="datapipeline",
                                                       model=Model(account_max_rcu=300 + 1500),
                                                       account_rcu_in_use=300)).document().to_json()
    added = sum(t["boost_rcu"] - t["rcu"] for c in result["clusters"] for t in c["tables"])
    assert added <= 1500 and result["unplannable"]
    assert all("account headroom is" in u["reason"] for u in result["unplannable"])
    assert not any("account cap" in w for w in result["warnings"])


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(0, 2_000_000), in_use=st.integers(0, 2_000_000))
def test_account_headroom_is_the_free_capacity_or_no_cap(limit, in_use):
    headroom, warning = account_headroom(limit, in_use)
    if limit and in_use <= limit:
        assert (headroom, warning) == (limit - in_use, None)
    else:
        assert headroom == math.inf and warning


def test_one_read_unit_rule_for_the_plan_the_controller_and_the_lanes():
    assert (bytes_per_read_unit(consistent=False), bytes_per_read_unit(consistent=True)) == (8192, 4096)
    table = provisioned("t", 1024**3, 1000)
    for consistent, unit in ((False, 8192), (True, 4096)):
        plan_settings = PlanSettings(window_s=SEVEN_HOURS, engine="local", consistent_read=consistent, fleet_tables=1)
        document = plan_backups([table], plan_settings).document()
        plan = document.to_json()
        [got] = [t for c in plan["clusters"] for t in c["tables"]]
        waits = request_time_s(1024**3, plan_settings.model.requests_per_table, plan_settings.model.request_latency_s)
        assert got["duration_s"] == math.ceil(plan_settings.local_startup_s() + waits
                                              + 1024**3 / (got["read_units_per_second"] * unit))
        assert plan["controller"]["bytes_per_read_unit"] == unit and plan["controller"]["consistent_read"] is consistent
        # The lanes cap the controller in read units from the very same figure.
        limits = controller_limits(document)
        assert limits.read_units_per_second == pytest.approx(plan_settings.model.controller_bytes_per_s / unit)
    # Cluster engines read eventually consistent whatever the local scans do.
    cluster = plan_backups([table], PlanSettings(window_s=SEVEN_HOURS, engine="emr",
                                                 consistent_read=True)).document().to_json()
    [got] = [t for c in cluster["clusters"] for t in c["tables"]]
    assert got["duration_s"] == math.ceil(1024**3 / (got["read_units_per_second"] * 8192)) + \
        Model().activity_bootstrap_s
    # A measured figure in the model overrides the rule for every engine.
    pinned = PlanSettings(window_s=SEVEN_HOURS, model=Model(bytes_per_rcu_s=5000.0), consistent_read=True)
    assert pinned.bytes_per_read_unit("local") == pinned.bytes_per_read_unit("emr") == 5000.0


def test_small_tables_spread_over_the_controller_and_the_night_is_not_free():
    # The night: 200 tables of 100 items, engine local, planned into one lane ending at 0 s.
    tables = [TableInfo(f"t{i:03d}", size_bytes=100 * 1024, item_count=100, billing_mode="PROVISIONED", rcu=1000)
              for i in range(200)]
    model = Model(request_latency_s=0.01)
    plan = plan_backups(tables, PlanSettings(window_s=SEVEN_HOURS, engine="local", model=model)).document().to_json()
    lanes = [c for c in plan["clusters"] if c["engine"] == "local"]
    # The 64 lanes take turns on one interpreter: each table's CPU counts once per busy lane.
    startup = model.local_activity_s + model.local_table_cpu_s * model.controller_max_scans
    per_table = math.ceil(startup + (model.requests_per_table + 1) * 0.01)
    assert plan["controller"]["local_cpu_s"] == pytest.approx(model.local_table_cpu_s * 64)
    assert len(lanes) == model.controller_max_scans
    assert sorted({len(lane["tables"]) for lane in lanes}) == [3, 4]  # 200 over 64 lanes
    assert plan["makespan_s"] == 4 * per_table
    assert (plan["controller"]["request_latency_s"], plan["controller"]["requests_per_table"]) == (0.01, 9)
    assert "longest first" in plan["packing"]["local"]["method"]


def lpt(durations: list[int], lanes: int) -> list[Placement | None]:
    """The planner's lane schedule on its own: longest first, each into the lane free first, no bytes/s cap."""
    order = sorted(range(len(durations)), key=lambda i: -durations[i])
    placed = fit_lanes([(durations[i], 0.0) for i in order], 10**9, lanes, 1.0)
    by_index: list[Placement | None] = [None] * len(durations)
    for index, placement in zip(order, placed, strict=True):
        by_index[index] = placement
    return by_index


def lane_ends(durations: list[int], placements: list[Placement | None], lanes: int) -> list[int]:
    ends = [0] * lanes
    for duration, placement in zip(durations, placements, strict=True):
        assert placement is not None
        ends[placement.lane] = max(ends[placement.lane], placement.start_s + duration)
    return ends


def optimal_makespan(durations: list[int], lanes: int) -> int:
    """By brute force over every assignment (small cases only)."""
    best = math.inf
    for assignment in itertools.product(range(lanes), repeat=len(durations)):
        loads = [0] * lanes
        for duration, lane in zip(durations, assignment, strict=True):
            loads[lane] += duration
        best = min(best, max(loads))
    return int(best)


@settings(max_examples=200, deadline=None)
@given(durations=st.lists(st.integers(1, 1000), min_size=1, max_size=7), lanes=st.integers(1, 3))
def test_longest_first_lanes_end_within_four_thirds_of_the_best(durations, lanes):
    placements = lpt(durations, lanes)
    makespan = max(lane_ends(durations, placements, lanes))
    bound = max(*durations, math.ceil(sum(durations) / lanes))
    optimal = optimal_makespan(durations, lanes)
    assert bound <= optimal <= makespan <= (4 / 3 - 1 / (3 * lanes)) * optimal + 1e-9


@settings(max_examples=200, deadline=None)
@given(durations=st.lists(st.integers(1, 5000), min_size=1, max_size=300), lanes=st.integers(1, 64))
def test_longest_first_lanes_never_overlap_and_stay_near_the_lower_bound(durations, lanes):
    placements = lpt(durations, lanes)
    by_lane: dict[int, list[tuple[int, int]]] = {}
    for duration, placement in zip(durations, placements, strict=True):
        assert placement is not None  # every table placed exactly once (one placement each)
        by_lane.setdefault(placement.lane, []).append((placement.start_s, placement.start_s + duration))
    for runs in by_lane.values():
        runs.sort()
        assert all(end <= next_start for (_start, end), (next_start, _end) in itertools.pairwise(runs))
    makespan = max(end for runs in by_lane.values() for _start, end in runs)
    # Graham's list-scheduling bound, from the lower bound max(longest, total / lanes).
    assert makespan <= sum(durations) / lanes + max(durations) * (1 - 1 / lanes) + 1e-9
    assert makespan >= max(*durations, sum(durations) / lanes) - 1e-9


@settings(max_examples=80, deadline=None)
@given(sizes=st.lists(st.integers(0, 4 * 1024**3), min_size=1, max_size=120),
       window_s=st.integers(600, 12 * 3600), max_scans=st.integers(1, 16), latency=st.floats(0.0, 0.2))
def test_every_local_table_is_in_one_lane_inside_the_window(sizes, window_s, max_scans, latency):
    tables = [provisioned(f"t{i:03d}", size, 1 + size // 10**6) for i, size in enumerate(sizes)]
    model = Model(controller_max_scans=max_scans, request_latency_s=latency)
    plan = plan_backups(tables, PlanSettings(window_s=window_s, engine="local", model=model)).document().to_json()
    lanes = [c for c in plan["clusters"] if c["engine"] == "local"]
    names = [t["name"] for lane in lanes for t in lane["tables"]] + [u["name"] for u in plan["unplannable"]]
    assert sorted(names) == sorted(t.name for t in tables)  # each table once: in one lane, or unplannable
    assert len(lanes) <= max_scans
    for lane in lanes:
        assert lane["end_offset_s"] <= window_s
        end = 0
        for table in lane["tables"]:
            assert table["start_offset_s"] >= end
            end = table["start_offset_s"] + table["duration_s"]
    assert plan["makespan_s"] == max((lane["end_offset_s"] for lane in lanes), default=0)


def cost_of(tables: list[TableInfo], engine: str, model: Model | None = None, **prices) -> dict:
    model = dataclasses.replace(model or Model(), prices=Prices(**prices))
    return plan_backups(tables, PlanSettings(window_s=SEVEN_HOURS, engine=engine, model=model,
                                             account_rcu_in_use=0)).document().to_json()


def test_a_cluster_boost_is_charged_for_its_cluster_s_span_not_the_night():
    # One table a cluster: a boosted 30 GiB table whose cluster ends early, beside an 80 GiB one that runs
    # for about six hours. Each boost is charged for its own cluster's hours, not the longest cluster's.
    tables = [provisioned("big", 30 * 1024**3, 100), provisioned("long", 80 * 1024**3, 1000)]
    plan = cost_of(tables, "emr", Model(emr_max_steps=1))
    expected = 0.0
    for cluster in plan["clusters"]:
        [table] = cluster["tables"]
        hours = math.ceil((cluster["end_offset_s"] - cluster["start_offset_s"]) / 3600)
        expected += (table["boost_rcu"] - table["rcu"]) * Prices().rcu_hour_usd * hours
    spans = {c["tables"][0]["name"]: c["end_offset_s"] - c["start_offset_s"] for c in plan["clusters"]}
    assert math.ceil(spans["big"] / 3600) < math.ceil(spans["long"] / 3600)
    assert plan["clusters"][0]["tables"][0]["boosted"] or plan["clusters"][1]["tables"][0]["boosted"]
    assert plan["cost_breakdown_usd"]["boosts"] == pytest.approx(expected, abs=1e-4)


def test_the_breakdown_has_pipeline_fees_spot_and_s3_requests_and_adds_up():
    tables = [provisioned(f"t{i}", 2 * 1024**3, 2000) for i in range(4)]
    pipeline = cost_of(tables, "datapipeline")
    breakdown = pipeline["cost_breakdown_usd"]
    assert set(breakdown) == {"clusters", "boosts", "on_demand_reads", "exports", "pipeline_fees", "s3_requests"}
    assert breakdown["pipeline_fees"] == pytest.approx(4 * Prices().datapipeline_activity_usd)
    # 32 parts of 64 MiB, a claim and a manifest per table.
    assert breakdown["s3_requests"] == pytest.approx(4 * 34 * Prices().s3_put_thousand_usd / 1000, abs=1e-4)
    assert pipeline["estimated_cost_usd"] == pytest.approx(sum(breakdown.values()), abs=1e-3)
    on_demand = cost_of(tables, "emr")
    on_spot = cost_of(tables, "emr", spot_instances_per_cluster=1, spot_discount=0.5)
    assert on_demand["cost_breakdown_usd"]["pipeline_fees"] == 0
    hours = sum(c["end_offset_s"] - c["start_offset_s"] for c in on_spot["clusters"]) / 3600
    saved = hours * (Prices().instance_hour_usd - Prices().emr_fee_hour_usd) * 0.5
    assert on_demand["cost_breakdown_usd"]["clusters"] - on_spot["cost_breakdown_usd"]["clusters"] == \
        pytest.approx(saved, abs=1e-3)
    # Overridden prices change the estimate as they say.
    free = cost_of(tables, "datapipeline", datapipeline_activity_usd=0.0, s3_put_thousand_usd=0.0)
    assert free["cost_breakdown_usd"]["pipeline_fees"] == free["cost_breakdown_usd"]["s3_requests"] == 0


@pytest.mark.parametrize(("prices", "field"), [
    ({"spot_instances_per_cluster": 2}, "spot_instances_per_cluster"),
    ({"spot_discount": 1.5}, "spot_discount"),
    ({"emr_fee_hour_usd": 1.0}, "emr_fee_hour_usd"),
    ({"datapipeline_activity_usd": -1}, "datapipeline_activity_usd"),
])
def test_bad_prices_name_the_field(prices, field):
    with pytest.raises(InputError) as error:
        model_from_dict(prices).validate()
    assert f"model.{field}" in str(error.value)


def test_longest_first_keeps_tables_in_process_that_shortest_first_would_leave_out():
    # Two lanes of 6 s: shortest first puts 2, 3 | 3, then the 4 s table fits neither lane; longest first
    # fills both exactly (4 + 2, 3 + 3).
    def local(name: str, duration: int) -> PlacedTable:
        option = Option("local", duration, 1.0, None, 0, None, 0.0)
        return PlacedTable(provisioned(name, 0, 1), 0, option)

    tables = [local(name, duration) for name, duration in (("a", 4), ("b", 3), ("c", 3), ("d", 2))]
    plan_settings = PlanSettings(window_s=6, engine="local", model=Model(controller_max_scans=2))
    lanes, overflow, order = _fit_controller(tables, plan_settings)
    assert overflow == [] and order == "longest first"
    assert sorted(sorted(t.table.name for t in lane) for lane in lanes) == [["a", "d"], ["b", "c"]]
