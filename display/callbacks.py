"""Callback data: one typed codec, every button traceable to its handler.

Data is `prefix:field:field…`, at most 64 bytes. Each button kind names its
fields with a `NamedTuple` (an `int`, an `Annotated[int, INT16]` for a
`SmallInteger` column, or a short `str` token), so a pressed button comes back
as that tuple with typed fields (`cb.ACT_SIGN_UP.unpack(data).activity`), never
as strings to re-cast.

Parsing is strict: the whole string must match (no trailing newline: Python's
`$` matches before one), and an int field must fit the column it is looked up
in (PostgreSQL's `Integer` is 32-bit, SQLite refuses more than 64 bits), so a
forged id is refused here rather than failing inside the database as "busy".
Handlers still check that the presser may do what the button says, so a forged
press can do nothing its user could not do by hand.

PTB's `CallbackQueryHandler` hands *empty* data to every handler whatever its
pattern; `handlers.guards` refuses empty and unknown data before any feature
sees it (`is_valid`).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, NamedTuple, TypeVar

MAX_BYTES = 64
_TOKEN = r"[A-Za-z0-9_-]{1,24}"
_REGISTRY: dict[str, CallbackAction[Any]] = {}


@dataclass(frozen=True)
class IntField:
    """An int field and the range its database column holds."""

    low: int
    high: int


# What every id, page and count in a button is compared with: an `Integer` column.
INT32 = IntField(-(2**31), 2**31 - 1)
# `SmallInteger` columns (a poll option's position): `Annotated[int, INT16]`.
INT16 = IntField(-(2**15), 2**15 - 1)
_INT = r"-?[0-9]{1,10}"  # not \d, which also takes other scripts' digits

Shape = TypeVar("Shape", bound=tuple[Any, ...])
# The kind of chat a button's messages are in.
ButtonChat = Literal["private", "group"]


class InvalidCallback(ValueError):
    """Callback data that no current button could have produced."""


class CallbackPattern:
    """An action's pattern, as PTB's `CallbackQueryHandler(pattern=...)` takes it.

    Callable (PTB then calls it instead of `re.match`, which would accept a
    trailing newline and cannot check ranges), with `match` for the handlers
    that tell several actions apart.
    """

    def __init__(self, action: CallbackAction[Any]) -> None:
        self.action = action

    def __call__(self, data: object) -> bool:
        return self.match(data)

    def match(self, data: object) -> bool:
        try:
            self.action.unpack(data)
        except InvalidCallback:
            return False
        return True

    def __repr__(self) -> str:
        return f"CallbackPattern({self.action.prefix!r})"


def _ranges_of(shape: type[tuple[Any, ...]]) -> tuple[IntField | None, ...]:
    """Each field's range from the shape's annotations (None for a str field)."""
    hints = typing.get_type_hints(shape, include_extras=True)
    ranges: list[IntField | None] = []
    for name in shape._fields:  # type: ignore[attr-defined]  # a NamedTuple's fields
        hint = hints[name]
        if typing.get_origin(hint) is Annotated:
            base, *extras = typing.get_args(hint)
            limits = [e for e in extras if isinstance(e, IntField)]
            if base is not int or len(limits) != 1:
                raise ValueError(f"bad callback field {name}: {hint!r}")
            ranges.append(limits[0])
        elif hint is int:
            ranges.append(INT32)
        elif hint is str:
            ranges.append(None)
        else:
            raise ValueError(f"bad callback field {name}: {hint!r}")
    return tuple(ranges)


class CallbackAction(Generic[Shape]):
    """A button kind: a unique prefix and the named, typed fields it carries.

    ``chat``: where its messages are. "group" for the few that sit only on
    messages in the union's groups (a case's card, a suggestion's card);
    "private" for every other. `handlers.guards` refuses a press in the other
    kind of chat, whoever presses: an admin's panel forged into the cadre group
    must not list members there, and a case's card button forged into a private
    chat must not act outside the group whose cadres answer for it.
    """

    __slots__ = ("chat", "prefix", "ranges", "regex", "shape")

    def __init__(self, prefix: str, shape: type[Shape], *, chat: ButtonChat = "private") -> None:
        if prefix in _REGISTRY:
            raise ValueError(f"callback prefix {prefix!r} used twice")
        if not re.fullmatch(r"[a-z]{1,6}", prefix):
            raise ValueError(f"bad callback prefix {prefix!r}")
        self.prefix = prefix
        self.shape = shape
        self.chat: ButtonChat = chat
        self.ranges = _ranges_of(shape)
        # The shape alone; used with `fullmatch` (ranges are checked by `unpack`).
        parts = [re.escape(prefix)]
        parts += [_TOKEN if limit is None else _INT for limit in self.ranges]
        self.regex = re.compile(":".join(parts))
        _REGISTRY[prefix] = self

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.shape._fields)  # type: ignore[attr-defined]  # a NamedTuple's fields

    @property
    def pattern(self) -> CallbackPattern:
        """What `CallbackQueryHandler(pattern=...)` is given: true only for valid data."""
        return CallbackPattern(self)

    def pack(self, *values: int | str) -> str:
        if len(values) != len(self.ranges):
            raise ValueError(f"{self.prefix} takes {len(self.ranges)} values")
        data = ":".join([self.prefix, *(str(v) for v in values)])
        try:
            self.unpack(data)
        except InvalidCallback:
            raise ValueError(f"cannot pack {data!r}") from None
        return data

    def unpack(self, data: object) -> Shape:
        if (
            not isinstance(data, str)
            or len(data.encode(errors="replace")) > MAX_BYTES
            or not self.regex.fullmatch(data)
        ):
            raise InvalidCallback(data)
        values: list[int | str] = []
        for limit, raw in zip(self.ranges, data.split(":")[1:], strict=True):
            if limit is None:
                values.append(raw)
                continue
            number = int(raw)
            if not limit.low <= number <= limit.high:
                raise InvalidCallback(data)
            values.append(number)
        make: Callable[..., Shape] = self.shape  # a NamedTuple takes its fields in order
        return make(*values)

    def __repr__(self) -> str:
        return f"CallbackAction({self.prefix!r}, {self.shape.__name__})"


def action(
    prefix: str, shape: type[Shape], *, chat: ButtonChat = "private"
) -> CallbackAction[Shape]:
    return CallbackAction(prefix, shape, chat=chat)


def known_prefix(data: str | None) -> bool:
    return bool(data) and str(data).split(":", 1)[0] in _REGISTRY


def action_of(data: object) -> CallbackAction[Any] | None:
    """The action whose button could have produced ``data``, or None."""
    if not isinstance(data, str):
        return None
    found = _REGISTRY.get(data.split(":", 1)[0])
    return found if found is not None and found.pattern.match(data) else None


def is_valid(data: object) -> bool:
    """Whether some button of the bot could have produced ``data``."""
    return action_of(data) is not None


def all_actions() -> tuple[CallbackAction[Any], ...]:
    """Every registered button kind (the fuzz test forges data for each)."""
    return tuple(_REGISTRY.values())


# Every button of the bot, in one place --------------------------------------
# Field shapes, shared where buttons carry the same thing.


class NoFields(NamedTuple):
    pass


class Page(NamedTuple):
    page: int


class Code(NamedTuple):
    """A short token: a language, a profile field, an occasion code."""

    code: str


class MemberRef(NamedTuple):
    member: int


class MemberOnPage(NamedTuple):
    member: int
    page: int  # the list page to return to


class MemberRole(NamedTuple):
    member: int
    role: str


class ItemRef(NamedTuple):
    """A department, interest group or grievance category."""

    item: int


class Nonce(NamedTuple):
    """A draft's nonce: a button from an older draft never acts on the current one."""

    nonce: int


