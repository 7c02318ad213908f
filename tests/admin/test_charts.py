"""The admin's inline SVG charts (chat/admin/charts.py): bars in proportion to the
numbers, labelled axes, an empty state, and the numbers also as a table."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import translation

from chat.admin.charts import (
    DAY_PLOT_HEIGHT,
    day_bar_geometry,
    day_bars,
    nice_ceiling,
    ranked_bars,
)

DAYS = [datetime.date(2026, 5, 1) + datetime.timedelta(days=n) for n in range(4)]


def _attrs(svg: str, name: str, css_class: str = "bar") -> list[float]:
    rects = re.findall(rf'<rect class="{css_class}"[^>]*>', svg)
    return [float(re.search(rf'\b{name}="([\d.]+)%?"', r).group(1)) for r in rects]


@pytest.mark.parametrize(
    ("value", "top"), [(0, 0), (1, 1), (7, 10), (38, 50), (120, 200), (0.0004, 0.0005)]
)
def test_the_axis_tops_at_a_round_number(value, top):
    assert nice_ceiling(value) == pytest.approx(top)


def test_day_bars_are_as_tall_as_their_numbers():
    svg = day_bars(list(zip(DAYS, [10, 0, 40, 20], strict=True)), title="T", value_name="Tokens")
    heights = _attrs(svg, "height")
    # The axis tops at 50: 40 is four fifths of the plot's height.
    assert heights == [pytest.approx(DAY_PLOT_HEIGHT * v / 50) for v in (10, 0, 40, 20)]
    assert heights[2] / heights[0] == pytest.approx(4)
    # Each bar stands on the same baseline.
    ys = _attrs(svg, "y")
    assert {round(y + h, 2) for y, h in zip(ys, heights, strict=True)} == {ys[1]}


def test_geometry_is_proportional_under_any_axis():
    geometry = day_bar_geometry([5, 10, 25], top=50)
    assert [h for _y, h in geometry] == [
        DAY_PLOT_HEIGHT / 10,
        DAY_PLOT_HEIGHT / 5,
        DAY_PLOT_HEIGHT / 2,
    ]


def test_a_day_chart_is_accessible_and_labelled():
    with translation.override("en"):
        svg = day_bars(
            list(zip(DAYS, [1000, 2500, 0, 1200], strict=True)),
            title="Tokens per day",
            value_name="Tokens",
        )
    assert 'role="img"' in svg
    assert re.search(r'<title id="chart-\d+-t">Tokens per day</title>', svg)
    assert "<desc" in svg
    assert "4,700 in all" in svg
    assert "at most 2,500" in svg
    # The axis's ticks (its top and half of it) and the first, middle and last dates.
    assert '<text class="tick" x="0" y="13">2,500</text>' in svg
    assert ">1,250</text>" in svg
    assert svg.count('class="date"') == 3
    assert "05/01/2026" in svg
    assert "05/04/2026" in svg
    # Each bar's tooltip, and the numbers as a table.
    assert "<title>May 2, 2026: 2,500</title>" in svg
    assert "<table>" in svg
    assert '<th scope="row">May 3, 2026</th><td class="num">0</td>' in svg


def test_numbers_are_written_as_the_language_writes_them():
    with translation.override("de"):
        svg = day_bars([(DAYS[0], 1234567)], title="T", value_name="Tokens")
    assert "1.234.567" in svg


def test_an_empty_period_draws_its_empty_state():
    svg = day_bars(
        list(zip(DAYS, [0, 0, 0, 0], strict=True)),
        title="Cost per day",
        value_name="Cost",
        empty_text="No usage in this period.",
    )
    assert "No usage in this period." in svg
    assert "<svg" not in svg
    assert "Cost per day" in svg
    empty = ranked_bars([("alice", 0)], title="T", name_heading="User", value_name="Tokens")
    assert "Nothing in this period." in empty
    assert "<svg" not in empty


def test_ranked_bars_are_as_long_as_their_numbers_the_largest_first():
    svg = ranked_bars(
        [("small", 25), ("big", 100), ("none", 0), ("half", Decimal(50))],
        title="Tokens per model",
        name_heading="Model",
        value_name="Tokens",
    )
    assert _attrs(svg, "width") == [100.0, 50.0, 25.0]
    assert re.findall(r'<text class="name"[^>]*>([^<]+)</text>', svg) == ["big", "half", "small"]
    # As tall as its rows: no empty space under the last bar.
    assert 'height="102"' in svg  # three rows of 34 px


def test_ranked_bars_past_the_limit_are_summed_as_others():
    items = [(f"user{n}", 10 - n) for n in range(6)]
    svg = ranked_bars(items, title="T", name_heading="User", value_name="Tokens", limit=3)
    names = re.findall(r'<text class="name"[^>]*>([^<]+)</text>', svg)
    assert names == ["user0", "user1", "Others"]
    assert re.search(r'<text class="value"[^>]*>(\d+)</text>', svg.split("Others")[1]).group(
        1
    ) == str(8 + 7 + 6 + 5)


def test_names_are_escaped():
    svg = ranked_bars([("<script>", 1)], title="T", name_heading="User", value_name="Tokens")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [(3, ["5", "2.5"]), (0.0004, ["0.0005", "0.00025"]), (1800, ["2,000", "1,000"])],
)
def test_axis_ticks_are_written_in_full(peak, ticks):
    with translation.override("en"):
        svg = day_bars([(DAYS[0], peak)], title="T", value_name="V", decimals=4)
    assert re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', svg) == ticks
