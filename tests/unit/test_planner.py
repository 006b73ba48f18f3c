"""The planner as a pure function: duration model, boosts, engines, packing and the cost model."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import Prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.window import Window
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.controller_load import fit_lanes, load_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.packing import (
    balanced_fit,
    first_fit_decreasing,
    lower_bound,
    next_fit_ascending,
    pack,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    Model,
    PlanSettings,
    model_from_dict,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import (
    TableInfo,
    table_from_descriptor,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import Plan, plan_backups
from tests.support.plan_fixtures import account_in_use, long_tailed_fleet

GIB = 1024**3
SEVEN_HOURS = 7 * 3600
READ_UNIT = bytes_per_read_unit(consistent=False)  # every engine's scans read eventually consistent


def planned(plan_dict: dict) -> dict[str, dict]:
    return {t["name"]: t for c in plan_dict["clusters"] for t in c["tables"]}


def plan(tables: list[TableInfo], **kwargs) -> dict:
    kwargs.setdefault("window_s", SEVEN_HOURS)
    return plan_backups(tables, PlanSettings(**kwargs)).document().to_json()


# Window ------------------------------------------------------------------------------------------


def test_window_crossing_midnight_and_daylight_saving():
    assert Window("22:00", "06:00", "UTC").seconds() == 8 * 3600
    assert Window("00:00", "07:00").seconds() == SEVEN_HOURS
    # Paris springs forward at 02:00 on 29 March 2026: that night's 00:00-07:00 lasts six hours.
    assert Window("00:00", "07:00", "Europe/Paris").seconds(date(2026, 3, 29)) == 6 * 3600
    assert Window("00:00", "07:00", "Europe/Paris").seconds(date(2026, 3, 30)) == SEVEN_HOURS


def test_window_occurrence_is_the_open_window_or_the_next():
    window = Window("22:00", "06:00", "UTC")
    assert window.occurrence(datetime(2026, 5, 2, 1, 0, tzinfo=UTC)) == datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
    assert window.occurrence(datetime(2026, 5, 2, 7, 0, tzinfo=UTC)) == datetime(2026, 5, 2, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(("window", "field"), [
    (Window("03:00", "03:00"), "window"),
    (Window("25:00", "03:00"), "window.start"),
    (Window("01:00", "soon"), "window.end"),
    (Window("01:00", "03:00", "Mars/Olympus"), "window.timezone"),
])
def test_bad_window_names_the_field(window, field):
    with pytest.raises(InputError) as caught:
        window.seconds()
    assert caught.value.field == field
    assert caught.value.fix


# Settings and inline tables ---------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"read_percentage": 0.0}, "read_percentage"),
    ({"read_percentage": 1.01}, "read_percentage"),
    ({"max_objects": 4}, "max_objects"),
    ({"engine": "glacier"}, "engine"),
    ({"window_s": 0}, "window"),
    ({"model": Model(prices=Prices(rcu_hour_usd=-1))}, "model.rcu_hour_usd"),
    ({"model": Model(auto_cluster_engine="export")}, "model.auto_cluster_engine"),
])
def test_bad_settings_name_the_field(changes, field):
    with pytest.raises(InputError) as caught:
        plan_backups([TableInfo("a", rcu=5)], PlanSettings(**{"window_s": SEVEN_HOURS, **changes}))
    assert caught.value.field == field


def test_read_percentage_of_one_is_allowed():
    result = plan([TableInfo("a", size_bytes=GIB, rcu=1000)], read_percentage=1.0, engine="emr")
    assert planned(result)["a"]["read_percentage"] == 1.0


@pytest.mark.parametrize(("descriptor", "field"), [
    ({"name": "a", "size_bytes": -1, "rcu": 5}, "tables[0].size_bytes"),
    ({"name": "a", "size_bytes": "big", "rcu": 5}, "tables[0].size_bytes"),
    ({"name": "a", "size_bytes": 10}, "tables[0].rcu"),
    ({"name": "a", "rcu": 5, "colour": "red"}, "tables[0].colour"),
    ({"name": "a", "billing_mode": "free"}, "tables[0].billing_mode"),
    ({"size_bytes": 10}, "tables[0].name"),
    ("orders", "tables[0]"),
])
def test_bad_inline_table_names_the_field(descriptor, field):
    with pytest.raises(InputError) as caught:
        table_from_descriptor(descriptor, 0)
    assert caught.value.field == field


def test_inline_table_accepts_on_demand_spelling():
    table = table_from_descriptor({"name": "s", "billing_mode": "on_demand", "size_bytes": 5, "pitr": True}, 3)
    assert table.on_demand and table.pitr and table.size_bytes == 5


def test_model_overrides_from_a_flat_dict():
    model = model_from_dict({"cluster_bootstrap_s": 300, "rcu_hour_usd": 0.0002})
    assert model.cluster_bootstrap_s == 300 and model.prices.rcu_hour_usd == 0.0002
    for bad, field in (({"nope": 1}, "model.nope"), ({"cluster_bootstrap_s": "x"}, "model.cluster_bootstrap_s"),
                       ({"cluster_bootstrap_s": 1.5}, "model.cluster_bootstrap_s")):
        with pytest.raises(InputError) as caught:
            model_from_dict(bad)
        assert caught.value.field == field


def test_duplicate_table_names_are_refused():
    with pytest.raises(InputError, match="twice"):
        plan([TableInfo("a", rcu=1), TableInfo("a", rcu=2)])


@pytest.mark.parametrize(("max_objects", "per_cluster"), [(100, 32), (500, 166), (5, 1)])
def test_tables_per_pipeline_from_max_objects(max_objects, per_cluster):
    assert PlanSettings(window_s=1, max_objects=max_objects).tables_per_cluster("datapipeline") == per_cluster


# Duration model and boosts ----------------------------------------------------------------------


def test_duration_follows_the_seed_model():
    model = Model()
    result = plan([TableInfo("a", size_bytes=GIB, rcu=1000)], engine="datapipeline", read_percentage=0.5)
    table = planned(result)["a"]
    expected = model.activity_bootstrap_s + math.ceil(GIB / (1000 * 0.5 * READ_UNIT))
    assert table["duration_s"] == expected
    assert table["start_offset_s"] == model.cluster_bootstrap_s
    assert table["boost_rcu"] == 1000 and not table["boosted"]
    assert result["clusters"][0]["end_offset_s"] == model.cluster_bootstrap_s + expected


def test_slow_table_is_boosted_and_the_application_keeps_its_capacity():
    table = TableInfo("big", size_bytes=200 * GIB, rcu=100)
    result = plan([table], engine="datapipeline")
    got = planned(result)["big"]
    model = Model()
    assert got["boosted"] and got["boost_rcu"] > table.rcu
    assert got["boost_rcu"] <= model.table_max_rcu
    # The backup reads only the added part: what is left for the application is its original RCU.
    left = got["boost_rcu"] * (1 - got["read_percentage"])
    assert table.rcu <= left <= table.rcu + got["boost_rcu"] * 1e-4
    assert got["start_offset_s"] + got["duration_s"] <= SEVEN_HOURS
    assert result["cost_breakdown_usd"]["boosts"] > 0


def test_boost_capped_by_table_limit_is_unplannable_with_the_reason():
    result = plan([TableInfo("huge", size_bytes=10 * 1024**4, rcu=100)], engine="datapipeline")
    assert planned(result) == {}
    [entry] = result["unplannable"]
    assert entry["name"] == "huge" and "table limit 40000" in entry["reason"] and "needs" in entry["reason"]


def test_boost_capped_by_autoscaling_max():
    table = TableInfo("auto", size_bytes=100 * GIB, rcu=100, autoscaling_min_rcu=100, autoscaling_max_rcu=500)
    result = plan([table], engine="emr")
    assert "autoscaling MaxCapacity 500" in result["unplannable"][0]["reason"]
    roomy = plan([TableInfo("auto", size_bytes=10 * GIB, rcu=100, autoscaling_min_rcu=100,
                            autoscaling_max_rcu=5000)], engine="emr")
    assert 100 < planned(roomy)["auto"]["boost_rcu"] <= 5000


def test_account_headroom_is_shared_between_boosts():
    tables = [TableInfo(f"t{i}", size_bytes=100 * GIB, rcu=100) for i in range(3)]
    model = Model(account_max_rcu=300 + 2 * 1500)
    result = plan(tables, engine="datapipeline", model=model, account_rcu_in_use=300)
    added = sum(t["boost_rcu"] - t["rcu"] for t in planned(result).values())
    assert added <= 2 * 1500
    assert len(planned(result)) + len(result["unplannable"]) == 3
    assert all("account headroom" in u["reason"] for u in result["unplannable"])
    assert result["unplannable"], "three boosts of over 1000 RCU cannot share 3000 RCU of headroom"


def test_on_demand_tables_use_the_configured_rate_and_pay_per_read():
    result = plan([TableInfo("od", size_bytes=GIB, billing_mode=ON_DEMAND)], engine="datapipeline")
    got = planned(result)["od"]
    assert got["rcu"] is None and got["boost_rcu"] is None and got["read_units_per_second"] == 100.0
    assert result["cost_breakdown_usd"]["on_demand_reads"] == pytest.approx(
        Prices().on_demand_read_cost(GIB, READ_UNIT), abs=1e-4)
    too_big = plan([TableInfo("od", size_bytes=100 * GIB, billing_mode=ON_DEMAND)], engine="datapipeline")
    assert "on_demand_read_units" in too_big["unplannable"][0]["reason"]


def test_empty_tables_cost_no_cluster_time_and_go_local_in_auto():
    result = plan([TableInfo("empty", rcu=5), TableInfo("empty-od", billing_mode=ON_DEMAND)])
    model = Model()
    for name in ("empty", "empty-od"):
        # Its start-up and requests (one Scan page) are all it takes: no data, but not no time.
        waits = (model.requests_per_table + 1) * model.request_latency_s
        startup = model.local_activity_s + model.local_table_cpu_s * 2  # two tables: two lanes take turns
        assert planned(result)[name]["duration_s"] == math.ceil(startup + waits)
        assert planned(result)[name]["engine"] == "local"
    assert result["estimated_cost_usd"] == 0
    on_cluster = plan([TableInfo("empty", rcu=5)], engine="emr")
    assert planned(on_cluster)["empty"]["duration_s"] == 0


def test_size_is_estimated_from_item_count_when_dynamodb_reports_zero_bytes():
    result = plan([TableInfo("fresh", item_count=1000, rcu=10)], engine="emr")
    assert planned(result)["fresh"]["size_bytes"] == 1000 * Model().default_item_bytes
    assert any("fresh" in w for w in result["warnings"])


def test_tables_not_active_are_listed_with_the_reason():
    result = plan([TableInfo("going", status="DELETING", rcu=5)])
    assert result["unplannable"] == [{"name": "going", "reason": "table status is DELETING, not ACTIVE"}]


def test_export_engine_needs_pitr():
    result = plan([TableInfo("a", size_bytes=GIB, rcu=5, pitr=True), TableInfo("b", size_bytes=GIB, rcu=5)],
                  engine="export")
    assert planned(result)["a"]["engine"] == "export"
    assert "point-in-time recovery" in result["unplannable"][0]["reason"]
    assert result["cost_breakdown_usd"]["exports"] == pytest.approx(Prices().export_cost(GIB), abs=1e-4)


def test_auto_picks_export_where_pitr_is_on_and_it_is_cheaper():
    # 5 GiB at 5 RCU needs a boost and hours of cluster time; exporting it costs $0.50. The local
    # engine, cheaper still, is kept to 1 GiB here.
    tables = [TableInfo("pitr", size_bytes=5 * GIB, rcu=5, pitr=True),
              TableInfo("nopitr", size_bytes=5 * GIB, rcu=5)]
    result = plan(tables, model=Model(local_max_bytes=GIB))
    assert planned(result)["pitr"]["engine"] == "export"
    assert planned(result)["nopitr"]["engine"] == Model().auto_cluster_engine
    pricey = plan(tables, model=Model(local_max_bytes=GIB, prices=Prices(export_gb_usd=50.0)))
    assert planned(pricey)["pitr"]["engine"] == Model().auto_cluster_engine
    # Without the size limit both stay on the controller, boosted just enough to fit the window.
    free = plan(tables)
    assert {t["engine"] for t in planned(free).values()} == {"local"}
    assert free["estimated_cost_usd"] < result["estimated_cost_usd"]


def test_tables_beyond_the_controller_overflow_to_clusters():
    # Each scan reads 10 RU/s (80 KiB/s, eventually consistent) for 2,570 s: two concurrent scans hold 9
    # tables each in 7 hours.
    tables = [TableInfo(f"s{i:02d}", size_bytes=200 * 1024**2, rcu=20) for i in range(40)]
    result = plan(tables, model=Model(controller_max_scans=2))
    local = [t for t in planned(result).values() if t["engine"] == "local"]
    assert {t["engine"] for t in planned(result).values()} == {"local", "datapipeline"}
    assert len(local) == 18 and result["packing"]["local"]["clusters"] == 2
    assert result["controller"]["peak_scans"] == 2 and len(planned(result)) == 40
    # In a window that needs nearly their full 10 RU/s, a bytes/s cap of three such scans keeps
    # three at once, whatever the scan count allows.
    rate = 10 * READ_UNIT
    by_bytes = plan(tables, window_s=2600, model=Model(controller_bytes_per_s=3 * rate))
    assert by_bytes["controller"]["peak_scans"] == 3
    assert by_bytes["controller"]["peak_bytes_per_s"] <= 3 * rate
    assert sum(t["engine"] == "local" for t in planned(by_bytes).values()) == 3


def test_every_table_that_fits_the_controller_stays_local():
    tables = [TableInfo(f"s{i:03d}", size_bytes=100 * 1024**2, rcu=20) for i in range(300)]
    result = plan(tables)
    assert result["engine_counts"] == {"local": 300}
    # No cluster, no boost: only each backup's S3 PUTs (two parts of 64 MiB, its claim and its manifest).
    assert result["estimated_cost_usd"] == result["cost_breakdown_usd"]["s3_requests"] == \
        pytest.approx(300 * 4 * Prices().s3_put_thousand_usd / 1000)
    assert result["controller"]["peak_scans"] <= Model().controller_max_scans
    assert all(t["start_offset_s"] + t["duration_s"] <= SEVEN_HOURS for t in planned(result).values())


def test_a_fast_table_is_paced_to_its_share_of_the_controller():
    # Half of 40,000 RCU would be 80 MiB/s: the controller reads it at its even share unless the
    # window needs more, so one table never holds the controller's whole bandwidth.
    model = Model()
    share = model.controller_bytes_per_s / model.controller_max_scans / READ_UNIT
    result = plan([TableInfo("fast", size_bytes=GIB // 2, rcu=40000)])
    fast = planned(result)["fast"]
    assert fast["engine"] == "local" and fast["read_units_per_second"] <= share + 0.01
    assert fast["read_percentage"] * 40000 <= share
    needy = planned(plan([TableInfo("needy", size_bytes=200 * GIB, rcu=40000)]))["needy"]
    assert needy["engine"] == "local" and needy["read_units_per_second"] > share
    assert needy["start_offset_s"] + needy["duration_s"] <= SEVEN_HOURS


def test_fixed_local_engine_lists_what_the_controller_cannot_hold():
    tables = [TableInfo(f"s{i:02d}", size_bytes=200 * 1024**2, rcu=20) for i in range(10)]
    result = plan(tables, engine="local", model=Model(controller_max_scans=1))
    assert len(planned(result)) == 9
    assert len(result["unplannable"]) == 1
    assert all("controller_max_scans 1" in u["reason"] and "engine auto" in u["reason"]
               for u in result["unplannable"])


def test_local_max_lanes_is_a_deprecated_name_of_controller_max_scans():
    assert model_from_dict({"local_max_lanes": 8}).controller_max_scans == 8
    with pytest.raises(InputError) as caught:
        model_from_dict({"local_max_lanes": 8, "controller_max_scans": 16})
    assert caught.value.field == "model.local_max_lanes" and "controller_max_scans" in caught.value.fix
    with pytest.raises(InputError) as caught:
        model_from_dict({"controller_bytes_per_s": 0}).validate()
    assert caught.value.field == "model.controller_bytes_per_s"


def test_on_demand_tables_read_at_a_share_of_their_warm_throughput():
    warm = TableInfo("warm", size_bytes=100 * GIB, billing_mode=ON_DEMAND, warm_read_units=12000)
    cold = TableInfo("cold", size_bytes=GIB, billing_mode=ON_DEMAND)
    result = plan([warm, cold], engine="emr", read_percentage=0.25)
    got = planned(result)
    assert got["warm"]["read_units_per_second"] == 3000.0 and got["warm"]["read_rate_source"] == "warm-throughput"
    assert got["cold"]["read_units_per_second"] == 100.0 and got["cold"]["read_rate_source"] == "default"
    # 100 GiB at the default 100 read units/s would not fit the window: the warm figure makes it fit.
    unknown = plan([TableInfo("warm", size_bytes=100 * GIB, billing_mode=ON_DEMAND)], engine="emr")
    assert "on_demand_read_units is 100" in unknown["unplannable"][0]["reason"]
    small_warm = plan([TableInfo("w", size_bytes=1000 * GIB, billing_mode=ON_DEMAND, warm_read_units=4000)],
                      engine="emr", read_percentage=0.1)
    assert "of its warm throughput 4000 is 400" in small_warm["unplannable"][0]["reason"]
    provisioned = planned(plan([TableInfo("p", size_bytes=GIB, rcu=1000, warm_read_units=5000)], engine="emr"))["p"]
    assert provisioned["read_rate_source"] == "provisioned" and provisioned["read_units_per_second"] == 500.0


def test_inline_tables_take_a_warm_throughput():
    table = table_from_descriptor({"name": "s", "billing_mode": "PAY_PER_REQUEST", "warm_read_units": 12000}, 0)
    assert table.warm_read_units == 12000
    with pytest.raises(InputError) as caught:
        table_from_descriptor({"name": "s", "billing_mode": "PAY_PER_REQUEST", "warm_read_units": -5}, 0)
    assert caught.value.field == "tables[0].warm_read_units"


def test_fixed_local_engine_puts_every_table_in_local_clusters():
    fleet = long_tailed_fleet(60, seed=3)
    result = plan(fleet, engine="local", model=Model(account_max_rcu=10**7))
    names = {t.name for t in fleet}
    assert {c["engine"] for c in result["clusters"]} == {"local"}
    assert set(planned(result)) | {u["name"] for u in result["unplannable"]} == names


def test_cost_model_decides_how_far_to_boost():
    # At 10 RCU these tables must be boosted; the seed boosts just enough to fit the window, the
    # cost model further, because the cluster time saved costs more than the extra capacity.
    slow = [TableInfo(f"t{i}", size_bytes=20 * GIB, rcu=10) for i in range(10)]
    result = plan(slow, engine="datapipeline")
    assert result["estimated_cost_usd"] < result["baseline"]["estimated_cost_usd"]
    assert all(t["boosted"] for t in planned(result).values())
    # At 1000 RCU half the capacity already reads fast enough: boosting would cost more than it saves.
    fast = plan([TableInfo(f"t{i}", size_bytes=20 * GIB, rcu=1000) for i in range(10)], engine="datapipeline")
    assert not any(t["boosted"] for t in planned(fast).values())
    assert fast["estimated_cost_usd"] == fast["baseline"]["estimated_cost_usd"]


# Packing -----------------------------------------------------------------------------------------


def _valid(bins: list[list[int]], durations: list[int], capacity: int, per_cluster: int) -> None:
    assert sorted(i for b in bins for i in b) == list(range(len(durations)))
    assert all(0 < len(b) <= per_cluster and sum(durations[i] for i in b) <= capacity for b in bins)


durations_strategy = st.lists(st.integers(0, 1000), min_size=0, max_size=200)


@settings(max_examples=300, deadline=None)
@given(durations=durations_strategy, capacity=st.integers(1000, 3000), per_cluster=st.integers(1, 40))
def test_packing_is_valid_and_between_lower_bound_and_next_fit(durations, capacity, per_cluster):
    result = pack(durations, capacity, per_cluster)
    _valid(result.bins, durations, capacity, per_cluster)
    _valid(first_fit_decreasing(durations, capacity, per_cluster), durations, capacity, per_cluster)
    _valid(next_fit_ascending(durations, capacity, per_cluster), durations, capacity, per_cluster)
    assert lower_bound(durations, capacity, per_cluster) <= len(result.bins) <= result.next_fit_ascending


@settings(max_examples=200, deadline=None)
@given(durations=durations_strategy.filter(bool), capacity=st.integers(1000, 3000), per_cluster=st.integers(1, 40),
       clusters=st.integers(1, 30))
def test_balanced_fit_holds_everything_or_says_no(durations, capacity, per_cluster, clusters):
    bins = balanced_fit(durations, capacity, per_cluster, clusters)
    if clusters < lower_bound(durations, capacity, per_cluster):
        assert bins is None
    if bins is not None:
        _valid(bins, durations, capacity, per_cluster)
        assert len(bins) <= clusters
    # One cluster per table always fits, since every duration fits the capacity.
    _valid(balanced_fit(durations, capacity, per_cluster, len(durations)), durations, capacity, per_cluster)


def test_packing_reaches_the_lower_bound_where_next_fit_does_not():
    durations = [600, 600, 400, 400]  # ascending next-fit pairs 400+400 and then 600, 600 apart
    result = pack(durations, 1000, 10)
    assert len(result.bins) == lower_bound(durations, 1000, 10) == 2
    assert result.next_fit_ascending == 3


def test_packing_refuses_items_longer_than_the_capacity():
    with pytest.raises(ValueError):
        pack([1001], 1000, 5)


# Plan-wide properties ----------------------------------------------------------------------------


table_strategy = st.builds(
    lambda index, size, rcu, on_demand, pitr, scaled_max, status, warm: TableInfo(
        name=f"t{index}", size_bytes=size, item_count=size // 500,
        billing_mode=ON_DEMAND if on_demand else "PROVISIONED",
        rcu=0 if on_demand else rcu, pitr=pitr, status=status,
        autoscaling_min_rcu=rcu if scaled_max else None, autoscaling_max_rcu=scaled_max,
        warm_read_units=warm),
    index=st.integers(0, 10**6),
    size=st.one_of(st.just(0), st.integers(1, 10 * GIB), st.integers(10 * GIB, 3 * 1024**4)),
    rcu=st.integers(1, 50000), on_demand=st.booleans(), pitr=st.booleans(),
    scaled_max=st.one_of(st.none(), st.integers(1, 60000)),
    status=st.sampled_from(["ACTIVE", "ACTIVE", "ACTIVE", "UPDATING", "CREATING"]),
    warm=st.one_of(st.none(), st.integers(1, 100000)),
)
# Many small tables, so that the controller fills up and the bytes/s cap binds.
small_table_strategy = st.builds(
    lambda index, size, rcu, on_demand, warm: TableInfo(
        name=f"s{index}", size_bytes=size, billing_mode=ON_DEMAND if on_demand else "PROVISIONED",
        rcu=0 if on_demand else rcu, warm_read_units=warm),
    index=st.integers(0, 10**6), size=st.one_of(st.just(0), st.integers(1, 20 * GIB)),
    rcu=st.integers(1, 5000), on_demand=st.booleans(), warm=st.one_of(st.none(), st.integers(1, 40000)))


def local_peaks(result: Plan, bytes_per_unit: float) -> tuple[int, float]:
    """Worked out here, apart from the planner: the most scans and bytes/s running at once. The load
    only rises when a scan starts, so its peaks are at some scan's start. Rates are the planner's own
    (the JSON rounds them to a hundredth of a unit)."""
    scans = [(t.start_offset_s, t.start_offset_s + t.option.duration_s,
              t.option.read_units_per_second * bytes_per_unit if t.size_bytes else 0.0)  # an empty table reads nothing
             for c in result.clusters if c.engine == "local" for t in c.tables if t.option.duration_s]
    most_scans, most_bytes = 0, 0.0
    for at, _end, _bytes_per_s in scans:
        running = [rate for start, end, rate in scans if start <= at < end]
        most_scans, most_bytes = max(most_scans, len(running)), max(most_bytes, sum(running))
    return most_scans, most_bytes


def sequential_in_window(cluster: dict, window_s: int) -> None:
    previous_end = cluster["start_offset_s"]
    for table in cluster["tables"]:
        assert table["start_offset_s"] >= previous_end
        previous_end = table["start_offset_s"] + table["duration_s"]
    assert previous_end <= cluster["end_offset_s"] <= window_s


@settings(max_examples=80, deadline=None)
@given(tables=st.lists(st.one_of(small_table_strategy, table_strategy), max_size=80, unique_by=lambda t: t.name),
       engine=st.sampled_from(["auto", "local"]), window_s=st.integers(1800, 86399),
       read_percentage=st.floats(0.05, 1.0), max_scans=st.integers(1, 12),
       bytes_per_s=st.one_of(st.integers(4096, 400_000), st.integers(400_000, 50 * 1024**2)))
def test_planned_local_load_never_exceeds_the_controller(tables, engine, window_s, read_percentage, max_scans,
                                                         bytes_per_s):
    model = Model(controller_max_scans=max_scans, controller_bytes_per_s=bytes_per_s, account_max_rcu=10**9)
    planned_night = plan_backups(tables, PlanSettings(window_s=window_s, engine=engine,
                                                      read_percentage=read_percentage, model=model))
    result = planned_night.document().to_json()
    local = [c for c in result["clusters"] if c["engine"] == "local"]
    assert len(local) <= max_scans
    for lane in local:
        sequential_in_window(lane, window_s)
    most_scans, most_bytes = local_peaks(planned_night, READ_UNIT)
    assert most_scans <= max_scans
    assert most_bytes <= bytes_per_s * (1 + 1e-9)
    controller = result["controller"]
    assert (controller["max_scans"], controller["bytes_per_s"]) == (max_scans, bytes_per_s)
    assert controller["peak_scans"] == most_scans
    assert controller["peak_bytes_per_s"] == pytest.approx(most_bytes, abs=0.1)


@settings(max_examples=200, deadline=None)
@given(scans=st.lists(st.tuples(st.integers(0, 5000), st.floats(0.0, 2e6)), max_size=120),
       window_s=st.integers(1, 20000), max_scans=st.integers(1, 10), cap=st.floats(1.0, 4e6))
def test_fit_lanes_keeps_every_instant_within_both_caps(scans, window_s, max_scans, cap):
    placed = fit_lanes(scans, window_s, max_scans, cap)
    assert len(placed) == len(scans)
    runs = []
    for (duration, rate), where in zip(scans, placed, strict=True):
        if where is None:
            continue
        assert 0 <= where.lane < max_scans and where.start_s + duration <= window_s
        runs.append((where.lane, where.start_s, where.start_s + duration, rate))
    for lane in range(max_scans):
        ends = sorted((start, end) for number, start, end, _rate in runs if number == lane and end > start)
        assert all(first[1] <= second[0] for first, second in itertools.pairwise(ends))  # one after another
    for _lane, at, _end, _rate in runs:
        running = [rate for _lane, start, end, rate in runs if start <= at < end]
        assert len(running) <= max_scans and sum(running) <= cap * (1 + 1e-9)
    load = load_of((start, end - start, rate) for _lane, start, end, rate in runs)
    assert load.peak_scans <= max_scans and load.peak_bytes_per_s <= cap * (1 + 1e-9)
    # On an idle controller, the first scan that can run at all is placed, at the window's start.
    fits = [index for index, (d, r) in enumerate(scans) if 0 < d <= window_s and r <= cap]
    if fits:
        assert placed[fits[0]] is not None and placed[fits[0]].start_s == 0


SHARED_LIMITS = ("account headroom", "the controller has no room left")


@settings(max_examples=60, deadline=None)
@given(tables=st.lists(st.one_of(small_table_strategy, table_strategy), max_size=40, unique_by=lambda t: t.name),
       window_s=st.integers(1800, 86399), read_percentage=st.floats(0.05, 1.0), max_scans=st.integers(1, 8),
       headroom=st.integers(0, 200000))
def test_no_table_is_unplannable_when_some_engine_could_fit_it(tables, window_s, read_percentage, max_scans,
                                                               headroom):
    in_use = sum(t.rcu for t in tables)
    plan_settings = PlanSettings(window_s=window_s, read_percentage=read_percentage, account_rcu_in_use=in_use,
                                 model=Model(controller_max_scans=max_scans, account_max_rcu=max(1, in_use + headroom)))
    result = plan_backups(tables, plan_settings)
    by_name = {t.name: t for t in tables}
    for entry in result.unplannable:
        # Alone, with the same settings and the whole headroom, no engine fits it either; or else
        # what it lacked was shared with the other tables and the reason says which.
        alone = plan_backups([by_name[entry["name"]]], plan_settings)
        assert alone.unplannable or any(limit in entry["reason"] for limit in SHARED_LIMITS), entry


@settings(max_examples=150, deadline=None)
@given(tables=st.lists(table_strategy, max_size=60, unique_by=lambda t: t.name),
       engine=st.sampled_from(["auto", "datapipeline", "emr", "export", "local"]),
       window_s=st.integers(1800, 86399), read_percentage=st.floats(0.05, 1.0),
       max_objects=st.integers(5, 200), headroom=st.integers(0, 200000))
def test_plan_properties(tables, engine, window_s, read_percentage, max_objects, headroom):
    model = Model()
    in_use = sum(t.rcu for t in tables)
    plan_settings = PlanSettings(window_s=window_s, engine=engine, read_percentage=read_percentage,
                                 max_objects=max_objects, account_rcu_in_use=in_use,
                                 model=Model(account_max_rcu=max(1, in_use + headroom)))
    result = plan_backups(tables, plan_settings).document().to_json()
    names = [t["name"] for c in result["clusters"] for t in c["tables"]] + [u["name"] for u in result["unplannable"]]
    # Every table exactly once: planned or listed with a reason.
    assert sorted(names) == sorted(t.name for t in tables)
    assert all(u["reason"] for u in result["unplannable"])
    by_name = {t.name: t for t in tables}
    added = 0
    for cluster in result["clusters"]:
        assert cluster["engine"] == engine or engine == "auto"
        if cluster["engine"] != "export":
            # Clusters fit the window, tables run one after another without overlapping.
            assert len(cluster["tables"]) <= plan_settings.tables_per_cluster(cluster["engine"])
            sequential_in_window(cluster, window_s)
        for table in cluster["tables"]:
            # Every planned table ends inside the window (only exports asked for by name may run over).
            assert table["start_offset_s"] + table["duration_s"] <= window_s or engine == "export"
            if source_on_demand := by_name[table["name"]].on_demand:
                warm = by_name[table["name"]].warm_read_units
                assert table["read_rate_source"] == (None if cluster["engine"] == "export" else
                                                     "warm-throughput" if warm else "default")
            assert source_on_demand or table["read_rate_source"] in ("provisioned", None)
            source = by_name[table["name"]]
            assert cluster["engine"] != "export" or source.pitr
            if table["boosted"]:
                assert table["boost_rcu"] <= min(model.table_max_rcu, source.autoscaling_max_rcu or 10**9)
                left = table["boost_rcu"] * (1 - table["read_percentage"])
                # The application keeps its own, plus at most the part of a unit the boost was rounded up by.
                assert source.rcu <= left + 1e-9 <= source.rcu + 1 + table["boost_rcu"] * 1e-4 + 1e-6
                added += table["boost_rcu"] - source.rcu
    assert added <= headroom
    # Never more clusters than next-fit over ascending durations, never below the lower bound (local
    # lanes are no clusters: they run side by side on the controller, as many as it sustains).
    for name, figures in result["packing"].items():
        if name != "local":
            assert figures["lower_bound"] <= figures["clusters"] <= figures["next_fit_ascending"]
    if result["baseline"]["unplannable"] <= len(result["unplannable"]):
        assert result["estimated_cost_usd"] <= result["baseline"]["estimated_cost_usd"] + 1e-6


@pytest.mark.parametrize("count", [100, 1000])
def test_generated_fleets_meet_the_targets(count):
    fleet = long_tailed_fleet(count)
    in_use = account_in_use(fleet)
    model = Model(account_max_rcu=in_use + 500_000)
    fixed = plan(fleet, engine="datapipeline", model=model, account_rcu_in_use=in_use)
    figures = fixed["packing"]["datapipeline"]
    assert figures["clusters"] <= figures["lower_bound"] + 1
    assert figures["clusters"] <= figures["next_fit_ascending"]
    auto = plan(fleet, model=model, account_rcu_in_use=in_use)
    assert auto["estimated_cost_usd"] <= auto["baseline"]["estimated_cost_usd"]
    assert auto["packing"][Model().auto_cluster_engine]["clusters"] <= auto["baseline"]["clusters"]


def test_auto_moves_exports_that_would_end_after_the_window_to_clusters():
    # Two cheap exports at a time, 921 s each: in a 3,000 s window only the first six fit.
    tables = [TableInfo(f"p{i}", size_bytes=GIB, rcu=5, pitr=True) for i in range(8)]
    model = Model(export_max_concurrent=2, local_max_bytes=GIB // 2, prices=Prices(export_gb_usd=0.001))
    result = plan(tables, window_s=3000, model=model)
    engines = [t["engine"] for t in planned(result).values()]
    assert engines.count("export") == 6 and engines.count(Model().auto_cluster_engine) == 2
    assert all(t["start_offset_s"] + t["duration_s"] <= 3000 for t in planned(result).values())
    # Asked for by name, exports still run over the window, with a warning.
    fixed = plan(tables, window_s=3000, engine="export", model=model)
    assert len(planned(fixed)) == 8 and any("after the window" in w for w in fixed["warnings"])


def test_a_run_outside_its_window_plans_the_next_one_from_now_or_fails() -> None:
    window = Window(start="22:00", end="06:00", timezone="Europe/Paris")
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 13:00 in Paris: the window is closed
    next_opening = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert window.schedule(noon) == (next_opening, next_opening, 8 * 3600)
    assert window.schedule(noon, "now") == (noon, noon, 8 * 3600)
    with pytest.raises(InputError) as refused:
        window.schedule(noon, "fail")
    assert refused.value.field == "window" and "22:00-06:00 Europe/Paris is closed now (13:00)" in str(refused.value)
    inside = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    # Inside the window every choice plans what is left of it.
    assert {window.schedule(inside, outside)[1:] for outside in ("next", "now", "fail")} == {(inside, 6 * 3600)}


def test_a_late_start_plans_only_what_is_left_of_the_window() -> None:
    window = Window(start="00:00", end="07:00", timezone="UTC")
    before = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert window.schedule(before) == (datetime(2026, 11, 24, 0, 0, tzinfo=UTC),) * 2 + (7 * 3600,)
    late = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)
    opens, starts, seconds = window.schedule(late)
    assert (opens, starts, seconds) == (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), late, 90 * 60)
