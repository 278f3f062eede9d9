"""Every Prometheus metric of shopgraph, registered once in the default registry.

Keep metric definitions here and nowhere else, so that names, labels and help texts can be
reviewed in one place and nothing is registered twice. All names start with `shopgraph_`.

Label values must come from a small, fixed set: a label that carries an id (an order, a
product, a user) creates one time series per id and eventually takes Prometheus down.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Summary

from core.errors import ErrorCode

# --- live event bus (live/) -------------------------------------------------------------


def channel_family(channel: str) -> str:
    """Label value for a live channel: its family, the text before the first ':'.

    Channels are named `<family>:<key>` (`order:42`, `product:17`); only the family is a safe
    label, the full name would create one time series per order or product.
    """
    return channel.partition(":")[0]


LIVE_EVENTS_PUBLISHED = Counter(
    "shopgraph_live_events_published_total",
    "Live events handed to the event bus by this process.",
    ["family"],
)
LIVE_PUBLISH_FAILURES = Counter(
    "shopgraph_live_publish_failures_total",
    "Live events that could not be published (bus unreachable or too slow); they are lost.",
    ["family"],
)
LIVE_EVENTS_RECEIVED = Counter(
    "shopgraph_live_events_received_total",
    "Live events received from the bus for channels with local subscribers.",
    ["family"],
)
LIVE_EVENTS_INVALID = Counter(
    "shopgraph_live_events_invalid_total",
    "Messages received from the bus that were not a JSON object; they are skipped.",
)
LIVE_EVENTS_DROPPED = Counter(
    "shopgraph_live_events_dropped_total",
    "Live events dropped in this process. reason=slow_subscriber: a subscriber's queue was "
    "full and its oldest event was dropped; reason=backlog: the process fell behind reading "
    "the bus and the oldest unread event was dropped.",
    ["family", "reason"],
)
LIVE_SUBSCRIBERS = Gauge(
    "shopgraph_live_subscribers",
    "Local subscribers (e.g. GraphQL subscriptions) of this process whose bus subscription "
    "is up, so that events reach them.",
    ["family"],
)
LIVE_CHANNELS = Gauge(
    "shopgraph_live_channels",
    "Channels this process holds a bus subscription for (one per channel, however many "
    "local subscribers share it).",
    ["family"],
)
LIVE_BUS_CONNECTIONS_UP = Gauge(
    "shopgraph_live_bus_connections_up",
    "Redis subscriber connections of the live event bus that are currently up and "
    "subscribed (normally 1 per process; 0 means live events are not arriving).",
)
LIVE_BUS_RECONNECTS = Counter(
    "shopgraph_live_bus_reconnects_total",
    "Times the live event bus re-established its Redis subscriber connection after losing it.",
)


# --- GraphQL API (schema/observability.py, web/) ---------------------------------------

GRAPHQL_OPERATIONS = Counter(
    "shopgraph_graphql_operations_total",
    "GraphQL operations handled, by operation name and type. Names are those of operations "
    'that ran, up to a fixed number per process; others count as operation="other", '
    'unnamed ones as "anonymous"; type="unknown" when the document did not parse.',
    ["operation", "type"],
)
GRAPHQL_OPERATION_DURATION = Histogram(
    "shopgraph_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL query or mutation (subscriptions are "
    "long-lived and not timed).",
    ["operation", "type"],
)
ERRORS = Counter(
    "shopgraph_errors_total",
    "Errors returned to clients by code: GraphQL errors and HTTP-level refusals (400, 401, "
    "413, 415, ...). Codes outside the ErrorCode enum count as OTHER.",
    ["code"],
)
# `livesum`: in multiprocess mode (PROMETHEUS_MULTIPROC_DIR) the sum over live workers.
WEBSOCKET_CONNECTIONS = Gauge(
    "shopgraph_websocket_connections",
    "Accepted GraphQL websocket connections currently open.",
    multiprocess_mode="livesum",
)
GRAPHQL_SUBSCRIPTIONS_ACTIVE = Gauge(
    "shopgraph_graphql_subscriptions_active",
    "GraphQL subscription operations currently streaming.",
    multiprocess_mode="livesum",
)
GRAPHQL_EXECUTOR_FALLBACKS = Counter(
    "shopgraph_graphql_executor_fallbacks_total",
    "Operations the compiled executor left to graphql-core, by reason (the reasons are "
    "`graphql_compiler.REASONS`, listed in docs/operations.md).",
    ["reason"],
)
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "shopgraph_rate_limit_backend_errors_total",
    "Rate-limit checks that could not reach Redis and were counted in process memory.",
)


def count_error(code: str) -> None:
    """Count one error returned to a client (label bounded to the ErrorCode enum)."""
    ERRORS.labels(code if code in ErrorCode.__members__ else "OTHER").inc()


def count_executor_fallback(reason: str) -> None:
    GRAPHQL_EXECUTOR_FALLBACKS.labels(reason).inc()


# --- recommendations (the recommendation engine increments these) ----------------------

RECOMMENDATION_DECISIONS = Counter(
    "shopgraph_recommendation_decisions_total",
    "Recommendation decisions made (one per ranked slate served), for the IPS log.",
)
RECOMMENDATION_LEARNED_EXAMPLES = Counter(
    "shopgraph_recommendation_learned_examples_total",
    "Rewarded examples the recommendation model has learned from.",
)
RECOMMENDATION_REWARD = Summary(
    "shopgraph_recommendation_reward",
    "Reward of each learned example; mean reward over a period is rate(_sum) / rate(_count).",
)
RECOMMENDATION_MEAN_REWARD = Gauge(
    "shopgraph_recommendation_mean_reward",
    "Mean reward of the current model since it was loaded, as the engine computes it.",
    multiprocess_mode="mostrecent",
)


def record_recommendation_decision() -> None:
    RECOMMENDATION_DECISIONS.inc()


def record_learned_example(reward: float) -> None:
    """One rewarded example learned: counts it and feeds the reward summary."""
    RECOMMENDATION_LEARNED_EXAMPLES.inc()
    RECOMMENDATION_REWARD.observe(reward)


RECOMMENDATION_LATENCY = Histogram(
    "shopgraph_recommendation_rank_seconds",
    "Time to generate candidates and rank one slate.",
    buckets=(0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064),
)

# --- the decision service: one learner, snapshots, background writers ----------------

RECOMMENDATION_LEARNER = Gauge(
    "shopgraph_recommendation_learner",
    "1 while this process is the recommendation learner (it holds the learner lock), else 0.",
    multiprocess_mode="livesum",
)
RECOMMENDATION_SNAPSHOT_VERSION = Gauge(
    "shopgraph_recommendation_snapshot_version",
    "Version of the newest model snapshot this process has loaded or published (0: none). "
    "Across workers the minimum, i.e. the stalest process.",
    multiprocess_mode="livemin",
)
RECOMMENDATION_LEARNER_LAG = Gauge(
    "shopgraph_recommendation_learner_lag_seconds",
    "Age of the oldest committed reward the learner has not learned (0: caught up). Grows "
    "while a write transaction older than the reward is still running (learning.py).",
    multiprocess_mode="livemax",
)
RECOMMENDATION_SNAPSHOTS_PUBLISHED = Counter(
    "shopgraph_recommendation_snapshots_published_total",
    "Model snapshots this process published as the learner.",
)
RECOMMENDATION_SNAPSHOT_LOADS = Counter(
    "shopgraph_recommendation_snapshot_loads_total",
    "Model snapshots this process loaded to rank with, by what made it look: start, "
    "announcement (the event bus) or poll (MODEL_REFRESH_SECONDS).",
    ["trigger"],
)
RECOMMENDATION_SNAPSHOT_DELAY = Histogram(
    "shopgraph_recommendation_snapshot_delay_seconds",
    "From a snapshot's publication to this process ranking with it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RECOMMENDATION_MODEL_CPU = Counter(
    "shopgraph_recommendation_model_cpu_seconds_total",
    "CPU time of this process's Vowpal Wabbit work: rank (slates), learn (rewards), load "
    "(a snapshot to rank with), save (a snapshot to publish).",
    ["work"],
)
BACKGROUND_ROWS_SKIPPED = Counter(
    "shopgraph_background_rows_skipped_total",
    "Rows a background writer could not process and set aside so that the rows behind them "
    "go on (each is logged): writer=decision_log, window_sweeper, learner, "
    "snapshot_publisher or retention.",
    ["writer"],
)
DECISION_LOG_PURGED = Counter(
    "shopgraph_recommendation_decisions_purged_total",
    "Logged decisions deleted by the retention purge (DECISION_LOG_RETENTION_DAYS).",
)


def skipped_row(writer: str) -> None:
    """Count one row a background writer set aside."""
    BACKGROUND_ROWS_SKIPPED.labels(writer).inc()


# --- subscription fan-out (web/shared_subscriptions.py) ----------------------------------

WS_ACTIVE_SUBSCRIPTIONS = Gauge(
    "shopgraph_ws_active_subscriptions",
    "Subscribers (websocket subscription operations) attached to shared streams; "
    "`shopgraph_graphql_subscriptions_active` counts the executions they share.",
    multiprocess_mode="livesum",
)
WS_MESSAGES_SENT = Counter(
    "shopgraph_ws_subscription_messages_total",
    "Subscription `next` messages queued for websocket clients.",
)
WS_MESSAGES_DROPPED = Counter(
    "shopgraph_ws_messages_dropped_total",
    "Messages dropped because a websocket client fell behind (its oldest queued message).",
)
