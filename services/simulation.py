"""The world suite's adapter to the service layer: simulated shoppers acting as the API does.

This is the one module that drives shopgraph's services for `bandit.simulation.worlds`;
the rest of the suite knows nothing of the app. A `ServiceShop` loads a world's catalog
and accounts into a fresh database and then, per request, calls exactly what the GraphQL
resolvers call:

- a slate: `decide.recommendations(runtime, viewer, RecommendationRequest(k, page,
  device, product_id, session_id))`, with the service's own candidate generation;
- a tick, cross or view: `feedback.record_interaction(..., event_id=...)`;
- a cart add: `cart.add_to_cart(..., recommendation=...)`, credited to the slate as
  `addToCart(productId, eventId)` does (`feedback.reward_target` checks the eventId);
- a purchase: `checkout.checkout(...)` (abandoned carts: `cart.clear_cart`);
- new products: rows in the catalog, then `runtime.catalog.load()` (what the background
  refresh does after a catalog event).

After each slate the shopper is done with it: the decision log is flushed, the reward
windows close (`runtime.close_windows(older_than=0)`: simulated time) and the learning
loop's `runtime.learn_pending()` runs, as it would between two requests of a live server.

The synchronous suite calls in from its own thread while the services run on an event
loop in another (Tortoise's connections belong to that loop).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import uuid
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from bandit.simulation.worlds.world import Outcome, Product, Reaction, Request, Shopper, World
from core.db import database
from core.settings import Settings
from models import Product as ProductRow
from models import User
from models.interaction import InteractionAction
from services import cart, checkout
from services.auth import ANONYMOUS, Viewer
from services.recommendations import decide, feedback
from services.recommendations.decisions import Decision
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime

T = TypeVar("T")
INVENTORY = 1_000_000
FEEDBACK_ACTIONS = {
    Reaction.TICK: InteractionAction.TICK,
    Reaction.CROSS: InteractionAction.CROSS,
    Reaction.VIEW: InteractionAction.VIEW,
}


class ServiceLayer:
    """A database and a recommender runtime on an event loop of their own thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = threading.Thread(
            target=self.loop.run_forever, daemon=True
        )
        self._thread.start()
        self._database = database(settings)
        self.call(self._database.__aenter__())
        self.runtime = RecommenderRuntime(settings)
        self.call(self.runtime.start(None))

    @classmethod
    def attached(cls, runtime: RecommenderRuntime, loop: asyncio.AbstractEventLoop) -> ServiceLayer:
        """A layer over a runtime (and its database) already running on `loop`, which
        keeps running after `close` (tests: the app's own runtime). Drive it from another
        thread than the loop's."""
        layer = cls.__new__(cls)
        layer.settings = runtime.settings
        layer.loop = loop
        layer._thread = None
        layer._database = None
        layer.runtime = runtime
        return layer

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        if self._thread is None:
            return
        self.call(self.runtime.stop())
        self.call(self._database.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class ServiceShop:
    """A world-suite `Policy` answered by shopgraph's service layer."""

    name = "service"

    def __init__(
        self, layer: ServiceLayer, shoppers: Sequence[Shopper], *, scratch: Path | None = None
    ) -> None:
        self.layer = layer
        self._scratch = scratch
        self.rewards = RewardTable(layer.settings.rewards)
        self.currency = layer.settings.currency
        self._users: dict[str, User] = layer.call(_create_users(shoppers))
        self._pk: dict[str, int] = {}
        self._world_id: dict[int, str] = {}
        self._events: dict[int, str] = {}
        self.last_decision: Decision | None = None

    # -- Policy --------------------------------------------------------------------------
    def arrive(self, products: Sequence[Product]) -> None:
        self.layer.call(self._arrive(products))

    def recommend(self, request: Request) -> list[str]:
        return self.layer.call(self._recommend(request))

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        self.layer.call(self._feedback(request, shown, outcome))

    def close(self) -> None:
        self.layer.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- service calls -------------------------------------------------------------------
    async def _arrive(self, products: Sequence[Product]) -> None:
        now = datetime.now(UTC)
        rows = [
            ProductRow(
                name=p.name,
                price=Decimal(str(p.price)),
                category=p.category,
                brand=p.brand,
                features=dict(p.features),
                popularity=p.popularity,
                created_at=now - timedelta(days=p.age_days),
                inventory=INVENTORY,
            )
            for p in products
        ]
        await ProductRow.bulk_create(rows, batch_size=500)
        names = {p.name: p.id for p in products}
        for pk, name in await ProductRow.filter(name__in=list(names)).values_list("id", "name"):
            self._pk[names[name]] = pk
            self._world_id[pk] = names[name]
        await self.layer.runtime.catalog.load()

    def _viewer(self, shopper: Shopper) -> tuple[Viewer, str | None]:
        if shopper.signed_in:
            return Viewer(user=self._users[shopper.key]), None
        return ANONYMOUS, shopper.key

    async def _recommend(self, request: Request) -> list[str]:
        viewer, session_id = self._viewer(request.shopper)
        ask = RecommendationRequest(
            k=request.k,
            page=request.page,
            device=request.device,
            product_id=self._pk[request.viewed] if request.viewed else None,
            session_id=session_id,
        )
        decision, products = await decide.recommendations(self.layer.runtime, viewer, ask)
        self._events[request.index] = decision.event_id
        self.last_decision = decision  # for diagnostics (bench/world_diagnosis.py)
        return [self._world_id[p.id] for p in products]

    async def _feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        runtime = self.layer.runtime
        event_id = self._events.pop(request.index)
        viewer, session_id = self._viewer(request.shopper)
        carted = False
        for product, reaction in zip(shown, outcome.reactions, strict=True):
            if reaction in FEEDBACK_ACTIONS:
                await feedback.record_interaction(
                    rewards=self.rewards, runtime=runtime, product_id=self._pk[product],
                    action=FEEDBACK_ACTIONS[reaction], user_id=viewer.user_id,
                    session_id=session_id, event_id=event_id,
                )  # fmt: skip
            elif reaction is Reaction.CART_ADD and viewer.user_id is not None:
                carted = True
                target = await feedback.reward_target(
                    runtime, event_id=event_id, product_id=self._pk[product],
                    user_id=viewer.user_id, session_id=None,
                )  # fmt: skip
                await cart.add_to_cart(
                    user_id=viewer.user_id, product_id=self._pk[product], quantity=1,
                    rewards=self.rewards, currency=self.currency, recommendation=target,
                )  # fmt: skip
        if carted and outcome.checkout:
            await checkout.checkout(
                user_id=viewer.user_id, idempotency_key=uuid.uuid4().hex,
                rewards=self.rewards, currency=self.currency,
            )  # fmt: skip
        elif carted:
            await cart.clear_cart(user_id=viewer.user_id, currency=self.currency)
        # Simulated time: the shopper is done with this slate, so its window closes now.
        await runtime.decisions.flush()
        await runtime.close_windows(older_than=0)
        await runtime.learn_pending()


async def _create_users(shoppers: Sequence[Shopper]) -> dict[str, User]:
    accounts = [s for s in shoppers if s.signed_in]
    await User.bulk_create(
        [
            User(clerk_id=f"sim-{s.key}", name=f"Shopper {s.key}", preferences=dict(s.preferences))
            for s in accounts
        ],
        batch_size=500,
    )
    return {
        u.clerk_id.removeprefix("sim-"): u for u in await User.filter(clerk_id__startswith="sim-")
    }


def service_policy(world: World, database_url: str = "") -> ServiceShop:
    """The service on a fresh database (default: SQLite in a scratch directory, in memory
    when /dev/shm exists) and a fresh model, with the world's accounts."""
    shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp directory in memory, for speed
    scratch = Path(tempfile.mkdtemp(prefix="shopgraph-world-", dir=shm if shm.is_dir() else None))
    layer = ServiceLayer(simulation_settings(scratch, database_url))
    return ServiceShop(layer, world.shoppers, scratch=scratch)


def simulation_settings(data_dir: Path, database_url: str = "") -> Settings:
    """Deployment defaults, except: a private database and model directory, no demo seed,
    and no polling for rewards (the adapter runs the learning loop after every slate)."""
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        seed_on_start=False,
        learn_poll_seconds=3600,
    )
