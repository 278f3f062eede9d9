"""Self-tuning: evaluate learner configurations on the retained decision log, switch to a
better one with its evidence on record, and roll a switch back.

`tune` reads every closed decision-slot still retained (`export.logged_slots`), runs
`bandit.tuning.tune` on it (time split, IPS / SNIPS / DR with the logged propensities, the
corrected lower bound against the current configuration -- the newest snapshot's) and,
when a candidate is promoted:

1. warm-starts it: a fresh model of that configuration learns every retained reward from
   the beginning of the log, in the learner's own order and with the learner's own code
   (`learning.Learner`), so its read position is exact and learning continues from it;
2. publishes it as a snapshot in a new term (`SnapshotStore.publish(take_over=...)`),
   together with a `recommendation_model_promotions` row holding the evidence, in one
   transaction. The running learner -- in this process or another -- can no longer publish
   with its old term: it steps down within a second (`LearnerRole._watch`) and stands
   again from this snapshot. Serving processes swap it in on the bus announcement (or
   their poll), as they do any snapshot;
3. announces it.

`rollback` undoes the newest promotion not yet rolled back the same way: the configuration
it replaced is warm-started from the log (the old snapshots may have been pruned, and
they would lack everything learned since anyway), published, and recorded as a rollback
that names the promotion it reverts.

The replay and the evaluation are CPU-bound and run on threads of their own (each on its
own VW workspaces), never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from bandit import tuning as bandit_tuning
from bandit.learner import BanditLearner, LearnerConfig
from bandit.logs import LoggedDecision
from core.settings import Settings
from live import EventHub
from models import ModelPromotion
from services.recommendations.candidates import CatalogIndexHolder
from services.recommendations.election import holder_name
from services.recommendations.export import logged_slots
from services.recommendations.learning import Learner
from services.recommendations.model import VWThread
from services.recommendations.snapshots import CHANNEL, Position, Snapshot, SnapshotStore

logger = logging.getLogger("shopgraph.recommendations.tuning")


class NothingToRollBack(LookupError):
    """No promotion is in force: nothing was promoted, or every promotion was rolled back."""


class ConfigurationChanged(RuntimeError):
    """The snapshot could not be published (it should always be: a take-over needs no
    term). Raised rather than recording a promotion that did not happen."""


@dataclass(frozen=True)
class TuneOutcome:
    """What `tune` found and did: the evaluation (None when the log was too small to
    split), the promotion row and the snapshot published (None when nothing changed)."""

    records: int
    result: bandit_tuning.TuningResult | None
    promotion: ModelPromotion | None
    snapshot: Snapshot | None
    message: str


@dataclass(frozen=True)
class RollbackOutcome:
    rollback: ModelPromotion
    reverted: ModelPromotion
    snapshot: Snapshot


async def retained_records(limit: int | None = None) -> list[LoggedDecision]:
    """The closed decision-slots still retained, as `bandit.logs.LoggedDecision`s, oldest
    first; with `limit`, only the newest `limit` (memory: each holds its candidate set)."""
    newest: deque[LoggedDecision] = deque(maxlen=limit)
    async for slot in logged_slots():
        newest.append(slot.record())
    return list(newest)


async def current_config(store: SnapshotStore) -> LearnerConfig:
    """The configuration of the newest snapshot (the default before the first one)."""
    newest = await store.newest()
    return LearnerConfig() if newest is None else LearnerConfig.from_dict(newest.config)


async def tune(
    settings: Settings,
    *,
    store: SnapshotStore,
    hub: EventHub | None = None,
    catalog: CatalogIndexHolder | None = None,
    dry_run: bool = False,
    candidates: Sequence[bandit_tuning.Candidate] | None = None,
    train_fraction: float = 0.7,
    confidence: float = 0.95,
) -> TuneOutcome:
    """Evaluate candidate configurations and switch to a better one (see module docs).
    With `dry_run`, evaluate and decide only."""
    records = await retained_records(settings.tune_max_records)
    current = await current_config(store)
    options = {
        "train_fraction": train_fraction,
        "estimator": settings.tune_estimator,
        "confidence": confidence,
        "min_evaluated": settings.tune_min_evaluated,
    }
    if int(len(records) * (1 - train_fraction)) < 1 or int(len(records) * train_fraction) < 1:
        return TuneOutcome(
            len(records), None, None, None, f"{len(records)} decision-slots: too few"
        )
    result = await asyncio.to_thread(bandit_tuning.tune, records, current, candidates, **options)
    if result.promoted is None or dry_run:
        verb = "would promote" if result.promoted is not None else "kept the configuration"
        return TuneOutcome(len(records), result, None, None, f"{verb}: {result.reason}")
    promoted = result.promoted
    estimate = promoted.estimates.estimate(result.estimator)
    row = ModelPromotion(
        kind="promotion",
        candidate=promoted.name[:100],
        from_config=asdict(current),
        to_config=asdict(promoted.config),
        estimator=result.estimator,
        current_estimate=_finite(result.current.value(result.estimator)),
        estimate=_finite(estimate.value),
        lower_bound=_finite(promoted.lower_bound(result.estimator, result.z)),
        upper_bound=_finite(promoted.upper_bound(result.estimator, result.z)),
        n_train=result.n_train,
        n_evaluated=result.n_evaluated,
        evidence=result.evidence(),
    )
    snapshot = await switch_to(promoted.config, row, store=store, hub=hub, catalog=catalog)
    logger.info(
        "tuning promoted %s (snapshot %d): %s", promoted.name, snapshot.version, result.reason
    )
    return TuneOutcome(len(records), result, row, snapshot, f"promoted: {result.reason}")


async def rollback(
    settings: Settings,
    *,
    store: SnapshotStore,
    hub: EventHub | None = None,
    catalog: CatalogIndexHolder | None = None,
) -> RollbackOutcome:
    """Restore the configuration the newest promotion in force replaced (module docs).
    Raises `NothingToRollBack` when there is none."""
    promotion = (
        await ModelPromotion.filter(kind="promotion", rolled_back_at=None).order_by("-id").first()
    )
    if promotion is None:
        raise NothingToRollBack("no promotion is in force: nothing to roll back")
    config = LearnerConfig.from_dict(promotion.from_config)
    current = await current_config(store)
    row = ModelPromotion(
        kind="rollback",
        candidate=f"rollback of #{promotion.id}",
        from_config=asdict(current),
        to_config=asdict(config),
        estimator=promotion.estimator,
        reverts=promotion.id,
        evidence={"reverts": promotion.id, "promoted": promotion.candidate},
    )

    async def mark_reverted(now: datetime) -> None:
        await ModelPromotion.filter(id=promotion.id).update(rolled_back_at=now)

    snapshot = await switch_to(
        config, row, store=store, hub=hub, catalog=catalog, also=mark_reverted
    )
    await promotion.refresh_from_db()
    logger.info("rolled back promotion %d (snapshot %d)", promotion.id, snapshot.version)
    return RollbackOutcome(row, promotion, snapshot)


async def warm_start(
    config: LearnerConfig, *, catalog: CatalogIndexHolder | None = None
) -> tuple[bytes, str, Position]:
    """A model of `config` that learned every retained reward, in the learner's order:
    its bytes, its version and its read position."""
    thread = VWThread("vw-tune")
    model = await thread.call("load", BanditLearner, config)
    try:
        learner = Learner(model, Position(), thread=thread, catalog=catalog or CatalogIndexHolder())
        await learner.learn_committed()
        return await learner.save()
    finally:
        await thread.call("close", model.close)
        thread.close()


async def switch_to(
    config: LearnerConfig,
    row: ModelPromotion | None = None,
    *,
    store: SnapshotStore,
    hub: EventHub | None = None,
    catalog: CatalogIndexHolder | None = None,
    also: Callable[[datetime], Awaitable[None]] | None = None,
) -> Snapshot:
    """Warm-start `config` from the log and publish it in a new term (module docs), with
    `row` (when given) recorded in the same transaction."""
    data, model_version, position = await warm_start(config, catalog=catalog)
    now = datetime.now(UTC)

    async def record(snapshot: Snapshot) -> None:
        if row is None:
            return
        row.created_at = now
        row.snapshot_version = snapshot.version
        await row.save()
        if also is not None:
            await also(now)

    # Once committed, the switch is done: announcing it must not be cancelled halfway by
    # the learner stepping down (which it will: this begins a new term).
    snapshot = await asyncio.shield(
        store.publish(
            term=0,
            model_version=model_version,
            config=asdict(config),
            position=position,
            data=data,
            take_over=f"tuner:{holder_name()}",
            along=record,
        )
    )
    if snapshot is None:
        raise ConfigurationChanged("the tuned model's snapshot was not published")
    if hub is not None:
        with contextlib.suppress(Exception):
            await hub.publish(CHANNEL, {"version": snapshot.version})
    with contextlib.suppress(Exception):
        await store.prune()
    return snapshot


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None


async def history(limit: int = 50) -> list[ModelPromotion]:
    """The newest promotions and rollbacks first."""
    return await ModelPromotion.all().order_by("-id").limit(limit)
