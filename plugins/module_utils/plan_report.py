"""The morning report of a plan: a Markdown summary and an SVG Gantt chart of clusters in the window.

Both are drawn from the plan JSON (DESIGN.md section 5), not from planner internals, so a saved
plan can be rendered again later.
"""

from __future__ import annotations

from html import escape
from typing import Any

MAX_ROWS = 50  # longer lists are cut in the Markdown; the JSON holds everything
ENGINE_COLOURS = {"datapipeline": "#4e79a7", "emr": "#59a14f", "export": "#f28e2b", "local": "#b07aa1"}
BOOTSTRAP_COLOUR = "#bab0ac"
LABEL_W, CHART_W, ROW_H, TOP, BOTTOM = 90, 900, 14, 28, 24


def _clock(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def markdown(plan: dict[str, Any], gantt_file: str | None = None) -> str:
    tables = [t for c in plan["clusters"] for t in c["tables"]]
    costs = ", ".join(f"{kind.replace('_', ' ')} {_usd(value)}" for kind, value in plan["cost_breakdown_usd"].items())
    lines = [
        "# DynamoDB backup plan", "",
        f"- Window: {_clock(plan['window_s'])} ({plan['window_s']} s), engine `{plan['engine']}`, "
        f"last table done at {_clock(plan['makespan_s'])}",
        f"- Tables: {len(tables)} planned in {len(plan['clusters'])} clusters "
        f"({', '.join(f'{n} {e}' for e, n in plan['engine_counts'].items()) or 'none'}), "
        f"{len(plan['unplannable'])} unplannable",
        f"- Estimated cost: **{_usd(plan['estimated_cost_usd'])}** "
        f"({costs})",
    ]
    baseline = plan.get("baseline") or {}
    if baseline:
        lines.append(f"- Seed rule for comparison: {_usd(baseline['estimated_cost_usd'])} with "
                     f"{baseline['clusters']} clusters, {baseline['unplannable']} unplannable")
    if plan["packing"]:
        lines += ["", "| engine | clusters | lower bound | next-fit ascending | method |", "|---|---:|---:|---:|---|"]
        lines += [f"| {e} | {p['clusters']} | {p['lower_bound']} | {p['next_fit_ascending']} | {p['method']} |"
                  for e, p in plan["packing"].items()]
    if plan["unplannable"]:
        lines += ["", "## Unplannable tables", "", "| table | reason |", "|---|---|"]
        lines += [f"| {u['name']} | {u['reason']} |" for u in plan["unplannable"]]
    if plan["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in plan["warnings"]]
    boosted = [t for t in tables if t["boosted"]]
    if boosted:
        lines += ["", "## Read capacity boosts", "", "| table | RCU | during backup | backup share | duration |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {t['name']} | {t['rcu']} | {t['boost_rcu']} | {t['read_percentage']:.2%} | "
                  f"{_clock(t['duration_s'])} |" for t in sorted(boosted, key=lambda t: -t["boost_rcu"])[:MAX_ROWS]]
        lines += _cut(len(boosted))
    lines += ["", "## Clusters", "", "| cluster | engine | tables | start | end | cost |",
              "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {c['id']} | {c['engine']} | {len(c['tables'])} | {_clock(c['start_offset_s'])} | "
              f"{_clock(c['end_offset_s'])} | {_usd(c['estimated_cost_usd'])} |" for c in plan["clusters"][:MAX_ROWS]]
    lines += _cut(len(plan["clusters"]))
    if gantt_file:
        lines += ["", f"![Clusters against time in the window]({gantt_file})"]
    return "\n".join(lines) + "\n"


def _cut(count: int) -> list[str]:
    return [f"| ... {count - MAX_ROWS} more in the plan JSON | | | | | |"] if count > MAX_ROWS else []


def gantt_svg(plan: dict[str, Any]) -> str:
    """One row per cluster, one bar per table; exports run side by side, so each gets a row."""
    span = max(plan["window_s"], plan["makespan_s"], 1)
    scale = CHART_W / span
    rows: list[tuple[str, list[tuple[int, int, str, str]]]] = []
    for cluster in plan["clusters"]:
        bars = [(t["start_offset_s"], t["duration_s"], cluster["engine"],
                 f"{t['name']}: {_clock(t['start_offset_s'])} to {_clock(t['start_offset_s'] + t['duration_s'])}")
                for t in cluster["tables"]]
        if cluster["engine"] == "export":
            rows += [(cluster["id"], [bar]) for bar in bars]
            continue
        first = min((t["start_offset_s"] for t in cluster["tables"]), default=cluster["start_offset_s"])
        if first > cluster["start_offset_s"]:
            bars.insert(0, (cluster["start_offset_s"], first - cluster["start_offset_s"], "bootstrap",
                            f"{cluster['id']} start-up"))
        rows.append((cluster["id"], bars))
    width, height = LABEL_W + CHART_W + 10, TOP + ROW_H * len(rows) + BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<text x="4" y="14" font-size="12">Backup plan: {len(rows)} rows, window {_clock(plan["window_s"])}, '
           f'estimated {escape(_usd(plan["estimated_cost_usd"]))}</text>']
    for hour in range(0, span // 3600 + 1):
        x = LABEL_W + hour * 3600 * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{hour}h</text>')
    for number, (label, bars) in enumerate(rows):
        y = TOP + number * ROW_H
        out.append(f'<text x="4" y="{y + ROW_H - 4}">{escape(label)}</text>')
        for start, duration, kind, title in bars:
            colour = ENGINE_COLOURS.get(kind, BOOTSTRAP_COLOUR)
            out.append(f'<rect x="{LABEL_W + start * scale:.2f}" y="{y + 1}" width="{max(duration * scale, 0.5):.2f}" '
                       f'height="{ROW_H - 2}" fill="{colour}" stroke="#fff" stroke-width="0.3">'
                       f'<title>{escape(title)}</title></rect>')
    end_x = LABEL_W + plan["window_s"] * scale
    out.append(f'<line x1="{end_x:.1f}" y1="{TOP - 6}" x2="{end_x:.1f}" y2="{height - BOTTOM}" stroke="#e15759" '
               f'stroke-width="1.5"><title>window closes</title></line>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
