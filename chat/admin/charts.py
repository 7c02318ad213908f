"""Charts for the admin's usage pages, drawn on the server as inline SVG: nothing fetched,
no script, so they work under any CSP and print as they show.

Two shapes: bars per day (`day_bars`) and ranked horizontal bars (`ranked_bars`: per
model, per user). Geometry is in percentages of the chart's width and fixed pixels of
height, so the SVG fills its column at 1440 px as at 375 px without scaling its text
down; colours are the admin's CSS variables (static/css/admin.css), so light and dark
both read. Each chart is a <figure> whose SVG is role="img" with a <title>, and whose
numbers are also a table under a <details>, for screen readers and for exact figures.
"""

import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

Number = int | float | Decimal

# Day chart: the band above the plot holds the top tick's label, the one below the dates.
DAY_PLOT_HEIGHT = 120
DAY_TOP = 16
DAY_BOTTOM = 20
DAY_BAR_SHARE = 0.8  # of each day's slot; the rest is the gap between bars
# Ranked chart: one row per item, its label and value above its bar.
RANK_ROW = 34
RANK_LABEL = 14
RANK_BAR = 12

_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One bar's geometry: x and width in % of the chart's width, y and height in px."""

    x: float
    width: float
    y: float
    height: float
    label: str  # its tooltip: what it stands for and its value


def nice_ceiling(value: float) -> float:
    """The axis's top: the smallest 1, 2, 2.5 or 5 times 10ⁿ at or above `value`, so its
    ticks are round numbers (0 when there is nothing to show)."""
    if value <= 0:
        return 0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return float(step * power)
    return 10 * power  # unreachable: value <= 10 * power


def format_number(value: Number, decimals: int = 0) -> str:
    """A number as the active language writes it, thousands grouped."""
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def day_bar_geometry(values: Sequence[Number], top: float) -> list[tuple[float, float]]:
    """(y, height) in px of each day's bar under an axis topped at `top`: heights in
    proportion to the values, bars standing on the plot's bottom."""
    scale = DAY_PLOT_HEIGHT / top if top else 0
    return [
        (
            round(DAY_TOP + DAY_PLOT_HEIGHT - float(v) * scale, 2),
            round(float(v) * scale, 2),
        )
        for v in values
    ]


def _tick(value: float) -> str:
    """An axis tick as written in full: 2.5 stays 2.5 and 0.00025 keeps its digits, where
    the chart's own decimals would round them to a wrong label."""
    exact = Decimal(repr(round(value, 12))).normalize()
    places = max(0, -int(exact.as_tuple().exponent))
    return format_number(exact, places)


def _formatter(decimals: int) -> Callable[[Number], str]:
    return lambda value: format_number(value, decimals)


def _empty(title: str, empty_text: str) -> SafeString:
    return format_html(
        '<figure class="chart chart-empty"><figcaption>{}</figcaption><p>{}</p></figure>',
        title,
        empty_text,
    )


def _numbers_table(
    title: str, head: tuple[str, str], rows: Sequence[tuple[str, str]]
) -> SafeString:
    body = format_html_join("", '<tr><th scope="row">{}</th><td class="num">{}</td></tr>', rows)
    return format_html(
        '<details class="chart-numbers"><summary>{}</summary><table>'
        '<caption class="visually-hidden">{}</caption>'
        '<thead><tr><th scope="col">{}</th><th scope="col" class="num">{}</th></tr></thead>'
        "<tbody>{}</tbody></table></details>",
        _("The numbers"),
        title,
        head[0],
        head[1],
        body,
    )


