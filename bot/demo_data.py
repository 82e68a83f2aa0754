"""Example data for `union-bot demo`: a small union to try every role with.

Later features add their own seed functions to `SEEDERS`. The demo runs them
once, on a fresh data folder; running it again keeps whatever people changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage import greetings, grievances, members
from storage.models import Role

DEPARTMENTS = ("装配车间", "质检科", "仓储物流部", "职工食堂", "设备维修班", "行政办公室")
GROUPS = (("篮球队", "每周三晚训练"), ("摄影协会", "每月外拍一次"), ("读书会", "每月共读一本书"))

ADMIN_ID = 700000001
CADRE_ID = 700000002
NEWCOMER_ID = 700000099
CADRE_CHAT_ID = -1007000000001
ESCALATION_CHAT_ID = -1007000000002


@dataclass(frozen=True)
class DemoPerson:
    telegram_id: int
    name: str
    username: str
    department: str | None
    birthday: date | None
    role: Role = Role.MEMBER
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    language: str = "zh_CN"
    registered: bool = True


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(ADMIN_ID, "周主席", "zhou_admin", "行政办公室", date(1975, 3, 8), Role.ADMIN),
    DemoPerson(
        CADRE_ID,
        "李干事",
        "li_cadre",
        "行政办公室",
        date(1985, 6, 1),
        Role.CADRE,
        groups=("读书会",),
    ),
    DemoPerson(700000003, "王小明", "wang_xm", "装配车间", date(1992, 5, 3), groups=("篮球队",)),
    DemoPerson(
        700000004,
        "张丽",
        "zhang_li",
        "质检科",
        date(1990, 11, 25),
        tags=("女职工",),
        groups=("摄影协会", "读书会"),
    ),
    DemoPerson(700000005, "刘强", "liu_qiang", "仓储物流部", date(1988, 2, 29), groups=("篮球队",)),
    DemoPerson(700000006, "陈静", "chen_jing", "职工食堂", date(1979, 9, 9), tags=("困难职工",)),
    DemoPerson(700000007, "杨帆", "yang_fan", "设备维修班", date(2001, 7, 15), tags=("新员工",)),
    DemoPerson(700000008, "赵敏", "zhao_min", "装配车间", None, tags=("新员工", "女职工")),
    DemoPerson(700000009, "黄伟", "huang_wei", "设备维修班", date(1966, 12, 1), tags=("即将退休",)),
    DemoPerson(700000010, "吴芳", "wu_fang", "质检科", date(1995, 4, 20), groups=("摄影协会",)),
    DemoPerson(700000011, "孙涛", "sun_tao", "仓储物流部", date(1983, 8, 8)),
    DemoPerson(
        700000012,
        "Anna Schmidt",
        "anna_s",
        "行政办公室",
        date(1991, 1, 30),
        language="en",
        groups=("读书会",),
    ),
    DemoPerson(NEWCOMER_ID, "林新", "lin_new", None, None, registered=False),
)


async def seed_membership(session: AsyncSession, secret_key: str) -> None:
    """Departments, interest groups and the people above, once."""
    for name in DEPARTMENTS:
        await members.department_by_name(session, name)
    existing_groups = {g.name: g for g in await members.list_groups(session)}
    for name, description in GROUPS:
        if name not in existing_groups:
            existing_groups[name] = await members.add_group(session, name, description)
    for person in PEOPLE:
        if not person.registered or await members.get_member(session, person.telegram_id):
            continue
        member = await members.register(
            session,
            telegram_id=person.telegram_id,
            name=person.name,
            department=person.department,
            birthday=person.birthday,
            language=person.language,
        )
        # A member created just now has its collections unloaded; load them here, in
        # async code, so the services below never trigger a lazy load.
        await session.refresh(member, ["tags", "groups"])
        await members.set_tags(session, member, person.tags)
        for group in person.groups:
            await members.join_group(session, member, existing_groups[group])
        if person.role is not Role.MEMBER:
            await members.set_role(session, member.id, person.role)
    await session.flush()


async def seed_greetings(session: AsyncSession, secret_key: str) -> None:
    """A date of the union's own and a birthday text of its own, so 🎉 Greetings shows both.

    The shipped holiday texts stay as they are: the panel shows them as defaults
    beside the union's own birthday text.
    """
    if await greetings.name_taken(session, "工会成立纪念日"):
        return
    await greetings.add_custom(session, "工会成立纪念日", 5, 28)
    await greetings.set_template(
        session,
        "birthday",
        "zh_CN",
        "🎂 {name}，生日快乐！工会为您准备了一份生日蛋糕券，请凭此消息到工会办公室领取。"
        "祝您新的一岁身体健康、工作顺利！",
    )


async def seed_grievances(session: AsyncSession, secret_key: str) -> None:
    """The six categories with the union's own deadlines, so 📝 Submit a grievance works at once.

    No example cases: a case without its author's sealed link could not show the
    two-way relay, and the key is not the seeder's to use. In the demo, be 王小明
    and submit one; be 李干事 in 工会干部群 and take and answer it.
    """
    categories = await grievances.list_categories(session, active_only=False)
    canteen = next((c for c in categories if c.slug == "canteen"), None)
    if canteen is not None and canteen.take_hours == 24:
        canteen.take_hours, canteen.answer_hours = 8, 48
    await grievances.set_option(session, grievances.DAILY_LIMIT, 5)


async def seed_activities(session: AsyncSession, secret_key: str) -> None:
    """Three activities (one open to all, one for a group, one full) and a training, once."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from storage import activities, trainings
    from storage.activities import Draft
    from storage.audiences import Audience
    from storage.models import utcnow
    from storage.trainings import SessionDraft, TrainingDraft

    if (await activities.for_cadres(session, utcnow(), 0)).total:
        return
    now = utcnow()
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        local = datetime(today.year, today.month, today.day, hour, minute)
        return (local + timedelta(days=days)).replace(tzinfo=ZoneInfo("Asia/Shanghai"))

    groups = {g.name: g.id for g in await members.list_groups(session)}
    departments = {d.name: d.id for d in await members.list_departments(session)}
    plans = [
        (
            Draft(
                "冬季职工篮球友谊赛",
                "三对三半场赛，欢迎带家属观赛。\n请自备运动鞋。",
                None,
                "职工活动中心篮球馆",
                at(3, 14),
                at(3, 17),
                at(2, 20),
                10,
                True,
                Audience(everyone=True),
            ),
            (700000003, 700000005),
        ),
        (
            Draft(
                "摄影协会外拍：江边晨光",
                "清晨拍摄江边日出，结束后一起吃早茶。",
                None,
                "滨江公园东门",
                at(6, 6, 30),
                at(6, 9),
                at(5, 18),
                12,
                False,
                Audience(items={"group": frozenset({groups["摄影协会"]})}),
            ),
            (700000004,),
        ),
        (
            Draft(
                "装配技能比武（钳工）",
                "限时完成钳工作品，前三名由工会颁发证书。",
                None,
                "一号厂房实训区",
                at(8, 9),
                at(8, 12),
                at(7, 17),
                2,
                False,
                Audience(
                    items={"dept": frozenset({departments["装配车间"], departments["设备维修班"]})}
                ),
            ),
            (700000008, 700000007),
        ),
    ]
    for draft, signers in plans:
        activity = await activities.create(session, draft, created_by=None, now=now)
        await activities.publish(session, activity.id, now)
        for telegram_id in signers:
            person = await members.get_member(session, telegram_id)
            if person is not None:
                await activities.sign_up(session, activity.id, person, guests=0, now=now)
    course = await trainings.create(
        session,
        TrainingDraft(
            "安全生产与应急处置培训",
            "讲解车间常见隐患和应急处置，结业计入年度培训学时。",
            20,
            at(4, 18),
            True,
            None,
            [
                SessionDraft(at(5, 9), at(5, 12), "二号培训室"),
                SessionDraft(at(12, 9), at(12, 11, 30), "", "https://meeting.example.org/safety"),
            ],
        ),
        created_by=None,
        now=now,
    )
    await trainings.publish(session, course.id, now)
    newcomer = await members.get_member(session, 700000011)
    if newcomer is not None:
        await trainings.enrol(session, course.id, newcomer, now)


