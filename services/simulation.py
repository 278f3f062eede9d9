"""`shop bandit simulate`: synthetic shoppers against the real service layer.

The simulated shop (`bandit.simulation.World`) is loaded into a fresh database as real
products and users. Each simulated event then goes through the same code a GraphQL request
does: `decide.recommendations` ranks the request's candidates and logs the decision,
every tick and cross is posted with `feedback.record_interaction` against the slate's
eventId, a cart add goes through the cart with that eventId and a purchase through
checkout, the reward window closes (immediately, in simulated time) so ignored items get
the default reward, and the runtime's learning loop learns from the database. Random,
popularity, the pure-library VW policy and the oracle run beside it on the same request
stream.

The synchronous simulator drives this recommender from its own thread while the service
layer runs on an event loop in another (Tortoise's connections belong to that loop).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from bandit.simulation import Outcome, ShopperRequest, World
from bandit.slates import SlateItem
from core.db import database
from core.settings import Settings
from models import Product, User
from models.interaction import InteractionAction
from services import cart, checkout
from services.auth import Viewer
from services.recommendations import decide, feedback
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import CLIENT_REPORTED, RewardTable
from services.recommendations.runtime import RecommenderRuntime

T = TypeVar("T")
CURRENCY = "USD"


class ServiceLayer:
    """A database and a recommender runtime on an event loop of their own thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._database = database(settings)
        self.call(self._database.__aenter__())
        self.runtime = RecommenderRuntime(settings)
        self.call(self.runtime.start(None))

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.call(self.runtime.stop())
        self.call(self._database.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()


async def load_world(world: World) -> tuple[dict[str, int], dict[str, User]]:
    """Create the world's products and shoppers; returns world id -> product id, and users."""
    now = datetime.now(UTC)
    rows = [
        Product(
            name=f"{p.brand} {p.category} {p.action_id}",
            price=Decimal(str(p.price)),
            category=p.category,
            brand=p.brand,
            features=dict(p.features),
            popularity=p.popularity or 0.0,
            created_at=now - timedelta(days=p.created_days_ago or 0.0),
            inventory=1_000_000,
            ar_enabled=p.ar_enabled,
            has_3d_model=p.ar_enabled,
        )
        for p in world.products
    ]
    await Product.bulk_create(rows, batch_size=1000)
    ids = await Product.all().order_by("id").values_list("id", flat=True)
    product_ids = {p.action_id: pk for p, pk in zip(world.products, ids, strict=True)}
    await User.bulk_create(
        [
            User(clerk_id=f"sim-{u}", name=f"Shopper {u}", preferences=world.user_preferences[u])
            for u in range(world.config.n_users)
        ]
    )
    users = {u.clerk_id.replace("sim-", "user-"): u for u in await User.all()}
    return product_ids, users


class ServiceRecommender:
    """The bandit simulator's `Recommender`, answered by shopgraph's services."""

    name = "shopgraph"

    def __init__(self, layer: ServiceLayer, world: World) -> None:
        self.layer = layer
        self.product_ids, self.users = layer.call(load_world(world))
        self.world_ids = {pk: wid for wid, pk in self.product_ids.items()}
        # The world names the viewed product's category and brand; any product with both
        # gives the service the same context.
        self.by_category_brand = {
            (p.category, p.brand): self.product_ids[p.action_id] for p in world.products
        }
        layer.call(layer.runtime.catalog.load())
        self.rewards = RewardTable()
        self._events: dict[int, str] = {}
        self._features: dict[int, Any] = {}

    def recommend(self, request: ShopperRequest, k: int) -> Sequence[SlateItem]:
        return self.layer.call(self._recommend(request, k))

    async def _recommend(self, request: ShopperRequest, k: int) -> list[SlateItem]:
        runtime = self.layer.runtime
        user = self.users[request.user_id]
        viewed = self.by_category_brand.get(
            (request.context.viewed_category, request.context.viewed_brand)
        )
        ask = RecommendationRequest(
            k=k, page=request.context.page, device=request.context.device, product_id=viewed
        )
        index = runtime.catalog.index
        candidates = [index.by_id[self.product_ids[c.action_id]] for c in request.candidates]
        decision, _ = await decide.recommendations(
            runtime, Viewer(user=user), ask, candidates=candidates
        )
        self._events[request.request_id] = decision.event_id
        return [
            SlateItem(self.world_ids[i.action_id], i.slot, i.probability, i.score)
            for i in decision.slate.items
        ]

    def feedback(
        self,
        request: ShopperRequest,
        shown: Sequence[SlateItem],
        rewards: Sequence[float],
        outcomes: Sequence[Outcome] | None = None,
    ) -> None:
        self.layer.call(self._feedback(request, shown, outcomes or ()))

    async def _feedback(
        self, request: ShopperRequest, shown: Sequence[SlateItem], outcomes: Sequence[Outcome]
    ) -> None:
        runtime = self.layer.runtime
        event_id = self._events.pop(request.request_id)
        user = self.users[request.user_id]
        for item, outcome in zip(shown, outcomes, strict=True):
            product_id = self.product_ids[item.action_id]
            for action in map(InteractionAction, outcome.events):
                if action in CLIENT_REPORTED:
                    await feedback.record_interaction(
                        rewards=self.rewards, runtime=runtime, product_id=product_id,
                        action=action, user_id=user.id, session_id=None, event_id=event_id,
                    )  # fmt: skip
                elif action is InteractionAction.CART_ADD:
                    # As the API does it: the server witnesses the add, credited to the slate.
                    target = await feedback.reward_target(
                        runtime, event_id=event_id, product_id=product_id, user_id=user.id,
                        session_id=None,
                    )  # fmt: skip
                    await cart.clear_cart(user_id=user.id, currency=CURRENCY)
                    await cart.add_to_cart(
                        user_id=user.id, product_id=product_id, quantity=1,
                        rewards=self.rewards, currency=CURRENCY, recommendation=target,
                    )  # fmt: skip
                elif action is InteractionAction.PURCHASE:
                    await checkout.checkout(
                        user_id=user.id, idempotency_key=uuid.uuid4().hex,
                        rewards=self.rewards, currency=CURRENCY,
                    )  # fmt: skip
        await cart.clear_cart(user_id=user.id, currency=CURRENCY)
        # Simulated time: the shopper is done with this slate, so its window closes now.
        await runtime.decisions.flush()
        await runtime.close_windows(older_than=0)
        await runtime.learn_pending()


def simulation_settings(data_dir: Path, database_url: str = "") -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        seed_on_start=False,
        default_reward_slots=50,
        learn_poll_seconds=3600,
    )
