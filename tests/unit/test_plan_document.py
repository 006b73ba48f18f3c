"""The plan document: what the real planner writes validates against docs/plan.schema.json and reads back to
the same document; a plan from a later release, or one with a key of the wrong type, is refused naming the key."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    PLAN_VERSION,
    PlanDocument,
    PlannedCluster,
    TableFacts,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.night_plan import (
    PlanClients,
    PlanRequest,
    plan_night,
)
from tests.support.plan_fixtures import long_tailed_fleet

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "plan.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
NIGHT = "2026-11-23T01:30:00+00:00"  # inside the default window: planned from then to 07:00


def no_aws(*_args: Any) -> Any:
    raise AssertionError("a plan of given tables calls no AWS")


OFFLINE = PlanClients(dynamodb=no_aws, autoscaling=no_aws, datapipeline=no_aws)


def planned(tables: list[dict[str, Any]], **options: Any) -> PlanDocument:
    """The document dynamodb_backup_plan makes of `tables` (given inline, so without AWS)."""
    request = PlanRequest(tables=tables, starts_at=options.pop("starts_at", NIGHT), **options)
    return plan_night(request, OFFLINE).document


def descriptor(name: str, size: int, rcu: int, on_demand: bool, pitr: bool, gsi: bool, autoscaled: bool
               ) -> dict[str, Any]:
    table: dict[str, Any] = {"name": name, "size_bytes": size, "item_count": size // 400, "pitr": pitr}
    if on_demand:
        table["billing_mode"] = "PAY_PER_REQUEST"
    else:
        table["rcu"] = rcu
    if gsi:
        table["gsis"] = [{"name": f"{name}-by-date", "rcu": rcu}]
    if autoscaled and not on_demand:
        table.update(autoscaling_min_rcu=rcu, autoscaling_max_rcu=rcu * 4)
    return table


TABLES = st.lists(st.tuples(st.integers(0, 3 * 1024**4), st.integers(1, 40_000), st.booleans(), st.booleans(),
                            st.booleans(), st.booleans()), min_size=1, max_size=30)
ENGINES = st.sampled_from(["auto", "local", "export", "emr", "datapipeline"])


def check(document: PlanDocument) -> None:
    written = document.to_json()
    VALIDATOR.validate(written)
    assert written["version"] == PLAN_VERSION
    assert PlanDocument.from_json(written) == document
    # Through the file's text as well: json keeps every number's value and kind.
    text = json.dumps(written, indent=2, sort_keys=True)
    assert PlanDocument.from_json(json.loads(text)).to_json() == written


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=TABLES, engine=ENGINES, consistent=st.booleans(), max_objects=st.integers(5, 100),
       outside=st.sampled_from(["next", "now"]), hour=st.integers(0, 23))
def test_every_plan_the_planner_writes_validates_and_reads_back_the_same(
        tables: list[tuple[int, int, bool, bool, bool, bool]], engine: str, consistent: bool, max_objects: int,
        outside: str, hour: int) -> None:
    fleet = [descriptor(f"table-{n:03d}", *one) for n, one in enumerate(tables)]
    document = planned(fleet, engine=engine, consistent_read=consistent, max_objects=max_objects,
                       outside_window=outside, starts_at=f"2026-11-23T{hour:02d}:10:00+00:00")
    check(document)


@pytest.mark.parametrize("count", [100, 1000])
def test_a_long_tailed_fleet_plan_validates_and_reads_back_the_same(count: int) -> None:
    fleet = [dict({k: v for k, v in vars(t).items() if k != "facts"},  # facts come from discovery only
                  gsis=[{"name": g, "rcu": rcu} for g, rcu in t.gsis]) for t in long_tailed_fleet(count)]
    document = planned(fleet, model={"account_max_rcu": 10_000_000})
    assert {c.engine for c in document.clusters} >= {"local", "export"}
    check(document)


def test_the_module_result_reads_back_as_the_plan() -> None:
    """What the role registers (warnings as plan_warnings, beside the report and msg) is the same document."""
    outcome = plan_night(PlanRequest(tables=[descriptor("orders", 10 * 1024**3, 5, False, True, True, True)],
                                     starts_at=NIGHT), OFFLINE)
    result = outcome.result()
    assert "warnings" not in result and result["plan_warnings"] == list(outcome.document.warnings)
    assert PlanDocument.from_result(result) == outcome.document
    assert PlanDocument.from_result({"failed": True, "msg": "AccessDenied"}) is None
    assert PlanDocument.from_result(None) is None


def test_a_plan_without_a_version_is_version_1_and_a_later_one_is_refused() -> None:
    written = planned([descriptor("orders", 1024**3, 100, False, False, False, False)]).to_json()
    del written["version"]
    assert PlanDocument.from_json(written).version == 1
    with pytest.raises(InputError) as later:
        PlanDocument.from_json(dict(written, version=PLAN_VERSION + 1))
    assert later.value.field == "plan.version"
    assert "upgrade the collection" in str(later.value)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(dict(written, version=PLAN_VERSION + 1))
    with pytest.raises(InputError) as text:
        PlanDocument.from_json(dict(written, version="1"))
    assert text.value.field == "plan.version"


def _set(path: list[Any], value: Any) -> Any:
    def change(plan: dict[str, Any]) -> None:
        target: Any = plan
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


FACT_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=40, deadline=None)
@given(tags=st.lists(st.tuples(FACT_TEXT, FACT_TEXT), max_size=4),
       ttl=st.none() | st.dictionaries(FACT_TEXT, FACT_TEXT, max_size=2),
       pitr=st.sampled_from([None, "ENABLED", "DISABLED"]),
       scaled=st.none() | st.lists(st.integers(1, 40_000), max_size=2))
def test_the_facts_discovery_read_validate_and_read_back_the_same(tags: list[tuple[str, str]],
                                                                  ttl: dict[str, str] | None, pitr: str | None,
                                                                  scaled: list[int] | None) -> None:
    """A plan carries each table's tags, TTL, PITR status and autoscaling to the local engine (TableFacts): whatever
    they hold, the written plan validates and reads back to the same facts."""
    autoscaling = None if scaled is None else {
        "ScalableTargets": [{"ResourceId": "table/orders", "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                             "MinCapacity": low, "MaxCapacity": low * 2} for low in scaled],
        "ScalingPolicies": [{"ResourceId": "table/orders", "PolicyName": f"p{n}"} for n in range(len(scaled))]}
    facts = TableFacts(shape="0123abcd", tags=tuple(tags), point_in_time_recovery=pitr,
                       time_to_live=None if ttl is None else tuple(sorted(ttl.items())), autoscaling=autoscaling)
    document = planned([descriptor("orders", 1024**3, 100, False, False, False, False)], engine="local")
    (cluster,) = document.clusters
    with_facts = replace(document, clusters=(replace(cluster, tables=tuple(
        replace(t, facts=facts) for t in cluster.tables)),))
    check(with_facts)
    assert PlanDocument.from_json(with_facts.to_json()).clusters[0].tables[0].facts == facts


MALFORMED = [
    (["clusters", 0, "tables", 0, "facts"], {"tags": []}, "plan.clusters[0].tables[0].facts.shape"),
    (["clusters", 0, "tables", 0, "facts"], {"shape": "ab", "tags": [{"Key": "k"}]},
     "plan.clusters[0].tables[0].facts.tags"),
    (["clusters", 0, "tables", 0, "facts"], {"shape": "ab", "time_to_live": "on"},
     "plan.clusters[0].tables[0].facts.time_to_live"),
    (["clusters", 0, "tables", 0, "facts"], {"shape": "ab", "autoscaling": {"ScalableTargets": []}},
     "plan.clusters[0].tables[0].facts.autoscaling"),
    (["clusters", 0, "tables", 0, "facts"],
     {"shape": "ab", "autoscaling": {"ScalableTargets": [{"Min": 1}], "ScalingPolicies": []}},
     "plan.clusters[0].tables[0].facts.autoscaling"),
    (["clusters", 0, "tables", 0, "name"], "../x", "plan.clusters[0].tables[0].name"),
    (["clusters", 0, "tables", 0, "read_percentage"], 2, "plan.clusters[0].tables[0].read_percentage"),
    (["clusters", 0, "tables", 0, "size_bytes"], "big", "plan.clusters[0].tables[0].size_bytes"),
    (["clusters", 0, "tables", 0, "boosted"], "yes", "plan.clusters[0].tables[0].boosted"),
    (["clusters", 0, "tables", 0, "gsis"], {"name": "x"}, "plan.clusters[0].tables[0].gsis"),
    (["clusters", 0, "tables", 0, "autoscaling"], {"min_rcu": 1}, "plan.clusters[0].tables[0].autoscaling.max_rcu"),
    (["clusters", 0, "tables", 0], "orders", "plan.clusters[0].tables[0]"),
    (["clusters", 0, "id"], "c 1", "plan.clusters[0].id"),
    (["clusters", 0, "engine"], "glue", "plan.clusters[0].engine"),
    (["clusters", 0, "tables"], None, "plan.clusters[0].tables"),
    (["clusters", 0, "end_offset_s"], "late", "plan.clusters[0].end_offset_s"),
    (["clusters"], {}, "plan"),
    (["window_s"], 25200.5, "plan.window_s"),
    (["controller", "max_scans"], "64", "plan.controller.max_scans"),
    (["packing", "local", "clusters"], "4", "plan.packing.local.clusters"),
    (["engine_counts", "local"], "1", "plan.engine_counts.local"),
    (["unplannable"], [{"name": "x", "reason": 3}], "plan.unplannable[0].reason"),
    (["warnings"], [None], "plan.warnings[0]"),
    (["night"], {"at": NIGHT}, "plan.night.id"),
    (["window", "starts_at"], "tonight", "plan.window.starts_at"),
    (["deadline"], "soon", "plan.deadline"),
]


@pytest.mark.parametrize(("path", "value", "field"), MALFORMED, ids=[m[2] + "=" + repr(m[1]) for m in MALFORMED])
def test_a_malformed_plan_is_refused_naming_the_field(path: list[Any], value: Any, field: str) -> None:
    written = planned([descriptor("orders", 1024**3, 100, False, False, False, False)], engine="local").to_json()
    broken = copy.deepcopy(written)
    _set(path, value)(broken)
    with pytest.raises(InputError) as refused:
        PlanDocument.from_json(broken)
    assert refused.value.field == field, str(refused.value)
    if path[-1] not in ("end_offset_s",):  # the schema refuses it too (an offset may be any number, not text)
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(broken)


def test_a_table_appears_once_in_its_cluster() -> None:
    cluster = {"id": "c01", "engine": "emr", "tables": [{"name": "orders"}, {"name": "orders"}]}
    with pytest.raises(InputError) as twice:
        PlannedCluster.from_json(cluster, "plan.clusters[0]")
    assert twice.value.field == "plan.clusters[0].tables[1].name"


def test_an_engine_reads_only_its_own_clusters_and_boosts_only_boosted_tables() -> None:
    cluster = {"id": "c02", "tables": [{"name": "orders", "boost_rcu": 300, "boosted": True, "read_percentage": 0.9},
                                       {"name": "users", "boost_rcu": 5, "boosted": False, "read_percentage": 0.5}]}
    emr = PlannedCluster.from_json(cluster, default_engine="emr")
    assert emr.engine == "emr" and [t.boost_target for t in emr.tables] == [300, None]
    refused = emr.with_refused_boosts(["orders"])
    assert [t.share(0.5) for t in refused.tables] == [0.5, 0.5]  # a refused boost reads at the host's share
    assert [t.share(0.5) for t in emr.tables] == [0.9, 0.5]
    with pytest.raises(InputError) as other:
        PlannedCluster.from_json(dict(cluster, engine="export"), engines=("emr",))
    assert other.value.field == "cluster.engine"


def test_the_role_view_names_each_phases_tables() -> None:
    tables = [descriptor(f"table-{n}", 20 * 1024**3, 5, False, False, False, False) for n in range(3)]
    tables.append(descriptor("sessions", 1024**3, 0, True, True, False, False))
    written = planned(tables, engine="emr", window={"start": "01:00", "end": "02:00", "timezone": "UTC"},
                      starts_at="2026-11-23T01:00:00+00:00").to_json()
    assert set(written["clusters_by_engine"]) == {"auto", "local", "export", "emr", "datapipeline"}
    assert written["clusters_by_engine"]["emr"] == written["clusters"]
    boosted = [t for c in written["clusters"] for t in c["tables"] if t["boosted"]]
    assert boosted, "a table of 20 GiB at 5 RCU needs a boost to fit in an hour"
    # Each row is also dynamodb_throughput's `tables` element (name, read_capacity) as it is.
    assert written["cluster_boosts"] == [{"name": t["name"], "rcu": 5, "boost_rcu": t["boost_rcu"],
                                          "read_capacity": t["boost_rcu"]} for t in boosted]
    assert written["boosted_tables"] == [t["name"] for t in boosted]
    assert written["planned_tables"] == [t["name"] for c in written["clusters"] for t in c["tables"]]
    assert written["export_tables"] == []


def test_the_night_is_the_window_opening() -> None:
    document = planned([descriptor("orders", 1024**3, 100, False, False, False, False)],
                       starts_at="2026-11-23T03:00:00+00:00")
    assert document.night is not None and document.window is not None
    assert (document.night.id, document.night.stamp) == ("20261123T000000Z", "2026-11-23-00-00-00")
    assert document.window.opens == datetime(2026, 11, 23, tzinfo=UTC)
    assert document.schedule() == (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 23, 3, tzinfo=UTC),
                                   datetime(2026, 11, 23, 7, tzinfo=UTC))


def test_every_key_the_backup_role_reads_is_written() -> None:
    """roles/backup/tasks read these from the registered plan (`backup_plan.<key>`); the role does not change."""
    roles = Path(__file__).resolve().parents[2] / "roles"
    read = {m.split(".")[1] for f in roles.rglob("*.yml")
            for m in re.findall(r"backup_plan\.[a-z_]+", f.read_text())}
    assert {"night", "window_s", "cluster_boosts", "planned_tables", "boosted_tables"} <= read  # the rest: backup_night
    result = plan_night(PlanRequest(tables=[descriptor("orders", 1024**3, 100, False, False, False, False)],
                                    starts_at=NIGHT), OFFLINE).result()
    assert read <= set(result), read - set(result)
    assert set(result["night"]) == {"at", "id", "stamp"}
