"""The Alembic migrations build exactly the models, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.migrate import current_revision, downgrade, head_revision, script_head, upgrade
from storage.models import Base


async def test_migrations_match_models_and_reverse(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(engine)  # leave it migrated for the next test on this database


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert script_head() == head_revision() is not None


async def test_alembic_is_loaded_only_when_there_is_something_to_migrate(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.sqlite3'}"
    probe = (
        "import asyncio, sys;"
        "from storage.db import make_engine;"
        "from storage.migrate import upgrade;"
        f"asyncio.run(upgrade(make_engine({url!r})));"
        "print('alembic' in sys.modules)"
    )

    def upgraded_loading_alembic() -> bool:
        run = [sys.executable, "-c", probe]
        out = subprocess.run(run, capture_output=True, text=True, check=True, timeout=120)
        return out.stdout.strip().splitlines()[-1] == "True"

    engine = make_engine(url)
    try:
        assert upgraded_loading_alembic()  # a new database
        assert await current_revision(engine) == head_revision()
        assert not upgraded_loading_alembic()  # at head: one SELECT
        await downgrade(engine, "-1")
        assert upgraded_loading_alembic()  # one behind: migrated as before
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