class AudiencePick(NamedTuple):
    nonce: int
    source: str  # source key | all | tag
    item: int  # id or index within the source


class BroadcastRef(NamedTuple):
    broadcast: int


class BroadcastOnPage(NamedTuple):
    broadcast: int
    page: int


class OccasionBack(NamedTuple):
    code: str
    to_card: int  # 1 = back to the card, 0 = to the list


class OccasionLanguage(NamedTuple):
    code: str
    language: str


class CaseRef(NamedTuple):
    case: int


class CaseDays(NamedTuple):
    case: int
    days: int  # 0 = choose


class CaseFile(NamedTuple):
    case: int
    seq: int  # the message's number in the case's thread


class CaseStars(NamedTuple):
    case: int
    stars: int  # 1-5


class PollRef(NamedTuple):
    poll: int


class PollVote(NamedTuple):
    poll: int
    position: Annotated[int, INT16]  # the option's position


class PollHours(NamedTuple):
    poll: int
    hours: int


class PollSetting(NamedTuple):
    nonce: int
    setting: str  # kind | max | anon | aud | close | …


class Flag(NamedTuple):
    on: int  # 1 or 0


class SuggestionRef(NamedTuple):
    suggestion: int


class SuggestionStatus(NamedTuple):
    suggestion: int
    status: str


