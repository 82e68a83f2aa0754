"""Alembic migrations, run in-process on an async engine.

`union-bot db upgrade` and start-up both call `upgrade`; Alembic gets the
engine's connection through `config.attributes`, so no second (sync) driver is
needed for PostgreSQL.

Alembic is imported only when there is something to migrate: a database already
at the scripts' head (every start but the first after a release) is told so by
one `SELECT` on `alembic_version` against the head read from the scripts' own
`revision` / `down_revision` lines (`script_head`, checked against Alembic's
answer by `tests/test_migrations.py`). Loading Alembic and its scripts took
about 0.17 s of every start-up, twice over on a loaded machine's clock.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision(?:: str \| None)? = (?:"([^"]+)"|None)$', re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def script_head() -> str | None:
    """The one head of the scripts, read from their text without Alembic.

    None when it cannot be told for sure (a script in another form, a merge
    revision, several heads): `upgrade` then asks Alembic as before.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text("utf-8")
        revision = _REVISION.findall(source)
        down = _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 and parents <= revisions else None


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Apply every migration; "heads" tolerates features branching from the same parent."""
    if revision == "heads" and await _at_head(engine):
        return
    async with engine.begin() as conn:
        await conn.run_sync(_run, "upgrade", revision)


async def _at_head(engine: AsyncEngine) -> bool:
    """Whether the database is at the scripts' head already (no table yet: not)."""
    head = script_head()
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # a new database: no alembic_version table yet
        return False
    return [row[0] for row in found] == [head]


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_run, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str | None:
    """The single head: a test insists branches are merged before they land."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(connection: Connection, action: str, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)
