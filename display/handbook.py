"""How the handbook reads: topic pages, an entry, search results, the free-text offer.

Titles are plain text (escaped here); bodies are safe HTML, checked when saved.
Each text comes in the member's language: zh_CN, else English.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import N_, Translator
from display import callbacks as cb
from storage.models import HandbookEntry, HandbookTopic

ENTRY_MARK = "📄 "
TOPIC_MARK = "📂 "


def _zh(t: Translator) -> bool:
    return t.language.startswith("zh")


def title(t: Translator, item: HandbookTopic | HandbookEntry) -> str:
    return item.title_zh if _zh(t) else item.title_en


def body(t: Translator, entry: HandbookEntry) -> str:
    return entry.body_zh if _zh(t) else entry.body_en


def _search_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("🔍 Search"), callback_data=cb.HANDBOOK_SEARCH.pack())


def _entry_button(t: Translator, entry: HandbookEntry) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        ENTRY_MARK + title(t, entry), callback_data=cb.HANDBOOK_ENTRY.pack(entry.id)
    )


def topic_text(t: Translator, topic: HandbookTopic | None, empty: bool) -> str:
    if topic is None:
        lines = [
            "<b>" + t.gettext("📖 Member service handbook") + "</b>",
            t.gettext("Choose a topic, or search with 🔍 Search."),
        ]
    else:
        lines = ["<b>" + TOPIC_MARK + escape(title(t, topic)) + "</b>"]
    if empty:
        lines.append(t.gettext("Nothing here yet."))
    return "\n".join(lines)


def topic_keyboard(
    t: Translator,
    topic: HandbookTopic | None,
    topics: Sequence[HandbookTopic],
    entries: Sequence[HandbookEntry],
    editable: bool = False,
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                TOPIC_MARK + title(t, sub), callback_data=cb.HANDBOOK_TOPIC.pack(sub.id)
            )
        ]
        for sub in topics
    ]
    rows += [[_entry_button(t, entry)] for entry in entries]
    last = [_search_button(t)]
    if topic is not None:
        back = t.gettext("« Back")
        last.insert(
            0,
            InlineKeyboardButton(back, callback_data=cb.HANDBOOK_TOPIC.pack(topic.parent_id or 0)),
        )
    rows.append(last)
    if editable:
        here = topic.id if topic else 0
        tools = [
            InlineKeyboardButton(
                t.gettext("➕ Topic"), callback_data=cb.HANDBOOK_NEW_TOPIC.pack(here)
            )
        ]
        if topic is not None:
            tools.insert(
                0,
                InlineKeyboardButton(
                    t.gettext("➕ Entry"), callback_data=cb.HANDBOOK_NEW_ENTRY.pack(topic.id)
                ),
            )
        rows.append(tools)
        if topic is not None:
            rows.append(
                [
                    InlineKeyboardButton(
                        t.gettext("✏️ Rename"), callback_data=cb.HANDBOOK_RENAME_TOPIC.pack(topic.id)
                    ),
                    InlineKeyboardButton(
                        t.gettext("↕️ Move"), callback_data=cb.HANDBOOK_MOVE_TOPIC.pack(topic.id)
                    ),
                    InlineKeyboardButton(
                        t.gettext("🗑 Delete"), callback_data=cb.HANDBOOK_DELETE_TOPIC.pack(topic.id)
                    ),
                ]
            )
    return InlineKeyboardMarkup(rows)


def entry_text(t: Translator, entry: HandbookEntry) -> str:
    return "<b>" + ENTRY_MARK + escape(title(t, entry)) + "</b>\n\n" + body(t, entry)


def entry_keyboard(
    t: Translator, entry: HandbookEntry, related: Sequence[HandbookEntry], editable: bool = False
) -> InlineKeyboardMarkup:
    rows = [[_entry_button(t, other)] for other in related]
    if editable:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("✏️ Edit"), callback_data=cb.HANDBOOK_EDIT_ENTRY.pack(entry.id)
                ),
                InlineKeyboardButton(
                    t.gettext("↕️ Move"), callback_data=cb.HANDBOOK_MOVE_ENTRY.pack(entry.id)
                ),
                InlineKeyboardButton(
                    t.gettext("🗑 Delete"), callback_data=cb.HANDBOOK_DELETE_ENTRY.pack(entry.id)
                ),
            ]
        )
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("🔗 Related entries"),
                    callback_data=cb.HANDBOOK_RELATED.pack(entry.id),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("« Back"), callback_data=cb.HANDBOOK_TOPIC.pack(entry.topic_id)
            ),
            InlineKeyboardButton(t.gettext("📖 Contents"), callback_data=cb.HANDBOOK_TOPIC.pack(0)),
        ]
    )
    return InlineKeyboardMarkup(rows)


def related_heading(t: Translator) -> str:
    return t.gettext("See also:")


def search_prompt(t: Translator) -> str:
    return t.gettext(
        "What are you looking for? Type a few keywords, in Chinese or English "
        "(for example: 工资, legal aid)."
    )


def results_text(t: Translator, query: str, found: bool) -> str:
    if not found:
        return t.gettext(
            "Nothing in the handbook matches “{query}”. Try other words, browse the topics, "
            "or ask the union with 💡 Suggestions."
        ).format(query=escape(query))
    return t.gettext("🔍 What the handbook says about “{query}”:").format(query=escape(query))


def results_keyboard(t: Translator, entries: Sequence[HandbookEntry]) -> InlineKeyboardMarkup:
    rows = [[_entry_button(t, entry)] for entry in entries]
    rows.append(
        [
            InlineKeyboardButton(t.gettext("📖 Contents"), callback_data=cb.HANDBOOK_TOPIC.pack(0)),
            _search_button(t),
        ]
    )
    return InlineKeyboardMarkup(rows)


def offer_text(t: Translator) -> str:
    return t.gettext(
        "I could not place your message, but the handbook may help. Or choose from the menu below."
    )


def misses_text(t: Translator, misses: Sequence[tuple[str, int]], month: date | None = None) -> str:
    """Every search that found nothing (cadres only): all time, or in ``month``."""
    if month is None:
        heading = t.gettext("Searches that found nothing (all time)")
        other = t.gettext("This month only: /handbook_misses month")
    else:
        heading = t.gettext("Searches that found nothing in {month}").format(
            month=month.strftime("%Y-%m")
        )
        other = t.gettext("All time: /handbook_misses")
    if not misses:
        empty = (
            t.gettext("No search has come back empty so far.")
            if month is None
            else t.gettext("No search has come back empty this month.")
        )
        return "\n".join([empty, other])
    lines = ["<b>" + heading + "</b>"]
    lines += [f"{count} × {escape(query)}" for query, count in misses]
    lines.append(t.gettext("Write entries for these, or add synonyms with /handbook_synonyms."))
    lines.append(other)
    return "\n".join(lines)


def synonyms_text(t: Translator, groups: Sequence[Sequence[str]]) -> str:
    lines = ["<b>" + t.gettext("Handbook synonyms") + "</b>"]
    lines += [" / ".join(escape(w) for w in group) for group in groups]
    lines.append(
        t.gettext("To add a group: /handbook_synonyms 工资 薪酬 薪水 (words searched as one).")
    )
    return "\n".join(lines)


# Editing (admins) ---------------------------------------------------------------------

SAVE_LABEL = N_("✅ Save")
NO_FILE_LABEL = N_("🗑 No file")

ASKS = {
    "title_zh": N_("Send the title in Chinese (at most {limit} characters)."),
    "title_en": N_("Send the title in English (at most {limit} characters)."),
    "body_zh": N_(
        "Send the text in Chinese. Bold, italics and links you format in Telegram are kept."
    ),
    "body_en": N_("Send the text in English."),
    "file": N_("Send a photo or a document to show with the entry, or tap ⏭ Skip."),
}


def ask(t: Translator, step: str, current: str, limit: int) -> str:
    lines = [t.gettext(ASKS[step]).format(limit=limit)]
    if current:
        lines.append(t.gettext("Now: {current}").format(current=escape(current)))
        lines.append(t.gettext("⏭ Skip keeps it."))
    return "\n".join(lines)


def preview_heading(t: Translator, language: str) -> str:
    return t.gettext("Preview ({language}):").format(language=language)


def confirm_text(t: Translator) -> str:
    return t.gettext("Save this to the handbook? Tap ✅ Save, or ✖️ Cancel to drop it.")


def saved_text(t: Translator) -> str:
    return t.gettext("✅ Saved. Members see it in the handbook now.")


def move_text(t: Translator, what: str) -> str:
    return t.gettext("Move “{what}” where?").format(what=escape(what))


def move_keyboard(
    t: Translator, choices: Sequence[HandbookTopic], pack: Callable[[int], str], top: bool
) -> InlineKeyboardMarkup:
    rows = []
    if top:
        rows.append(
            [InlineKeyboardButton(t.gettext("⬆️ Top of the handbook"), callback_data=pack(0))]
        )
    rows += [
        [InlineKeyboardButton(TOPIC_MARK + title(t, c), callback_data=pack(c.id))] for c in choices
    ]
    rows.append(
        [InlineKeyboardButton(t.gettext("📖 Contents"), callback_data=cb.HANDBOOK_TOPIC.pack(0))]
    )
    return InlineKeyboardMarkup(rows)


def delete_text(t: Translator, what: str) -> str:
    return t.gettext("Delete “{what}” from the handbook? This cannot be undone.").format(
        what=escape(what)
    )


def delete_keyboard(t: Translator, confirm: str, back: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("🗑 Yes, delete"), callback_data=confirm),
                InlineKeyboardButton(t.gettext("« Back"), callback_data=back),
            ]
        ]
    )


# Choosing related entries --------------------------------------------------------------

RELATED_PAGE = 8  # entries a page of the list
CHOSEN_MARK = "✅ "
UNCHOSEN_MARK = "⬜ "


def related_pages(count: int) -> int:
    return max(1, -(-count // RELATED_PAGE))


def related_prompt(t: Translator, what: str) -> str:
    return t.gettext(
        "Choose the entries shown under “{what}” as “See also”: tap one in the list to add "
        "or remove it, then tap ✅ Save. 🧹 None clears the list."
    ).format(what=escape(what))


def related_text(t: Translator, chosen: Sequence[HandbookEntry], page: int, pages: int) -> str:
    """The list's heading: what is chosen so far (on every page) and which page this is."""
    lines = ["<b>" + t.gettext("🔗 Related entries") + "</b>"]
    if chosen:
        lines.append(
            t.gettext("Chosen: {titles}").format(
                titles=t.gettext(", ").join(escape(title(t, e)) for e in chosen)
            )
        )
    else:
        lines.append(t.gettext("None chosen."))
    if pages > 1:
        lines.append(t.gettext("Page {page} of {pages}").format(page=page + 1, pages=pages))
    return "\n".join(lines)


