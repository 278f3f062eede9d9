"""What each shopper action means to the recommender: one table, one place.

For every action: its reward (VW minimises cost, so the learner is given `cost = -reward`),
who may report it, what it says about the shopper, how much it adds to the product's
popularity, and which learned *signal* it is on a recommended item.

| action     | reported by              | reward | meaning     | learned signal |
|------------|--------------------------|--------|-------------|----------------|
| `view`     | client                   | 0      | impression  | none (below)   |
| `tick`     | client                   | +1     | interest    | `opinion`      |
| `cross`    | client                   | -1     | disinterest | `opinion`      |
| `cart_add` | server: `addToCart`      | +2     | interest    | `cart_add`     |
| `purchase` | server: `checkout`       | +5     | interest    | `purchase`     |
| `ar_view`  | server: `startArSession` | +1     | interest    | `ar_view`      |

Rules:
- A client can only report what only the client sees: views, ticks and crosses. Cart adds,
  purchases and AR views are witnessed by the server's own mutations, which attribute them
  to a recommendation when given the slate's `eventId` (a purchase to the slate its cart
  line was added from).
- One (decision, item) pair carries at most one learned reward per signal. Tick and cross
  are one signal, the shopper's *opinion*: the first one given is learned, a change of
  mind later (a tick, then a cross) is stored as an interaction and shapes the shopper's
  features, but is not learned again on that decision. Distinct signals add up (a tick, a
  cart add and a purchase of one recommended item are three examples).
- A view is an impression, not an outcome: an item that was shown, viewed or not, and got
  no learned signal within the reward window gets the default reward when the window
  closes (`DEFAULT_REWARD`, for the top `DEFAULT_REWARD_SLOTS` slots).

What the meaning does to the shopper's features (`request.shopper_signals`, read from the
shopper's latest 50 signals; impressions are not signals and are never read):
- On one product, the newest signal wins: a cross after a tick turns the product down, a
  cart add after a cross brings it back.
- *Interest* makes the product's category one of *recent interest* (the `cat_recent` match
  feature and a source of candidates).
- *Disinterest* steers away from the product, and more weakly from its category and brand:
  the product is no longer a candidate for this shopper (while the cross is among their
  latest signals, and unless too few others are left); a category or brand of which the
  shopper turned down at least two products and liked none is *disliked* -- no longer a
  source of candidates, and marked by the `cat_crossed` / `brand_crossed` match features,
  whose weight the learner fits from the rewards that follow. One liked product keeps a
  category of interest: where a shopper likes some sneakers and crosses others, only the
  crossed ones are steered away from.
- An *impression* changes no feature.

Override rewards with the `REWARDS` setting, e.g. `REWARDS='{"tick": 1.5, "purchase": 10}'`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from models.interaction import InteractionAction


class Meaning(StrEnum):
    INTEREST = "interest"
    DISINTEREST = "disinterest"
    IMPRESSION = "impression"


@dataclass(frozen=True, slots=True)
class ActionRule:
    reward: float
    meaning: Meaning
    reported_by_client: bool
    # The learned signal on a recommended item (None: not learned by itself).
    signal: str | None
    # How much the action adds to the product's popularity (the catalog's POPULARITY sort
    # and the recommender's popular candidates). Views count a little; crosses never lower
    # it, so a product is not buried by being shown often.
    popularity: float


OPINION = "opinion"

ACTION_RULES: Mapping[InteractionAction, ActionRule] = MappingProxyType(
    {
        InteractionAction.VIEW: ActionRule(0.0, Meaning.IMPRESSION, True, None, 0.1),
        InteractionAction.TICK: ActionRule(1.0, Meaning.INTEREST, True, OPINION, 1.0),
        InteractionAction.CROSS: ActionRule(-1.0, Meaning.DISINTEREST, True, OPINION, 0.0),
        InteractionAction.CART_ADD: ActionRule(2.0, Meaning.INTEREST, False, "cart_add", 2.0),
        InteractionAction.PURCHASE: ActionRule(5.0, Meaning.INTEREST, False, "purchase", 5.0),
        InteractionAction.AR_VIEW: ActionRule(1.0, Meaning.INTEREST, False, "ar_view", 1.0),
    }
)

DEFAULT_REWARDS: Mapping[InteractionAction, float] = MappingProxyType(
    {action: rule.reward for action, rule in ACTION_RULES.items()}
)
POPULARITY_DELTA: Mapping[InteractionAction, float] = MappingProxyType(
    {action: rule.popularity for action, rule in ACTION_RULES.items()}
)
CLIENT_REPORTED: frozenset[InteractionAction] = frozenset(
    action for action, rule in ACTION_RULES.items() if rule.reported_by_client
)
# The signal of the default reward given when a window closes on an item with none.
DEFAULT_SIGNAL = "none"


def learned_signal(action: InteractionAction) -> str | None:
    return ACTION_RULES[action].signal


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


@dataclass(frozen=True)
class RewardTarget:
    """The logged decision a reward applies to, and the recommended item's place in it."""

    event_pk: int
    event_id: str
    slot: int
    probability: float

    def as_context(self) -> dict[str, str]:
        """What an interaction keeps of the recommendation it is credited to."""
        return {"eventId": self.event_id}
