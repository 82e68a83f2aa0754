"""Callback data: one typed codec, every button traceable to its handler.

Data is `prefix:field:field…`, at most 64 bytes. Parsing is strict: the whole
string must match (no trailing newline: Python's `$` matches before one), and
an int field must fit the column it is looked up in (PostgreSQL's `Integer` is
32-bit, SQLite refuses more than 64 bits), so a forged id is refused here rather
than failing inside the database as "busy". Handlers still check that the
presser may do what the button says, so a forged press can do nothing its user
could not do by hand.

PTB's `CallbackQueryHandler` hands *empty* data to every handler whatever its
pattern; `handlers.guards` refuses empty and unknown data before any feature
sees it (`is_valid`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_TOKEN = r"[A-Za-z0-9_-]{1,24}"
_REGISTRY: dict[str, CallbackAction] = {}


@dataclass(frozen=True)
class IntField:
    """An int field and the range its database column holds."""

    low: int
    high: int


# What every id, page and count in a button is compared with: an `Integer` column.
INT32 = IntField(-(2**31), 2**31 - 1)
# `SmallInteger` columns (a poll option's position).
INT16 = IntField(-(2**15), 2**15 - 1)
_INT = r"-?[0-9]{1,10}"  # not \d, which also takes other scripts' digits
Field = type | IntField


class InvalidCallback(ValueError):
    """Callback data that no current button could have produced."""


class CallbackPattern:
    """An action's pattern, as PTB's `CallbackQueryHandler(pattern=...)` takes it.

    Callable (PTB then calls it instead of `re.match`, which would accept a
    trailing newline and cannot check ranges), with `match` for the handlers
    that tell several actions apart.
    """

    def __init__(self, action: CallbackAction) -> None:
        self.action = action

    def __call__(self, data: object) -> bool:
        return self.match(data)

    def match(self, data: object) -> bool:
        try:
            self.action.unpack(data)  # type: ignore[arg-type]
        except InvalidCallback:
            return False
        return True

    def __repr__(self) -> str:
        return f"CallbackPattern({self.action.prefix!r})"


@dataclass(frozen=True)
class CallbackAction:
    """A button kind: a unique prefix and the types of its fields (int or str).

    A plain `int` field is an `INT32`; pass an `IntField` for another range.
    """

    prefix: str
    fields: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        if self.prefix in _REGISTRY:
            raise ValueError(f"callback prefix {self.prefix!r} used twice")
        if not re.fullmatch(r"[a-z]{1,6}", self.prefix):
            raise ValueError(f"bad callback prefix {self.prefix!r}")
        for kind in self.fields:
            if kind not in (int, str) and not isinstance(kind, IntField):
                raise ValueError(f"bad callback field {kind!r}")
        _REGISTRY[self.prefix] = self

    @property
    def ranges(self) -> tuple[IntField | None, ...]:
        """Each field's range (None for a str field)."""
        return tuple(
            INT32 if kind is int else kind if isinstance(kind, IntField) else None
            for kind in self.fields
        )

    @property
    def regex(self) -> re.Pattern[str]:
        """The shape alone; use with `fullmatch` (ranges are checked by `unpack`)."""
        parts = [re.escape(self.prefix)]
        parts += [_TOKEN if limit is None else _INT for limit in self.ranges]
        return re.compile(":".join(parts))

    @property
    def pattern(self) -> CallbackPattern:
        """What `CallbackQueryHandler(pattern=...)` is given: true only for valid data."""
        return CallbackPattern(self)

    def pack(self, *values: int | str) -> str:
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix} takes {len(self.fields)} values")
        data = ":".join([self.prefix, *(str(v) for v in values)])
        try:
            self.unpack(data)
        except InvalidCallback:
            raise ValueError(f"cannot pack {data!r}") from None
        return data

    def unpack(self, data: str | None) -> tuple[int | str, ...]:
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
        return tuple(values)


def action(prefix: str, *fields: Field) -> CallbackAction:
    return CallbackAction(prefix, tuple(fields))


def known_prefix(data: str | None) -> bool:
    return bool(data) and data.split(":", 1)[0] in _REGISTRY  # type: ignore[union-attr]


def action_of(data: object) -> CallbackAction | None:
    """The action whose button could have produced ``data``, or None."""
    if not isinstance(data, str):
        return None
    found = _REGISTRY.get(data.split(":", 1)[0])
    return found if found is not None and found.pattern.match(data) else None


def is_valid(data: object) -> bool:
    """Whether some button of the bot could have produced ``data``."""
    return action_of(data) is not None


def all_actions() -> tuple[CallbackAction, ...]:
    """Every registered button kind (the fuzz test forges data for each)."""
    return tuple(_REGISTRY.values())


# Every button of the bot, in one place --------------------------------------

# Membership
LANGUAGE = action("lang", str)  # language code
PROFILE_EDIT = action("pedit", str)  # field: name | dept | bday | nobday
FORGET_CONFIRM = action("fgok")
FORGET_ABORT = action("fgno")
CANCEL = action("cancel")

