"""The reward table: what each shopper action is worth to the recommender. One place only.

VW minimises cost, so the learner is given `cost = -reward`. Override entries with the
`REWARDS` setting, e.g. `REWARDS='{"tick": 1.5, "purchase": 10}'`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from models.interaction import InteractionAction

DEFAULT_REWARDS: Mapping[InteractionAction, float] = MappingProxyType(
    {
        InteractionAction.VIEW: 0.0,
        InteractionAction.TICK: 1.0,
        InteractionAction.CROSS: -1.0,
        InteractionAction.CART_ADD: 2.0,
        InteractionAction.PURCHASE: 5.0,
        InteractionAction.AR_VIEW: 1.0,
    }
)

# How much an action adds to a product's popularity (the catalog's POPULARITY sort and the
# recommender's popular candidates). Views count a little; crosses never lower it, so a
# product is not buried by being shown often.
POPULARITY_DELTA: Mapping[InteractionAction, float] = MappingProxyType(
    {
        InteractionAction.VIEW: 0.1,
        InteractionAction.TICK: 1.0,
        InteractionAction.CROSS: 0.0,
        InteractionAction.CART_ADD: 2.0,
        InteractionAction.PURCHASE: 5.0,
        InteractionAction.AR_VIEW: 1.0,
    }
)


class RewardTable:
    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        table = dict(DEFAULT_REWARDS)
        for name, value in (overrides or {}).items():
            try:
                action = InteractionAction(name)
            except ValueError as exc:
                known = ", ".join(a.value for a in InteractionAction)
                raise ValueError(f"unknown action {name!r} in REWARDS (known: {known})") from exc
            table[action] = float(value)
        self._table = MappingProxyType(table)

    def reward(self, action: InteractionAction) -> float:
        return self._table[action]

    def as_dict(self) -> dict[str, float]:
        return {action.value: value for action, value in self._table.items()}
