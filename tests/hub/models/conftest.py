"""Fixtures of the models tests: a model directory per test and real model files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import Settings
from tests.hub.conftest import JWT_SECRET


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    path = tmp_path / "models"
    path.mkdir()
    return path


@pytest.fixture
def settings(clean_db: str, model_dir: Path) -> Settings:
    return Settings(
        db_url=clean_db,
        mqtt_url=None,
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
        model_dir=str(model_dir),
    )
