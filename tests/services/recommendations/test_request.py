"""The shopper context read for a request: what each action's meaning does to it."""

from __future__ import annotations

from models.interaction import InteractionAction
from services.recommendations.request import SIGNAL_ACTIONS, latest_meanings, summarise
from services.recommendations.rewards import ACTION_RULES, Meaning

LIKE, DOWN = Meaning.INTEREST, Meaning.DISINTEREST


def test_impressions_are_not_signals():
    assert InteractionAction.VIEW.value not in SIGNAL_ACTIONS
    assert {a.value for a, r in ACTION_RULES.items() if r.meaning is not Meaning.IMPRESSION} == set(
        SIGNAL_ACTIONS
    )


def test_the_newest_signal_on_a_product_wins():
    rows = [(1, "cross"), (2, "cart_add"), (1, "tick"), (2, "cross"), (3, "purchase")]  # newest 1st
    assert latest_meanings(rows) == [(1, DOWN), (2, LIKE), (3, LIKE)]


def test_crossing_a_category_makes_it_disliked_not_recent():
    items = [
        (1, DOWN, "Sneakers", "Acme"),
        (2, DOWN, "Sneakers", "Acme"),
        (3, DOWN, "Hats", "Fjell"),  # one cross: not enough to dislike a category
        (4, LIKE, "Bags", "Fjell"),
    ]
    signals = summarise(items)
    assert signals.interests == ("Bags",)
    assert signals.disliked_categories == ("Sneakers",)
    assert signals.disliked_brands == ("Acme",)
    assert signals.disliked_items == (1, 2, 3)


def test_one_liked_product_keeps_its_category_of_interest():
    """p(click) 0.6 in a liked category means crosses there too: they must not turn the
    category down, only the crossed products."""
    items = [(1, DOWN, "Bags", "A"), (2, DOWN, "Bags", "B"), (3, DOWN, "Bags", "C")]
    items += [(4, LIKE, "Bags", "D")]
    signals = summarise(items)
    assert signals.interests == ("Bags",) and signals.disliked_categories == ()
    assert signals.disliked_items == (1, 2, 3)


def test_interests_are_newest_first():
    signals = summarise([(1, LIKE, "Bags", None), (2, LIKE, "Hats", None), (3, LIKE, "Bags", None)])
    assert signals.interests == ("Bags", "Hats")