# (member, option positions) of the votes already in the demo's canteen poll.
SEEDED_VOTES = (
    (700000005, (0, 4)),
    (700000006, (3,)),
    (700000007, (0,)),
    (700000008, (1, 3)),
    (700000009, (4,)),
)


async def seed_polls(session: AsyncSession, secret_key: str) -> None:
    """An open poll for everyone (results shown while open) and a suggestion, once.

    The poll goes out through the outbox like a real one, so every member finds
    it in their chat; be 王小明 and vote, be 周主席 and open 🗳 投票 → ⚙️ to see
    results, the chart, the breakdown and the export. The suggestion waits in
    工会干部群 for 李干事 to answer.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from core.i18n import translator
    from display import polls as poll_display
    from display import suggestions as suggestion_display
    from storage import outbox, polls, suggestions
    from storage.audiences import Audience
    from storage.models import Poll, utcnow
    from storage.polls import PollDraft

    if await session.scalar(select(Poll.id).limit(1)) is not None:
        return
    now = utcnow()
    zone = ZoneInfo("Asia/Shanghai")
    # Five days on, at six in the evening: a time a union would really choose.
    closes_at = (now.astimezone(zone) + timedelta(days=5)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    chair = await members.get_member(session, ADMIN_ID)
    view = await polls.create(
        session,
        PollDraft(
            question="职工食堂午餐最希望增加哪类菜品？（最多选两项）",
            options=("川湘菜", "粤式点心", "清真窗口", "素食轻食", "面食（拉面、刀削面）"),
            multiple=True,
            max_choices=2,
            anonymous=True,
            audience=Audience(everyone=True),
            closes_at=closes_at,
            results_visible=True,
            share_results=True,
            remind=True,
        ),
        creator_id=chair.id if chair is not None else None,
        now=now,
    )
    await polls.publish(
        session,
        view,
        now=now,
        message_for=lambda language: poll_display.poll_payload(translator(language), view, zone),
    )
    # Five colleagues have voted already: an anonymous poll shows counts from five on.
    keys = polls.PollKeys.from_secret(secret_key)
    for telegram_id, picks in SEEDED_VOTES:
        voter = await members.get_member(session, telegram_id)
        if voter is not None:
            for position in picks:
                await polls.vote(session, view.id, voter, position, now=now, keys=keys)
    author = await members.get_member(session, 700000006)
    if author is None:
        return
    suggestion = await suggestions.create(
        session,
        author,
        "建议在食堂门口加装雨棚，下雨天排队的同事不用淋雨。",
        now=now,
    )
    card = await suggestions.card(session, suggestion.id)
    t = translator("zh_CN")
    await outbox.enqueue(
        session,
        key=f"suggestion:{suggestion.id}:card",
        kind="suggestion",
        chat_id=CADRE_CHAT_ID,
        payload=outbox.payload(
            "sendMessage",
            text=suggestion_display.card_text(t, card, zone),
            reply_markup=suggestion_display.card_keyboard(t, card).to_dict(),
        ),
        now=now,
        priority=outbox.PRIORITY_NOTICE,
    )


async def seed_broadcasts(session: AsyncSession, secret_key: str) -> None:
    """A past announcement with its report and one scheduled for tomorrow, once.

    Both show in /broadcasts (as 周主席): the past one as a finished report, the
    scheduled one (to the basketball team, tomorrow 09:00) with its Cancel button.
    The past one is history only: nothing is sent when the demo starts, so
    every chat opens quiet; send a real one with 🛠 管理 → 📢 发通知.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from storage import broadcasts
    from storage.audiences import GROUP, Audience
    from storage.models import Broadcast, BroadcastStatus, utcnow

    if await session.scalar(select(Broadcast.id).limit(1)) is not None:
        return
    now = utcnow()
    yesterday = now - timedelta(days=1)
    session.add(
        Broadcast(
            text="<b>欢迎使用工会助手！</b>\n在这里可以报名活动、参加投票、匿名反映诉求，"
            "工会的通知也会第一时间发到这里。",
            formatted=True,
            audience=Audience(everyone=True).to_json(),
            status=BroadcastStatus.DONE.value,
            admin_chat_id=ADMIN_ID,
            created_at=yesterday,
            started_at=yesterday,
            finished_at=yesterday + timedelta(seconds=2),
            recipients=12,
            sent=11,
            blocked=1,
            failed=0,
            cancelled=0,
        )
    )
    basketball = next((g for g in await members.list_groups(session) if g.name == "篮球队"), None)
    if basketball is None:
        return
    tomorrow = (now.astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    await broadcasts.create(
        session,
        content=broadcasts.Content(
            "篮球队本周三晚7点在厂区球场训练，请穿好球鞋，带上水杯。",
            text_en="Basketball practice this Wednesday at 7 pm on the factory court: "
            "bring your trainers and a water bottle.",
        ),
        audience=Audience(items={GROUP.key: frozenset({basketball.id})}),
        admin_chat_id=ADMIN_ID,
        now=now,
        scheduled_for=tomorrow,
    )


# One-time codes the demo prints (bot/demo.py) for newcomers to try at /start.
ROSTER_CODES = {"D2001": "JZ8K3M7Q", "D2002": "WX4P9R2T", "D2003": "HN6F5V3C"}


async def seed_roster(session: AsyncSession, secret_key: str) -> None:
    """A roster of five, once: three with the codes to try (ROSTER_CODES), two already
    on it without a code shown. Admins see it in 🛠 管理 → 📋 导入花名册."""
    from datetime import timedelta

    from storage import roster
    from storage.models import utcnow
    from storage.roster_rules import RosterRow

    if await roster.count(session):
        return
    now = utcnow()
    people = [
        RosterRow("D2001", "陈晓燕", "装配车间", date(1992, 4, 18), ("新员工",)),
        RosterRow("D2002", "刘建国", "设备维修班", date(1979, 11, 2)),
        RosterRow("D2003", "孙丽", "职工食堂", None, ("女工",)),
    ]
    for row in people:
        await roster.add_with_code(
            session, row, ROSTER_CODES[row.employee_no], secret=secret_key, now=now, code_days=30
        )
    await roster.apply(
        session,
        [*people, RosterRow("D2004", "马强", "仓储物流部"), RosterRow("D2005", "周敏", "质检科")],
        secret=secret_key,
        now=now - timedelta(days=1),  # their codes were printed yesterday, not shown here
        code_days=30,
        remove_absent=False,
    )


async def seed_pulse(session: AsyncSession, secret_key: str) -> None:
    """The satisfaction pulse switched on, two finished months of answers and this
    month's question in every member's chat, once.

    Be 王小明 and tap the stars; be 周主席 and open 🛠 → 📈 满意度 (or /pulse) to
    see the months (the last one with too few answers to show).
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from notices import pulse as pulse_notices
    from storage import pulse
    from storage.models import PulseAnswer, PulseMonth, utcnow

    if await session.scalar(select(PulseMonth.id).limit(1)) is not None:
        return
    await pulse.set_enabled(session, True)
    keys = pulse.PulseKeys.from_secret(secret_key)
    zone = ZoneInfo("Asia/Shanghai")
    now = utcnow()
    label = pulse.month_label(now, zone)
    earlier = pulse.previous_month(label)
    # Two finished months: one with enough answers to show, one with too few.
    for month, answers in (
        (pulse.previous_month(earlier), (5, 4, 4, 3, 5, 4, 2, 4, 5, 3, 4, 4)),
        (earlier, (4, 5, 3)),
    ):
        start = pulse.month_start(month, zone)
        row = PulseMonth(
            month=month,
            sent_at=start + timedelta(days=3, hours=2),
            closes_at=pulse.month_start(pulse.next_month(month), zone),
            recipients=len(PEOPLE),
        )
        session.add(row)
        await session.flush()
        for i, stars in enumerate(answers):
            session.add(
                PulseAnswer(
                    month_id=row.id,
                    voter_key=keys.voter_key(row.id, -(i + 1)),  # demo voters, no members
                    stars=stars,
                    answered_on=(start + timedelta(days=3 + i % 4)).date(),
                )
            )
    current = await pulse.open_month(session, now, zone)
    if current is not None:
        await pulse_notices.ask_everyone(session, current, now=now, secret=secret_key)
    await session.flush()


async def seed_handbook(session: AsyncSession, secret_key: str) -> None:
    """The default handbook, a demo entry of this union's own, and the searches members made.

    📖 职工服务手册 (or /handbook 工资) shows it at once; as 周主席 or 李干事,
    /handbook_misses lists what members looked for in vain (all time, or
    /handbook_misses 本月), and /report shows last month's searches.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from storage import handbook
    from storage.models import (
        HandbookEntry,
        HandbookLink,
        HandbookMiss,
        HandbookMonthMiss,
        HandbookSearchMonth,
        utcnow,
    )

    await handbook.ensure_default(session)  # the bot's start-up may have written it already
    if await session.scalar(select(HandbookMiss.query).limit(1)) is not None:
        return
    entry = HandbookEntry(
        topic_id=1,
        position=3,
        title_zh="职工疗休养",
        title_en="Rest and recuperation trips",
        body_zh="工作满 5 年的会员每年可报名参加一次职工疗休养，名额按部门分配，"
        "报名请关注 <b>🎉 活动</b> 里的通知。",
        body_en="Members with 5 years of service may join one recuperation trip a year; places "
        "are shared out by department. Watch <b>🎉 Activities</b> for the sign-up.",
    )
    session.add(entry)
    await session.flush()
    session.add(HandbookLink(entry_id=entry.id, related_id=2))
    zone = ZoneInfo("Asia/Shanghai")
    now = utcnow()
    this_month = handbook.month_of(now, zone)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    # Last month (the default /report): 86 searches, 20 found nothing; searched 5 times
    # or more, 年假怎么休 and 婚假 are the two the report lists.
    last = {"年假怎么休": 8, "婚假": 6, "停车位": 4, "班车时间": 2}
    current = {"停车位": 1, "班车时间": 1}
    session.add(HandbookSearchMonth(month=last_month, searches=86, found=66))
    session.add(HandbookSearchMonth(month=this_month, searches=7, found=5))
    session.add_all(
        HandbookMonthMiss(month=month, query=query, count=count)
        for month, counts in ((last_month, last), (this_month, current))
        for query, count in counts.items()
    )
    session.add_all(
        HandbookMiss(query=query, count=last.get(query, 0) + current.get(query, 0))
        for query in last
    )


async def seed_report(session: AsyncSession, secret_key: str) -> None:
    """Last month's finished cases and their ratings (the handbook's searches are
    `seed_handbook`'s), so /report (as 周主席 or 李干事) shows real numbers and charts at once.

    The cases are closed and their links destroyed, as a finished case ends up:
    no member can be tied to them, and none waits for a cadre.
    """
    import secrets
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import insert, select, update

    from storage import pulse
    from storage.models import Grievance, Member, utcnow

    if await session.scalar(select(Grievance.id).limit(1)) is not None:
        return
    zone = ZoneInfo("Asia/Shanghai")
    start = pulse.month_start(pulse.previous_month(pulse.month_label(utcnow(), zone)), zone)
    listed = await grievances.list_categories(session, active_only=False)
    categories = {c.slug: c.id for c in listed}
    plan = {"wages": 9, "workload": 7, "canteen": 6, "safety": 5, "other": 2}
    rows = []
    for slug, count in plan.items():
        for n in range(count):
            opened = start + timedelta(days=1 + (3 * n) % 26, hours=9 + n % 6)
            taken = opened + timedelta(hours=1 + (7 * n) % 30)
            answered = taken + timedelta(hours=6 + (11 * n) % 60)
            late = taken > opened + timedelta(hours=24)
            rows.append(
                {
                    "code": secrets.token_hex(4).upper(),
                    "category_id": categories[slug],
                    "urgency": "normal",
                    "status": "closed",
                    "created_at": opened,
                    "take_due_at": opened + timedelta(hours=24),
                    "answer_due_at": opened + timedelta(hours=72),
                    "taken_at": taken,
                    "answered_at": answered,
                    "finished_at": answered + timedelta(days=1),
                    "take_breached_at": opened + timedelta(hours=24) if late else None,
                    "rating": 3 + n % 3,
                    "rated_at": answered + timedelta(hours=5),
                    "link_destroyed_at": answered + timedelta(days=1),
                }
            )
    await session.execute(insert(Grievance), rows)
    # The demo's people joined before last month, so the report counts them as members.
    await session.execute(update(Member).values(created_at=start - timedelta(days=60)))


# (course, local day of its month, stars of those who attended), one and two months back.
RATED_COURSES = (
    ("叉车安全操作培训", 9, (5, 4, 4, 5, 3, 4)),
    ("劳动合同法普法讲座", 14, (4, 5, 4, 4, 5, 3, 4)),
)


async def seed_training_ratings(session: AsyncSession, secret_key: str) -> None:
    """Two finished courses, two and one months back, attended and rated by the members,
    so /report's satisfaction trend has a training line and the cadre's panel of each
    course (🎓 培训 → 管理) shows its average. Made through the services, at past times.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from storage import pulse, trainings
    from storage.models import TrainingRating, utcnow
    from storage.trainings import SessionDraft, TrainingDraft

    if await session.scalar(select(TrainingRating.member_id).limit(1)) is not None:
        return
    zone = ZoneInfo("Asia/Shanghai")
    month = pulse.month_label(utcnow(), zone)
    people = [p.telegram_id for p in PEOPLE if p.registered and p.role is Role.MEMBER]
    for title, day, stars in RATED_COURSES:
        month = pulse.previous_month(month)
        starts = pulse.month_start(month, zone) + timedelta(days=day - 1, hours=14)
        planned = starts - timedelta(days=7)
        draft = TrainingDraft(
            title,
            "工会组织的职工培训，结业计入年度培训学时。",
            30,
            starts - timedelta(days=1),
            False,
            None,
            [SessionDraft(starts, starts + timedelta(hours=2), "二号培训室")],
        )
        course = await trainings.create(session, draft, created_by=None, now=planned)
        await trainings.publish(session, course.id, planned)
        (meeting,) = await trainings.sessions_of(session, course.id)
        for n, given in enumerate(stars):
            person = await members.get_member(session, people[n])
            if person is None:
                continue
            await trainings.enrol(session, course.id, person, planned + timedelta(hours=n))
            await trainings.toggle_present(session, meeting.id, person.id, by=None, now=starts)
            rated = meeting.ends_at + timedelta(hours=3 + n)
            await trainings.rate(session, course.id, person.id, given, rated)


# Stars of the members who came to last month's outing, in sign-up order.
PAST_ACTIVITY_STARS = (5, 4, 5, 4, 4, 3)


async def seed_past_activity(session: AsyncSession, secret_key: str) -> None:
    """Last month's outing: eight signed up, seven came, six rated it, so /report shows
    activity sign-ups, an attendance rate and an activity line in the satisfaction trend.
    Made through the services, at past times; long over, so no reminder or rating
    request goes out for it.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from storage import activities, pulse
    from storage.activities import Draft
    from storage.audiences import Audience
    from storage.models import ActivityRating, utcnow

    if await session.scalar(select(ActivityRating.member_id).limit(1)) is not None:
        return
    zone = ZoneInfo("Asia/Shanghai")
    month = pulse.previous_month(pulse.month_label(utcnow(), zone))
    starts = pulse.month_start(month, zone) + timedelta(days=17, hours=8, minutes=30)
    planned = starts - timedelta(days=10)
    draft = Draft(
        "秋季职工登山健步走",
        "沿青龙山步道健步走约八公里，山顶合影，工会提供午餐。",
        None,
        "青龙山南门",
        starts,
        starts + timedelta(hours=4),
        starts - timedelta(days=2),
        30,
        False,
        Audience(everyone=True),
    )
    activity = await activities.create(session, draft, created_by=None, now=planned)
    await activities.publish(session, activity.id, planned)
    people = [p.telegram_id for p in PEOPLE if p.registered and p.role is Role.MEMBER]
    came = 0
    for n, telegram_id in enumerate(people[:8]):
        person = await members.get_member(session, telegram_id)
        if person is None:
            continue
        placed = await activities.sign_up(
            session, activity.id, person, guests=0, now=planned + timedelta(hours=n)
        )
        if came >= 7:
            continue  # signed up, did not come
        await activities.toggle_attendance(session, activity.id, placed.signup.id, starts)
        if came < len(PAST_ACTIVITY_STARS):
            rated = activity.ends_at + timedelta(hours=3 + came)
            await activities.rate(session, activity.id, person.id, PAST_ACTIVITY_STARS[came], rated)
        came += 1


# A seeder gets the session and the demo's secret key (for what is sealed or keyed).
Seeder = Callable[[AsyncSession, str], Awaitable[None]]
SEEDERS: list[Seeder] = [
    seed_membership,
    seed_greetings,
    seed_grievances,
    seed_activities,
    seed_polls,
    seed_broadcasts,
    seed_roster,
    seed_pulse,
    seed_handbook,
    seed_report,
    seed_training_ratings,
    seed_past_activity,
]
