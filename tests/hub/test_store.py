"""The schema: migrations match the models on both databases and run both ways."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hub.store import (
    Base,
    create_engine,
    downgrade,
    migrate,
    new_id,
    new_ids,
    schema_is_current,
)

SEED_TABLES = {
    "vpp_resource_templates",
    "vpp_resource_instances",
    "vpps",
    "vpp_resource_mappings",
    "trading_strategies",
    "trading_records",
}


def test_migrations_match_the_models(db_url: str) -> None:
    async def check() -> list[object]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
                assert tables >= SEED_TABLES
                return list(
                    await conn.run_sync(
                        lambda c: compare_metadata(
                            MigrationContext.configure(c, opts={"compare_type": True}),
                            Base.metadata,
                        )
                    )
                )
        finally:
            await engine.dispose()

    assert asyncio.run(check()) == []


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    async def roundtrip() -> tuple[bool, bool, set[str]]:
        engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
        try:
            await migrate(engine)
            current = await schema_is_current(engine)
            await downgrade(engine, "base")
            async with engine.connect() as conn:
                left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            gone = not await schema_is_current(engine)
            await migrate(engine)
            return current, gone, left
        finally:
            await engine.dispose()

    current, gone, left = asyncio.run(roundtrip())
    assert current and gone
    assert left <= {"alembic_version"}


def test_the_migrations_have_one_head() -> None:
    """Two changes that each added a migration on the same parent leave two heads, and
    ``migrate`` to "head" would fail on a user's upgrade: renumber on rebase."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from hub.store._db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_ids_made_in_one_go_are_uuid4_strings_as_new_id_makes_them() -> None:
    ids = new_ids(500)
    assert len(set(ids)) == 500
    for value in [*ids, new_id()]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value  # the same text: lower case, 8-4-4-4-12
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert new_ids(0) == []
