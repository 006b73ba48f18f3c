"""A real night's HTML report, rendered by headless Chromium (Debian's package; `make test` installs it when it
runs as root): the Gantt chart draws a planned and an actual bar per lane that a person can see, the tables are
there, and the page asks the network for nothing but itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client
from tests.support.ansible_run import run_playbook
from tests.support.headless_chromium import CHROMIUM, Chromium
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is missing: `make test` installs Debian's chromium package when run as root "
           "(apt-get install chromium); without root it cannot, and this test cannot run")

# What the page shows, read from the rendered DOM: sizes as laid out, not as written in the file.
RENDERED = """(() => {
  const box = e => e.getBoundingClientRect();
  const widths = (g, kind) => [...g.querySelectorAll(`rect.${kind}`)].map(r => box(r).width);
  return {
    lanes: [...document.querySelectorAll("svg g.lane")].map(g => ({
      lane: g.getAttribute("data-lane"), planned: widths(g, "planned"), actual: widths(g, "actual")})),
    chart: (({left, width}) => ({left, width}))(box(document.querySelector("svg"))),
    lastEnd: Math.max(...[...document.querySelectorAll("svg rect.actual, svg rect.planned")].map(r => box(r).right)),
    windowEnd: box(document.querySelector("svg line.window-end")).left,
    headings: [...document.querySelectorAll("h2")].map(h => h.textContent),
    tables: [...document.querySelectorAll("table")].map(t => ({
      rows: t.rows.length, width: box(t).width,
      cells: [...t.querySelectorAll("td")].filter(td => box(td).width > 0).map(td => td.textContent)})),
    links: [...document.querySelectorAll("*")].flatMap(e => [...e.attributes])
      .filter(a => /^(src|href|xlink:href|srcset|action|poster|data)$/.test(a.name)).map(a => a.value),
    cssUrls: [...document.styleSheets].flatMap(s => [...s.cssRules]).map(r => r.cssText)
      .filter(t => t.includes("url(")),
    scripts: document.scripts.length,
    screen: document.documentElement.clientWidth,
  };
})()"""


@pytest.fixture
def night_page(dynalite_server: Any, unique_name: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """A small night through the backup role on dynalite: three tables, side by side on the local lanes."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-a", f"{unique_name}-b", f"{unique_name}-c"]
    for count, name in zip((300, 40, 5), names, strict=True):
        create_table(ddb, name, rcu=100)
        put_items(ddb, name, simple_items(count))
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path / 'backups'}",
                    hippolyte_include=names)
    night = run_playbook("playbooks/backup.yml", inv)
    assert night.returncode == 0, night.stdout[-3000:] + night.stderr[-2000:]
    (page,) = (tmp_path / "reports").glob("night-backup-*.html")
    return page, names


def test_the_night_report_renders_its_bars_and_tables_and_fetches_nothing(
        night_page: tuple[Path, list[str]], tmp_path: Path) -> None:
    page, names = night_page
    browser = Chromium(tmp_path / "chromium-profile")  # a fresh profile: nothing cached, nothing signed in
    try:
        session = browser.open(page.as_uri())
        shown = browser.evaluate(session, RENDERED)
        asked = browser.requests(session)
    finally:
        browser.close()

    assert shown["lanes"], "the page draws no lane"
    for lane in shown["lanes"]:  # a planned and an actual bar per lane, each wide enough to see
        assert lane["planned"] and min(lane["planned"]) >= 1, lane
        assert lane["actual"] and min(lane["actual"]) >= 1, lane
    # A night of seconds is drawn across the chart (to the later of its planned and actual end), not as a
    # hairline at the left of its eight-hour window, whose end is marked inside the picture.
    chart = shown["chart"]
    assert chart["left"] + 0.8 * chart["width"] < shown["lastEnd"] <= chart["left"] + chart["width"], shown
    assert chart["left"] < shown["windowEnd"] <= chart["left"] + chart["width"], shown
    assert {"Planned and actual", "Tables"} <= set(shown["headings"])
    facts, *rest = shown["tables"]
    assert "OK" in facts["cells"] and all(0 < t["width"] <= shown["screen"] for t in shown["tables"])  # no sideways
    (per_table,) = [t for t in rest if set(names) <= set(t["cells"])]  # every table's row, laid out
    assert per_table["rows"] == len(names) + 1
    # Nothing leaves the page: no script, no link or URL in the DOM or its style, and the network log holds
    # the page itself only.
    assert shown["scripts"] == 0 and shown["links"] == [] and shown["cssUrls"] == []
    assert asked == [page.as_uri()]