class ActivityRef(NamedTuple):
    activity: int


class ActivitySignUp(NamedTuple):
    activity: int
    guests: int  # 0 or 1


class ActivityStars(NamedTuple):
    activity: int
    stars: int  # 1-5


class ActivityField(NamedTuple):
    activity: int
    field: str


class AudienceChoice(NamedTuple):
    """An audience pick while composing (no draft nonce)."""

    source: str  # source key | all | tag
    item: int  # id or index


class Publish(NamedTuple):
    """An activity or training to publish."""

    parent: int
    announce: int  # 1 = announce, 0 = quietly


class ActivityPage(NamedTuple):
    activity: int
    page: int


class RosterMark(NamedTuple):
    activity: int
    signup: int
    page: int


class ActivityExport(NamedTuple):
    activity: int
    format: str  # csv | xlsx


class TrainingRef(NamedTuple):
    training: int


class TrainingStars(NamedTuple):
    training: int
    stars: int  # 1-5


class EnrolmentRef(NamedTuple):
    enrolment: int


class SessionRef(NamedTuple):
    session: int


class AttendanceMark(NamedTuple):
    session: int
    member: int


class GroupRef(NamedTuple):
    group: int


# A pulse answer's stars: the codec itself refuses anything but 1 to 5.
STARS = IntField(1, 5)


class PulseStars(NamedTuple):
    month: int  # PulseMonth.id
    stars: Annotated[int, STARS]


# Membership
LANGUAGE = action("lang", Code)  # language code
PROFILE_EDIT = action(
    "pedit", Code
)  # field: name | dept | bday | nobday (asks) | rmbday | keepbday | lang | forget
FORGET_CONFIRM = action("fgok", NoFields)
FORGET_ABORT = action("fgno", NoFields)
CANCEL = action("cancel", NoFields)

# Admin panel
ADMIN_HOME = action("adm", NoFields)
ADMIN_MEMBERS = action("amem", Page)
ADMIN_MEMBER = action("amone", MemberOnPage)
ADMIN_SET_ROLE = action("arole", MemberRole)
ADMIN_FIND = action("afind", NoFields)
ADMIN_TAGS = action("atags", MemberRef)
ADMIN_DEPARTMENTS = action("adeps", NoFields)
ADMIN_DEPARTMENT = action("adep", ItemRef)
ADMIN_DEPARTMENT_ADD = action("adepa", NoFields)
ADMIN_DEPARTMENT_RENAME = action("adepr", ItemRef)
ADMIN_DEPARTMENT_DELETE = action("adepd", ItemRef)
ADMIN_DEPARTMENT_DELETE_CONFIRM = action("adepx", ItemRef)
ADMIN_GROUPS = action("agrps", NoFields)
ADMIN_GROUP = action("agrp", ItemRef)
ADMIN_GROUP_ADD = action("agrpa", NoFields)
ADMIN_GROUP_RENAME = action("agrpr", ItemRef)
ADMIN_GROUP_DELETE = action("agrpd", ItemRef)
ADMIN_GROUP_DELETE_CONFIRM = action("agrpx", ItemRef)

# Broadcasts. Draft buttons carry the draft's nonce: a button from an older
# draft (or a forged one) never acts on the current draft.
BROADCAST_NEW = action("bcnew", NoFields)
BROADCAST_AUDIENCE = action("bcaud", AudiencePick)
BROADCAST_NEXT = action("bcnext", Nonce)
BROADCAST_ENGLISH = action("bcen", Nonce)  # add an English version
BROADCAST_NO_ENGLISH = action("bcnoen", Nonce)  # skip it
BROADCAST_ENGLISH_EDIT = action("bcened", Nonce)  # from the preview: add or replace it
BROADCAST_ENGLISH_DROP = action("bcendr", Nonce)  # from the preview: remove it
BROADCAST_ENGLISH_BACK = action("bcenbk", Nonce)  # back to the preview, English unchanged
BROADCAST_FORMAT = action("bcfmt", Nonce)  # toggle plain / formatted
BROADCAST_BACK = action("bcback", Nonce)  # back to the audience
BROADCAST_SEND = action("bcsend", Nonce)
BROADCAST_SCHEDULE = action("bcsch", Nonce)
BROADCAST_QUIT = action("bcquit", Nonce)
BROADCAST_PAUSE = action("bcpau", BroadcastRef)
BROADCAST_RESUME = action("bcres", BroadcastRef)
BROADCAST_STOP = action("bcstop", BroadcastRef)  # ask to confirm
BROADCAST_STOP_CONFIRM = action("bcstpy", BroadcastRef)
BROADCAST_STOP_BACK = action("bcstpn", BroadcastRef)
BROADCAST_LIST = action("bclist", Page)
BROADCAST_VIEW = action("bcview", BroadcastOnPage)

