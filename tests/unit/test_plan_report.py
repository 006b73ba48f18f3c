"""The Markdown summary and the SVG Gantt chart drawn from a plan."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    ON_DEMAND,
    Model,
    PlanSettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_report import (
    MAX_ROWS,
    gantt_svg,
    markdown,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups
from tests.support.plan_fixtures import account_in_use, long_tailed_fleet

GIB = 1024**3
SVG = "{http://www.w3.org/2000/svg}"


def sample_plan() -> dict:
    tables = [TableInfo("orders<&>", size_bytes=50 * GIB, rcu=50, pitr=False),
              TableInfo("users", size_bytes=3 * GIB, rcu=100, pitr=True),
              TableInfo("sessions", size_bytes=GIB // 2, billing_mode=ON_DEMAND),
              TableInfo("huge", size_bytes=8 * 1024**4, rcu=10),
              TableInfo("empty", rcu=1)]
    return plan_backups(tables, PlanSettings(window_s=7 * 3600)).to_dict()


def test_markdown_summarises_cost_boosts_and_unplannable():
    plan = sample_plan()
    text = markdown(plan, "plan.svg")
    assert f"${plan['estimated_cost_usd']:,.2f}" in text
    assert "| huge |" in text and "table limit" in text
    assert "## Read capacity boosts" in text and "| orders<&> |" in text
    assert f"{len(plan['clusters'])} clusters" in text
    assert "![Clusters against time in the window](plan.svg)" in text


def test_svg_is_valid_xml_with_one_bar_per_table():
    plan = sample_plan()
    root = ElementTree.fromstring(gantt_svg(plan))
    titles = [r.find(f"{SVG}title").text for r in root.iter(f"{SVG}rect")]
    planned = [t["name"] for c in plan["clusters"] for t in c["tables"]]
    for name in planned:
        assert sum(1 for title in titles if title.startswith(f"{name}:")) == 1
    # Bars never start left of the chart nor past the drawn span.
    xs = [float(r.get("x")) + float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert max(xs) <= float(root.get("width"))


def test_long_plans_are_cut_in_markdown_but_complete_in_svg():
    fleet = long_tailed_fleet(1000)
    model = Model(account_max_rcu=account_in_use(fleet) + 500_000)
    plan = plan_backups(fleet, PlanSettings(window_s=7 * 3600, engine="datapipeline", max_objects=11, model=model,
                                            account_rcu_in_use=account_in_use(fleet))).to_dict()
    text = markdown(plan)
    assert f"{len(plan['clusters']) - MAX_ROWS} more in the plan JSON" in text
    root = ElementTree.fromstring(gantt_svg(plan))
    assert len(list(root.iter(f"{SVG}rect"))) >= sum(len(c["tables"]) for c in plan["clusters"])


def test_controller_load_is_reported_and_drawn_under_its_model():
    fleet = long_tailed_fleet(300)
    in_use = account_in_use(fleet)
    plan = plan_backups(fleet, PlanSettings(window_s=7 * 3600, model=Model(account_max_rcu=in_use + 500_000),
                                            account_rcu_in_use=in_use)).to_dict()
    controller = plan["controller"]
    text = markdown(plan)
    assert (f"at most {controller['peak_scans']} of {controller['max_scans']} scans and "
            f"{controller['peak_bytes_per_s'] / 1024**2:,.1f} MiB/s of 20.0 MiB/s at once") in text
    hours = text.split("## Controller load by hour")[1].split("\n## ")[0]
    assert f"| 0h00 | {controller['peak_scans']} |" in hours
    root = ElementTree.fromstring(gantt_svg(plan))
    [model_box] = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title").text.startswith("the controller")]
    top = float(model_box.get("y"))
    for shape in (*root.iter(f"{SVG}polygon"), *root.iter(f"{SVG}polyline")):
        ys = [float(point.split(",")[1]) for point in shape.get("points").split()]
        assert min(ys) >= top - 0.05  # the load never rises above the model's edge
        assert shape.find(f"{SVG}title").text.split(",")[0] in ("concurrent scans", "read bytes/s")
    # The busiest instant reaches the model's edge when the scans are all taken.
    scans = next(root.iter(f"{SVG}polygon"))
    assert controller["peak_scans"] == controller["max_scans"]
    assert min(float(p.split(",")[1]) for p in scans.get("points").split()) == pytest.approx(top, abs=0.05)
