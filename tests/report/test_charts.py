"""Every chart of the report, in both languages: a PNG, drawn without a missing glyph."""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from core.i18n import translator
from display import rendering
from display import report as show
from storage.disclosure import Totals, protect
from storage.pulse import SeriesPoint
from storage.report import (
    Grievances,
    HandbookSearches,
    Participation,
    Period,
    Polls,
    Report,
    Spread,
)


def sample() -> Report:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    means = [None, 3.8, 4.0, 4.1, None, 4.3, 4.2, 4.4, 4.0, 4.5, 4.6, 4.4]
    return Report(
        period=Period(date(2026, 11, 1), date(2026, 11, 30)),
        participation=Participation(120, 8, 64, 40, 31, 0.775, 12, 36.0),
        grievances=Grievances(
            opened=31,
            categories=("", "", "", "", "", ""),
            slugs=("wages", "safety", "workload", "canteen", "harassment", "other"),
            by_status=protect(
                [
                    [2, 3, 5, 6, 1],
                    [0, 0, 2, 5, 0],
                    [1, 0, 0, 2, 0],
                    [0, 0, 1, 1, 0],
                    [0, 0, 0, 0, 0],
                    [1, 0, 0, 1, 0],
                ],
                row_totals=Totals.KNOWN,
            ),
            take=Spread(31, 3.5, 20.0),
            resolve=Spread(20, 40.0, 90.5),
            take_breaches=2,
            answer_breaches=1,
            ratings=14,
            rating_mean=4.21,
        ),
        satisfaction={
            "pulse": [SeriesPoint(m, 10, v) for m, v in zip(months, means, strict=True)],
            "grievances": [SeriesPoint(m, 5, 4.0) for m in months],
            "activities": [SeriesPoint(m, 5, None if n % 3 else 4.7) for n, m in enumerate(months)],
            "trainings": [SeriesPoint(m, 6, None if n % 2 else 4.2) for n, m in enumerate(months)],
        },
        polls=Polls(2, 120, 70, 0.583),
        handbook=HandbookSearches(
            (date(2026, 11, 1),), True, 120, 90, 0.75, (("年假", 9), ("overtime pay", 6))
        ),
    )


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_chart_renders_without_missing_glyphs(language: str, tmp_path: Path) -> None:
    t = translator(language)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # In this process (the bot draws in a child, `display.rendering`), so that
        # matplotlib's warnings are seen here.
        pictures = [
            show.Picture(name, rendering.draw_here(chart))
            for name, chart in show.charts(t, sample()).items()
        ]
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []
    assert [p.name for p in pictures] == ["categories", "satisfaction"]
    for picture in pictures:
        assert picture.png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(picture.png)) as image:
            width, height = image.size
            assert width >= 800 and height >= 400
            colours = {c for _n, c in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
            assert (0xC8, 0x10, 0x2E) in colours  # bars and the pulse's line are drawn
        target = Path(os.environ.get("CHART_SAMPLE_DIR", tmp_path))
        (target / f"report-{picture.name}-{language}.png").write_bytes(picture.png)


def test_the_message_and_the_workbook_in_english() -> None:
    t = translator("en")
    text = show.text(t, sample())
    assert "Union report: 2026-11" in text and "Members: 120 (8 new)" in text
    assert "—" in text  # the small slices
    assert "Training ratings: latest" in text
    name, values = show.satisfaction_chart(t, sample()).series[-1]
    assert name == "Training ratings" and values[:3] == [4.2, None, 4.2]  # withheld: a gap
    assert show.workbook(t, sample()).to_bytes().startswith(b"PK")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh_CN", "活动评分：近 12 个月没有满 5 个评分的月份"),
        ("en", "Activity ratings: no month with 5 ratings or more"),
    ],
)
def test_a_series_without_any_mean_says_so(language: str, expected: str) -> None:
    base = sample()
    months = [point.month for point in base.satisfaction["activities"]]
    quiet = dataclasses.replace(
        base,
        satisfaction={
            **base.satisfaction,
            "activities": [SeriesPoint(month, 3, None) for month in months],
        },
    )
    text = show.text(translator(language), quiet)
    assert expected in text
    assert "— ⭐" not in text
