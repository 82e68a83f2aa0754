"""How the union's report reads: the message, its charts and its workbook, from one `Report`.

The message, the charts and the XLSX show the same numbers: each comes from
the same `storage.report.Report`, and a count `storage.disclosure` withheld is
"—" everywhere (never "under 5", which would say it is small).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import N_, Translator
from display import callbacks as cb
from display import rendering
from display.charts import BarChart, LineChart
from display.grievances import CATEGORY_NAMES
from display.sheets import Book
from storage.disclosure import THRESHOLD
from storage.models import GrievanceStatus
from storage.report import (
    STATUSES,
    BadPeriod,
    HandbookSearches,
    Period,
    Report,
    Spread,
    shifted,
)

HIDDEN = "—"
REFUSALS: dict[BadPeriod.Reason, str] = {
    BadPeriod.Reason.FORMAT: N_(
        "Please give a month or two dates, for example /report 2026-11 or "
        "/report 2026-10-01 2026-11-30."
    ),
    BadPeriod.Reason.ORDER: N_("The second date must not be before the first."),
    BadPeriod.Reason.LONG: N_("A report covers at most a year."),
}
SOURCE_NAMES: dict[str, str] = {
    "pulse": N_("Monthly pulse"),
    "grievances": N_("Grievance ratings"),
    "activities": N_("Activity ratings"),
    "trainings": N_("Training ratings"),
}
STATUS_WORDS: dict[GrievanceStatus, str] = {
    GrievanceStatus.NEW: N_("waiting"),
    GrievanceStatus.TAKEN: N_("taken"),
    GrievanceStatus.ANSWERED: N_("answered"),
    GrievanceStatus.RESOLVED: N_("solved"),
    GrievanceStatus.CLOSED: N_("closed by the member"),
}
# Emoji and pictographs: a chart font has none, so charts leave them out.
_PICTOGRAPHS = re.compile("[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\ufe0f\u200d]")


def _plain(text: str) -> str:
    return _PICTOGRAPHS.sub("", text).strip()


def refusal(t: Translator, reason: BadPeriod.Reason) -> str:
    return t.gettext(REFUSALS[reason])


def period_name(t: Translator, period: Period) -> str:
    if period.month is not None:
        return period.month
    return t.gettext("{first} to {last}").format(
        first=period.first.isoformat(), last=period.last.isoformat()
    )


def _n(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _share(value: float | None) -> str:
    return HIDDEN if value is None else f"{round(100 * value)}%"


def _mean(value: float | None) -> str:
    return HIDDEN if value is None else f"{value:.2f}"


def _hours(value: float | None) -> str:
    return HIDDEN if value is None else f"{value:g}"


def category_label(t: Translator, name: str, slug: str | None) -> str:
    if name:
        return name
    return t.gettext(CATEGORY_NAMES.get(slug or "", N_("📌 Other")))


def _spread(t: Translator, label: str, spread: Spread) -> str:
    return t.gettext("{label}: median {median} h, 90% within {p90} h ({count} cases)").format(
        label=label, median=_hours(spread.median), p90=_hours(spread.p90), count=spread.count
    )


def text(t: Translator, report: Report) -> str:
    """The summary message (HTML): the same numbers as the charts and the workbook."""
    p, g, polls, hb = report.participation, report.grievances, report.polls, report.handbook
    lines = [
        "📊 <b>"
        + t.gettext("Union report: {period}").format(period=period_name(t, report.period))
        + "</b>",
        "",
        "<b>" + t.gettext("Participation") + "</b>",
        t.gettext("Members: {members} ({new} new)").format(members=p.members, new=p.new_members),
        t.gettext("Active members: {active}").format(active=p.active),
        t.gettext("Activity sign-ups: {signups}, checked in: {came} ({rate})").format(
            signups=p.activity_signups, came=p.checked_in, rate=_share(p.attendance_rate)
        ),
        t.gettext("Training enrolments: {enrolments}, training hours: {hours}").format(
            enrolments=p.training_enrolments, hours=f"{p.training_hours:g}"
        ),
        "",
        "<b>" + t.gettext("Grievances") + "</b>",
        t.gettext("Cases opened: {count}").format(count=g.opened),
    ]
    for index, name in enumerate(g.categories):
        total = g.by_status.row_totals[index] if g.by_status.row_totals else None
        if not total:
            continue
        cells = g.by_status.cells[index]
        parts = t.gettext(", ").join(
            t.gettext("{status} {count}").format(
                status=t.gettext(STATUS_WORDS[status]), count=_n(cells[column])
            )
            for column, status in enumerate(STATUSES)
        )
        label = escape(category_label(t, name, g.slugs[index]))
        lines.append(
            "• "
            + t.gettext("{category}: {total} ({statuses})").format(
                category=label, total=_n(total), statuses=parts
            )
        )
    lines += [
        _spread(t, t.gettext("Time to take"), g.take),
        _spread(t, t.gettext("Time to resolve"), g.resolve),
        t.gettext("Deadlines missed: {take} to take, {answer} to answer").format(
            take=g.take_breaches, answer=g.answer_breaches
        ),
        t.gettext("Satisfaction with grievances: {mean} ⭐ ({count} ratings)").format(
            mean=_mean(g.rating_mean), count=g.ratings
        ),
        "",
        "<b>" + t.gettext("Satisfaction over 12 months") + "</b>",
    ]
    for source, points in report.satisfaction.items():
        latest = next((point for point in reversed(points) if point.mean is not None), None)
        name = t.gettext(SOURCE_NAMES[source])
        if latest is None:
            lines.append(t.gettext("{source}: no month with 5 ratings or more").format(source=name))
            continue
        lines.append(
            t.gettext("{source}: latest {mean} ⭐ ({month})").format(
                source=name, mean=_mean(latest.mean), month=latest.month
            )
        )
    lines += [
        "",
        "<b>" + t.gettext("Polls") + "</b>",
        t.gettext("Polls held: {held}, ballots: {ballots} of {recipients} ({turnout})").format(
            held=polls.held,
            ballots=polls.ballots,
            recipients=polls.recipients,
            turnout=_share(polls.turnout),
        ),
        "",
        "<b>" + t.gettext("Handbook") + "</b>",
        *handbook_lines(t, hb),
    ]
    lines += [
        "",
        "<i>"
        + t.gettext(
            "— : fewer than {n} people, or hidden so that no one can be singled out."
        ).format(n=THRESHOLD)
        + "</i>",
    ]
    return "\n".join(lines)


def keyboard(t: Translator, period: Period) -> InlineKeyboardMarkup:
    before, after = shifted(period, -1), shifted(period, 1)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "‹ " + before.first.strftime("%Y-%m"),
                    callback_data=cb.REPORT_MONTH.pack(before.first.year, before.first.month),
                ),
                InlineKeyboardButton(
                    after.first.strftime("%Y-%m") + " ›",
                    callback_data=cb.REPORT_MONTH.pack(after.first.year, after.first.month),
                ),
            ]
        ]
    )


@dataclass(frozen=True)
class Picture:
    name: str
    png: bytes


def category_chart(t: Translator, report: Report) -> BarChart:
    g = report.grievances
    totals = g.by_status.row_totals or (None,) * len(g.categories)
    labels = [
        _plain(category_label(t, name, slug))
        for name, slug in zip(g.categories, g.slugs, strict=True)
    ]
    counts = [value or 0 for value in totals]
    return BarChart(
        title=t.gettext("Grievances by category: {period}").format(
            period=period_name(t, report.period)
        ),
        labels=labels,
        counts=counts,
        voters=max(g.opened, 1),
        footer=t.gettext("{count} cases opened").format(count=g.opened),
    )


def satisfaction_chart(t: Translator, report: Report) -> LineChart:
    points = next(iter(report.satisfaction.values()), [])
    return LineChart(
        title=t.gettext("Satisfaction over 12 months (mean stars)"),
        months=[point.month for point in points],
        series=[
            (t.gettext(SOURCE_NAMES[source]), [point.mean for point in series])
            for source, series in report.satisfaction.items()
        ],
        footer=t.gettext("A month with fewer than {n} ratings is left out.").format(n=THRESHOLD),
    )


def charts(t: Translator, report: Report) -> dict[str, BarChart | LineChart]:
    """What each chart shows, by the name its PNG is sent under."""
    return {
        "categories": category_chart(t, report),
        "satisfaction": satisfaction_chart(t, report),
    }


@dataclass(frozen=True)
class Files:
    """The report's charts as PNG and its workbook as XLSX bytes."""

    pictures: list[Picture]
    workbook: bytes


