"""One instance of a `WorldSpec`: a catalog, shoppers, their hidden tastes, the request
stream and how shoppers react. Deterministic for (spec, seed).

What policies see is only the public part, the same as the API gives the shop: `Product`
(catalog fields, the initial popularity count, age), `Shopper` (an id and the stated
preferences, if any), `Request` (who asks, from which page and device, which product is
viewed) and per-item `Reaction`s. The hidden part — liked categories and brands, budget,
per-product appeal, taste groups, drift schedule, arrival schedule — stays in `World` and
is read only by the oracle (`attraction`) and by the reaction sampler.

Policies face exactly the same shoppers: the request stream depends only on the seed, and
each request's reactions are drawn from its own random stream (common random numbers:
two policies showing the same product in the same slot of the same request get the same
reaction).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from bandit.simulation.worlds.spec import WorldSpec

PRICE_TIERS = ("budget", "mid", "premium")
STYLES = ("casual", "classic", "sport", "street", "boho", "minimal", "outdoor", "party")
MATERIALS = ("cotton", "wool", "leather", "denim", "linen", "synthetic")
DEVICES = ("mobile", "desktop", "tablet")
MAX_CLICK = 0.95


class Reaction(enum.StrEnum):
    """What a shopper does with one shown item (the API's actions, or nothing)."""

    NONE = "none"
    TICK = "tick"
    CROSS = "cross"
    VIEW = "view"
    CART_ADD = "cart_add"


@dataclass(frozen=True)
class Product:
    """A catalog entry as the shop lists it (no hidden appeal)."""

    id: str
    name: str
    category: str
    brand: str
    price: float
    features: Mapping[str, Any]
    popularity: float
    age_days: float


@dataclass(frozen=True)
class Shopper:
    """A signed-in account (`signed_in`) or an anonymous session; `key` is its stable id."""

    key: str
    signed_in: bool
    preferences: Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """One ask for a slate of `k`."""

    index: int
    shopper: Shopper
    page: str
    device: str
    viewed: str | None
    k: int


@dataclass(frozen=True)
class Outcome:
    """The shopper's reaction to each shown item, and whether the visit ends in a checkout."""

    reactions: tuple[Reaction, ...]
    clicks: tuple[bool, ...]
    checkout: bool

    @property
    def n_clicks(self) -> int:
        return sum(self.clicks)


@dataclass
class _Tastes:
    """Hidden taste profiles (rows); requests point at one row each."""

    liked: list[np.ndarray]  # bool per category
    disliked: list[int]  # category index or -1
    brands: list[np.ndarray]  # bool per brand
    budget: list[int]  # price tier


class World:
    """A seeded instance of `spec` with a request stream of `slates` requests."""

    def __init__(self, spec: WorldSpec, seed: int, slates: int) -> None:
        self.spec = spec
        self.seed = seed
        self.slates = slates
        self._build_catalog(np.random.default_rng([seed, 0]))
        self._tastes = _Tastes([], [], [], [])
        self._build_shoppers(np.random.default_rng([seed, 1]))
        self._build_requests(np.random.default_rng([seed, 2]))

    # -- public ------------------------------------------------------------------------
    @property
    def shoppers(self) -> list[Shopper]:
        """The signed-in shoppers (anonymous sessions appear only in requests)."""
        return list(self._shoppers)

    def arrivals(self, index: int) -> list[Product]:
        """Products that join the catalog just before request `index` (0: the initial one)."""
        start, stop = self._arrival_slices.get(index, (0, 0))
        return self.products[start:stop]

    def available(self, index: int) -> list[Product]:
        """The catalog as of request `index`."""
        return self.products[: self._catalog_size(index)]

    def request(self, index: int) -> Request:
        return self._requests[index]

    def outcome(self, request: Request, shown: Sequence[str]) -> Outcome:
        """Sample the reactions to `shown` (slot order) for `request`."""
        spec = self.spec
        if len(shown) > spec.slate_size:
            raise ValueError("slate longer than the world's slate size")
        rng = np.random.default_rng([self.seed, 7, request.index])
        exam_u, click_u, react_u, cart_u = rng.random((4, spec.slate_size))
        checkout_u = rng.random()
        p = self.attraction(request, shown)
        taste = self._request_taste[request.index]
        categories = self._category[[self._index[i] for i in shown]] if shown else []
        reactions, clicks = [], []
        for slot, _product in enumerate(shown):
            examined = exam_u[slot] < spec.exam(slot)
            click = bool(examined and click_u[slot] < p[slot])
            clicks.append(click)
            if click:
                cart = request.shopper.signed_in and cart_u[slot] < spec.cart_share
                reactions.append(Reaction.CART_ADD if cart else Reaction.TICK)
            elif spec.feedback == "view":
                reactions.append(Reaction.VIEW)
            elif examined and react_u[slot] < self._cross_probability(taste, categories[slot]):
                reactions.append(Reaction.CROSS)
            else:
                reactions.append(Reaction.NONE)
        carted = Reaction.CART_ADD in reactions
        return Outcome(tuple(reactions), tuple(clicks), carted and checkout_u < spec.checkout_share)

    # -- hidden (oracle, tests) --------------------------------------------------------
    def attraction(self, request: Request, ids: Sequence[str]) -> np.ndarray:
        """True probability that the shopper clicks each product once examined."""
        spec, t = self.spec, self._tastes
        taste = self._request_taste[request.index]
        idx = np.array([self._index[i] for i in ids], dtype=int)
        if not len(idx):
            return np.zeros(0)
        category = self._category[idx]
        p = np.where(t.liked[taste][category], spec.p_like, spec.p_other)
        if t.disliked[taste] >= 0:
            p = np.where(category == t.disliked[taste], spec.p_dislike, p)
        if spec.liked_brands:
            p = p * np.where(t.brands[taste][self._brand[idx]], spec.brand_boost, 1.0)
        if spec.price_sensitive:
            over = np.maximum(self._tier[idx] - t.budget[taste], 0)
            p = p * spec.price_penalty**over
        p = p * self._appeal[idx]
        return np.minimum(p, MAX_CLICK)

    def expected_clicks(self, request: Request, shown: Sequence[str]) -> float:
        """Expected clicks on `shown` (slot order): the quantity every policy maximises."""
        exam = np.array([self.spec.exam(s) for s in range(len(shown))])
        return float(exam @ self.attraction(request, shown)) if len(shown) else 0.0

    def taste_of(self, request: Request) -> int:
        """Hidden: the taste profile behind a request (tests check it never leaks)."""
        return int(self._request_taste[request.index])

    def liked_categories(self, request: Request) -> set[str]:
        liked = self._tastes.liked[self._request_taste[request.index]]
        return {f"cat{c}" for c in np.flatnonzero(liked)}

    # -- construction ------------------------------------------------------------------
    def _build_catalog(self, rng: np.random.Generator) -> None:
        spec = self.spec
        n = spec.n_products
        self._category = rng.integers(spec.n_categories, size=n)
        self._brand = rng.integers(spec.n_brands, size=n)
        self._tier = rng.integers(len(PRICE_TIERS), size=n)
        price = np.exp(rng.normal(3.0 + 1.0 * self._tier, 0.25))
        sigma = spec.appeal_sigma
        self._appeal = (
            np.exp(rng.normal(-sigma * sigma / 2, sigma, size=n)) if sigma else np.ones(n)
        )
        # Popularity is what an existing shop would show: a count with no link to appeal.
        popularity = np.round(np.exp(rng.normal(2.0, 1.0, size=n)))
        age = rng.exponential(200.0, size=n)
        initial = spec.initial_products or n
        age[initial:] = 0.0  # arrivals are new when they arrive
        self._appeal[initial:] *= spec.new_boost
        self.products = []
        for p in range(n):
            styles = rng.choice(len(STYLES), size=int(rng.integers(1, 3)), replace=False)
            self.products.append(
                Product(
                    id=f"p{p}",
                    name=f"Product {p}",
                    category=f"cat{self._category[p]}",
                    brand=f"brand{self._brand[p]}",
                    price=round(float(price[p]), 2),
                    features=MappingProxyType(
                        {
                            "style": [STYLES[s] for s in sorted(styles)],
                            "material": MATERIALS[int(rng.integers(len(MATERIALS)))],
                        }
                    ),
                    popularity=float(popularity[p]),
                    age_days=round(float(age[p]), 2),
                )
            )
        self._index = {p.id: i for i, p in enumerate(self.products)}
        self._arrival_slices = {0: (0, initial)}
        if spec.initial_products:
            for batch, start in enumerate(range(initial, n, spec.arrival_batch), start=1):
                self._arrival_slices[batch * spec.arrival_every] = (
                    start,
                    min(start + spec.arrival_batch, n),
                )

    def _catalog_size(self, index: int) -> int:
        spec = self.spec
        if not spec.initial_products:
            return spec.n_products
        batches = index // spec.arrival_every
        return min(spec.initial_products + batches * spec.arrival_batch, spec.n_products)

    def _new_taste(self, rng: np.random.Generator, avoid: np.ndarray | None = None) -> int:
        spec, t = self.spec, self._tastes
        pool = np.arange(spec.n_categories)
        if avoid is not None and (~avoid).sum() >= spec.liked_categories:
            pool = np.flatnonzero(~avoid)  # a drift moves to categories not liked before
        liked = np.zeros(spec.n_categories, dtype=bool)
        liked[rng.choice(pool, size=spec.liked_categories, replace=False)] = True
        disliked = -1
        if spec.disliked_category:
            disliked = int(rng.choice(np.flatnonzero(~liked)))
        brands = np.zeros(spec.n_brands, dtype=bool)
        if spec.liked_brands:
            brands[rng.choice(spec.n_brands, size=spec.liked_brands, replace=False)] = True
        t.liked.append(liked)
        t.disliked.append(disliked)
        t.brands.append(brands)
        t.budget.append(int(rng.integers(len(PRICE_TIERS))))
        return len(t.liked) - 1

    def _stated(self, rng: np.random.Generator, taste: int) -> dict[str, Any]:
        """A partial, noisy profile: never the whole hidden truth."""
        spec, t = self.spec, self._tastes
        liked = np.flatnonzero(t.liked[taste])
        categories = [int(rng.choice(liked))]
        if rng.random() < spec.stated_noise:
            categories.append(int(rng.choice(np.flatnonzero(~t.liked[taste]))))
        rng.shuffle(categories)
        profile: dict[str, Any] = {"favourite_categories": [f"cat{c}" for c in categories]}
        if spec.liked_brands:
            true_brand = int(rng.choice(np.flatnonzero(t.brands[taste])))
            wrong_brand = int(rng.choice(np.flatnonzero(~t.brands[taste])))
            profile["favourite_brands"] = [f"brand{true_brand}", f"brand{wrong_brand}"]
        if spec.price_sensitive:
            tier = t.budget[taste]
            if rng.random() < spec.stated_noise:
                tier = int(rng.choice([x for x in range(len(PRICE_TIERS)) if x != tier]))
            profile["price"] = PRICE_TIERS[tier]
        return profile

    def _build_shoppers(self, rng: np.random.Generator) -> None:
        spec = self.spec
        groups = [self._new_taste(rng) for _ in range(spec.taste_groups)]
        self._groups = groups
        self._shopper_taste: list[int] = []
        self._shoppers: list[Shopper] = []
        self._device: list[int] = []
        for s in range(spec.n_shoppers):
            taste = groups[int(rng.integers(len(groups)))] if groups else self._new_taste(rng)
            stated = rng.random() < spec.stated_share
            self._shopper_taste.append(taste)
            self._device.append(int(rng.choice(len(DEVICES), p=[0.6, 0.3, 0.1])))
            preferences = self._stated(rng, taste) if stated else {}
            self._shoppers.append(Shopper(f"s{s}", True, MappingProxyType(preferences)))

    def _build_requests(self, rng: np.random.Generator) -> None:
        spec = self.spec
        self._requests: list[Request] = []
        self._request_taste = np.zeros(self.slates, dtype=int)
        visits = [0] * spec.n_shoppers
        next_change = [self._drift_gap(rng) for _ in range(spec.n_shoppers)]
        session: tuple[Shopper, int, int] | None = None  # shopper, taste, device
        sessions = 0
        for index in range(self.slates):
            if spec.anonymous:
                if session is None or rng.random() < 1.0 / spec.session_slates:
                    sessions += 1
                    group = self._groups[int(rng.integers(len(self._groups)))]
                    device = int(rng.choice(len(DEVICES), p=[0.6, 0.3, 0.1]))
                    session = (Shopper(f"anon-{self.seed}-{sessions}", False, {}), group, device)
                shopper, taste, device = session
            else:
                s = int(rng.integers(spec.n_shoppers))
                visits[s] += 1
                if spec.drift_visits and visits[s] >= next_change[s]:
                    old = self._shopper_taste[s]
                    self._shopper_taste[s] = self._new_taste(rng, avoid=self._tastes.liked[old])
                    next_change[s] = visits[s] + self._drift_gap(rng)
                shopper, taste, device = self._shoppers[s], self._shopper_taste[s], self._device[s]
            viewed = None
            if rng.random() < spec.product_page_share:
                catalog = self._catalog_size(index)
                pool = np.arange(catalog)
                if rng.random() < spec.viewed_liked_share:
                    liked = pool[self._tastes.liked[taste][self._category[:catalog]]]
                    pool = liked if len(liked) else pool
                viewed = self.products[int(rng.choice(pool))].id
            self._request_taste[index] = taste
            self._requests.append(
                Request(
                    index=index,
                    shopper=shopper,
                    page="product" if viewed else "home",
                    device=DEVICES[device],
                    viewed=viewed,
                    k=spec.slate_size,
                )
            )

    def _drift_gap(self, rng: np.random.Generator) -> int:
        if not self.spec.drift_visits:
            return 1 << 62
        return int(rng.integers(self.spec.drift_visits // 2, self.spec.drift_visits * 3 // 2 + 1))

    def _cross_probability(self, taste: int, category: int) -> float:
        spec = self.spec
        if spec.feedback == "tickcross":
            return spec.cross_other
        if spec.feedback == "mixed":
            disliked = self._tastes.disliked[taste] == category
            return spec.cross_disliked if disliked else spec.cross_mixed
        return 0.0
