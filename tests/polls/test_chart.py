"""The results chart: a valid PNG whose Chinese labels are drawn with a CJK font, not boxes."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from matplotlib import font_manager
from PIL import Image

from display.charts import BarChart, cjk_font_family, render

CHINESE = BarChart(
    title="职工食堂午餐最希望增加哪类菜品？",
    labels=["川湘菜", "粤式点心", "清真窗口", "素食轻食沙拉", "面食（拉面、刀削面）"],
    counts=[12, 7, 3, 9, 0],
    voters=20,
    footer="45 人中有 20 人投票（44%）。本投票可多选，百分比按投票人数计算。",
)


def test_a_cjk_font_is_found_and_has_the_glyphs() -> None:
    family = cjk_font_family()
    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert "CJK" in family or "Han" in family or "WenQuanYi" in family, family
    assert Path(path).exists()


def test_chinese_chart_renders_without_missing_glyphs(tmp_path: Path) -> None:
    """Matplotlib warns "Glyph … missing from font(s)" for every character it would draw
    as a box; none may appear. The picture is also kept for a person to look at."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render(CHINESE)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= 800 and height >= 400
        # Red bars were drawn: the union's red is on the picture.
        colours = {c for _n, c in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
        assert (0xC8, 0x10, 0x2E) in colours
    target = Path(os.environ.get("CHART_SAMPLE_DIR", tmp_path)) / "poll-chart-zh.png"
    target.write_bytes(png)


def test_empty_poll_chart_still_renders() -> None:
    png = render(BarChart("还没有人投票", ["是", "否"], [0, 0], 0))
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
