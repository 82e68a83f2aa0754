"""Bar charts of poll results as PNG bytes, with a font that has Chinese characters.

Why this shape: matplotlib's object API (a `Figure` with an Agg canvas, no
`pyplot`) keeps no global state and never opens a window. The bot itself never
calls `render`: it hands the chart (plain values) to `display.rendering.draw`,
which draws it in a child process while the bot goes on answering. Matplotlib's default font (DejaVu Sans) has no
CJK glyphs and would draw every Chinese option as empty boxes; we look for an
installed CJK font (Debian's `fonts-noto-cjk`, which the Makefile installs)
through `matplotlib.font_manager` and put it first, with DejaVu after it for
the few symbols CJK fonts lack. Matplotlib is imported on the first chart, and so
only in the render child: with NumPy it is the bot's heaviest import, and
memory a process once touched mostly stays with it.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

# In order of preference: Simplified Chinese first, since that is the union's language.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
_CJK_FILE_HINTS = ("notosanscjk", "sourcehansans", "wqy", "droidsansfallback", "uming")
BAR_COLOR = "#c8102e"  # the red of union banners
EMPTY_COLOR = "#e6e6e6"


class NoCJKFont(RuntimeError):
    """No font with Chinese characters is installed: charts would show boxes."""


@cache
def cjk_font_family() -> str:
    """The family name of an installed CJK font, registering its file if need be.

    Raises NoCJKFont when there is none (install `fonts-noto-cjk`).
    """
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    # Not in matplotlib's cache yet (installed after it was built): scan the system.
    for path in font_manager.findSystemFonts():
        if any(hint in path.lower().replace("-", "") for hint in _CJK_FILE_HINTS):
            font_manager.fontManager.addfont(path)
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    raise NoCJKFont("no CJK font found; install Debian's fonts-noto-cjk")


def _families() -> list[str]:
    try:
        return [cjk_font_family(), "DejaVu Sans"]
    except NoCJKFont:
        log.warning("no CJK font installed: Chinese text in charts will not render")
        return ["DejaVu Sans"]


@dataclass(frozen=True)
class BarChart:
    """What to draw: a title, one bar per option, and a line under the bars."""

    title: str
    labels: Sequence[str]
    counts: Sequence[int]
    voters: int
    footer: str = ""


def _wrap(text: str, width: int) -> str:
    # CJK text has no spaces to break at; textwrap breaks long words when it must.
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or text


def _titled_png(figure: Figure, title: str, footer: str, families: list[str]) -> bytes:
    """The chart's title on top, its footer under it, laid out and drawn as PNG bytes."""
    figure.suptitle(
        _wrap(title, 40), fontfamily=families, fontsize=13, fontweight="bold", x=0.02, ha="left"
    )
    if footer:
        figure.text(0.02, 0.02, footer, fontfamily=families, fontsize=9, color="#555555")
    figure.tight_layout(rect=(0, 0.05 if footer else 0, 1, 0.95))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render(chart: BarChart) -> bytes:
    """A horizontal bar chart as PNG bytes: count and share of voters beside each bar."""
    families = _families()
    count = len(chart.labels)
    height = 1.6 + 0.62 * count
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [_wrap(label, 18) for label in chart.labels]
    positions = list(range(count))
    most = max([*chart.counts, 1])
    axes.barh(positions, [most] * count, color=EMPTY_COLOR, height=0.62)
    axes.barh(positions, chart.counts, color=BAR_COLOR, height=0.62)
    axes.set_yticks(positions, labels, fontfamily=families, fontsize=11)
    axes.invert_yaxis()  # first option on top, as in the poll
    axes.set_xlim(0, most * 1.28)
    axes.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0)
    for position, value in zip(positions, chart.counts, strict=True):
        share = round(100 * value / chart.voters) if chart.voters else 0
        axes.text(
            value + most * 0.02,
            position,
            f"{value} ({share}%)",
            va="center",
            fontsize=11,
            fontfamily=families,
        )
    return _titled_png(figure, chart.title, chart.footer, families)


@dataclass(frozen=True)
class LineChart:
    """Lines over months: one per series, a gap where a value is withheld (None)."""

    title: str
    months: Sequence[str]
    series: Sequence[tuple[str, Sequence[float | None]]]
    low: float = 1.0
    high: float = 5.0
    footer: str = ""


LINE_COLORS = (BAR_COLOR, "#1f5fa8", "#2e8b57", "#b8860b")


def render_lines(chart: LineChart) -> bytes:
    """A line chart as PNG bytes: months along the bottom, a legend of the series."""
    families = _families()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.months)))
    for index, (label, values) in enumerate(chart.series):
        points = [float("nan") if v is None else v for v in values]
        axes.plot(
            positions,
            points,
            marker="o",
            color=LINE_COLORS[index % len(LINE_COLORS)],
            label=label,
        )
    axes.set_ylim(chart.low - 0.2, chart.high + 0.2)
    axes.set_xticks(positions, [m[2:] for m in chart.months], fontfamily=families, fontsize=9)
    axes.grid(axis="y", color=EMPTY_COLOR)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if chart.series:
        axes.legend(prop={"family": families, "size": 10}, loc="lower left", frameon=False)
    return _titled_png(figure, chart.title, chart.footer, families)
