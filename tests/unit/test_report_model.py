"""report_model: the run report laid out as Markdown and as one HTML page; the same sections in both, empty ones
left out, and no value, whatever it holds, breaks a table row or becomes markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_model import (
    Section,
    Strong,
    Table,
    html,
    markdown,
)

SECTIONS = [
    Section(paragraphs=((Strong("Night OK"), " at 01:00"),), facts=(("Status", "OK"), ("Items", "1,200"))),
    Section("Empty", items=(), table=Table(("a",), ())),  # nothing to show: left out of both
    Section("Tables", table=Table(("table", "items"), (("orders", "1200"), ("users", "0")), frozenset({1}),
                                  ("ok", "failed"))),
    Section("Chart", figure='<svg id="gantt"></svg>'),
    Section("Notes", items=(("boost of ", Strong("orders"), " put back"),)),
]


def test_markdown_lays_out_every_section_with_something_to_show() -> None:
    assert markdown("Night of 2026-11-23", SECTIONS) == "\n\n".join([
        "# Night of 2026-11-23",
        "**Night OK** at 01:00",
        "- Status: OK\n- Items: 1,200",
        "## Tables",
        "| table | items |\n|---|---:|\n| orders | 1200 |\n| users | 0 |",
        "## Notes",
        "- boost of **orders** put back",
    ]) + "\n"


def test_the_page_holds_the_same_sections_the_figure_and_row_kinds() -> None:
    page = html("Night of 2026-11-23", SECTIONS)
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    assert re.findall(r"<h2>(.*?)</h2>", page) == ["Tables", "Chart", "Notes"]
    assert "<p><strong>Night OK</strong> at 01:00</p>" in page
    assert "<tr><th>Status</th><td>OK</td></tr>" in page
    assert '<tr class="failed"><td>users</td><td class="n">0</td></tr>' in page
    assert '<svg id="gantt"></svg>' in page and "Empty" not in page
    assert "<li>boost of <strong>orders</strong> put back</li>" in page
    assert not re.search(r"<(link|script|img)\b", page)  # nothing to fetch


def test_a_value_never_becomes_a_tag_or_breaks_a_row() -> None:
    hostile = 'a|b\nc<script>alert("x")</script>&'
    section = [Section("T", facts=(("error", hostile),), table=Table(("name",), ((hostile,),)))]
    text = markdown("t", section)
    assert "| a/b c\\<script>alert(\"x\")\\</script>& |" in text and "<script" not in text.replace("\\<", "")
    page = html("t", section)
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page


CELLS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@settings(max_examples=50, deadline=None)
@given(heads=st.lists(CELLS, min_size=1, max_size=4), data=st.data())
def test_every_markdown_row_has_exactly_its_cells(heads: list[str], data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.lists(CELLS, min_size=len(heads), max_size=len(heads)).map(tuple), min_size=1,
                              max_size=3))
    text = markdown("t", [Section(table=Table(tuple(heads), tuple(rows)))])
    lines = text.rstrip("\n").split("\n\n")[1].split("\n")
    assert len(lines) == len(rows) + 2
    assert all(line.count("|") == len(heads) + 1 for line in lines)


class Texts(HTMLParser):
    """The page's elements and text, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td":
            self.cells.append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        self.in_cell = self.in_cell and tag != "td"

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.cells[-1] += data


@settings(max_examples=50, deadline=None)
@given(values=st.lists(CELLS, min_size=1, max_size=4))
def test_every_page_cell_reads_back_as_its_value(values: list[str]) -> None:
    page = html("t", [Section(table=Table(tuple(f"h{n}" for n in range(len(values))), (tuple(values),)))])
    parser = Texts()
    parser.feed(page)
    parser.close()
    assert parser.cells == values
    assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "table", "tr", "th", "td"}