async def files(t: Translator, report: Report) -> Files:
    """Every chart and the workbook, drawn in one render child (`display.rendering`):
    matplotlib and openpyxl never load in the bot. Raises `rendering.RenderFailed`."""
    drawings = charts(t, report)
    *pngs, book = await rendering.draw(*drawings.values(), workbook(t, report))
    return Files([Picture(n, png) for n, png in zip(drawings, pngs, strict=True)], book)


def file_name(report: Report) -> str:
    period = report.period
    label = period.month or f"{period.first.isoformat()}_{period.last.isoformat()}"
    return f"union-report-{label}.xlsx"


def months_name(t: Translator, months: Sequence[date]) -> str:
    """ "2026-11", or "2026-10 to 2026-11"."""
    first, last = months[0].strftime("%Y-%m"), months[-1].strftime("%Y-%m")
    return first if first == last else t.gettext("{first} to {last}").format(first=first, last=last)


def handbook_lines(t: Translator, hb: HandbookSearches) -> list[str]:
    """The handbook's lines of the summary: searches by whole month, said so when it matters."""
    if not hb.months:
        return [
            t.gettext(
                "Handbook searches are counted by whole calendar month, and no whole month "
                "lies in this period."
            )
        ]
    lines = []
    if not hb.whole:
        lines.append(
            "<i>"
            + t.gettext(
                "Handbook searches are counted by whole calendar month: these are {months}."
            ).format(months=months_name(t, hb.months))
            + "</i>"
        )
    lines += [
        t.gettext("Searches: {searches}, found something: {found} ({share})").format(
            searches=hb.searches, found=hb.found, share=_share(hb.found_share)
        ),
        t.gettext("Searches that found nothing: {count}").format(count=hb.nothing),
    ]
    if hb.top:
        lines.append(
            t.gettext("Most searched for in vain ({n} times or more):").format(n=THRESHOLD)
        )
    for query, count in hb.top:
        lines.append("• " + t.gettext("{query}: {count}").format(query=escape(query), count=count))
    return lines


