"""The world suite's worlds: how each one differs in structure, and the named registry.

A `WorldSpec` fixes the structure of a shop — catalog, who the shoppers are, what they
like (hidden), what they tell the shop (stated preferences, noisy or partial), how they
react to a slate — and a seed draws one instance of it (`world.World`).

The worlds were written from the issue's description of the shops the recommender must
serve, before and apart from the recommender's code, and must not be tuned to it: change a
world only to model a shop more faithfully, never to move a score.

Click model (hidden): a shopper examines slot s with probability `examination[s]` and
clicks an examined product with probability

    p = category term (`p_like` if the category is liked, `p_dislike` if disliked,
        else `p_other`) x `brand_boost` if the brand is a liked one
        x `price_penalty` ** (tiers above the shopper's budget) x the product's appeal
        x `new_boost` for products that arrived during the run,

capped at 0.95. A click is a `TICK`, or for signed-in shoppers an `addToCart` with
probability `cart_share`. What happens to items not clicked depends on `feedback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Feedback = Literal["silent", "tickcross", "view", "mixed"]


@dataclass(frozen=True)
class WorldSpec:
    """The structure of one world (everything but the seed)."""

    name: str
    summary: str
    # Catalog.
    n_products: int = 200
    n_categories: int = 10
    n_brands: int = 10
    appeal_sigma: float = 0.0  # spread of the hidden per-product appeal (log scale)
    # Shoppers and tastes.
    n_shoppers: int = 40
    taste_groups: int = 0  # 0: every shopper has own tastes; else shared by groups
    liked_categories: int = 2
    disliked_category: bool = False
    liked_brands: int = 0
    brand_boost: float = 1.0
    p_like: float = 0.6
    p_other: float = 0.04
    p_dislike: float = 0.01
    # Stated preferences: the share of shoppers who fill in a profile, how much of it is
    # true (one liked category, plus a wrong one with `stated_noise`), never the whole truth.
    stated_share: float = 0.0
    stated_noise: float = 0.5
    # Price sensitivity: a hidden budget tier per taste; each tier above it multiplies p.
    price_sensitive: bool = False
    price_penalty: float = 0.3
    # Taste drift: each shopper's liked categories change every ~`drift_visits` visits.
    drift_visits: int = 0
    # New products: `arrival_batch` products every `arrival_every` slates, from an
    # initial catalog of `initial_products`; their appeal is multiplied by `new_boost`.
    initial_products: int = 0
    arrival_every: int = 0
    arrival_batch: int = 0
    new_boost: float = 1.0
    # Anonymous sessions only: each session has a taste group and lasts ~`session_slates`.
    anonymous: bool = False
    session_slates: float = 3.0
    # Requests.
    slate_size: int = 5
    product_page_share: float = 0.0  # requests made from a product page
    viewed_liked_share: float = 0.7  # ...of which the viewed product is in a liked category
    examination: tuple[float, ...] = ()  # per slot; () means every slot is examined
    # Reactions.
    feedback: Feedback = "silent"
    cross_other: float = 1.0  # P(cross) of an examined, not clicked item ("tickcross")
    cross_disliked: float = 0.5  # "mixed": P(cross) in a disliked category...
    cross_mixed: float = 0.05  # ...and elsewhere
    cart_share: float = 0.0  # of clicks that are cart adds (signed-in shoppers)
    checkout_share: float = 0.5  # of slates with cart adds that end in a checkout
    transport: Literal["service", "http"] = "service"
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.slate_size < 1 or self.n_products < self.slate_size:
            raise ValueError("need at least one slot and as many products as slots")
        if self.liked_categories >= self.n_categories:
            raise ValueError("a shopper cannot like every category")
        if self.anonymous and not self.taste_groups:
            raise ValueError("anonymous sessions draw their tastes from taste groups")
        if self.examination and len(self.examination) < self.slate_size:
            raise ValueError("examination needs one probability per slot")
        if self.initial_products and not (self.arrival_every and self.arrival_batch):
            raise ValueError("an initial catalog smaller than the whole needs arrivals")

    def exam(self, slot: int) -> float:
        return self.examination[slot] if self.examination else 1.0


# The issue's held-out measurement: 40 shoppers with own tastes (2 of 10 categories),
# click 0.6 on a liked category and 0.04 elsewhere, slates of 5.
_ISSUE = WorldSpec(
    name="own-silent",
    summary="40 shoppers, own tastes; tick liked items, silent on the rest (window closes)",
    tags=("issue",),
)

WORLDS: dict[str, WorldSpec] = {
    spec.name: spec
    for spec in (
        _ISSUE,
        replace(
            _ISSUE,
            name="own-tickcross",
            summary="the same shoppers with the tick/cross cards: tick liked, cross the rest",
            feedback="tickcross",
        ),
        replace(
            _ISSUE,
            name="own-view",
            summary="the same shoppers; every item not ticked is reported as VIEW",
            feedback="view",
        ),
        replace(
            _ISSUE,
            name="groups-tickcross",
            summary="2,000 shoppers in 20 taste groups, a few visits each; tick/cross",
            n_shoppers=2000,
            taste_groups=20,
            feedback="tickcross",
        ),
        WorldSpec(
            name="stated-prefs",
            summary="300 shoppers, 70% state a partial, noisy profile; brands, a disliked "
            "category, product pages, varied appeal; crosses now and then",
            n_products=400,
            n_categories=12,
            n_brands=20,
            appeal_sigma=0.35,
            n_shoppers=300,
            disliked_category=True,
            liked_brands=3,
            brand_boost=1.6,
            p_like=0.35,
            p_other=0.03,
            stated_share=0.7,
            product_page_share=0.4,
            feedback="mixed",
        ),
        WorldSpec(
            name="drift",
            summary="100 shoppers whose liked categories change every ~40 visits; crosses "
            "now and then",
            n_shoppers=100,
            drift_visits=40,
            feedback="mixed",
            cross_mixed=0.1,
        ),
        WorldSpec(
            name="position-bias",
            summary="200 shoppers, slates of 8 examined less the lower they are; appeal "
            "varies within a category; silent",
            n_products=300,
            n_categories=10,
            n_brands=15,
            appeal_sigma=0.5,
            n_shoppers=200,
            p_like=0.5,
            p_other=0.03,
            slate_size=8,
            examination=(1.0, 0.8, 0.62, 0.48, 0.38, 0.3, 0.24, 0.2),
        ),
        WorldSpec(
            name="price",
            summary="300 price-sensitive shoppers with a hidden budget (half state a "
            "price band, often wrong); clicks are cart adds or ticks; checkouts",
            n_products=300,
            n_categories=8,
            n_brands=12,
            appeal_sigma=0.3,
            n_shoppers=300,
            liked_categories=3,
            p_like=0.5,
            p_other=0.05,
            price_sensitive=True,
            price_penalty=0.3,
            stated_share=0.5,
            stated_noise=0.3,
            feedback="mixed",
            cart_share=0.4,
        ),
        WorldSpec(
            name="new-arrivals",
            summary="200 shoppers; 150 products at the start, 6 new ones every 400 slates, "
            "new products more appealing; silent",
            n_products=450,
            initial_products=150,
            arrival_every=400,
            arrival_batch=6,
            new_boost=1.5,
            appeal_sigma=0.3,
            n_shoppers=200,
            p_like=0.4,
            p_other=0.03,
        ),
        WorldSpec(
            name="anonymous",
            summary="anonymous sessions only (~3 slates each) from 20 taste groups; most "
            "slates asked from a product page; tick/cross on half the misses",
            n_products=300,
            n_brands=15,
            n_shoppers=0,
            taste_groups=20,
            anonymous=True,
            product_page_share=0.6,
            viewed_liked_share=0.8,
            feedback="tickcross",
            cross_other=0.5,
        ),
        replace(
            _ISSUE,
            name="http-tickcross",
            summary="own-tickcross over real HTTP: a live uvicorn server, public GraphQL only",
            feedback="tickcross",
            transport="http",
        ),
    )
}


def world_names(selection: str) -> list[str]:
    """`all`, one name, or a comma-separated list; raises ValueError for unknown names."""
    if selection == "all":
        return list(WORLDS)
    names = list(dict.fromkeys(n.strip() for n in selection.split(",") if n.strip()))
    unknown = [n for n in names if n not in WORLDS]
    if unknown or not names:
        raise ValueError(
            f"unknown world {', '.join(unknown) or '(none)'}; known: {', '.join(WORLDS)}"
        )
    return names
