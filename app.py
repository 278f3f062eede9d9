"""The ASGI application: Starlette routes around the Strawberry GraphQL view.

`create_app(settings)` builds an app for the given settings (tests build their own);
`app` is the instance uvicorn serves, configured from the environment at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from core import db
from core.rate_limit import create_rate_limiter
from core.settings import Settings, get_settings
from live import EventHub
from schema import build_schema
from services import events, seed
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime
from web import dev_auth, health, media, metrics, webhooks
from web.auth import Authenticator
from web.body_limit import BodySizeLimitMiddleware
from web.cors import cors_middleware
from web.graphiql import GraphiQLAssets, GraphiQLPage
from web.graphql_view import GraphQLView
from web.log_config import configure_logging
from web.persisted_documents import DocumentSync, PersistedDocuments, load_manifest_file
from web.request_id import RequestIdMiddleware
from web.response_cache import ResponseCache
from web.shutdown import Shutdown

logger = logging.getLogger("shopgraph")


def create_app(
    settings: Settings | None = None, *, recommender: RecommenderRuntime | None = None
) -> Starlette:
    """The app for `settings`. `recommender`: a running recommender to use instead of the
    app's own, which the app then neither starts nor stops (tests building a second app
    over the session app's database and recommender)."""
    settings = settings or get_settings()
    settings.check_production_ready()
    configure_logging(log_format=settings.resolved_log_format, level=settings.log_level)
    authenticator = Authenticator(settings)
    cache = (
        ResponseCache(
            ttl=settings.response_cache_ttl,
            max_entries=settings.response_cache_max_entries,
            max_age=settings.http_cache_max_age,
        )
        if settings.response_cache
        else None
    )
    rate_limiter = create_rate_limiter(
        settings.resolved_rate_limit_url,
        settings.mutation_rate_limit,
        settings.rate_limit_window_seconds,
    )
    schema = build_schema(settings, rate_limiter=rate_limiter)
    for manifest in settings.manifest_files:
        load_manifest_file(schema.documents, manifest)
    document_sync = DocumentSync(settings, schema.documents)
    # The recommender and the reward table live on every request's Context (no globals).
    owns_recommender = recommender is None
    recommender = recommender or RecommenderRuntime(settings)
    rewards = RewardTable(settings.rewards)
    dev_tokens = dev_auth.dev_tokens_for(settings)
    graphiql = (
        GraphiQLPage(settings, GraphiQLAssets(), dev_tokens, documents=schema.documents)
        if settings.graphiql_enabled
        else None
    )
    view = GraphQLView(
        schema,
        settings=settings,
        authenticator=authenticator,
        persisted=PersistedDocuments(settings, schema.documents),
        response_cache=cache,
        graphiql=graphiql,
        recommender=recommender,
        rewards=rewards,
    )
    shutdown = Shutdown(view.websockets)
    shutdown.add_hook("rate limiter", rate_limiter.aclose)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.should_migrate_on_start:
            await db.apply_migrations(settings)
        await db.init_db(settings)
        hub = EventHub.from_url(settings.broadcast_url, namespace=settings.event_namespace)
        await hub.connect()
        events.install(hub)
        app.state.hub = hub
        following = asyncio.Event()
        erasures = asyncio.create_task(
            view.ws_state.follow_erasures(hub, following), name="account-erasures"
        )
        await following.wait()
        if cache is not None:
            await cache.start(hub)
        try:
            await document_sync.start(hub)
            if settings.should_seed_on_start:
                created = await seed.seed_demo(currency=settings.currency)
                if created:
                    logger.info("loaded the demo catalog: %d products", created)
            if owns_recommender:
                await recommender.start(hub)
            # Runs before the database closes: decisions are written and, in the learner,
            # the last rewards learned and a last snapshot published on the way out.
            if owns_recommender:
                shutdown.add_hook("recommender", recommender.stop)
            shutdown.install_signal_handlers(asyncio.get_running_loop())
            yield
        finally:
            # Hooks first (the recommender publishes its last snapshot), while the
            # database and the event bus are still there.
            await shutdown.run_hooks()
            await document_sync.stop()
            if cache is not None:
                await cache.stop()
            erasures.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await erasures
            events.install(None)
            await hub.disconnect()
            await db.close_db()
            shutdown.restore_signal_handlers()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/media/products/{slug}.svg", media.product_image),
            Route("/webhooks/clerk", webhooks.clerk, methods=["POST"]),
            Route("/metrics", metrics.metrics),
            *(graphiql.routes() if graphiql else []),
            *dev_auth.routes(dev_tokens),
        ],
        middleware=[
            *cors_middleware(settings),
            Middleware(RequestIdMiddleware),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.response_cache = cache
    app.state.graphql_view = view
    app.state.document_sync = document_sync
    app.state.shutdown = shutdown
    app.state.rate_limiter = rate_limiter
    app.state.recommender = recommender
    return app


def __getattr__(name: str) -> Starlette:
    # `uvicorn app:app` builds the app lazily, so importing this module has no side effects.
    if name == "app":
        return create_app()
    raise AttributeError(name)
