"""The Markdown summary and the SVG Gantt chart drawn from a plan."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import Model, PlanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_report import (
    CHART_W,
    LABEL_W,
    MAX_ROWS,
    Actual,
    gantt_svg,
    markdown,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups
from tests.support.plan_fixtures import account_in_use, long_tailed_fleet

GIB = 1024**3
SVG = "{http://www.w3.org/2000/svg}"


def sample_plan() -> PlanDocument:
    tables = [TableInfo("orders<&>", size_bytes=50 * GIB, rcu=50, pitr=False),
              TableInfo("users", size_bytes=3 * GIB, rcu=100, pitr=True),
              TableInfo("sessions", size_bytes=GIB // 2, billing_mode=ON_DEMAND),
              TableInfo("huge", size_bytes=8 * 1024**4, rcu=10),
              TableInfo("empty", rcu=1)]
    return plan_backups(tables, PlanSettings(window_s=7 * 3600)).document()


def test_markdown_summarises_cost_boosts_and_unplannable():
    plan = sample_plan()
    text = markdown(plan, "plan.svg")
    assert f"${plan.estimated_cost_usd:,.2f}" in text
    assert "| huge |" in text and "table limit" in text
    assert "## Read capacity boosts" in text and "| orders<&> |" in text
    assert f"{len(plan.clusters)} clusters" in text
    assert "![Clusters against time in the window](plan.svg)" in text


def test_svg_is_valid_xml_with_one_bar_per_table():
    plan = sample_plan()
    root = ElementTree.fromstring(gantt_svg(plan))
    titles = [r.find(f"{SVG}title").text for r in root.iter(f"{SVG}rect")]
    planned = [t.name for t in plan.tables()]
    for name in planned:
        assert sum(1 for title in titles if title.startswith(f"{name}:")) == 1
    # Bars never start left of the chart nor past the drawn span.
    xs = [float(r.get("x")) + float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert max(xs) <= float(root.get("width"))


def test_long_plans_are_cut_in_markdown_but_complete_in_svg():
    fleet = long_tailed_fleet(1000)
    model = Model(account_max_rcu=account_in_use(fleet) + 500_000)
    plan = plan_backups(fleet, PlanSettings(window_s=7 * 3600, engine="datapipeline", max_objects=11, model=model,
                                            account_rcu_in_use=account_in_use(fleet))).document().to_json()
    text = markdown(PlanDocument.from_json(plan))
    assert f"{len(plan['clusters']) - MAX_ROWS} more in the plan JSON" in text
    root = ElementTree.fromstring(gantt_svg(PlanDocument.from_json(plan)))
    assert len(list(root.iter(f"{SVG}rect"))) >= sum(len(c["tables"]) for c in plan["clusters"])


def test_controller_load_is_reported_and_drawn_under_its_model():
    fleet = long_tailed_fleet(300)
    in_use = account_in_use(fleet)
    plan = plan_backups(fleet, PlanSettings(window_s=7 * 3600, model=Model(account_max_rcu=in_use + 500_000),
                                            account_rcu_in_use=in_use)).document().to_json()
    controller = plan["controller"]
    text = markdown(PlanDocument.from_json(plan))
    assert (f"at most {controller['peak_scans']} of {controller['max_scans']} scans and "
            f"{controller['peak_bytes_per_s'] / 1024**2:,.1f} MiB/s of 20.0 MiB/s at once") in text
    assert ("Each local table: 0.2 s start-up, 0.03 s of controller CPU (1.92 s in its lane, the lanes taking turns), "
            "9 requests and one per 1 MB Scan page, 10 ms round trip each") in text
    hours = text.split("## Controller load by hour")[1].split("\n## ")[0]
    assert f"| 0h00 | {controller['peak_scans']} |" in hours
    root = ElementTree.fromstring(gantt_svg(PlanDocument.from_json(plan)))
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


def lanes_plan(lanes: list[list[float]], window_s: float) -> dict:
    """A plan of local lanes, each running its tables (planned durations, seconds) one after the other."""
    clusters = []
    for number, durations in enumerate(lanes):
        offsets = [sum(durations[:n]) for n in range(len(durations))]
        clusters.append({"id": f"l{number:02d}", "engine": "local", "start_offset_s": 0, "end_offset_s": sum(durations),
                         "tables": [{"name": f"t{number}-{n}", "start_offset_s": at, "duration_s": took}
                                    for n, (at, took) in enumerate(zip(offsets, durations, strict=True))]})
    return {"window_s": int(window_s), "makespan_s": max(c["end_offset_s"] for c in clusters), "clusters": clusters,
            "estimated_cost_usd": 0.0}


def drawn(svg: str) -> tuple[ElementTree.Element, float]:
    root = ElementTree.fromstring(svg)
    return root, float(root.get("viewBox").split()[2])


SECONDS = st.floats(min_value=1, max_value=8 * 3600)


@settings(max_examples=150, deadline=None)
@given(lanes=st.lists(st.lists(st.tuples(SECONDS, SECONDS), min_size=1, max_size=4), min_size=1, max_size=4),
       window_s=SECONDS, late_start=SECONDS)
def test_every_bar_and_the_window_end_are_inside_the_chart_whatever_the_night_took(
        lanes: list[list[tuple[float, float]]], window_s: float, late_start: float) -> None:
    """Planned and actual durations from a second to eight hours, in any window: every bar has a width and lies
    in the view box, each lane shows a planned and an actual bar, and the window's end is marked in the box."""
    plan = lanes_plan([[planned for planned, _took in lane] for lane in lanes], window_s)
    actual = {}
    for lane, cluster in zip(lanes, plan["clusters"], strict=True):
        at = late_start if cluster["id"] == "l00" else 0.0  # one lane starts late, so the night can overrun
        for (_planned, took), table in zip(lane, cluster["tables"], strict=True):
            actual[table["name"]] = Actual(at, took, ok=True)
            at += took
    root, width = drawn(gantt_svg(PlanDocument.from_json(plan), actual))
    for rect in root.iter(f"{SVG}rect"):
        x, w = float(rect.get("x")), float(rect.get("width"))
        assert w >= 3 and x >= LABEL_W - 0.01 and x + w <= width + 0.01, rect.find(f"{SVG}title").text
    lanes_drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert [g.get("data-lane") for g in lanes_drawn] == [c["id"] for c in plan["clusters"]]
    for lane in lanes_drawn:
        kinds = [r.get("class") for r in lane.iter(f"{SVG}rect")]
        assert "planned" in kinds and "actual" in kinds
    (end,) = [line for line in root.iter(f"{SVG}line") if line.get("class") == "window-end"]
    assert 0 <= float(end.get("x1")) <= width