# Greetings (handlers/greetings.py); occasion codes are [a-z0-9_-]{1,24}
GREET_HOME = action("gr", NoFields)
GREET_OCCASION = action("gro", Code)
GREET_TOGGLE = action("grt", OccasionBack)
GREET_EDIT = action("gre", OccasionLanguage)
GREET_PREVIEW = action("grp", Code)
GREET_RESET = action("grr", Code)
GREET_AUDIENCE = action("gra", Code)
GREET_DELETE = action("grd", Code)
GREET_DELETE_CONFIRM = action("grx", Code)
GREET_ADD = action("grn", NoFields)
GREET_UPCOMING = action("gru", NoFields)

# Grievances (handlers/grievances/). Every case
# button carries the case id; handlers check the presser wrote the case
# (member buttons) or is a cadre in one of the case's groups (cadre buttons, on the
# case's card in those groups).
GRIEVANCE_TAKE = action("gvtake", CaseRef, chat="group")
GRIEVANCE_REPLY = action("gvrep", CaseRef, chat="group")
GRIEVANCE_RESOLVE = action("gvres", CaseRef, chat="group")  # ask to confirm
GRIEVANCE_RESOLVE_CONFIRM = action("gvresy", CaseRef, chat="group")
GRIEVANCE_ESCALATE = action("gvesc", CaseRef, chat="group")
GRIEVANCE_MUTE = action("gvmute", CaseDays, chat="group")
GRIEVANCE_UNMUTE = action("gvunm", CaseRef, chat="group")
GRIEVANCE_CARD = action("gvcard", CaseRef, chat="group")  # back to the card's buttons
# Pass on the message a nudge replies to; 0 = no.
GRIEVANCE_PASS_ON = action("gvpass", CaseRef, chat="group")
GRIEVANCE_MY_CASES = action("gvlist", NoFields)
GRIEVANCE_VIEW = action("gvcase", CaseRef)
GRIEVANCE_ADD = action("gvadd", CaseRef)
GRIEVANCE_OFFER = action("gvoffr", CaseRef)  # add the text the offer replies to; 0 = no
GRIEVANCE_CLOSE = action("gvcls", CaseRef)  # ask to confirm
GRIEVANCE_CLOSE_CONFIRM = action("gvclsy", CaseRef)
GRIEVANCE_SIGN = action("gvsign", CaseRef)  # ask to confirm
GRIEVANCE_SIGN_CONFIRM = action("gvsgny", CaseRef)
GRIEVANCE_RATE = action("gvrate", CaseStars)
GRIEVANCE_REOPEN = action("gvreop", CaseRef)  # asks for a reason (or ⏭ Skip)
GRIEVANCE_FILES = action("gvfls", CaseRef)  # the member's own attachments of a case
GRIEVANCE_FILE = action("gvfile", CaseFile)  # one of them, sent again
GRIEVANCE_SETTINGS = action("gvset", NoFields)
GRIEVANCE_CATEGORY = action("gvcat", ItemRef)  # category id
GRIEVANCE_CATEGORY_ADD = action("gvcadd", NoFields)
GRIEVANCE_CATEGORY_RENAME = action("gvcren", ItemRef)
GRIEVANCE_CATEGORY_SLA = action("gvcsla", ItemRef)
GRIEVANCE_CATEGORY_ROUTE = action("gvcrt", ItemRef)
GRIEVANCE_CATEGORY_URGENT = action("gvcurg", ItemRef)  # toggle "always urgent"
GRIEVANCE_CATEGORY_ACTIVE = action("gvcact", ItemRef)  # toggle shown / hidden
GRIEVANCE_DAILY_LIMIT = action("gvlim", NoFields)

