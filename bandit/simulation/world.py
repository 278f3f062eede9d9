"""A synthetic shop: a catalog, shoppers with hidden tastes, and how they react to a slate.

Hidden truth. Each shopper has two favourite categories (one strong, one mild), one
disliked category, three favourite brands, a price band and two liked style tags; each
product has a hidden quality. The probability that a shopper who examines a product
ticks it is a logistic function of the matches between the two, plus quality, plus two
context effects (AR products on mobile; the category of the product being viewed) and
a small shopper-product noise term nobody can observe. Slot `s` is examined with
probability `EXAMINATION[s]` (position bias).

What a recommender sees. Products expose category, brand, price, style tags (in their
`features` JSON), AR flag, age and a noisy popularity count (a proxy for quality).
Shoppers expose a `preferences` JSON with their true favourite categories and brands,
price band and styles (not their disliked category) — except a `cold_start_fraction` of them, whose
preferences are empty; for those only the user id, the device, the viewed product and the
categories of their recent ticks (tracked per run) carry signal. So the hidden model is
learnable from observable features, but not all of it at once.

Outcomes. A tick may be followed by a cart add and a purchase; a shopper who examines but
does not tick may cross it out (more often in the disliked category). The reward of an
item is the sum of the reward-table values of its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bandit.features import ActionFeatures, ContextFeatures

DEFAULT_REWARDS: Mapping[str, float] = {
    "tick": 1.0,
    "cross": -1.0,
    "cart_add": 2.0,
    "purchase": 5.0,
}
EXAMINATION = (1.0, 0.85, 0.72, 0.62, 0.55, 0.5, 0.46, 0.43, 0.4, 0.38)
PRICE_BANDS = ("budget", "mid", "premium")
STYLES = ("casual", "classic", "sport", "street", "boho", "minimal", "outdoor", "party")
MATERIALS = ("cotton", "wool", "leather", "denim", "linen", "synthetic")
DEVICES = ("mobile", "desktop", "tablet")


@dataclass(frozen=True)
class WorldConfig:
    """Size and difficulty of the synthetic shop."""

    n_products: int = 1000
    n_users: int = 800
    n_categories: int = 12
    n_brands: int = 40
    candidates_per_request: int = 100
    cold_start_fraction: float = 0.2
    product_page_fraction: float = 0.4
    base_logit: float = -3.6
    noise_scale: float = 0.3
    reward_table: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_REWARDS))


@dataclass(frozen=True)
class ShopperRequest:
    """One recommendation request: who, in which context, choosing among which products."""

    request_id: int
    user_id: str
    context: ContextFeatures
    candidates: tuple[ActionFeatures, ...]


@dataclass(frozen=True)
class Outcome:
    """What one shown item earned: the events that happened and their summed reward."""

    events: tuple[str, ...]
    reward: float

    @property
    def ticked(self) -> bool:
        return "tick" in self.events


class World:
    """The hidden truth plus request generation; deterministic for a seed."""

    def __init__(self, config: WorldConfig, seed: int) -> None:
        if not 0 < config.candidates_per_request <= config.n_products:
            raise ValueError("candidates_per_request must be in 1..n_products")
        missing = {"tick", "cross", "cart_add", "purchase"} - set(config.reward_table)
        if missing:
            raise ValueError(f"reward_table lacks {sorted(missing)}")
        self.config = config
        rng = np.random.default_rng([seed, 0])
        self._build_catalog(rng)
        self._build_users(rng)
        self.product_index = {p.action_id: i for i, p in enumerate(self.products)}

    # -- construction ------------------------------------------------------------------
    def _build_catalog(self, rng: np.random.Generator) -> None:
        c = self.config
        self.category = rng.integers(c.n_categories, size=c.n_products)
        self.brand = rng.integers(c.n_brands, size=c.n_products)
        self.price_band = rng.integers(len(PRICE_BANDS), size=c.n_products)
        price = np.exp(rng.normal(3.0 + 1.1 * self.price_band, 0.25))
        self.styles = np.zeros((c.n_products, len(STYLES)), dtype=bool)
        for p in range(c.n_products):
            self.styles[p, rng.choice(len(STYLES), size=rng.integers(1, 4), replace=False)] = True
        self.quality = rng.normal(0.0, 0.5, size=c.n_products)
        self.ar = rng.random(c.n_products) < 0.3
        age = rng.exponential(200.0, size=c.n_products)
        popularity = np.round(np.exp(1.2 * self.quality + rng.normal(2.5, 0.3, c.n_products)))
        self.products = [
            ActionFeatures(
                action_id=f"prod-{p}",
                category=f"cat{self.category[p]}",
                brand=f"brand{self.brand[p]}",
                price=round(float(price[p]), 2),
                features={
                    "style": [STYLES[s] for s in np.flatnonzero(self.styles[p])],
                    "material": MATERIALS[int(rng.integers(len(MATERIALS)))],
                },
                popularity=float(popularity[p]),
                created_days_ago=float(age[p]),
                ar_enabled=bool(self.ar[p]),
            )
            for p in range(c.n_products)
        ]

    def _build_users(self, rng: np.random.Generator) -> None:
        c = self.config
        n = c.n_users
        self.user_category_affinity = np.zeros((n, c.n_categories))
        self.user_brand_affinity = np.zeros((n, c.n_brands))
        self.user_style_affinity = np.zeros((n, len(STYLES)))
        self.user_price_band = rng.integers(len(PRICE_BANDS), size=n)
        self.user_device = rng.choice(len(DEVICES), size=n, p=[0.6, 0.3, 0.1])
        self.user_preferences: list[dict] = []
        self.disliked_category = np.zeros(n, dtype=int)
        for u in range(n):
            strong, mild, disliked = rng.choice(c.n_categories, size=3, replace=False)
            self.user_category_affinity[u, [strong, mild, disliked]] = (1.6, 1.0, -1.2)
            self.disliked_category[u] = disliked
            brands = rng.choice(c.n_brands, size=3, replace=False)
            self.user_brand_affinity[u, brands] = 0.9
            styles = rng.choice(len(STYLES), size=2, replace=False)
            self.user_style_affinity[u, styles] = 0.5
            cold = rng.random() < c.cold_start_fraction
            self.user_preferences.append(
                {}
                if cold
                else {
                    "favourite_categories": [f"cat{strong}", f"cat{mild}"],
                    "favourite_brands": [f"brand{b}" for b in brands],
                    "price": PRICE_BANDS[self.user_price_band[u]],
                    "styles": [STYLES[s] for s in styles],
                }
            )
        # Static part of the true logit for every (user, product) pair.
        self._static_logit = (
            c.base_logit
            + self.user_category_affinity[:, self.category]
            + self.user_brand_affinity[:, self.brand]
            - 0.6 * np.abs(self.user_price_band[:, None] - self.price_band[None, :])
            + self.user_style_affinity @ self.styles.T.astype(float)
            + self.quality[None, :]
            + rng.normal(0.0, c.noise_scale, size=(n, c.n_products))
        )

    # -- requests and outcomes ---------------------------------------------------------
    def request(
        self, request_id: int, rng: np.random.Generator, recent: Mapping[int, list[str]]
    ) -> ShopperRequest:
        """Draw a request; `recent` holds each user's recently ticked categories (per run)."""
        c = self.config
        user = int(rng.integers(c.n_users))
        candidates = rng.choice(c.n_products, size=c.candidates_per_request, replace=False)
        viewed = None
        if rng.random() < c.product_page_fraction:
            # Shoppers mostly browse categories they like.
            likes = np.flatnonzero(self.user_category_affinity[user] > 0)
            category = likes[rng.integers(len(likes))] if rng.random() < 0.7 else None
            pool = np.flatnonzero(self.category == category) if category is not None else None
            viewed = int(rng.choice(pool)) if pool is not None and len(pool) else None
        start = datetime(2024, 1, 1, tzinfo=UTC)
        context = ContextFeatures(
            user_id=f"user-{user}",
            timestamp=start + timedelta(minutes=int(request_id) * 7),
            device=DEVICES[self.user_device[user]],
            page="product" if viewed is not None else "home",
            preferences=self.user_preferences[user],
            recent_categories=tuple(recent.get(user, ())),
            viewed_category=self.products[viewed].category if viewed is not None else None,
            viewed_brand=self.products[viewed].brand if viewed is not None else None,
        )
        return ShopperRequest(
            request_id=request_id,
            user_id=f"user-{user}",
            context=context,
            candidates=tuple(self.products[p] for p in candidates),
        )

    def tick_probability(self, request: ShopperRequest, product_ids: list[str]) -> np.ndarray:
        """True probability that the shopper ticks each product once examined."""
        user = int(request.user_id.split("-")[1])
        products = np.array([self.product_index[p] for p in product_ids])
        logit = self._static_logit[user, products].copy()
        if request.context.device == "mobile":
            logit += 0.8 * self.ar[products]
        if request.context.viewed_category is not None:
            viewed = int(request.context.viewed_category.removeprefix("cat"))
            logit += 0.8 * (self.category[products] == viewed)
        return 1.0 / (1.0 + np.exp(-logit))

    def expected_reward(self, request: ShopperRequest, product_ids: list[str]) -> np.ndarray:
        """True expected reward of each product at the top slot (what the oracle ranks by)."""
        table = self.config.reward_table
        tick = self.tick_probability(request, product_ids)
        cross = self._cross_probability(request, product_ids)
        engaged = table["tick"] + 0.3 * (table["cart_add"] + 0.4 * table["purchase"])
        return tick * engaged + (1.0 - tick) * cross * table["cross"]

    def _cross_probability(self, request: ShopperRequest, product_ids: list[str]) -> np.ndarray:
        user = int(request.user_id.split("-")[1])
        products = np.array([self.product_index[p] for p in product_ids])
        return 0.02 + 0.15 * (self.category[products] == self.disliked_category[user])

    def outcomes(
        self, request: ShopperRequest, shown: list[str], rng: np.random.Generator
    ) -> list[Outcome]:
        """Sample what happens to each shown product, in slot order."""
        tick = self.tick_probability(request, shown)
        cross = self._cross_probability(request, shown)
        table = self.config.reward_table
        results = []
        for slot in range(len(shown)):
            examined = rng.random() < EXAMINATION[min(slot, len(EXAMINATION) - 1)]
            events: list[str] = []
            if examined and rng.random() < tick[slot]:
                events.append("tick")
                if rng.random() < 0.3:
                    events.append("cart_add")
                    if rng.random() < 0.4:
                        events.append("purchase")
            elif examined and rng.random() < cross[slot]:
                events.append("cross")
            results.append(Outcome(tuple(events), float(sum(table[e] for e in events))))
        return results
