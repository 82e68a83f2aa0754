"""What a member reads on their day: the shipped texts, and a template filled in.

The default text of each occasion ships in the gettext catalogues (msgid in
English, zh_CN translated like every other string), not as seed rows. That
way a fresh install needs no data step, `tests/test_i18n.py` keeps both
languages complete and their placeholders intact, and a better wording in a
later release reaches every union that has not written its own. An admin's
own text is a `GreetingTemplate` row (`storage.greetings`, which also checks
its placeholders); deleting it restores the default.

The template is HTML-escaped before the placeholders are filled in (with
escaped values): an admin's ``<b>`` shows as typed and a member's name never
becomes markup. Used by the job's notices and the admin's preview alike.
"""

from __future__ import annotations

from datetime import date
from html import escape

from core.i18n import N_, translator
from core.settings import SUPPORTED_LANGUAGES
from storage.greetings import Occasion
from storage.occasions import BIRTHDAY

XIAONIAN = N_(
    "🧹 {name}, happy Little New Year! Spring Festival is only a week away. The union "
    "wishes you a clean, warm home and a happy new year with your family."
)
DEFAULT_TEMPLATES: dict[str, str] = {
    "new_year": N_(
        "🎉 {name}, happy New Year! Thank you for all you did in the past year. "
        "The union wishes you good health and every success in {year}."
    ),
    "spring_festival": N_(
        "🧧 {name}, happy Spring Festival! The union wishes you and your family good "
        "health, happiness and every success in the new year."
    ),
    "lantern": N_(
        "🏮 {name}, happy Lantern Festival! May your family be together and your year "
        "be bright. Warm wishes from the union."
    ),
    "womens_day": N_(
        "🌷 {name}, happy International Women's Day! Thank you for all you give at work "
        "and at home. The union wishes you health, joy and beauty."
    ),
    "qingming": N_(
        "🌿 {name}, at Qingming we remember those who came before us. If you travel to "
        "tend the graves, please mind the roads and fire safety. The union wishes you "
        "peace."
    ),
    "labour_day": N_(
        "💪 {name}, happy Labour Day! Work builds a good life, and the union thanks you "
        "for yours. Enjoy a good rest over the holiday."
    ),
    "youth_day": N_(
        "🌟 {name}, happy Youth Day! May you keep the courage and energy of youth and "
        "shine in your work. Warm wishes from the union."
    ),
    "dragon_boat": N_(
        "🐉 {name}, wishing you good health this Dragon Boat Festival! Enjoy your zongzi. "
        "The union wishes you and your family peace and well-being."
    ),
    "childrens_day": N_(
        "🎈 {name}, happy Children's Day! May you and the children in your family keep a "
        "young heart and a bright smile. Warm wishes from the union."
    ),
    "army_day": N_(
        "🎖 {name}, on Army Day the union salutes you: thank you for your service, and "
        "for bringing a soldier's spirit to your work."
    ),
    "qixi": N_(
        "💞 {name}, happy Qixi Festival! May love and warmth be with you and those dear "
        "to you. Warm wishes from the union."
    ),
    "mid_autumn": N_(
        "🥮 {name}, happy Mid-Autumn Festival! As the moon is full, may your family be "
        "together. The union wishes you happiness and peace."
    ),
    "double_ninth": N_(
        "🍂 {name}, on the Double Ninth Festival the union thanks you for your many years "
        "of hard work and wishes you good health and a long, happy life."
    ),
    "national_day": N_(
        "🇨🇳 {name}, happy National Day! The union wishes you a joyful holiday and safe travels."
    ),
    "winter_solstice": N_(
        "❄️ {name}, the Winter Solstice is here: the longest night, and from now the days "
        "grow longer. Have a warm bowl of dumplings or tangyuan, and keep warm. The union "
        "wishes you and your family good health."
    ),
    "xiaonian": XIAONIAN,
    "xiaonian_south": XIAONIAN,
    "laba": N_(
        "🥣 {name}, happy Laba Festival! A warm bowl of Laba porridge as the new year "
        "draws near. The union wishes you health and happiness."
    ),
    BIRTHDAY: N_(
        "🎂 Happy birthday, {name}! The union wishes you good health, happiness and a "
        "wonderful year ahead."
    ),
}
CUSTOM_TEMPLATE = N_("🎉 {name}, today is {holiday}. Warm wishes from the union!")


def default_template(occasion: Occasion, language: str) -> str:
    msgid = CUSTOM_TEMPLATE if occasion.custom else DEFAULT_TEMPLATES[occasion.code]
    return translator(language).gettext(msgid)


def in_force(occasion: Occasion, own: dict[str, str]) -> dict[str, str]:
    """The text in force per supported language: the admins' ``own``, else the default."""
    return {
        language: own.get(language) or default_template(occasion, language)
        for language in SUPPORTED_LANGUAGES
    }


def render(template: str, *, name: str, year: int, holiday: str) -> str:
    """The greeting as HTML: the template and the values escaped, placeholders filled."""
    return escape(template).format(name=escape(name), year=year, holiday=escape(holiday))


def _language(member_language: str) -> str:
    return member_language if member_language in SUPPORTED_LANGUAGES else SUPPORTED_LANGUAGES[0]


def greeting_text(
    occasion: Occasion, templates: dict[str, str], language: str, name: str, day: date
) -> str:
    """What one member reads, in their language."""
    language = _language(language)
    return render(
        templates[language],
        name=name,
        year=day.year,
        holiday=occasion.greeting_name(translator(language)),
    )