# Admin panel
ADMIN_HOME = action("adm")
ADMIN_MEMBERS = action("amem", int)  # page
ADMIN_MEMBER = action("amone", int, int)  # member id, page to return to
ADMIN_SET_ROLE = action("arole", int, str)  # member id, role
ADMIN_FIND = action("afind")
ADMIN_TAGS = action("atags", int)  # member id
ADMIN_DEPARTMENTS = action("adeps")
ADMIN_DEPARTMENT = action("adep", int)
ADMIN_DEPARTMENT_ADD = action("adepa")
ADMIN_DEPARTMENT_RENAME = action("adepr", int)
ADMIN_DEPARTMENT_DELETE = action("adepd", int)
ADMIN_DEPARTMENT_DELETE_CONFIRM = action("adepx", int)
ADMIN_GROUPS = action("agrps")
ADMIN_GROUP = action("agrp", int)
ADMIN_GROUP_ADD = action("agrpa")
ADMIN_GROUP_RENAME = action("agrpr", int)
ADMIN_GROUP_DELETE = action("agrpd", int)
ADMIN_GROUP_DELETE_CONFIRM = action("agrpx", int)

# Broadcasts. Draft buttons carry the draft's nonce: a button from an older
# draft (or a forged one) never acts on the current draft.
BROADCAST_NEW = action("bcnew")
BROADCAST_AUDIENCE = action("bcaud", int, str, int)  # nonce, source key | all | tag, id/index
BROADCAST_NEXT = action("bcnext", int)  # nonce
BROADCAST_FORMAT = action("bcfmt", int)  # nonce: toggle plain / formatted
BROADCAST_BACK = action("bcback", int)  # nonce: back to the audience
BROADCAST_SEND = action("bcsend", int)  # nonce
BROADCAST_SCHEDULE = action("bcsch", int)  # nonce
BROADCAST_QUIT = action("bcquit", int)  # nonce
BROADCAST_PAUSE = action("bcpau", int)  # broadcast id
BROADCAST_RESUME = action("bcres", int)  # broadcast id
BROADCAST_STOP = action("bcstop", int)  # broadcast id: ask to confirm
BROADCAST_STOP_CONFIRM = action("bcstpy", int)  # broadcast id
BROADCAST_STOP_BACK = action("bcstpn", int)  # broadcast id
BROADCAST_LIST = action("bclist", int)  # page
BROADCAST_VIEW = action("bcview", int, int)  # broadcast id, page to return to

# Greetings (handlers/greetings.py); occasion codes are [a-z0-9_-]{1,24}
GREET_HOME = action("gr")
GREET_OCCASION = action("gro", str)  # occasion code
GREET_TOGGLE = action("grt", str, int)  # occasion code, 1 = back to the card, 0 = to the list
GREET_EDIT = action("gre", str, str)  # occasion code, language
GREET_PREVIEW = action("grp", str)
GREET_RESET = action("grr", str)
GREET_AUDIENCE = action("gra", str)
GREET_DELETE = action("grd", str)
GREET_DELETE_CONFIRM = action("grx", str)
GREET_ADD = action("grn")
GREET_UPCOMING = action("gru")

# Grievances (handlers/grievances.py, handlers/grievances_cadre.py). Every case
# button carries the case id; handlers check the presser wrote the case
# (member buttons) or is a cadre in one of the case's groups (cadre buttons).
GRIEVANCE_TAKE = action("gvtake", int)  # case id
GRIEVANCE_REPLY = action("gvrep", int)
GRIEVANCE_RESOLVE = action("gvres", int)  # ask to confirm
GRIEVANCE_RESOLVE_CONFIRM = action("gvresy", int)
GRIEVANCE_ESCALATE = action("gvesc", int)
GRIEVANCE_MUTE = action("gvmute", int, int)  # case id, days (0 = choose)
GRIEVANCE_UNMUTE = action("gvunm", int)
GRIEVANCE_CARD = action("gvcard", int)  # back to the card's buttons
GRIEVANCE_PASS_ON = action("gvpass", int)  # pass on the cadre message a nudge replies to; 0 = no
GRIEVANCE_MY_CASES = action("gvlist")
GRIEVANCE_VIEW = action("gvcase", int)
GRIEVANCE_ADD = action("gvadd", int)
GRIEVANCE_OFFER = action("gvoffr", int)  # add the text the offer replies to: case id, 0 = no
GRIEVANCE_CLOSE = action("gvcls", int)  # ask to confirm
GRIEVANCE_CLOSE_CONFIRM = action("gvclsy", int)
GRIEVANCE_SIGN = action("gvsign", int)  # ask to confirm
GRIEVANCE_SIGN_CONFIRM = action("gvsgny", int)
GRIEVANCE_RATE = action("gvrate", int, int)  # case id, stars 1-5
GRIEVANCE_SETTINGS = action("gvset")
GRIEVANCE_CATEGORY = action("gvcat", int)  # category id
GRIEVANCE_CATEGORY_ADD = action("gvcadd")
GRIEVANCE_CATEGORY_RENAME = action("gvcren", int)
GRIEVANCE_CATEGORY_SLA = action("gvcsla", int)
GRIEVANCE_CATEGORY_ROUTE = action("gvcrt", int)
GRIEVANCE_CATEGORY_URGENT = action("gvcurg", int)  # toggle "always urgent"
GRIEVANCE_CATEGORY_ACTIVE = action("gvcact", int)  # toggle shown / hidden
GRIEVANCE_DAILY_LIMIT = action("gvlim")

