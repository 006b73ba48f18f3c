"""The morning report of a plan: a Markdown summary and an SVG Gantt chart of clusters in the window,
with the controller's planned load (concurrent local scans and their bytes/s) under it.

Both are drawn from the plan document (docs/planning.md), not from planner internals, so a saved
plan can be rendered again later (`PlanDocument.from_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    ControllerModel,
    PlanDocument,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import usd
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.controller_load import Load, load_of

MAX_ROWS = 50  # longer lists are cut in the Markdown; the JSON holds everything
ENGINE_COLOURS = {"datapipeline": "#4e79a7", "emr": "#59a14f", "export": "#f28e2b", "local": "#b07aa1"}
BOOTSTRAP_COLOUR = "#bab0ac"
BYTES_COLOUR = "#76b7b2"
FAILED_COLOUR = "#e15759"
LABEL_W, CHART_W, RIGHT_W, ROW_H, TOP, BOTTOM, BAND_H = 90, 900, 10, 14, 28, 24, 60
NIGHT_ROW_H = 22  # a row of the night's chart holds two bars: planned above, actual below
MIN_BAR_W = 3.0  # a bar of a second in a night of hours is still seen (and can be hovered)
# Gridline steps, in seconds: the first that draws at most MAX_TICKS lines over the chart's span.
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_TICKS = 12


@dataclass(frozen=True)
class Actual:
    """When one table's backup really ran, in seconds from the plan's start, and whether it was backed up."""

    start_offset_s: float
    duration_s: float
    ok: bool


def _clock(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}"


def controller_load(plan: PlanDocument) -> Load:
    """The planned load of the local lanes, from each table's offset, duration and read rate."""
    per_unit = plan.controller.bytes_per_read_unit if plan.controller else 0
    return load_of((int(t.start_offset_s), int(t.duration_s), (t.read_units_per_second or 0) * per_unit)
                   for c in plan.clusters_of("local") for t in c.tables)


def _mib(value: float) -> str:
    return f"{value / 1024**2:,.1f} MiB/s"


def markdown(plan: PlanDocument, gantt_file: str | None = None) -> str:
    tables = plan.tables()
    costs = ", ".join(f"{kind.replace('_', ' ')} {usd(value)}" for kind, value in plan.cost_breakdown_usd.items())
    lines = [
        "# DynamoDB backup plan", "",
        f"- Window: {_clock(plan.window_s)} ({plan.window_s} s), engine `{plan.engine}`, "
        f"last table done at {_clock(plan.makespan_s)}",
        f"- Tables: {len(tables)} planned in {len(plan.clusters)} clusters "
        f"({', '.join(f'{n} {e}' for e, n in plan.engine_counts.items()) or 'none'}), "
        f"{len(plan.unplannable)} unplannable",
        f"- Estimated cost: **{usd(plan.estimated_cost_usd)}** "
        f"({costs})",
    ]
    controller = plan.controller
    if controller:
        lines.append(f"- Controller (local lanes): at most {controller.peak_scans} of {controller.max_scans} "
                     f"scans and {_mib(controller.peak_bytes_per_s)} of {_mib(controller.bytes_per_s)} "
                     f"at once")
        if controller.request_latency_s is not None:
            cpu = (f", {controller.local_table_cpu_s} s of controller CPU ({controller.local_cpu_s} s in its "
                   "lane, the lanes taking turns)" if controller.local_cpu_s is not None else "")
            lines.append(f"- Each local table: {controller.local_activity_s} s start-up{cpu}, "
                         f"{controller.requests_per_table} requests and one per 1 MB Scan page, "
                         f"{controller.request_latency_s * 1000:g} ms round trip each")
    baseline = plan.baseline
    if baseline:
        lines.append(f"- Seed rule for comparison: {usd(baseline.estimated_cost_usd)} with "
                     f"{baseline.clusters} clusters, {baseline.unplannable} unplannable")
    if plan.packing:
        lines += ["", "| engine | clusters | lower bound | next-fit ascending | method |", "|---|---:|---:|---:|---|"]
        lines += [f"| {e} | {p.clusters} | {p.lower_bound} | {p.next_fit_ascending} | {p.method} |"
                  for e, p in plan.packing.items()]
    steps = controller_load(plan).steps if controller else []
    if steps:
        lines += ["", "## Controller load by hour", "", "| hour | most scans at once | most bytes/s |",
                  "|---|---:|---:|"]
        lines += [f"| {_clock(hour * 3600)} | {scans} | {_mib(rate)} |" for hour, scans, rate in _hourly(steps)]
    if plan.unplannable:
        lines += ["", "## Unplannable tables", "", "| table | reason |", "|---|---|"]
        lines += [f"| {u.name} | {u.reason} |" for u in plan.unplannable]
    if plan.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in plan.warnings]
    boosted = [t for t in tables if t.boosted]
    if boosted:
        lines += ["", "## Read capacity boosts", "", "| table | RCU | during backup | backup share | duration |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {t.name} | {t.rcu} | {t.boost_rcu} | {t.read_percentage:.2%} | "
                  f"{_clock(t.duration_s)} |" for t in sorted(boosted, key=lambda t: -(t.boost_rcu or 0))[:MAX_ROWS]]
        lines += _cut(len(boosted))
    lines += ["", "## Clusters", "", "| cluster | engine | tables | start | end | cost |",
              "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {c.id} | {c.engine} | {len(c.tables)} | {_clock(c.start_offset_s)} | "
              f"{_clock(c.end_offset_s)} | {usd(c.estimated_cost_usd)} |" for c in plan.clusters[:MAX_ROWS]]
    lines += _cut(len(plan.clusters))
    if gantt_file:
        lines += ["", f"![Clusters against time in the window]({gantt_file})"]
    return "\n".join(lines) + "\n"


