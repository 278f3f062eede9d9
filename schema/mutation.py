"""Root Mutation: composed from one class per domain."""

from __future__ import annotations

import strawberry

from resolvers import cart, catalog_admin, orders, recommendations, sessions, users
from schema.permissions import IsAdmin, IsAuthenticated
from schema.types.cart import CartPayload
from schema.types.catalog_admin import ProductPayload
from schema.types.order import CheckoutPayload, OrderPayload
from schema.types.recommendation import RecordInteractionPayload
from schema.types.sessions import ArSessionPayload, ChatMessagePayload, ChatSessionPayload
from schema.types.user import UpdateMePayload

SIGNED_IN = [IsAuthenticated]
ADMIN = [IsAdmin]


@strawberry.type
class UserMutation:
    update_me: UpdateMePayload = strawberry.field(
        resolver=users.update_me,
        permission_classes=SIGNED_IN,
        description="Change the signed-in user's name, avatar or preferences.",
    )


@strawberry.type
class RecommendationMutation:
    record_interaction: RecordInteractionPayload = strawberry.field(
        resolver=recommendations.record_interaction,
        description=(
            "Report what only the client sees: a view, a tick or a cross (cart adds, "
            "purchases and AR views are recorded by `addToCart`, `checkout` and "
            "`startArSession`). With the `eventId` of the slate that showed the product, a "
            "tick or cross is learned right away; a view is an impression, never learned."
        ),
    )


@strawberry.type
class CartMutation:
    add_to_cart: CartPayload = strawberry.field(
        resolver=cart.add_to_cart,
        permission_classes=SIGNED_IN,
        description="Add units of a product; quantities of the same product add up.",
    )
    update_cart_item: CartPayload = strawberry.field(
        resolver=cart.update_cart_item,
        permission_classes=SIGNED_IN,
        description="Set the quantity of a product in the cart; 0 removes it.",
    )
    remove_from_cart: CartPayload = strawberry.field(
        resolver=cart.remove_from_cart,
        permission_classes=SIGNED_IN,
        description="Remove a product from the cart (a no-op when it is not there).",
    )
    clear_cart: CartPayload = strawberry.field(
        resolver=cart.clear_cart, permission_classes=SIGNED_IN, description="Empty the cart."
    )


@strawberry.type
class OrderMutation:
    checkout: CheckoutPayload = strawberry.field(
        resolver=orders.checkout,
        permission_classes=SIGNED_IN,
        description=(
            "Turn the cart into an order, atomically: stock is taken, prices are frozen and "
            "the cart is emptied -- or nothing happens. Safe to retry with the same key."
        ),
    )
    cancel_order: OrderPayload = strawberry.field(
        resolver=orders.cancel_order,
        permission_classes=SIGNED_IN,
        description="Cancel an order that has not shipped (owner or admin); restocks it.",
    )
    update_order_status: OrderPayload = strawberry.field(
        resolver=orders.update_order_status,
        permission_classes=ADMIN,
        description="Admin: move an order to the next status, or cancel it (restocks).",
    )


@strawberry.type
class CatalogAdminMutation:
    create_product: ProductPayload = strawberry.field(
        resolver=catalog_admin.create_product,
        permission_classes=ADMIN,
        description="Admin: add a product to the catalog.",
    )
    update_product: ProductPayload = strawberry.field(
        resolver=catalog_admin.update_product,
        permission_classes=ADMIN,
        description="Admin: change a product's details.",
    )
    set_inventory: ProductPayload = strawberry.field(
        resolver=catalog_admin.set_inventory,
        permission_classes=ADMIN,
        description="Admin: set the stock to a counted value.",
    )
    adjust_inventory: ProductPayload = strawberry.field(
        resolver=catalog_admin.adjust_inventory,
        permission_classes=ADMIN,
        description="Admin: add or remove stock atomically; refused below 0.",
    )
    deactivate_product: ProductPayload = strawberry.field(
        resolver=catalog_admin.deactivate_product,
        permission_classes=ADMIN,
        description="Admin: withdraw a product from sale. Carts and past orders keep it.",
    )


@strawberry.type
class SessionMutation:
    start_ar_session: ArSessionPayload = strawberry.field(
        resolver=sessions.start_ar_session,
        permission_classes=SIGNED_IN,
        description="Start viewing an AR-enabled product in AR.",
    )
    end_ar_session: ArSessionPayload = strawberry.field(
        resolver=sessions.end_ar_session,
        permission_classes=SIGNED_IN,
        description="End your AR session (ending it again changes nothing).",
    )
    start_chat_session: ChatSessionPayload = strawberry.field(
        resolver=sessions.start_chat_session,
        permission_classes=SIGNED_IN,
        description="Open a chat session, optionally about a product.",
    )
    post_chat_message: ChatMessagePayload = strawberry.field(
        resolver=sessions.post_chat_message,
        permission_classes=SIGNED_IN,
        description="Post a message to your chat session.",
    )


@strawberry.type
class Mutation(
    UserMutation,
    RecommendationMutation,
    CartMutation,
    OrderMutation,
    CatalogAdminMutation,
    SessionMutation,
):
    pass
