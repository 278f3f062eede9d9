"""Every Prometheus metric of shopgraph, registered once in the default registry.

Keep metric definitions here and nowhere else, so that names, labels and help texts can be
reviewed in one place and nothing is registered twice. All names start with `shopgraph_`.

Label values must come from a small, fixed set: a label that carries an id (an order, a
product, a user) creates one time series per id and eventually takes Prometheus down.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Summary

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
    "Local subscribers (e.g. GraphQL subscriptions) currently attached in this process.",
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

# --- GraphQL subscriptions over websockets (web/) -----------------------------------------

WS_ACTIVE_SUBSCRIPTIONS = Gauge(
    "shopgraph_ws_active_subscriptions",
    "GraphQL subscription operations currently open on this process's websockets.",
)
WS_SHARED_STREAMS = Gauge(
    "shopgraph_ws_shared_streams",
    "Distinct subscription executions (subscribers with identical operation and visibility "
    "share one).",
)
WS_MESSAGES_SENT = Counter(
    "shopgraph_ws_subscription_messages_total",
    "Subscription `next` messages queued for websocket clients.",
)
WS_MESSAGES_DROPPED = Counter(
    "shopgraph_ws_messages_dropped_total",
    "Messages dropped because a websocket client fell behind (its oldest queued message).",
)

# --- recommendations (services/recommender.py) --------------------------------------------

RECOMMENDATION_DECISIONS = Counter(
    "shopgraph_recommendation_decisions_total",
    "Recommendation slates decided (each logged with its propensities).",
)
RECOMMENDATION_LEARNED = Counter(
    "shopgraph_recommendation_learned_total",
    "Rewards on recommended items learned by this process's model.",
)
RECOMMENDATION_REWARD = Summary(
    "shopgraph_recommendation_reward",
    "Rewards learned (sum / count = mean reward).",
)
RECOMMENDATION_LATENCY = Histogram(
    "shopgraph_recommendation_rank_seconds",
    "Time to generate candidates and rank one slate.",
    buckets=(0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064),
)
