"""Greeting templates: placeholders checked when saved, HTML-safe when rendered."""

from __future__ import annotations

from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import translator
from core.settings import SUPPORTED_LANGUAGES
from display.greeting_text import CUSTOM_TEMPLATE, DEFAULT_TEMPLATES, render
from storage.greetings import TEMPLATE_MAX, TemplateError, check_template
from storage.occasions import BUILTIN


def test_every_builtin_occasion_has_a_valid_default_in_every_language() -> None:
    assert set(DEFAULT_TEMPLATES) == {spec.code for spec in BUILTIN}
    for msgid in [*DEFAULT_TEMPLATES.values(), CUSTOM_TEMPLATE]:
        for language in SUPPORTED_LANGUAGES:
            text = translator(language).gettext(msgid)
            assert check_template(text) == text
            assert "{name}" in text
    # The Chinese defaults are translated, not the English msgids.
    assert "新春快乐" in translator("zh_CN").gettext(DEFAULT_TEMPLATES["spring_festival"])


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("Hello {nmae}!", "unknown", "nmae"),
        ("Hello {}!", "unknown", ""),
        ("Hello {0}!", "unknown", "0"),
        ("{name.__class__}", "unknown", "name.__class__"),
        ("{name[0]}", "unknown", "name[0]"),
        ("{name!r}", "format", "name"),
        ("{name:>30}", "format", "name"),
        ("Hello {name", "braces", ""),
        ("Hello name}", "braces", ""),
        ("   ", "empty", ""),
        ("x" * (TEMPLATE_MAX + 1), "too_long", ""),
        ("bell \x07", "control", ""),
    ],
)
def test_bad_templates_are_refused(text: str, code: str, field: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_template(text)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_good_templates_are_kept_and_rendered_escaped() -> None:
    text = check_template("  {name}，{year}年{holiday}快乐！<b>{{工会}}</b>\r\n第二行  ")
    assert text == "{name}，{year}年{holiday}快乐！<b>{{工会}}</b>\n第二行"
    rendered = render(text, name="<王&小明>", year=2027, holiday="春节")
    assert rendered == "&lt;王&amp;小明&gt;，2027年春节快乐！&lt;b&gt;{工会}&lt;/b&gt;\n第二行"


NAMES = st.text(min_size=1, max_size=64)
PLAIN = st.text(
    alphabet=st.characters(
        blacklist_characters="{}", blacklist_categories=("Cc", "Cs", "Cf", "Co")
    ),
    min_size=1,
    max_size=200,
).filter(str.strip)


@given(PLAIN, st.sampled_from(["name", "year", "holiday"]), PLAIN, NAMES)
def test_any_accepted_template_renders_without_markup_from_anyone(
    before: str, field: str, after: str, name: str
) -> None:
    template = check_template(before + "{" + field + "}" + after)
    rendered = render(template, name=name, year=2030, holiday="<i>节</i>")
    # Nothing typed by the admin or the member becomes a tag.
    assert "<" not in rendered and ">" not in rendered
    value = {"name": escape(name), "year": "2030", "holiday": escape("<i>节</i>")}[field]
    assert value in rendered


@given(st.text(max_size=300))
def test_check_never_crashes_and_what_it_accepts_renders(text: str) -> None:
    try:
        template = check_template(text)
    except TemplateError:
        return
    render(template, name="n", year=1, holiday="h")


def test_the_greetings_panel_names_the_zone_as_members_say_it() -> None:
    """A Chinese screen says 北京时间, not the setting's Asia/Shanghai (seen in a walk)."""
    from core.i18n import translator
    from display.greetings import home_text
    from tests.support.copy_zh import problems

    chinese = home_text(translator("zh_CN"), [], 9, "Asia/Shanghai")
    assert "09:00（北京时间）" in chinese
    assert not problems(chinese)
    assert "09:00 (Beijing time)" in home_text(translator("en"), [], 9, "Asia/Shanghai")
    assert "(Europe/Berlin)" in home_text(translator("en"), [], 9, "Europe/Berlin")