def day_bars(
    days: Sequence[tuple[datetime.date, Number]],
    *,
    title: str,
    value_name: str,
    decimals: int = 0,
    empty_text: str | None = None,
    css_class: str = "",
) -> SafeString:
    """Bars per day with a labelled axis (0, half, top) and the first, middle and last
    dates under them. A period with nothing in it draws `empty_text` instead."""
    values = [v for _day, v in days]
    if not days or not any(values):
        return _empty(title, empty_text or _("Nothing in this period."))
    top = nice_ceiling(float(max(values)))
    slot = 100 / len(days)
    fmt = _formatter(decimals)
    bars = [
        Bar(
            x=round(n * slot + slot * (1 - DAY_BAR_SHARE) / 2, 3),
            width=round(slot * DAY_BAR_SHARE, 3),
            y=y,
            height=height,
            label=f"{date_format(day, 'DATE_FORMAT')}: {fmt(value)}",
        )
        for n, ((day, value), (y, height)) in enumerate(
            zip(days, day_bar_geometry(values, top), strict=True)
        )
    ]
    baseline = DAY_TOP + DAY_PLOT_HEIGHT
    ticks = format_html_join(
        "",
        '<line class="grid" x1="0" x2="100%" y1="{0}" y2="{0}"></line>'
        '<text class="tick" x="0" y="{1}">{2}</text>',
        (
            (
                DAY_TOP + DAY_PLOT_HEIGHT * (1 - share),
                DAY_TOP + DAY_PLOT_HEIGHT * (1 - share) - 3,
                _tick(top * share),
            )
            for share in (1, 0.5)
        ),
    )
    # The dates under the bars: the first, the middle and the last, centred on their bar
    # except at the edges, where they are anchored inwards so they stay inside.
    picks = sorted({0, len(days) // 2, len(days) - 1})
    dates = format_html_join(
        "",
        '<text class="date" x="{}%" y="{}" text-anchor="{}">{}</text>',
        (
            (
                0 if n == 0 else 100 if n == len(days) - 1 else round((n + 0.5) * slot, 3),
                baseline + 15,
                "start" if n == 0 else "end" if n == len(days) - 1 else "middle",
                date_format(days[n][0], "SHORT_DATE_FORMAT"),
            )
            for n in (picks if len(days) > 1 else [0])
        ),
    )
    rects = format_html_join(
        "",
        '<rect class="bar" x="{}%" y="{}" width="{}%" height="{}"><title>{}</title></rect>',
        ((b.x, b.y, b.width, b.height, b.label) for b in bars),
    )
    uid = next(_ids)
    summary = _("%(name)s from %(start)s to %(end)s: %(total)s in all, at most %(peak)s a day.") % {
        "name": value_name,
        "start": date_format(days[0][0], "DATE_FORMAT"),
        "end": date_format(days[-1][0], "DATE_FORMAT"),
        "total": fmt(sum(values)),
        "peak": fmt(max(values)),
    }
    svg = format_html(
        '<svg class="chart-svg" role="img" aria-labelledby="chart-{0}-t chart-{0}-d" '
        'width="100%" height="{1}"><title id="chart-{0}-t">{2}</title>'
        '<desc id="chart-{0}-d">{3}</desc>{4}'
        '<line class="axis" x1="0" x2="100%" y1="{5}" y2="{5}"></line>{6}{7}</svg>',
        uid,
        baseline + DAY_BOTTOM,
        title,
        summary,
        ticks,
        baseline,
        rects,
        dates,
    )
    table = _numbers_table(
        title,
        (_("Day"), value_name),
        [(date_format(day, "DATE_FORMAT"), fmt(value)) for day, value in days],
    )
    return _figure(css_class, title, svg, table)


def ranked_bars(
    items: Sequence[tuple[str, Number]],
    *,
    title: str,
    name_heading: str,
    value_name: str,
    decimals: int = 0,
    limit: int = 8,
    empty_text: str | None = None,
    css_class: str = "",
) -> SafeString:
    """The `limit` largest items as horizontal bars, each with its name and value above it,
    as tall as the items need (no empty rows); the rest summed into "Others"."""
    ranked = sorted(((name, v) for name, v in items if v), key=lambda item: -float(item[1]))
    if not ranked:
        return _empty(title, empty_text or _("Nothing in this period."))
    if len(ranked) > limit:
        rest = sum((v for _name, v in ranked[limit - 1 :]), start=type(ranked[0][1])(0))
        ranked = [*ranked[: limit - 1], (_("Others"), rest)]
    peak = float(max(v for _name, v in ranked))
    fmt = _formatter(decimals)
    rows = format_html_join(
        "",
        '<text class="name" x="0" y="{0}">{2}</text>'
        '<text class="value" x="100%" y="{0}" text-anchor="end">{3}</text>'
        '<rect class="track" x="0" y="{1}" width="100%" height="{5}"></rect>'
        '<rect class="bar" x="0" y="{1}" width="{4}%" height="{5}"><title>{2}: {3}</title></rect>',
        (
            (
                n * RANK_ROW + RANK_LABEL,
                n * RANK_ROW + RANK_LABEL + 4,
                name,
                fmt(value),
                round(100 * float(value) / peak, 3),
                RANK_BAR,
            )
            for n, (name, value) in enumerate(ranked)
        ),
    )
    uid = next(_ids)
    svg = format_html(
        '<svg class="chart-svg" role="img" aria-labelledby="chart-{0}-t" width="100%" '
        'height="{1}"><title id="chart-{0}-t">{2}</title>{3}</svg>',
        uid,
        len(ranked) * RANK_ROW,
        title,
        rows,
    )
    table = _numbers_table(
        title, (name_heading, value_name), [(name, fmt(value)) for name, value in ranked]
    )
    return _figure(css_class, title, svg, table)


def _figure(css_class: str, title: str, svg: str, table: str) -> SafeString:
    """A chart with its caption (read once: the SVG's own title names it for a screen
    reader) and its numbers."""
    return format_html(
        '<figure class="chart {}"><figcaption aria-hidden="true">{}</figcaption>{}{}</figure>',
        css_class,
        title,
        svg,
        table,
    )
