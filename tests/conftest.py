from __future__ import annotations

import pytest

from tests.support.services import POSTGRES_URL, REDIS_URL, need


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need(REDIS_URL, "Redis")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return need(POSTGRES_URL, "PostgreSQL")
