"""The run report as data, and its two renderings: Markdown and one self-contained HTML page.

report_sections.py fills the model from the night's results; this file only lays it out, so the two formats
always hold the same sections, facts, lines and rows. Values are escaped here and nowhere else: HTML-escaped
in the page; in Markdown a `|` becomes `/` and a line break a space, so a value never breaks a table row, and a
`<` is backslash-escaped, so a name or an error never becomes a tag where the Markdown is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# Long values (backup URLs, errors) wrap inside their cell, so the widest table still fits the screen.
STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222;line-height:1.35}
table{border-collapse:collapse;font-size:13px;margin:.4em 0 1.2em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f2f2f2}
td{overflow-wrap:anywhere;max-width:30em}tr:nth-child(even) td{background:#fafafa}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.failed td,tr.running td{background:#fde2e1}tr.not-run td{background:#fff4d6}
svg{max-width:100%;height:auto}"""


class Strong(str):
    """A part of a line shown bold."""

    __slots__ = ()


Line = tuple[str, ...]  # one paragraph or list item, in parts; a Strong part is bold


@dataclass(frozen=True)
class Table:
    """Rows of cells under `heads`; `numeric` columns align right; `kinds` (one per row) colour a row in HTML."""

    heads: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading (none for the report's head), then paragraphs, facts (label and value),
    list items and a table (left out when it has no rows), in that order. `figure` is inline SVG: only the page
    can show it, and the Markdown names the page among its facts. A section with nothing to show is left out."""

    title: str = ""
    paragraphs: tuple[Line, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    items: tuple[Line, ...] = ()
    table: Table | None = None
    figure: str = ""


def markdown(title: str, sections: list[Section]) -> str:
    """The report as Markdown: `# title`, then each section that has something to show."""
    out = [f"# {_md(title)}"]
    for section in sections:
        body = _md_body(section)
        if body:
            out += [f"## {_md(section.title)}"] if section.title else []
            out += body
    return "\n\n".join(out) + "\n"


def _md_body(section: Section) -> list[str]:
    """The section's blocks, each to be separated by a blank line."""
    blocks = [_md_line(p) for p in section.paragraphs]
    if section.facts:
        blocks.append("\n".join(f"- {_md(label)}: {_md(value)}" for label, value in section.facts))
    if section.items:
        blocks.append("\n".join(f"- {_md_line(item)}" for item in section.items))
    if section.table and section.table.rows:
        table = section.table
        rule = ("---:" if n in table.numeric else "---" for n in range(len(table.heads)))
        lines = [_md_row(table.heads), "|" + "|".join(rule) + "|", *(_md_row(row) for row in table.rows)]
        blocks.append("\n".join(lines))
    return blocks


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def _md_line(line: Line) -> str:
    return "".join(f"**{_md(part)}**" if isinstance(part, Strong) else _md(part) for part in line)


def _md(value: str) -> str:
    return " ".join(str(value).replace("|", "/").replace("<", "\\<").splitlines())


def html(title: str, sections: list[Section]) -> str:
    """The report as one HTML page with nothing to fetch: style inline, figures inline SVG, every value escaped."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{_h(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", f"<h1>{_h(title)}</h1>"]
    for section in sections:
        body = _html_body(section)
        if body:
            out += [f"<h2>{_h(section.title)}</h2>"] if section.title else []
            out += body
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _html_body(section: Section) -> list[str]:
    out = [f"<p>{_html_line(p)}</p>" for p in section.paragraphs]
    if section.facts:
        out += ["<table>", *(f"<tr><th>{_h(label)}</th><td>{_h(value)}</td></tr>" for label, value in section.facts),
                "</table>"]
    if section.items:
        out += ["<ul>", *(f"<li>{_html_line(item)}</li>" for item in section.items), "</ul>"]
    if section.table and section.table.rows:
        table = section.table
        out += ["<table>", "<tr>" + "".join(f"<th>{_h(head)}</th>" for head in table.heads) + "</tr>"]
        for n, row in enumerate(table.rows):
            kind = f' class="{_h(table.kinds[n])}"' if n < len(table.kinds) else ""
            out.append(f"<tr{kind}>" + "".join(
                f'<td class="n">{_h(c)}</td>' if i in table.numeric else f"<td>{_h(c)}</td>"
                for i, c in enumerate(row)) + "</tr>")
        out.append("</table>")
    if section.figure:
        out.append(section.figure)  # drawn by plan_report.gantt_svg, which escapes every name it writes
    return out


def _html_line(line: Line) -> str:
    return "".join(f"<strong>{_h(part)}</strong>" if isinstance(part, Strong) else _h(part) for part in line)


def _h(value: str) -> str:
    return escape(str(value), quote=True)
