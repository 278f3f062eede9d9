import pytest

from models.interaction import InteractionAction
from services.recommendations.rewards import DEFAULT_REWARDS, RewardTable


def test_default_reward_table():
    table = RewardTable()
    assert table.as_dict() == {
        "view": 0.0, "tick": 1.0, "cross": -1.0, "cart_add": 2.0, "purchase": 5.0, "ar_view": 1.0,
    }  # fmt: skip
    assert set(DEFAULT_REWARDS) == set(InteractionAction)


def test_overrides_and_unknown_actions():
    assert RewardTable({"tick": 1.5}).reward(InteractionAction.TICK) == 1.5
    assert RewardTable({"tick": 1.5}).reward(InteractionAction.PURCHASE) == 5.0
    with pytest.raises(ValueError, match="unknown action"):
        RewardTable({"like": 1})