def _cell(value: int | float | None) -> int | float | str:
    return HIDDEN if value is None else value


def workbook(t: Translator, report: Report) -> Book:
    """One sheet per section, the same numbers as the message."""
    p, g, polls, hb = report.participation, report.grievances, report.polls, report.handbook
    book = Book(t.gettext("Union report: {period}").format(period=period_name(t, report.period)))
    sheet = book.sheet(t.gettext("Participation"))
    sheet.header([t.gettext("Measure"), t.gettext("Value")])
    rows: Sequence[tuple[str, int | float | None]] = [
        (t.gettext("Members"), p.members),
        (t.gettext("New members"), p.new_members),
        (t.gettext("Active members"), p.active),
        (t.gettext("Activity sign-ups"), p.activity_signups),
        (t.gettext("Checked in"), p.checked_in),
        (t.gettext("Attendance rate"), p.attendance_rate),
        (t.gettext("Training enrolments"), p.training_enrolments),
        (t.gettext("Training hours"), p.training_hours),
    ]
    for label, value in rows:
        sheet.row([label, _cell(value)])
    sheet.widths(24, 12)

    sheet = book.sheet(t.gettext("Grievances"))
    sheet.header(
        [
            t.gettext("Category"),
            t.gettext("Cases"),
            *(t.gettext(STATUS_WORDS[status]) for status in STATUSES),
        ]
    )
    for index, name in enumerate(g.categories):
        total = g.by_status.row_totals[index] if g.by_status.row_totals else None
        sheet.row(
            [
                category_label(t, name, g.slugs[index]),
                _cell(total),
                *(_cell(value) for value in g.by_status.cells[index]),
            ]
        )
    sheet.row()
    for label, value in (
        (t.gettext("Cases opened"), g.opened),
        (t.gettext("Time to take, median (h)"), g.take.median),
        (t.gettext("Time to take, 90th percentile (h)"), g.take.p90),
        (t.gettext("Time to resolve, median (h)"), g.resolve.median),
        (t.gettext("Time to resolve, 90th percentile (h)"), g.resolve.p90),
        (t.gettext("Missed deadlines to take"), g.take_breaches),
        (t.gettext("Missed deadlines to answer"), g.answer_breaches),
        (t.gettext("Ratings"), g.ratings),
        (t.gettext("Mean rating"), g.rating_mean),
    ):
        sheet.row([label, _cell(value)])
    sheet.widths(28, 10, 14, 14, 14, 14, 14)

    sheet = book.sheet(t.gettext("Satisfaction"))
    sheet.header([t.gettext("Month"), *(t.gettext(SOURCE_NAMES[s]) for s in report.satisfaction)])
    months = [point.month for point in next(iter(report.satisfaction.values()), [])]
    for index, month in enumerate(months):
        sheet.row([month, *(_cell(series[index].mean) for series in report.satisfaction.values())])

    sheet = book.sheet(t.gettext("Polls"))
    sheet.header([t.gettext("Measure"), t.gettext("Value")])
    for label, value in (
        (t.gettext("Polls held"), polls.held),
        (t.gettext("Recipients"), polls.recipients),
        (t.gettext("Ballots"), polls.ballots),
        (t.gettext("Turnout"), polls.turnout),
    ):
        sheet.row([label, _cell(value)])

    sheet = book.sheet(t.gettext("Handbook"))
    sheet.header([t.gettext("Measure"), t.gettext("Value")])
    sheet.row([t.gettext("Months counted"), months_name(t, hb.months) if hb.months else HIDDEN])
    for label, value in (
        (t.gettext("Searches"), hb.searches),
        (t.gettext("Found something"), hb.found),
        (t.gettext("Found share"), hb.found_share),
        (t.gettext("Found nothing"), hb.nothing),
    ):
        sheet.row([label, _cell(value) if hb.months else HIDDEN])
    sheet.row()
    sheet.header([t.gettext("Search that found nothing"), t.gettext("Times")])
    for query, count in hb.top:
        sheet.row([query, count])
    sheet.widths(28, 14)
    return book


def group_only(t: Translator) -> str:
    return t.gettext("Please use /report in your private chat with me.")


def working(t: Translator) -> str:
    return t.gettext("Preparing the report…")
