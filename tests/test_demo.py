"""The demo's example data: the database and the sandbox world tell the same story, once."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.demo import CADRE_GROUP_TITLE, DEMO_TOKEN, Demo, DemoError, DemoOptions
from bot.demo_data import ADMIN_ID, CADRE_CHAT_ID, CADRE_ID, ESCALATION_CHAT_ID, NEWCOMER_ID, PEOPLE
from core.i18n import translator
from core.runtime import runtime_of
from core.settings import Settings
from jobs.broadcasts import PROGRESS_INTERVAL
from sandbox import SandboxDriver
from storage import members
from storage.db import transaction
from storage.models import Member, Role
from tests.support.chat import flat


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    running = Demo(DemoOptions(port=0, data_dir=tmp_path / "demo"))
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


async def member_count(demo: Demo) -> int:
    assert demo.application is not None
    async with runtime_of(demo.application).sessions() as session:
        return int(await session.scalar(select(func.count(Member.id))) or 0)


async def test_seeded_people_agree_in_database_and_world(demo: Demo) -> None:
    assert demo.server is not None and demo.application is not None
    world = demo.server.state
    bot_id = world.default_bot_id
    async with runtime_of(demo.application).sessions() as session:
        for person in PEOPLE:
            user = world.users[person.telegram_id]
            assert user.full_name == person.name and user.username == person.username
            member = await members.get_member(session, person.telegram_id)
            if not person.registered:
                assert member is None
                assert (bot_id, person.telegram_id) not in world.private
                continue
            assert member is not None and member.name == person.name
            assert Role(member.role) is person.role
            assert (member.department.name if member.department else None) == person.department
            assert (bot_id, person.telegram_id) in world.private  # the admin's commands need it
    cadre_group = world.groups[CADRE_CHAT_ID]
    assert cadre_group.title == CADRE_GROUP_TITLE
    assert cadre_group.is_active_member(CADRE_ID) and cadre_group.is_active_member(ADMIN_ID)
    assert cadre_group.members[bot_id].is_admin  # it creates the invite links
    assert world.groups[ESCALATION_CHAT_ID].members[bot_id].is_admin
    assert await member_count(demo) == sum(p.registered for p in PEOPLE)


async def test_seeded_members_open_on_their_main_menu(demo: Demo) -> None:
    """Each seeded member's chat already has a word from the bot and the menu, in their language."""
    assert demo.server is not None
    async with SandboxDriver(demo.url.rstrip("/"), DEMO_TOKEN) as driver:
        for person in PEOPLE:
            user = await driver.user(person.telegram_id)
            if not person.registered:
                continue  # 林新 starts with 开始, like anyone new
            labels = flat(await user.reply_keyboard())
            t = translator(person.language)
            assert t.gettext("👤 My profile") in labels, person.name
            assert (t.gettext("🛠 Admin") in labels) is (person.role is Role.ADMIN)
            # The welcome; the seeded poll's card may come before it or after.
            assert any(person.name in (m.text or "") for m in await user.bot_messages()), (
                person.name
            )


async def test_running_again_duplicates_nothing(tmp_path: Path) -> None:
    options = DemoOptions(port=0, data_dir=tmp_path / "demo")
    first = Demo(options)
    await first.start()
    try:
        assert first.server is not None
        users, groups = len(first.server.state.users), len(first.server.state.groups)
        count = await member_count(first)
    finally:
        await first.stop()
    again = Demo(options)
    await again.start()
    try:
        assert again.server is not None
        assert len(again.server.state.users) == users
        assert len(again.server.state.groups) == groups
        assert await member_count(again) == count
    finally:
        await again.stop()


async def test_role_info_follows_the_database(demo: Demo) -> None:
    info = demo._user_info
    assert (await info(ADMIN_ID))["role"] == "admin"
    assert (await info(CADRE_ID))["role"] == "cadre"
    assert await info(PEOPLE[2].telegram_id) == {
        "role": "member",
        "role_label": "会员 · member",
        "department": PEOPLE[2].department,
    }
    assert (await info(NEWCOMER_ID))["role"] == "visitor"
    assert demo.application is not None
    async with transaction(runtime_of(demo.application).sessions) as session:
        member = await members.get_member(session, PEOPLE[2].telegram_id)
        assert member is not None
        await members.set_role(session, member.id, Role.CADRE)
    assert (await info(PEOPLE[2].telegram_id))["role"] == "cadre"


async def test_a_taken_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = Demo(DemoOptions(port=port, data_dir=tmp_path / "demo"))
        with pytest.raises(DemoError, match=rf"port {port} .* in use.*--port {port + 1}"):
            await demo.start()
        await demo.stop()


def test_the_command_reports_a_taken_port_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--port", str(port), "--data-dir", str(tmp_path / "d")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert f"port {port}" in captured.err and "--port" in captured.err


async def test_the_demo_report_has_activities_and_training_satisfaction(demo: Demo) -> None:
    from statistics import mean

    from bot.demo_data import PAST_ACTIVITY_STARS, RATED_COURSES
    from storage import report

    assert demo.application is not None
    runtime = runtime_of(demo.application)
    now, zone = runtime.now(), runtime.settings.tz
    async with runtime.sessions() as session:
        built = await report.build(
            session, report.default_period(now.astimezone(zone).date()), now=now, zone=zone
        )
    means = [p.mean for p in built.satisfaction["trainings"]]
    # The trend ends with the report's month (last month): its course, and the one
    # before it, both with a mean (five ratings or more).
    expected = [round(mean(stars), 2) for _title, _day, stars in RATED_COURSES]
    assert means[-2:] == [expected[1], expected[0]]
    # Last month's outing: eight signed up, seven came, six rated it.
    assert (built.participation.activity_signups, built.participation.checked_in) == (8, 7)
    assert built.satisfaction["activities"][-1].mean == round(mean(PAST_ACTIVITY_STARS), 2)


def test_a_demo_broadcast_lasts_long_enough_to_watch_and_pause(tmp_path: Path) -> None:
    """At the demo's pace a broadcast to everyone outlasts a few progress refreshes."""
    (tmp_path / "demo").mkdir()
    settings = Demo(DemoOptions(data_dir=tmp_path / "demo")).settings("http://127.0.0.1:1")
    recipients = sum(p.registered for p in PEOPLE)
    seconds = recipients * settings.delivery_broadcast_interval
    assert seconds >= 3 * PROGRESS_INTERVAL.total_seconds()
    assert Settings.model_fields["delivery_broadcast_interval"].default == 0  # the demo's only
    assert settings.delivery_rate == Settings.model_fields["delivery_rate"].default