def test_a_one_minute_night_in_a_seven_hour_window_fills_the_chart() -> None:
    """The picture people open the page for: a short night is drawn across the chart, the window's end shown
    beyond it; an overrun night has the window's end inside the chart, where it fell."""
    plan = lanes_plan([[20.0, 20.0, 20.0]], 7 * 3600)
    actual = {"t0-0": Actual(0, 25, True), "t0-1": Actual(25, 30, True), "t0-2": Actual(55, 8, True)}
    root, _text = drawn(gantt_svg(PlanDocument.from_json(plan), actual))
    bars = {r.find(f"{SVG}title").text.split(":")[0]: float(r.get("width")) for r in root.iter(f"{SVG}rect")}
    assert bars["t0-1 (actual, backed up)"] == pytest.approx(CHART_W * 30 / 63, abs=0.01)  # 63 s fill the chart
    assert bars["t0-0"] == pytest.approx(CHART_W * 20 / 63, abs=0.01)
    beyond = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("window closes")]
    assert beyond == ["window closes at 7h \u2192"]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert ticks[:3] == ["0", "10s", "20s"]

    late = gantt_svg(PlanDocument.from_json(plan), {"t0-2": Actual(3600, 9 * 3600, False)})  # ran past the window's end
    root, _text = drawn(late)
    (end,) = [line for line in root.iter(f"{SVG}line") if line.get("class") == "window-end"]
    assert float(end.get("x1")) == pytest.approx(LABEL_W + CHART_W * 7 / 10, abs=0.1)
    assert not [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("window closes")]
