"""The one typed settings object, read from the environment (and an optional `.env`).

Every setting is documented in the README's "Configuration" table; keep the two in step.
Settings are built by `get_settings()` at start-up, never at import time, so tests and
commands can construct their own `Settings(...)`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
# The reference client's persisted-documents manifest (client/persisted-documents.json,
# committed with the client): the documents of this API's own first-party client.
REFERENCE_CLIENT_MANIFEST = (
    Path(__file__).resolve().parents[1] / "client" / "persisted-documents.json"
)
CommaList = Annotated[list[str], NoDecode]
# Where the reference client (client/) runs in dev: Vite's dev server and `vite preview`.
DEV_CLIENT_ORIGINS = (
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:4173",
    "http://127.0.0.1:4173",
)


class Settings(BaseSettings):
    """Runtime configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    env: Literal["dev", "prod", "test"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = DEFAULT_DATA_DIR

    # Empty means "the embedded SQLite file under data_dir".
    database_url: str = ""
    broadcast_url: str = "memory://"
    # Prefix of every event channel on the bus: deployments sharing one Redis stay apart.
    event_namespace: str = Field(default="shopgraph", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    database_pool_size: int = Field(default=10, ge=1, le=200)

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Load the demo catalog on start when the catalog is empty (default: in dev only).
    seed_on_start: bool | None = None
    # Apply migrations on start (default: in dev only; run `shop migrate` as a release step
    # in production so that several workers never race to migrate).
    migrate_on_start: bool | None = None

    max_page_size: int = Field(default=100, ge=1, le=1000)
    log_level: str = "INFO"
    # Cache anonymous catalog reads (invalidated by catalog and stock changes).
    response_cache: bool = True
    response_cache_ttl: float = Field(default=30.0, gt=0)
    response_cache_max_entries: int = Field(default=2048, ge=1)
    # Cache-Control max-age for cacheable anonymous responses (browsers, CDNs).
    http_cache_max_age: int = Field(default=5, ge=0)
    # Websockets (GraphQL subscriptions).
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_max_connections_per_user: int = Field(default=10, ge=1)
    # Sockets without an account, per client IP (a shop behind one NAT: be generous).
    ws_max_anonymous_connections_per_ip: int = Field(default=50, ge=1)
    # Messages queued for a slow client before the oldest is dropped.
    ws_max_pending: int = Field(default=100, ge=1)
    # Browser origins allowed to open websockets (the React client's), comma-separated;
    # the CORS origins below may too.
    ws_allowed_origins: CommaList = []
    # Browser origins allowed to call the API from another origin (CORS), comma-separated.
    # Unset: the reference client's Vite origins in ENV=dev, none otherwise.
    cors_allowed_origins: CommaList | None = None
    # GraphiQL at GET /graphql loads its scripts from this app (`local`: works offline) or
    # from a CDN (`cdn`, same pinned versions, checked with subresource integrity).
    graphiql_assets: Literal["local", "cdn"] = "local"
    # Recommendations. One learner at a time: `elected` (serving processes elect one among
    # themselves through a PostgreSQL advisory lock, a file lock on SQLite) or `dedicated`
    # (serving processes only rank; run `shop learner`).
    learner_mode: Literal["elected", "dedicated"] = "elected"
    # How often the learner looks for rewards whose bus event it missed.
    learn_poll_seconds: float = Field(default=2.0, gt=0)
    # Model snapshots: published by the learner at most this often while it learns (and
    # when it stops); kept in the database, or as objects under a `file://` URL (a volume
    # every machine mounts) when set; the newest `snapshot_keep` are kept.
    snapshot_interval_seconds: float = Field(default=5.0, ge=0)
    snapshot_store_url: str = Field(default="", pattern=r"^(|file://.+)$")
    snapshot_keep: int = Field(default=3, ge=1, le=100)
    # A serving process checks for a newer snapshot at least this often (the fallback when
    # an announcement on the event bus is lost).
    model_refresh_seconds: float = Field(default=30.0, gt=0)
    # Logged decisions (and their rewards) older than this are purged, in batches; 0 keeps
    # them forever. Archive first with `shop bandit export-log --before`.
    decision_log_retention_days: float = Field(default=90.0, ge=0)
    # Self-tuning (`shop bandit tune`): the learner re-evaluates its configuration on the
    # retained decision log every `tune_every_hours` (0: never, the default; the command
    # still works) and promotes a candidate only when the lower bound of its
    # `tune_estimator` interval beats the current configuration's estimate, on at least
    # `tune_min_evaluated` held-out decision-slots.
    tune_every_hours: float = Field(default=0.0, ge=0)
    tune_estimator: Literal["IPS", "SNIPS", "DR"] = "SNIPS"
    tune_min_evaluated: int = Field(default=1000, ge=1)
    # The newest decision-slots the candidates are evaluated on (the warm start of a
    # promoted configuration still replays the whole log).
    tune_max_records: int = Field(default=200_000, ge=10)
    recommendation_candidates: int = Field(default=150, ge=10, le=500)
    # A shown item nobody reacts to within the window is learned with the default reward,
    # for its top `default_reward_slots` slots (deeper slots are often never looked at).
    reward_window_seconds: float = Field(default=600.0, ge=0)
    # How often closed windows are swept and the candidate index is rebuilt at the latest.
    reward_window_sweep_seconds: float = Field(default=5.0, gt=0)
    catalog_refresh_seconds: float = Field(default=60.0, gt=0)
    default_reward: float = 0.0
    default_reward_slots: int = Field(default=4, ge=0, le=50)
    # `json` (one object per line, with the request id) or `text`; default: json in prod.
    log_format: Literal["json", "text"] | None = None

    # Abuse limits (see docs/operations.md). Each refusal carries a stable error code.
    max_request_bytes: int = Field(default=128 * 1024, ge=1024)
    graphql_max_tokens: int = Field(default=1000, ge=50)
    graphql_max_depth: int = Field(default=10, ge=2)
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_directives: int = Field(default=50, ge=0)
    graphql_max_cost: int = Field(default=1000, ge=1)
    # `compiled`: operations run as code compiled once per document (graphql_compiler),
    # falling back to graphql-core for what it does not support; `reference`: graphql-core.
    graphql_executor: Literal["compiled", "reference"] = "compiled"
    # Introspection and GraphiQL (default: on outside prod). With introspection off the
    # "Did you mean ...?" suggestions are left out of errors too: they leak the schema.
    graphql_introspection: bool | None = None
    graphiql: bool | None = None
    # Mutations per user (signed in) or client IP (anonymous) per window; 0 disables.
    # Default: 60 per minute in prod, 100,000 per minute elsewhere (load tests, simulations).
    rate_limit_mutations: int | None = Field(default=None, ge=0)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    # Where the counters live: empty means BROADCAST_URL when that is Redis (shared by all
    # processes), else this process's memory; `memory://` forces process memory.
    rate_limit_redis_url: str = ""

    # Which documents may run: `trusted` (only registered persisted documents, sent by id)
    # or `any` (any document, plus automatic persisted queries). Default: trusted in prod.
    operations: Literal["trusted", "any"] | None = None
    # Manifests (hash -> document) loaded at start, comma-separated paths; default: the
    # reference client's. Documents added with `shop documents add` live in the database.
    persisted_documents_files: CommaList | None = None
    # How often a process looks for documents added by other processes (the event bus tells
    # it at once; this is the fallback when an event is lost or the bus is in memory).
    documents_poll_seconds: float = Field(default=10.0, gt=0)
    # Automatic persisted queries (APQ) remembered per process in `any` mode; 0 turns APQ off.
    apq_cache_size: int = Field(default=1000, ge=0)

    # Bearer token required by GET /metrics on the API port. In prod /metrics is off there
    # unless this is set (or METRICS_PORT moves it to a listener of its own).
    metrics_token: str | None = None
    # `shop serve`: serve /metrics on this port of METRICS_HOST instead of the API port
    # (bind it to a private interface: that listener asks for no token).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # `shop serve`: comma-separated proxy IPs whose X-Forwarded-For / -Proto are believed
    # (uvicorn's --forwarded-allow-ips); `*` trusts any peer: only behind a proxy that
    # always sets the header. Per-IP limits key on the address this yields.
    forwarded_allow_ips: str = "127.0.0.1"
    # `shop serve`: how long in-flight requests may take to finish after SIGTERM.
    shutdown_timeout_seconds: float = Field(default=20.0, ge=0)
    # Reward per interaction action, overriding the defaults in `services/recommendations/
    # rewards.py` (JSON).
    rewards: dict[str, float] = {}

    # Authentication: Clerk session tokens (RS256). One of the key settings is required in
    # prod; in dev without them a local key pair under DATA_DIR signs and verifies tokens.
    clerk_jwt_key: str | None = None
    clerk_jwks_url: str | None = None
    clerk_issuer: str | None = None
    clerk_authorized_parties: CommaList = []
    clerk_webhook_secret: str | None = None
    # Clock skew tolerated on exp/nbf/iat; capped at 5 s.
    auth_leeway_seconds: float = Field(default=5.0, ge=0, le=5)
    # How long a verified token's viewer is reused (0 disables the cache).
    auth_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    # Admins: a dotted claim path and the value that grants the role, or listed user ids.
    admin_claim: str = "metadata.role"
    admin_claim_value: str = "admin"
    admin_user_ids: CommaList = []

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        # Tortoise speaks asyncpg under `postgres://`; accept the common aliases too.
        for alias in ("postgresql://", "postgresql+asyncpg://", "asyncpg://"):
            if value.startswith(alias):
                return "postgres://" + value[len(alias) :]
        return value

    @field_validator(
        "clerk_authorized_parties",
        "admin_user_ids",
        "ws_allowed_origins",
        "cors_allowed_origins",
        "persisted_documents_files",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("clerk_jwt_key")
    @classmethod
    def _unescape_pem(cls, value: str | None) -> str | None:
        # PEM keys in environment variables often arrive with literal "\n".
        return value.replace("\\n", "\n") if value else value

    @property
    def has_clerk_key(self) -> bool:
        return bool(self.clerk_jwt_key or self.clerk_jwks_url)

    @property
    def uses_dev_issuer(self) -> bool:
        return self.is_dev and not self.has_clerk_key

    def check_production_ready(self) -> None:
        """Refuse to run prod with settings that are only safe in dev."""
        if self.env == "prod" and not self.has_clerk_key:
            raise RuntimeError(
                "ENV=prod needs CLERK_JWT_KEY or CLERK_JWKS_URL: refusing to start without "
                "a way to verify session tokens"
            )

    @property
    def metrics_on_api_port(self) -> bool:
        """Whether GET /metrics answers on the API port: not when it has a port of its own,
        and in prod only behind METRICS_TOKEN (a public /metrics tells an attacker which
        operations, error codes and limits the shop runs)."""
        if self.metrics_port is not None:
            return False
        return self.env != "prod" or bool(self.metrics_token)

    @property
    def serves_dev_tokens(self) -> bool:
        """ENV=dev with the local dev issuer: GraphiQL is prefilled with a demo token and
        `/dev/tokens` mints tokens for the demo users. Never with a Clerk key."""
        return self.env == "dev" and not self.has_clerk_key

    @property
    def cors_origins(self) -> list[str]:
        if self.cors_allowed_origins is not None:
            return self.cors_allowed_origins
        return list(DEV_CLIENT_ORIGINS) if self.env == "dev" else []

    @property
    def websocket_origins(self) -> list[str]:
        """Cross-origin pages allowed to open websockets: WS_ALLOWED_ORIGINS plus the CORS
        origins (a client allowed to call the API over HTTP may subscribe too)."""
        return list(dict.fromkeys([*self.ws_allowed_origins, *self.cors_origins]))

    @property
    def is_dev(self) -> bool:
        return self.env != "prod"

    @property
    def introspection_enabled(self) -> bool:
        return self.is_dev if self.graphql_introspection is None else self.graphql_introspection

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_dev if self.graphiql is None else self.graphiql

    @property
    def trusted_documents_only(self) -> bool:
        """OPERATIONS=trusted: only registered persisted documents run (default in prod)."""
        mode = self.operations or ("any" if self.is_dev else "trusted")
        return mode == "trusted"

    @property
    def schema_is_private(self) -> bool:
        """Prod with introspection off: errors must not tell which fields, arguments or
        types exist (validation errors become one generic error)."""
        return self.env == "prod" and not self.introspection_enabled

    @property
    def manifest_files(self) -> list[Path]:
        if self.persisted_documents_files is not None:
            return [Path(name) for name in self.persisted_documents_files]
        return [REFERENCE_CLIENT_MANIFEST] if REFERENCE_CLIENT_MANIFEST.exists() else []

    @property
    def resolved_log_format(self) -> str:
        return self.log_format or ("text" if self.is_dev else "json")

    @property
    def mutation_rate_limit(self) -> int:
        """Mutations allowed per user or IP per window (0: unlimited)."""
        if self.rate_limit_mutations is not None:
            return self.rate_limit_mutations
        return 100_000 if self.is_dev else 60

    @property
    def resolved_rate_limit_url(self) -> str:
        if self.rate_limit_redis_url:
            return self.rate_limit_redis_url
        if self.broadcast_url.startswith(("redis://", "rediss://")):
            return self.broadcast_url
        return "memory://"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'shopgraph.sqlite3').as_posix()}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgres://")

    @property
    def should_seed_on_start(self) -> bool:
        return self.is_dev if self.seed_on_start is None else self.seed_on_start

    @property
    def should_migrate_on_start(self) -> bool:
        return self.is_dev if self.migrate_on_start is None else self.migrate_on_start


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