# Polls (handlers/polls.py). Draft buttons carry the draft's nonce; poll buttons
# carry the poll id, and the handler checks the presser may vote or manage it.
POLL_VOTE = action("pv", int, INT16)  # poll id, option position
POLL_RESULTS = action("pres", int)  # poll id
POLL_OPEN = action("popen", int)  # poll id: show it again (or its results)
POLL_LIST = action("plist")
POLL_NEW = action("pnew")
POLL_MANAGE = action("pman", int)
POLL_BREAKDOWN = action("pdept", int)
POLL_EXPORT = action("pxls", int)
POLL_EXTEND = action("pext", int, int)  # poll id, hours
POLL_CLOSE = action("pclose", int)  # ask to confirm
POLL_CLOSE_CONFIRM = action("pclx", int)
POLL_DELETE = action("pdel", int)  # ask to confirm
POLL_DELETE_CONFIRM = action("pdelx", int)
POLL_DRAFT = action("pds", int, str)  # nonce, setting (kind | max | anon | aud | close | …)
POLL_AUDIENCE = action("pdaud", int, str, int)  # nonce, source key | all | tag, id/index
POLL_PREVIEW = action("ppv")  # the option buttons of a preview: do nothing
POLL_SETTINGS = action("pset")  # admin panel: poll settings
POLL_CADRES = action("pcadr", int)  # 1: cadres may create polls, 0: they may not

# Suggestions (handlers/suggestions.py): the cadre buttons carry the suggestion id.
SUGGEST_NEW = action("sgnew")
SUGGEST_MINE = action("sgmine")
SUGGEST_SEND = action("sgsend")
SUGGEST_STATUS = action("sgst", int, str)  # suggestion id, status
SUGGEST_REPLY = action("sgrep", int)  # suggestion id

# Activities (handlers/activities.py): buttons carry the activity id; handlers check
# the presser may see it (audience) or manage it (cadre).
ACT_LIST = action("acl", int)  # page
ACT_OPEN = action("aco", int)  # activity id
ACT_SIGN_UP = action("acs", int, int)  # activity id, guests (0 or 1)
ACT_LEAVE = action("acx", int)  # cancel my sign-up
ACT_CHECK_IN = action("acci", int)  # ask for the check-in code
ACT_RATE = action("acr", int, int)  # activity id, stars 1-5
ACT_NEW = action("acn")
ACT_ADMIN = action("aca", int)  # cadres' list, page
ACT_MANAGE = action("acm", int)
ACT_EDIT = action("ace", int, str)  # activity id, field
ACT_AUDIENCE = action("acau", str, int)  # source key | all | tag, id/index (while composing)
ACT_AUDIENCE_DONE = action("acaud")
ACT_PUBLISH = action("acp", int, int)  # activity id, announce (1) or not (0)
ACT_ROSTER = action("acro", int, int)  # activity id, page
ACT_MARK = action("acmk", int, int, int)  # activity id, sign-up id, page
ACT_EXPORT = action("acex", int, str)  # activity id, csv | xlsx
ACT_LINK = action("acln", int)
ACT_CANCEL = action("acc", int)  # ask to confirm
ACT_CANCEL_CONFIRM = action("acck", int)

# Trainings (handlers/trainings.py)
TRN_LIST = action("trl", int)  # page
TRN_OPEN = action("tro", int)
TRN_ENROL = action("tre", int)
TRN_WITHDRAW = action("trw", int)
TRN_NEW = action("trn")
TRN_ADMIN = action("tra", int)  # cadres' list, page
TRN_MANAGE = action("trm", int)
TRN_PUBLISH = action("trp", int, int)  # training id, announce (1) or not (0)
TRN_REQUESTS = action("trq", int)
TRN_APPROVE = action("trok", int)  # enrolment id
TRN_REJECT = action("trno", int)  # enrolment id: ask for the reason
TRN_SESSIONS = action("trs", int)
TRN_SESSION = action("trss", int)  # session id: attendance list
TRN_MARK = action("trmk", int, int)  # session id, member id
TRN_EXPORT = action("trx", int)
TRN_LINK = action("trln", int)
TRN_CANCEL = action("trc", int)  # ask to confirm
TRN_CANCEL_CONFIRM = action("trck", int)

# Interest groups for members (handlers/groups.py)
GROUPS_LIST = action("igl")
GROUP_OPEN = action("igo", int)
GROUP_JOIN = action("igj", int)
GROUP_LEAVE = action("igx", int)
