"""A broadcast being composed: the draft the /broadcast conversation keeps until it is sent.

The conversation (`handlers.broadcasts.composer`) asks; this draft decides what
it accepts. It is a `core.drafts` dataclass, kept typed in ``user_data``
between steps and across restarts; nothing is stored in `broadcasts` until the
admin sends or schedules it. Refusals are the typed errors of
`storage.broadcast_rules` (`ContentError`, `MarkupError`), which the handler
words in the admin's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import drafts
from storage.audiences import Audience
from storage.broadcast_rules import ContentError, MarkupError, check_content, visible_text
from storage.broadcasts import Content


def _nobody() -> dict[str, Any]:
    return Audience().to_json()


@drafts.draft("broadcast")
@dataclass
class NewBroadcast:
    """What the admin has sent and chosen so far; ``nonce`` ties its buttons to this draft.

    ``source`` is the text as typed, which "formatted" reads as Telegram HTML;
    ``plain`` is Telegram's own HTML of the same message, so "plain" shows
    exactly what was typed (and any formatting the client applied).
    """

    nonce: int
    source: str | None = None
    plain: str = ""
    media: tuple[str, str] | None = None  # (photo | document, Telegram file id)
    # The English version (text, or the caption of the same photo or document),
    # read plain or formatted with the Chinese one. Drafts stored before it
    # existed load with None (`core.drafts` fills fields that have a default).
    source_en: str | None = None
    plain_en: str = ""
    formatted: bool = False
    # Audience.to_json(): an Audience holds frozensets, which a stored draft cannot.
    audience_json: dict[str, Any] = field(default_factory=_nobody)
    tags: list[str] = field(default_factory=list)  # the picker's tags, in button order
    page: int = 0  # the picker's page
    # Shown as a preview: the English version, added or replaced now, returns to it.
    previewed: bool = False

    @property
    def audience(self) -> Audience:
        return Audience.from_json(self.audience_json)

    @property
    def has_content(self) -> bool:
        """Whether there is something to preview: the preview's buttons act only then."""
        return self.source is not None

    @property
    def can_format(self) -> bool:
        """Whether there is text to read as formatting (a bare photo has none)."""
        return bool(self.source)

    def take(self, source: str, plain: str, media: tuple[str, str] | None) -> None:
        """Take the announcement (again); ContentError if it cannot be sent as it is.

        Taking new content starts the audience over and reads the text plain.
        """
        check_content(source, has_media=media is not None)
        self.source, self.plain, self.media = source, plain, media
        self.source_en, self.plain_en = None, ""
        self.formatted = False
        self.audience_json = _nobody()
        self.previewed = False

    def take_english(self, source: str, plain: str) -> None:
        """Take the English version; ContentError if it is empty or too long.

        The limit is the Chinese version's: a caption's with a photo or document.
        """
        if not source.strip():
            raise ContentError("empty")
        check_content(source, has_media=self.media is not None)
        self.source_en, self.plain_en = source, plain
        self.formatted = False

    @property
    def has_english(self) -> bool:
        return self.source_en is not None

    def drop_english(self) -> None:
        """No English version after all: every member receives the Chinese text.

        The reading (plain or formatted) stays: the Chinese text passed it alone."""
        self.source_en, self.plain_en = None, ""

    def toggle_format(self) -> None:
        """Read the text as formatted, or plain again.

        To formatted only if Telegram would accept the markup (MarkupError) and
        the text it leaves fits (ContentError).
        """
        if not self.formatted:
            assert self.source is not None
            has_media = self.media is not None
            check_content(visible_text(self.source), has_media=has_media)
            if self.source_en is not None:
                try:
                    check_content(visible_text(self.source_en), has_media=has_media)
                except MarkupError as error:
                    raise MarkupError(
                        error.code, error.position, error.tag, error.expected, english=True
                    ) from error
        self.formatted = not self.formatted

    def choose(self, audience: Audience) -> None:
        self.audience_json = audience.to_json()

    def turn_page(self, page: int) -> None:
        self.page = max(0, page)

    def content(self) -> Content:
        """What members receive."""
        assert self.source is not None
        media_kind, media_file_id = self.media if self.media else (None, None)
        english = None
        if self.source_en is not None:
            english = self.source_en if self.formatted else self.plain_en
        return Content(
            text=self.source if self.formatted else self.plain,
            formatted=self.formatted,
            media_kind=media_kind,
            media_file_id=media_file_id,
            text_en=english,
        )
