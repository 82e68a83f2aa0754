"""Audience selection: a union of selections, computed in SQL, equals the plain rule."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import audience_picks, audiences, members
from storage.audiences import (
    DEPARTMENT,
    GROUP,
    SOURCES,
    Audience,
    AudienceSource,
    AudienceSources,
    UnknownSource,
)
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import Department, InterestGroup, Member, MemberTag, member_groups, utcnow
from tests.support.members import new_member

TAGS = ("new-hire", "retiree", "hardship")


@dataclass(frozen=True)
class P:
    """One person of a generated union: indexes into the departments and groups made for it."""

    active: bool
    department: int | None
    groups: frozenset[int]
    tags: frozenset[str]


PEOPLE = st.lists(
    st.builds(
        P,
        st.sampled_from([True, True, True, False]),  # active, mostly
        st.none() | st.integers(0, 3),
        st.frozensets(st.integers(0, 2), max_size=3),
        st.frozensets(st.sampled_from(TAGS), max_size=3),
    ),
    max_size=25,
)
# Indexes 4 and 3 name a department and a group that do not exist (deleted since).
CHOICES = st.tuples(
    st.integers(0, 9).map(lambda n: n == 0),
    st.frozensets(st.integers(0, 4), max_size=3),
    st.frozensets(st.integers(0, 3), max_size=3),
    st.frozensets(st.sampled_from((*TAGS, "nobody-has-this")), max_size=2),
)


def naive(
    everyone: bool,
    departments: Collection[int],
    groups: Collection[int],
    tags: Collection[str],
    people: Iterable[tuple[int, P]],
) -> set[int]:
    """The rule as plainly as it can be said, one member at a time."""
    chosen = set()
    for member_id, person in people:
        if not person.active:
            continue
        if (
            everyone
            or person.department in departments
            or person.groups & set(groups)
            or person.tags & set(tags)
        ):
            chosen.add(member_id)
    return chosen


async def build_world(
    session: AsyncSession, people: list[P]
) -> tuple[list[int], list[int], list[int]]:
    """Departments 0-3, groups 0-2 and the people; returns their database ids."""
    for table in (MemberTag.__table__, member_groups, Member.__table__):
        await session.execute(delete(table))
    await session.execute(delete(Department))
    await session.execute(delete(InterestGroup))
    departments = [(await members.add_department(session, f"D{i}")).id for i in range(4)]
    groups = [(await members.add_group(session, f"G{i}")).id for i in range(3)]
    rows = [
        new_member(
            10_000 + n,
            name=f"P{n}",
            department_id=departments[p.department] if p.department is not None else None,
            active=p.active,
        )
        for n, p in enumerate(people)
    ]
    session.add_all(rows)
    await session.flush()
    ids = [m.id for m in rows]
    tags = [{"member_id": i, "tag": t} for i, p in zip(ids, people, strict=True) for t in p.tags]
    joined = [
        {"member_id": i, "group_id": groups[g]}
        for i, p in zip(ids, people, strict=True)
        for g in p.groups
    ]
    if tags:
        await session.execute(insert(MemberTag), tags)
    if joined:
        await session.execute(insert(member_groups), joined)
    return ids, departments, groups


async def scenario(
    url: str, people: list[P], choices: tuple[bool, frozenset[int], frozenset[int], frozenset[str]]
) -> None:
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        async with transaction(sessions) as session:
            ids, departments, groups = await build_world(session, people)
        everyone, dept_idx, group_idx, tags = choices
        # Index 4 / 3 stand for a department / group deleted since: an id nobody has.
        dept_ids = {departments[i] if i < 4 else 10**6 for i in dept_idx}
        group_ids = {groups[i] if i < 3 else 10**6 for i in group_idx}
        audience = Audience(everyone, {DEPARTMENT.key: dept_ids, GROUP.key: group_ids}, tags)
        expected = naive(
            everyone,
            {i for i in dept_idx if i < 4},
            {i for i in group_idx if i < 3},
            tags,
            zip(ids, people, strict=True),
        )
        async with sessions() as session:
            assert await audiences.member_ids(session, audience) == expected
            assert await audiences.count(session, audience) == len(expected)
            pages = [p async for p in audiences.recipients(session, audience, page=4)]
            flat = [r.member_id for page in pages for r in page]
            assert flat == sorted(expected) and all(0 < len(p) <= 4 for p in pages)
            # A union: every part alone selects a subset of the whole.
            for part in (
                Audience(items={DEPARTMENT.key: dept_ids}),
                Audience(items={GROUP.key: group_ids}),
                Audience(tags=tags),
            ):
                assert await audiences.member_ids(session, part) <= expected
    finally:
        await engine.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(PEOPLE, CHOICES)
def test_union_of_selections_equals_the_naive_rule(
    migrated_url: str,
    people: list[P],
    choices: tuple[bool, frozenset[int], frozenset[int], frozenset[str]],
) -> None:
    asyncio.run(scenario(migrated_url, people, choices))


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The test database, migrated (the property test runs one event loop per example)."""

    async def migrate() -> None:
        engine = make_engine(database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return database_url


@given(
    st.booleans(),
    st.dictionaries(
        st.sampled_from(["dept", "group", "activity"]), st.frozensets(st.integers(1, 99))
    ),
    st.frozensets(st.sampled_from(TAGS)),
)
def test_audience_round_trips_through_json(
    everyone: bool, items: dict[str, frozenset[int]], tags: frozenset[str]
) -> None:
    audience = Audience(everyone, items, tags)
    assert Audience.from_json(audience.to_json()) == audience
    assert audience.empty == (not everyone and not any(items.values()) and not tags)


def test_toggles() -> None:
    audience = Audience().toggle_item("dept", 3).toggle_tag("retiree").toggle_everyone()
    assert audience == Audience(True, {"dept": {3}}, {"retiree"})
    assert audience.toggle_item("dept", 3).toggle_tag("retiree").toggle_everyone().empty


async def test_a_feature_can_add_its_own_grouping(engine: AsyncEngine) -> None:
    """The extension point activities and polls use: register a source, and every audience knows it."""
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        await build_world(
            session,
            [
                P(True, 0, frozenset(), frozenset()),
                P(True, 1, frozenset(), frozenset()),
                P(True, None, frozenset({0}), frozenset()),
            ],
        )
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        d0 = (await members.list_departments(session))[0].id

    # Stand-in for "participants of activity N": here, activity N has the member whose id is N.
    participants = AudienceSource(
        "activity",
        "Activity participants",
        member_ids=lambda chosen: select(Member.id).where(Member.id.in_(list(chosen))),
        choices=lambda session, zone: _activity_choices(session),
        order=30,
        icon="🏃",
    )
    sources = AudienceSources(dict(SOURCES.by_key))
    sources.register(participants)
    with pytest.raises(ValueError, match="twice"):
        sources.register(participants)
    with pytest.raises(ValueError, match="bad audience source key"):
        AudienceSource("Not OK!", "x", participants.member_ids, participants.choices)
    with pytest.raises(UnknownSource):
        SOURCES.get("activity")

    audience = Audience(items={"activity": {ids[2]}, DEPARTMENT.key: {d0}})
    async with sessions() as session:
        assert await audiences.member_ids(session, audience, sources) == {ids[0], ids[2]}
        # Where the feature is not registered its selections select nobody.
        assert await audiences.member_ids(session, audience) == {ids[0]}
        described = await audiences.describe(session, audience, UTC, sources)
        assert described.sources == [
            ("Departments", ["D0"]),
            ("Activity participants", [f"activity {ids[2]}"]),
        ]
        assert described.missing == 0
        assert (await audiences.describe(session, audience, UTC)).missing == 1


async def _activity_choices(session: AsyncSession) -> list[tuple[int, str]]:
    return [(i, f"activity {i}") for i in await session.scalars(select(Member.id))]


async def test_inactive_and_blocked_members(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        await build_world(
            session,
            [
                P(True, 0, frozenset(), frozenset({"retiree"})),
                P(False, 0, frozenset(), frozenset({"retiree"})),
                P(True, 0, frozenset(), frozenset()),
            ],
        )
        first, _inactive, third = list(await session.scalars(select(Member.id).order_by(Member.id)))
        await members.mark_blocked(session, 10_002, utcnow())
        assert await audiences.tags_in_use(session) == ["retiree"]
    everyone = Audience(everyone=True)
    async with sessions() as session:
        assert await audiences.member_ids(session, everyone) == {first, third}
        assert await audiences.count_blocked(session, everyone) == 1
        assert await audiences.count(session, Audience()) == 0


async def test_a_picker_tap_flips_one_choice_and_a_forged_one_is_refused(
    engine: AsyncEngine,
) -> None:
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        await build_world(session, [P(True, 0, frozenset(), frozenset({"retiree"}))])
        d0 = (await members.list_departments(session))[0].id
    async with sessions() as session:
        nobody = Audience()
        with pytest.raises(audience_picks.NoRecipients) as raised:
            await audience_picks.recipients(session, nobody)
        assert not raised.value.chosen
        picked = await audience_picks.toggled(session, nobody, DEPARTMENT.key, d0, [])
        assert picked == Audience(items={DEPARTMENT.key: {d0}})
        assert await audience_picks.recipients(session, picked) == 1
        tags = ["retiree"]
        assert (await audience_picks.toggled(session, nobody, audience_picks.TAG, 0, tags)).tags
        assert (
            await audience_picks.toggled(session, nobody, audience_picks.EVERYONE, 0, [])
        ).everyone
        for source, item in (
            (DEPARTMENT.key, d0 + 100),  # no such department
            (audience_picks.TAG, 1),  # past the tags the picker showed
            ("nosuch", 1),
        ):
            with pytest.raises(audience_picks.PickRefused):
                await audience_picks.toggled(session, nobody, source, item, tags)
        # A choice deleted since can still be taken back.
        gone = Audience(items={DEPARTMENT.key: {d0 + 100}})
        assert (await audience_picks.toggled(session, gone, DEPARTMENT.key, d0 + 100, [])).empty
        with pytest.raises(audience_picks.NoRecipients) as raised:
            await audience_picks.recipients(session, gone)
        assert raised.value.chosen
