from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import UserInteraction
from models.interaction import InteractionAction as ActionValue
from schema.context import Info
from schema.types.errors import UserError
from schema.types.product import ProductType


@strawberry.enum(description="What a shopper did with a product. Rewards: see the README.")
class InteractionAction(Enum):
    VIEW = ActionValue.VIEW.value
    TICK = ActionValue.TICK.value
    CROSS = ActionValue.CROSS.value
    CART_ADD = ActionValue.CART_ADD.value
    PURCHASE = ActionValue.PURCHASE.value
    AR_VIEW = ActionValue.AR_VIEW.value


@strawberry.enum(
    description=(
        "What only the shopper's client sees, and so may report: an impression, a tick or a "
        "cross. Cart adds, purchases and AR views are recorded by `addToCart`, `checkout` and "
        "`startArSession`, which the server witnesses."
    )
)
class ReportedAction(Enum):
    VIEW = ActionValue.VIEW.value
    TICK = ActionValue.TICK.value
    CROSS = ActionValue.CROSS.value


@strawberry.input(description="Where and how the shopper is looking.")
class RecommendationContextInput:
    page: str | None = strawberry.field(default=None, description="e.g. `home`, `product`.")
    device: str | None = strawberry.field(default=None, description="e.g. `mobile`.")
    product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The product being viewed (its neighbours are candidates)."
    )
    session_id: str | None = strawberry.field(
        default=None, description="Anonymous shoppers: a stable id of the browsing session."
    )
    features: JSON | None = strawberry.field(
        default=None, description="Free context features (a JSON object, at most 4 KB)."
    )


@strawberry.type(description="A recommended product.")
class Recommendation:
    product: ProductType
    score: float = strawberry.field(description="The model's estimated reward.")
    probability: float = strawberry.field(
        description="Probability with which this item was chosen for its slot (propensity)."
    )
    slot: int = strawberry.field(description="0-based position in the slate.")


@strawberry.type(description="One logged recommendation decision.")
class RecommendationSlate:
    event_id: strawberry.ID = strawberry.field(
        description="Send it with `recordInteraction` so the model learns from the outcome."
    )
    items: list[Recommendation]
    model_version: str


@strawberry.type(name="Interaction", description="A recorded shopper interaction.")
class InteractionType:
    id: strawberry.ID
    action: InteractionAction
    reward: float
    event_id: strawberry.ID | None
    created_at: datetime
    product_pk: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        product = await info.context.loaders.product_by_id.load(self.product_pk)
        return None if product is None else ProductType.from_model(product)

    @classmethod
    def from_model(cls, interaction: UserInteraction) -> InteractionType:
        return cls(
            id=strawberry.ID(str(interaction.id)),
            action=InteractionAction(str(interaction.action)),
            reward=interaction.reward,
            event_id=(interaction.context or {}).get("eventId"),
            created_at=interaction.created_at,
            product_pk=interaction.product_id,
        )


@strawberry.input
class RecordInteractionInput:
    product_id: relay.GlobalID
    action: ReportedAction
    event_id: strawberry.ID | None = strawberry.field(
        default=None, description="The `eventId` of the slate the product was recommended in."
    )
    session_id: str | None = strawberry.field(
        default=None, description="Required for anonymous shoppers (as sent to `recommendations`)."
    )
    context: JSON | None = strawberry.field(default=None, description="A JSON object (≤ 4 KB).")


@strawberry.type
class RecordInteractionPayload:
    interaction: InteractionType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