# Polls (handlers/polls/). Draft buttons carry the draft's nonce; poll buttons
# carry the poll id, and the handler checks the presser may vote or manage it.
POLL_VOTE = action("pv", PollVote)
POLL_RESULTS = action("pres", PollRef)
POLL_OPEN = action("popen", PollRef)  # show it again (or its results)
POLL_LIST = action("plist", NoFields)
POLL_NEW = action("pnew", NoFields)
POLL_MANAGE = action("pman", PollRef)
POLL_BREAKDOWN = action("pdept", PollRef)
POLL_EXPORT = action("pxls", PollRef)
POLL_EXTEND = action("pext", PollHours)
POLL_CLOSE = action("pclose", PollRef)  # ask to confirm
POLL_CLOSE_CONFIRM = action("pclx", PollRef)
POLL_DELETE = action("pdel", PollRef)  # ask to confirm
POLL_DELETE_CONFIRM = action("pdelx", PollRef)
POLL_DRAFT = action("pds", PollSetting)
POLL_AUDIENCE = action("pdaud", AudiencePick)
POLL_PREVIEW = action("ppv", NoFields)  # the option buttons of a preview: do nothing
POLL_SETTINGS = action("pset", NoFields)  # admin panel: poll settings
POLL_CADRES = action("pcadr", Flag)  # 1: cadres may create polls, 0: they may not

# Suggestions (handlers/suggestions.py): the cadre buttons carry the suggestion id and
# sit on its card in the cadre group.
SUGGEST_NEW = action("sgnew", NoFields)
SUGGEST_MINE = action("sgmine", NoFields)
SUGGEST_SEND = action("sgsend", NoFields)
SUGGEST_STATUS = action("sgst", SuggestionStatus, chat="group")
SUGGEST_REPLY = action("sgrep", SuggestionRef, chat="group")

# Activities (handlers/activities/): buttons carry the activity id; handlers check
# the presser may see it (audience) or manage it (cadre).
ACT_LIST = action("acl", Page)
ACT_OPEN = action("aco", ActivityRef)
ACT_SIGN_UP = action("acs", ActivitySignUp)
ACT_LEAVE = action("acx", ActivityRef)  # cancel my sign-up
ACT_CHECK_IN = action("acci", ActivityRef)  # ask for the check-in code
ACT_RATE = action("acr", ActivityStars)
ACT_NEW = action("acn", NoFields)
ACT_ADMIN = action("aca", Page)  # cadres' list
ACT_MANAGE = action("acm", ActivityRef)
ACT_EDIT = action("ace", ActivityField)
ACT_AUDIENCE = action("acau", AudienceChoice)  # while composing
ACT_AUDIENCE_DONE = action("acaud", NoFields)
ACT_PUBLISH = action("acp", Publish)
ACT_ROSTER = action("acro", ActivityPage)
ACT_MARK = action("acmk", RosterMark)
ACT_EXPORT = action("acex", ActivityExport)
ACT_LINK = action("acln", ActivityRef)
ACT_CANCEL = action("acc", ActivityRef)  # ask to confirm
ACT_CANCEL_CONFIRM = action("acck", ActivityRef)

# Trainings (handlers/trainings/)
TRN_LIST = action("trl", Page)
TRN_OPEN = action("tro", TrainingRef)
TRN_ENROL = action("tre", TrainingRef)
TRN_WITHDRAW = action("trw", TrainingRef)
TRN_NEW = action("trn", NoFields)
TRN_ADMIN = action("tra", Page)  # cadres' list
TRN_MANAGE = action("trm", TrainingRef)
TRN_PUBLISH = action("trp", Publish)
TRN_REQUESTS = action("trq", TrainingRef)
TRN_APPROVE = action("trok", EnrolmentRef)
TRN_REJECT = action("trno", EnrolmentRef)  # ask for the reason
TRN_SESSIONS = action("trs", TrainingRef)
TRN_SESSION = action("trss", SessionRef)  # attendance list
TRN_MARK = action("trmk", AttendanceMark)
TRN_EXPORT = action("trx", TrainingRef)
TRN_LINK = action("trln", TrainingRef)
TRN_CANCEL = action("trc", TrainingRef)  # ask to confirm
TRN_CANCEL_CONFIRM = action("trck", TrainingRef)
TRN_RATE = action("trr", TrainingStars)

