"""Small fixtures shared by the bandit tests: a toy catalog and two shopper contexts."""

from __future__ import annotations

import pytest

from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import BanditLearner, LearnerConfig

CATEGORIES = ("shoes", "bags", "shirts", "hats")


def make_catalog(n: int = 12) -> list[ActionFeatures]:
    return [
        ActionFeatures(
            action_id=f"p{i}",
            category=CATEGORIES[i % len(CATEGORIES)],
            brand=f"brand{i % 3}",
            price=5.0 * (i + 1),
            features={"colour": ("red", "blue")[i % 2]},
            popularity=float(i),
            created_days_ago=float(10 * i),
            ar_enabled=i % 2 == 0,
        )
        for i in range(n)
    ]


@pytest.fixture
def catalog() -> list[ActionFeatures]:
    return make_catalog()


@pytest.fixture
def shoe_fan() -> ContextFeatures:
    return ContextFeatures(user_id="u1", device="mobile", preferences={"categories": ["shoes"]})


@pytest.fixture
def hat_fan() -> ContextFeatures:
    return ContextFeatures(user_id="u2", device="desktop", preferences={"categories": ["hats"]})


@pytest.fixture
def learner() -> BanditLearner:
    instance = BanditLearner(LearnerConfig(bits=18))
    yield instance
    instance.close()
