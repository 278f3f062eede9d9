"""`shop`: the project's console command (serve, migrate, seed, export-schema, ...)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from cli import bandit as bandit_commands
from cli import doctor as doctor_command
from cli import documents as documents_commands
from cli import learner as learner_command
from core.settings import get_settings

SCHEMA_FILE = Path("schema.graphql")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from web.dev_auth import banner

    settings = get_settings()
    _reset_multiprocess_metrics()
    _serve_metrics(settings)
    host, port = args.host or settings.host, args.port or settings.port
    message = banner(settings, host=host, port=port)
    if message:
        print(message, flush=True)
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        reload=args.reload,
        loop=args.loop,
        http=args.http,
        log_level=settings.log_level.lower(),
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        # A websocket message is a GraphQL request too: same size limit as HTTP bodies.
        ws_max_size=settings.max_request_bytes,
    )
    return 0


def _serve_metrics(settings) -> None:
    """METRICS_PORT: /metrics on a listener of its own, in this (the supervising) process:
    with several workers and PROMETHEUS_MULTIPROC_DIR it reports the sum over all of them."""
    if settings.metrics_port is None:
        return
    from prometheus_client import start_http_server

    from web.metrics import registry

    start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry())
    print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics", flush=True)


def _reset_multiprocess_metrics() -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR before the workers start: files left by an earlier run
    would be added to this run's metrics."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def _migrate(_args: argparse.Namespace) -> int:
    from core.db import apply_migrations

    asyncio.run(apply_migrations(get_settings()))
    print("migrations applied")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from core.db import database
    from services import seed

    async def run() -> int:
        settings = get_settings()
        async with database(settings):
            if args.reset:
                await seed.reset_database(truncate=True)
            return await seed.seed_demo(
                products=args.products, seed=args.seed, currency=settings.currency
            )

    created = asyncio.run(run())
    if created:
        print(f"seeded {created} products")
    else:
        print("the catalog already has products; nothing seeded (use --reset to start over)")
    return 0


def _makemigrations(args: argparse.Namespace) -> int:
    from tortoise.cli.cli import main as tortoise_main

    argv = ["tortoise", "-c", "core.db.TORTOISE_ORM", "makemigrations", "shop"]
    if args.name:
        argv += ["--name", args.name]
    if args.empty:
        argv.append("--empty")
    sys.argv = argv
    tortoise_main()
    return 0


def _token(args: argparse.Namespace) -> int:
    from services.tokens import DevIssuer

    settings = get_settings()
    if not settings.uses_dev_issuer:
        print(
            "shop token signs with the local dev key, which the server trusts only in "
            "ENV=dev without CLERK_JWT_KEY/CLERK_JWKS_URL",
            file=sys.stderr,
        )
        return 2
    issuer = DevIssuer.for_settings(settings)
    azp = settings.clerk_authorized_parties[0] if settings.clerk_authorized_parties else None
    print(
        issuer.issue(
            args.user_id, ttl=args.ttl, admin=args.admin, email=args.email, name=args.name, azp=azp
        )
    )
    return 0


def schema_sdl() -> str:
    from schema import build_schema

    return build_schema().as_str() + "\n"


def _export_schema(args: argparse.Namespace) -> int:
    sdl = schema_sdl()
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text() != sdl:
            print(f"{target} is stale: run `shop export-schema`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(sdl)
    print(f"wrote {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Serve the API with uvicorn.")
    serve.add_argument("--host", help="Bind address (default: HOST or 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Port (default: PORT or 8000).")
    serve.add_argument("--workers", type=int, default=1, help="Worker processes.")
    serve.add_argument("--reload", action="store_true", help="Reload on code changes (dev).")
    # `auto` picks uvloop and httptools (installed with uvicorn[standard]); the others are
    # there to measure what they bring (`make loadtest` with --compare-loop).
    serve.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                       help="Event loop (default auto: uvloop when installed).")  # fmt: skip
    serve.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto",
                       help="HTTP parser (default auto: httptools when installed).")  # fmt: skip
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="Apply database migrations.")
    migrate.set_defaults(func=_migrate)

    makemigrations = sub.add_parser(
        "makemigrations", help="Write a migration for model changes (Tortoise autodetector)."
    )
    makemigrations.add_argument("--name", help="Migration name suffix.")
    makemigrations.add_argument("--empty", action="store_true", help="An empty migration.")
    makemigrations.set_defaults(func=_makemigrations)

    seed = sub.add_parser("seed", help="Load the deterministic demo catalog and demo users.")
    seed.add_argument("--products", type=int, default=500, help="Catalog size (default 500).")
    seed.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
    seed.add_argument("--reset", action="store_true", help="Delete all rows first.")
    seed.set_defaults(func=_seed)

    token = sub.add_parser("token", help="Print a dev session token the dev server accepts.")
    token.add_argument("user_id", help="The Clerk user id (`sub`), e.g. user_demo_shopper.")
    token.add_argument("--admin", action="store_true", help="Grant the admin role.")
    token.add_argument("--email", help="E-mail claim (used when the user is first seen).")
    token.add_argument("--name", help="Name claim (used when the user is first seen).")
    token.add_argument("--ttl", type=int, default=3600, help="Lifetime in seconds.")
    token.set_defaults(func=_token)

    bandit_commands.add_commands(sub)
    learner_command.add_command(sub)
    documents_commands.add_commands(sub)
    doctor_command.add_command(sub)

    export = sub.add_parser("export-schema", help="Write the GraphQL SDL to schema.graphql.")
    export.add_argument("--output", default=str(SCHEMA_FILE))
    export.add_argument("--check", action="store_true", help="Fail if the file is stale.")
    export.set_defaults(func=_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