# Interest groups for members (handlers/groups.py)
GROUPS_LIST = action("igl", NoFields)
GROUP_OPEN = action("igo", GroupRef)
GROUP_JOIN = action("igj", GroupRef)
GROUP_LEAVE = action("igx", GroupRef)

# Roster import and joining with a one-time code (handlers/roster/)
ROSTER_START = action("rst", NoFields)  # the admin panel's "📋 Roster import"
ROSTER_JOIN = action("rjn", Code)  # confirm joining with the code (already in the chat)
ROSTER_JOIN_NO = action("rjx", NoFields)
# The satisfaction pulse (handlers/pulse)
PULSE_HOME = action("pls", NoFields)  # the admin's pulse panel
PULSE_SWITCH = action("plsw", Flag)  # on 1 / off 0
PULSE_STARS = action("plst", PulseStars)


# Handbook (handlers/handbook.py). Topic and entry ids; the handler looks them up
# and answers "no longer there" for a deleted one.
class TopicRef(NamedTuple):
    topic: int  # 0 = the handbook's first page


class EntryRef(NamedTuple):
    entry: int


HANDBOOK_TOPIC = action("hbt", TopicRef)
HANDBOOK_ENTRY = action("hbe", EntryRef)
HANDBOOK_SEARCH = action("hbs", NoFields)  # ask for keywords


class EntryTopic(NamedTuple):
    entry: int
    topic: int


class TopicParent(NamedTuple):
    topic: int
    parent: int  # 0 = the top of the handbook


# Admins editing the handbook (handlers/handbook/editor.py); the handler checks the role.
HANDBOOK_NEW_ENTRY = action("hbne", TopicRef)
HANDBOOK_NEW_TOPIC = action("hbnt", TopicRef)  # under this topic, 0 = at the top
HANDBOOK_EDIT_ENTRY = action("hbee", EntryRef)
HANDBOOK_RENAME_TOPIC = action("hbrt", TopicRef)
HANDBOOK_MOVE_ENTRY = action("hbme", EntryRef)  # choose where
HANDBOOK_MOVE_ENTRY_TO = action("hbmet", EntryTopic)
HANDBOOK_MOVE_TOPIC = action("hbmt", TopicRef)  # choose where
HANDBOOK_MOVE_TOPIC_TO = action("hbmtt", TopicParent)
HANDBOOK_DELETE_ENTRY = action("hbde", EntryRef)  # ask to confirm
HANDBOOK_DELETE_ENTRY_OK = action("hbdey", EntryRef)
HANDBOOK_DELETE_TOPIC = action("hbdt", TopicRef)  # ask to confirm
HANDBOOK_DELETE_TOPIC_OK = action("hbdty", TopicRef)


class RelatedToggle(NamedTuple):
    entry: int  # the entry whose "see also" is being chosen
    other: int  # the entry added or taken out
    page: int  # the list's page the button is on


class EntryPage(NamedTuple):
    entry: int
    page: int


# Choosing an entry's related entries (the RELATED step of handbook_edit): the
# choice is kept in the draft until ✅ Save; a button of a closed list is answered so.
HANDBOOK_RELATED = action("hbr", EntryRef)  # open the list
HANDBOOK_RELATED_TOGGLE = action("hbrx", RelatedToggle)
HANDBOOK_RELATED_PAGE = action("hbrp", EntryPage)
HANDBOOK_RELATED_CLEAR = action("hbrc", EntryRef)


# The monthly report (handlers/report.py): ‹ previous / next › month. The handler
# checks the presser is a cadre; the range keeps the year a real one.
REPORT_YEAR = IntField(2000, 2100)
REPORT_MONTH_NUMBER = IntField(1, 12)


class ReportMonth(NamedTuple):
    year: Annotated[int, REPORT_YEAR]
    month: Annotated[int, REPORT_MONTH_NUMBER]


REPORT_MONTH = action("rpm", ReportMonth)


# A natural time proposed where a time is asked (handlers/time_input.py): ✅ confirm /
# ✏️ type it again. ``at`` is the proposed moment in whole minutes since 1970 (UTC); the
# handler acts only while that is still the conversation's pending proposal.
class ProposedTime(NamedTuple):
    at: int


TIME_CONFIRM = action("tmok", ProposedTime)
TIME_RETRY = action("tmre", ProposedTime)