def _hourly(steps: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Peak scans and bytes/s in each hour with load; a step counts in every hour it spans."""
    peaks: dict[int, tuple[int, float]] = {}
    for (at, scans, rate), following in zip(steps, [*steps[1:], None], strict=True):
        end = following[0] if following else at + 1
        for hour in range(at // 3600, (end - 1) // 3600 + 1):
            held = peaks.get(hour, (0, 0.0))
            peaks[hour] = (max(held[0], scans), max(held[1], rate))
    return [(hour, *peak) for hour, peak in sorted(peaks.items()) if peak[0]]


def _cut(count: int) -> list[str]:
    return [f"| ... {count - MAX_ROWS} more in the plan JSON | | | | | |"] if count > MAX_ROWS else []


def gantt_svg(plan: PlanDocument, actual: dict[str, Actual] | None = None) -> str:
    """One row per cluster (a local lane is a cluster), one bar per table; exports run side by side, so each
    gets a row.

    The time axis spans what was planned and what ran, not the window: a night of one minute in a seven-hour
    window still fills the chart. The window's end is a red line where it falls, or an arrow at the right edge
    when it falls beyond. Every bar is at least MIN_BAR_W wide, so a table of a second still shows.

    With `actual` (table name -> when it ran, counted from the plan's start, and whether it was backed up), each
    row shows the planned bars in its upper half and what happened in its lower half."""
    ends = [ran.start_offset_s + ran.duration_s for ran in (actual or {}).values()]
    ends += [c.end_offset_s for c in plan.clusters]
    span = max(float(plan.makespan_s), *ends, 1.0)
    scale = CHART_W / span
    rows: list[tuple[str, list[tuple[float, float, str, str, str | None]]]] = []
    for cluster in plan.clusters:
        bars: list[tuple[float, float, str, str, str | None]] = [
            (t.start_offset_s, t.duration_s, cluster.engine,
             f"{t.name}: {_moment(t.start_offset_s)} to {_moment(t.start_offset_s + t.duration_s)}", t.name)
            for t in cluster.tables]
        if cluster.engine == "export":
            rows += [(cluster.id, [one]) for one in bars]
            continue
        first = min((t.start_offset_s for t in cluster.tables), default=cluster.start_offset_s)
        if first > cluster.start_offset_s:
            bars.insert(0, (cluster.start_offset_s, first - cluster.start_offset_s, "bootstrap",
                            f"{cluster.id} start-up", None))
        rows.append((cluster.id, bars))
    row_h = ROW_H if actual is None else NIGHT_ROW_H
    controller = plan.controller
    band = BAND_H if controller else 0
    width, height = LABEL_W + CHART_W + RIGHT_W, TOP + row_h * len(rows) + band + BOTTOM
    caption = (f"Backup night: {len(rows)} rows, planned (upper half) and actual (lower half), window "
               f"{_clock(plan.window_s)}" if actual is not None else
               f"Backup plan: {len(rows)} rows, window {_clock(plan.window_s)}, "
               f"estimated {escape(usd(plan.estimated_cost_usd))}")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<text x="4" y="14" font-size="12">{caption}</text>']
    step = next((s for s in TICK_STEPS_S if span / s <= MAX_TICKS), TICK_STEPS_S[-1])
    for n in range(int(span // step) + 1):
        x = LABEL_W + n * step * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{_moment(n * step)}</text>')
    bar_h = (row_h - 2) / 2 if actual is not None else row_h - 2
    for number, (label, bars) in enumerate(rows):
        y = TOP + number * row_h
        out.append(f'<g class="lane" data-lane="{escape(label)}">'
                   f'<text x="4" y="{y + row_h / 2 + 3:.1f}">{escape(label)}</text>')
        for start, duration, kind, title, name in bars:
            out.append(_bar(start, duration, y + 1, bar_h, scale, ENGINE_COLOURS.get(kind, BOOTSTRAP_COLOUR), title,
                            "planned" if name else "start-up"))
            ran = (actual or {}).get(name) if name else None
            if ran is not None:
                colour = ENGINE_COLOURS[kind] if ran.ok else FAILED_COLOUR
                out.append(_bar(ran.start_offset_s, ran.duration_s, y + 1 + bar_h, bar_h, scale, colour,
                                f"{name} (actual, {'backed up' if ran.ok else 'not backed up'}): "
                                f"{_moment(ran.start_offset_s)} to {_moment(ran.start_offset_s + ran.duration_s)}",
                                "actual"))
        out.append("</g>")
    if controller:
        out += _load_band(controller, controller_load(plan), TOP + row_h * len(rows) + 4, scale, span)
    out += _window_end(plan.window_s, span, scale, height)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _moment(seconds: float) -> str:
    """A time from the plan's start, as short as it can be said: 0, 45s, 1m03s, 2h, 6h59m."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h" + (f"{minutes:02d}m" if minutes or secs else "") + (f"{secs:02d}s" if secs else "")
    if minutes:
        return f"{minutes}m" + (f"{secs:02d}s" if secs else "")
    return f"{secs}s" if secs else "0"


def _window_end(window_s: float, span: float, scale: float, height: int) -> list[str]:
    """The window's end: a red line where it falls on the chart, or an arrow at the right edge, labelled with
    when it falls, when it is beyond everything planned and run."""
    label = f"window closes at {_moment(window_s)}"
    if window_s <= span:
        x = LABEL_W + window_s * scale
        return [f'<line class="window-end" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - BOTTOM}" '
                f'stroke="{FAILED_COLOUR}" stroke-width="1.5"><title>{label}</title></line>']
    x = LABEL_W + CHART_W + RIGHT_W - 2
    return [f'<line class="window-end" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - BOTTOM}" '
            f'stroke="{FAILED_COLOUR}" stroke-width="1.5" stroke-dasharray="4,3"><title>{label}, beyond the chart'
            f'</title></line>',
            f'<text x="{x - 2:.1f}" y="{TOP - 8}" text-anchor="end" fill="{FAILED_COLOUR}">{label} &#8594;</text>']


def _bar(start: float, duration: float, y: float, height: float, scale: float, colour: str, title: str,
         kind: str) -> str:
    # At least MIN_BAR_W wide, and moved left rather than past the chart's right edge.
    width = max(duration * scale, MIN_BAR_W)
    x = min(LABEL_W + start * scale, LABEL_W + CHART_W - width)
    return (f'<rect class="{kind}" x="{x:.2f}" y="{y:.1f}" width="{width:.2f}" '
            f'height="{height:.1f}" fill="{colour}" stroke="#fff" stroke-width="0.3"><title>{escape(title)}</title>'
            f'</rect>')


def _load_band(controller: ControllerModel, load: Load, top: int, scale: float, span: float) -> list[str]:
    """Concurrent scans (filled) and bytes/s (line) as shares of the controller's model (the top edge)."""
    height = BAND_H - 8
    bottom = top + height

    def points(share_of: Any) -> str:
        coords: list[tuple[float, float]] = [(LABEL_W, bottom)]
        for at, scans, rate in load.steps:
            x = LABEL_W + min(at, span) * scale
            y = bottom - min(1.0, share_of(scans, rate)) * height
            coords += [(x, coords[-1][1]), (x, y)]
        coords.append((LABEL_W + span * scale, coords[-1][1]))
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)

    scans_title = f"concurrent scans, at most {controller.peak_scans} of {controller.max_scans}"
    bytes_title = f"read bytes/s, at most {_mib(controller.peak_bytes_per_s)} of {_mib(controller.bytes_per_s)}"
    return [
        f'<text x="4" y="{top + 12}">controller</text>',
        f'<rect x="{LABEL_W}" y="{top}" width="{span * scale:.2f}" height="{height}" fill="none" stroke="#999" '
        f'stroke-dasharray="3,2"><title>the controller model: {controller.max_scans} scans, '
        f'{escape(_mib(controller.bytes_per_s))}</title></rect>',
        f'<polygon points="{points(lambda scans, _: scans / controller.max_scans)}" '
        f'fill="{ENGINE_COLOURS["local"]}" fill-opacity="0.5"><title>{escape(scans_title)}</title></polygon>',
        f'<polyline points="{points(lambda _, rate: rate / controller.bytes_per_s)}" fill="none" '
        f'stroke="{BYTES_COLOUR}" stroke-width="1.2"><title>{escape(bytes_title)}</title></polyline>',
    ]
