"""plan_options: the ways to back up one table and what each costs. Every option offered fits the window, within
the table's limits and the controller's; where none fits, the reason says what is short; the cheapest option the
headroom allows is chosen."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import Model, PlanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_options import (
    OURS,
    SEED,
    Option,
    choose,
    on_demand_rate,
    table_options,
    timing,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo

GIB = 1024**3
HOUR = 3600


def plan(window_s: int = 4 * HOUR, **changed: object) -> PlanSettings:
    return PlanSettings(window_s=window_s, **changed)  # type: ignore[arg-type]


def test_timing_of_each_engine() -> None:
    settings = plan(fleet_tables=10)
    model = settings.model
    # A local table's start-up and its CPU, stretched by the 10 lanes that take turns on the one interpreter.
    assert timing("local", settings) == (0, model.local_activity_s + 10 * model.local_table_cpu_s)
    assert timing("emr", settings) == timing("datapipeline", settings) == (model.cluster_bootstrap_s,
                                                                           model.activity_bootstrap_s)


def test_on_demand_rate_from_the_warm_throughput_else_the_models_default() -> None:
    settings = plan(read_percentage=0.25)
    assert on_demand_rate(TableInfo("t", billing_mode=ON_DEMAND, warm_read_units=12000), settings) == (
        3000, "warm-throughput")
    assert on_demand_rate(TableInfo("t", billing_mode=ON_DEMAND), settings) == (100.0, "default")


def test_a_small_provisioned_table_is_read_locally_at_its_share_without_a_boost() -> None:
    options, reasons = table_options(TableInfo("t", size_bytes=10 * 1024**2, rcu=400), 10 * 1024**2, plan(), OURS)
    assert reasons == []
    local = [o for o in options if o.engine == "local"]
    assert local and local[0].added_rcu == 0 and local[0].boost_rcu == 400
    assert local[0].read_rate_source == "provisioned"
    assert local[0].read_units_per_second == pytest.approx(local[0].read_percentage * 400)
    best = choose(options, headroom=0, settings=plan())
    assert best is not None and best.engine == "local" and best.added_rcu == 0


def test_a_table_too_slow_for_the_window_needs_a_boost_and_says_so_when_none_is_allowed() -> None:
    table = TableInfo("big", size_bytes=200 * GIB, rcu=100, max_rcu=120)
    options, reasons = table_options(table, table.size_bytes, plan(model=Model(local_max_bytes=GIB)), OURS)
    assert options == []
    (reason,) = reasons  # one engine offered (local is capped, no PITR for an export): no engine prefix
    match = re.fullmatch(r"needs (\d+) RCU, table limit 120", reason)
    assert match is not None and int(match.group(1)) > 120


def test_a_mandatory_boost_is_chosen_even_without_saving_and_never_beyond_the_headroom() -> None:
    table = TableInfo("big", size_bytes=200 * GIB, rcu=100)
    options, _reasons = table_options(table, table.size_bytes, plan(model=Model(local_max_bytes=GIB)), OURS)
    mandatory = [o for o in options if o.mandatory_boost]
    assert mandatory and all(o.added_rcu > 0 for o in mandatory)
    needed = min(o.added_rcu for o in mandatory)
    assert choose(options, headroom=needed - 1, settings=plan()) is None
    chosen = choose(options, headroom=needed, settings=plan())
    assert chosen is not None and chosen.added_rcu == needed


def test_an_optional_boost_must_save_more_than_the_model_asks() -> None:
    plain = Option("datapipeline", 1000, 50.0, 100, 0, 0.5, cost_usd=1.00)
    boosted = Option("datapipeline", 500, 100.0, 200, 100, 0.5, cost_usd=0.995)
    assert choose([plain, boosted], headroom=1000, settings=plan()) is plain
    cheaper = Option("datapipeline", 500, 100.0, 200, 100, 0.5, cost_usd=0.98)
    assert choose([plain, cheaper], headroom=1000, settings=plan()) is cheaper
    assert choose([], headroom=1000, settings=plan()) is None


def test_an_on_demand_table_too_big_for_its_rate_names_the_figure_to_raise() -> None:
    table = TableInfo("od", size_bytes=50 * GIB, billing_mode=ON_DEMAND)
    options, reasons = table_options(table, table.size_bytes, plan(window_s=HOUR, engine="local"), OURS)
    assert options == []
    assert len(reasons) == 1 and "on_demand_read_units is 100" in reasons[0]
    assert reasons[0].startswith("needs ") and "raise it to read faster" in reasons[0]
    warm = TableInfo("od", size_bytes=50 * GIB, billing_mode=ON_DEMAND, warm_read_units=1000)
    _options, reasons = table_options(warm, warm.size_bytes, plan(window_s=HOUR, engine="local"), OURS)
    assert "0.5 of its warm throughput 1000 is 500" in reasons[0]


def test_the_export_needs_pitr_and_a_window_as_long_as_it_takes() -> None:
    table = TableInfo("t", size_bytes=GIB, rcu=100)
    assert table_options(table, GIB, plan(engine="export"), OURS) == (
        [], ["the export engine needs point-in-time recovery; enable PITR on the table or choose another engine"])
    options, _reasons = table_options(TableInfo("t", size_bytes=GIB, rcu=100, pitr=True), GIB,
                                      plan(engine="export"), OURS)
    export_s = Model().export_bootstrap_s + math.ceil(GIB / Model().export_bytes_per_s)
    assert [(o.engine, o.duration_s, o.added_rcu) for o in options] == [("export", export_s, 0)]
    _options, reasons = table_options(TableInfo("t", size_bytes=GIB, rcu=100, pitr=True), GIB, plan(window_s=600),
                                      OURS)
    assert any(r.startswith("export: an export of it takes") for r in reasons)


def test_engines_offered_by_our_rules_and_by_the_seeds() -> None:
    table = TableInfo("t", size_bytes=2 * GIB, rcu=1000, pitr=True)
    ours = {o.engine for o in table_options(table, table.size_bytes, plan(), OURS)[0]}
    assert ours == {"local", "datapipeline", "export"}
    capped = {o.engine for o in table_options(table, table.size_bytes, plan(model=Model(local_max_bytes=GIB)),
                                              OURS)[0]}
    assert capped == {"datapipeline", "export"}
    seed = table_options(table, table.size_bytes, plan(), SEED)[0]
    assert {o.engine for o in seed} == {"datapipeline"} and all(not o.added_rcu for o in seed)
    assert SEED.cluster_engine(plan()) == "datapipeline" and OURS.cluster_engine(plan()) == "auto"


def test_a_window_shorter_than_the_clusters_start_leaves_no_room() -> None:
    table = TableInfo("t", size_bytes=GIB, rcu=100)
    options, reasons = table_options(table, GIB, plan(window_s=300, engine="emr"), OURS)
    assert options == [] and reasons == ["a 300 s window leaves no time after emr's 660 s start-up"]


def test_an_empty_table_costs_its_schema_only() -> None:
    options, reasons = table_options(TableInfo("t", rcu=5), 0, plan(engine="local"), OURS)
    assert reasons == [] and [(o.engine, o.added_rcu) for o in options] == [("local", 0)]
    assert options[0].duration_s >= Model().local_activity_s


@settings(max_examples=120, deadline=None)
@given(size=st.integers(min_value=0, max_value=2000 * GIB), rcu=st.integers(min_value=1, max_value=40000),
       on_demand=st.booleans(), pitr=st.booleans(), window_h=st.integers(min_value=1, max_value=12),
       engine=st.sampled_from(["auto", "local", "emr", "datapipeline"]), share=st.sampled_from([0.1, 0.5, 1.0]),
       max_rcu=st.none() | st.integers(min_value=1, max_value=40000),
       warm=st.none() | st.integers(min_value=1, max_value=100000))
def test_every_option_fits_the_window_the_table_and_the_controller(size: int, rcu: int, on_demand: bool, pitr: bool,
                                                                   window_h: int, engine: str, share: float,
                                                                   max_rcu: int | None, warm: int | None) -> None:
    settings = plan(window_s=window_h * HOUR, engine=engine, read_percentage=share)
    table = TableInfo("t", size_bytes=size, billing_mode=ON_DEMAND if on_demand else PROVISIONED,
                      rcu=0 if on_demand else rcu, pitr=pitr, max_rcu=max_rcu, warm_read_units=warm)
    options, reasons = table_options(table, size, settings, OURS)
    assert options or reasons  # never nothing without a reason
    model = settings.model
    for option in options:
        assert option.cost_usd >= 0
        if option.engine == "export":
            assert engine == "auto" and pitr and option.duration_s <= settings.window_s
            continue
        bootstrap, _activity = timing(option.engine, settings)
        assert bootstrap + option.duration_s <= settings.window_s
        rate = option.read_units_per_second
        assert rate is not None and rate > 0
        if option.engine == "local":
            assert rate <= model.controller_bytes_per_s / settings.bytes_per_read_unit("local") + 1e-6
        if on_demand:
            assert option.boost_rcu is None and option.added_rcu == 0
            continue
        assert option.boost_rcu == rcu + option.added_rcu
        assert option.boost_rcu <= (max_rcu or model.table_max_rcu) or option.added_rcu == 0
        assert option.read_percentage is not None
        assert option.read_percentage * option.boost_rcu <= rate + 1e-6
        if option.added_rcu:
            assert rate <= option.added_rcu  # a boosted scan reads only what the boost added
        else:
            assert option.read_percentage <= share and not option.mandatory_boost