def related_keyboard(
    t: Translator,
    entry_id: int,
    choices: Sequence[HandbookEntry],
    chosen: Sequence[int],
    page: int,
    pages: int,
) -> InlineKeyboardMarkup:
    """One page of the other entries, each a toggle; paging and 🧹 None below."""
    start = page * RELATED_PAGE
    rows = [
        [
            InlineKeyboardButton(
                (CHOSEN_MARK if other.id in chosen else UNCHOSEN_MARK) + title(t, other),
                callback_data=cb.HANDBOOK_RELATED_TOGGLE.pack(entry_id, other.id, page),
            )
        ]
        for other in choices[start : start + RELATED_PAGE]
    ]
    last = []
    if page > 0:
        last.append(
            InlineKeyboardButton(
                "‹", callback_data=cb.HANDBOOK_RELATED_PAGE.pack(entry_id, page - 1)
            )
        )
    last.append(
        InlineKeyboardButton(
            t.gettext("🧹 None"), callback_data=cb.HANDBOOK_RELATED_CLEAR.pack(entry_id)
        )
    )
    if page + 1 < pages:
        last.append(
            InlineKeyboardButton(
                "›", callback_data=cb.HANDBOOK_RELATED_PAGE.pack(entry_id, page + 1)
            )
        )
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def related_saved(t: Translator, count: int, left_out: int) -> str:
    lines = [
        t.gettext("✅ Saved: no related entries.")
        if not count
        else t.ngettext(
            "✅ Saved: {count} related entry.", "✅ Saved: {count} related entries.", count
        ).format(count=count)
    ]
    if left_out:
        lines.append(
            t.ngettext(
                "{count} entry you chose was deleted meanwhile and is left out.",
                "{count} entries you chose were deleted meanwhile and are left out.",
                left_out,
            ).format(count=left_out)
        )
    return "\n".join(lines)


REFUSALS = {
    "not_empty": N_("Move or delete what is in this topic first."),
    "cycle": N_("A topic cannot go inside itself or its own subtopics."),
    "self": N_("An entry cannot be related to itself."),
    "too_many": N_("An entry can have at most {limit} related entries."),
}


def refusal(t: Translator, reason: str, limit: int = 0) -> str:
    return t.gettext(REFUSALS[reason]).format(limit=limit)
