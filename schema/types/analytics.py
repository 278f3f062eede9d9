from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from bandit.estimators import Estimate
from schema.context import Info
from schema.types.money import Money
from schema.types.product import ProductType
from services import analytics
from services.analytics import Period, TopBy
from services.recommendations import tuning


@strawberry.type
class FunnelDay:
    day: date
    category: str
    views: int
    cart_adds: int
    purchases: int

    @strawberry.field(description="cart adds / views (null without views).")
    def view_to_cart(self) -> float | None:
        return self.cart_adds / self.views if self.views else None

    @strawberry.field(description="purchases / cart adds (null without cart adds).")
    def cart_to_purchase(self) -> float | None:
        return self.purchases / self.cart_adds if self.cart_adds else None


@strawberry.type
class RevenueDay:
    day: date
    revenue: Money
    orders: int


@strawberry.enum
class TopProductsBy(Enum):
    REVENUE = TopBy.REVENUE.value
    UNITS = TopBy.UNITS.value
    INTERACTIONS = TopBy.INTERACTIONS.value


@strawberry.type
class TopProduct:
    product_pk: strawberry.Private[int]
    revenue: Money
    units: int
    interactions: int

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        found = await info.context.loaders.product_by_id.load(self.product_pk)
        return None if found is None else ProductType.from_model(found)


@strawberry.type
class ActionCount:
    action: str
    count: int


@strawberry.type
class ModelPerformance:
    model_version: str
    decisions: int
    shown_items: int
    mean_reward: float = strawberry.field(description="Mean reward per shown item.")
    click_through: float = strawberry.field(
        description="Share of shown items ticked, added to cart, bought or viewed in AR."
    )


@strawberry.type(description="An estimate with its 95% confidence interval (null: no data).")
class ValueEstimate:
    value: float | None
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, estimate: Estimate) -> ValueEstimate:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else x

        return cls(
            value=clean(estimate.value),
            ci_low=clean(estimate.ci_low),
            ci_high=clean(estimate.ci_high),
        )


@strawberry.type(
    description="The current model's value (mean reward of the top slot) estimated off-policy "
    "from the latest logged decisions, beside the value the logging policies achieved."
)
class PolicyValue:
    records: int
    logged: ValueEstimate
    ips: ValueEstimate
    snips: ValueEstimate
    model_version: str


@strawberry.type(
    description="A change of the recommendation learner's configuration by the tuner "
    "(`shop bandit tune`): a promotion with the evidence it rests on, or a rollback."
)
class ModelPromotion:
    id: int
    kind: str = strawberry.field(description="`promotion` or `rollback`.")
    at: datetime
    candidate: str = strawberry.field(description="The name of the promoted configuration.")
    from_config: JSON = strawberry.field(description="The configuration before the change.")
    to_config: JSON = strawberry.field(description="The configuration after the change.")
    estimator: str = strawberry.field(description="IPS, SNIPS or DR.")
    current_estimate: float | None = strawberry.field(
        description="The replaced configuration's estimated value on the held-out log."
    )
    estimate: float | None = strawberry.field(
        description="The promoted configuration's estimated value (null for a rollback)."
    )
    lower_bound: float | None = strawberry.field(
        description="Its one-sided lower bound, corrected for the number of candidates: "
        "it had to exceed `currentEstimate`."
    )
    upper_bound: float | None
    train_records: int = strawberry.field(description="Decision-slots the candidates learned.")
    evaluated_records: int = strawberry.field(description="Held-out decision-slots valued.")
    snapshot_version: int | None = strawberry.field(description="The snapshot published.")
    reverts: int | None = strawberry.field(description="The promotion a rollback undid.")
    rolled_back_at: datetime | None = strawberry.field(
        description="When this promotion was rolled back (null: still in force)."
    )
    evidence: JSON = strawberry.field(
        description="Every configuration's IPS / SNIPS / DR estimates with standard errors, "
        "bounds, effective sample sizes and the rule applied."
    )


@strawberry.type(description="Admin analytics. Periods default to the last 30 days.")
class Analytics:
    currency: strawberry.Private[str]

    @strawberry.field(description="view -> cart add -> purchase, per day and category.")
    async def funnel(
        self, since: datetime | None = None, until: datetime | None = None,
        category: str | None = None,
    ) -> list[FunnelDay]:  # fmt: skip
        rows = await analytics.funnel(Period.of(since, until), category=category)
        return [FunnelDay(day=r.day, category=r.category, views=r.views,
                          cart_adds=r.cart_adds, purchases=r.purchases) for r in rows]  # fmt: skip

    @strawberry.field(description="Revenue of orders placed per day (cancelled excluded).")
    async def revenue_by_day(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[RevenueDay]:
        rows = await analytics.revenue_by_day(Period.of(since, until))
        return [RevenueDay(day=r.day, revenue=Money.of(r.revenue, self.currency), orders=r.orders)
                for r in rows]  # fmt: skip

    @strawberry.field
    async def top_products(
        self, by: TopProductsBy = TopProductsBy.REVENUE, first: int = 10,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[TopProduct]:  # fmt: skip
        rows = await analytics.top_products(
            Period.of(since, until), by=TopBy(by.value), limit=first
        )
        return [TopProduct(product_pk=r.product_id, revenue=Money.of(r.revenue, self.currency),
                           units=r.units, interactions=r.interactions) for r in rows]  # fmt: skip

    @strawberry.field
    async def interactions_by_action(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[ActionCount]:
        counts = await analytics.interactions_by_action(Period.of(since, until))
        return [ActionCount(action=a, count=n) for a, n in counts.items()]

    @strawberry.field(description="Mean reward and click-through per model version.")
    async def recommendation_performance(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[ModelPerformance]:
        rows = await analytics.recommendation_performance(Period.of(since, until))
        return [ModelPerformance(model_version=r.model_version, decisions=r.decisions,
                                 shown_items=r.rewarded_slots, mean_reward=r.mean_reward,
                                 click_through=r.click_through) for r in rows]  # fmt: skip

    @strawberry.field(description="The tuner's promotions and rollbacks, newest first.")
    async def model_promotions(self, first: int = 20) -> list[ModelPromotion]:
        rows = await tuning.history(limit=max(1, min(first, 200)))
        return [
            ModelPromotion(
                id=r.id, kind=r.kind, at=r.created_at, candidate=r.candidate,
                from_config=r.from_config, to_config=r.to_config, estimator=r.estimator,
                current_estimate=r.current_estimate, estimate=r.estimate,
                lower_bound=r.lower_bound, upper_bound=r.upper_bound, train_records=r.n_train,
                evaluated_records=r.n_evaluated, snapshot_version=r.snapshot_version,
                reverts=r.reverts, rolled_back_at=r.rolled_back_at, evidence=r.evidence,
            )
            for r in rows
        ]  # fmt: skip

    @strawberry.field(description="IPS / SNIPS estimate of the current model (latest decisions).")
    async def current_policy_value(self, info: Info, sample: int = 500) -> PolicyValue:
        sample = max(1, min(sample, 2000))
        runtime = info.context.recommender
        result = await analytics.current_policy_value(runtime, sample=sample)
        return PolicyValue(
            records=result.records, logged=ValueEstimate.of(result.logged),
            ips=ValueEstimate.of(result.ips), snips=ValueEstimate.of(result.snips),
            model_version=runtime.model.model_version,
        )  # fmt: skip
