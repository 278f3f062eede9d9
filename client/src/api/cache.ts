import { type Cache, cacheExchange } from "@urql/exchange-graphcache";

import { graphql } from "../gql";
import type {
  InventoryChangedSubscription as InventoryChangedData,
  OrderStatusChangedSubscription as OrderStatusChangedData,
  RecommendationsUpdatedSubscription as RecommendationsUpdatedData,
  RecommendationsUpdatedSubscriptionVariables,
} from "../gql/graphql";
import { RecommendationsQuery } from "./operations";

/**
 * A normalised cache (Graphcache): products, orders and users are stored once by id, so a
 * subscription event or a mutation result updates every place that shows them. Types
 * without an id are embedded in their parent; the cart is a singleton per signed-in user.
 */
const EMBEDDED = [
  "Money",
  "CartLine",
  "ProductConnection",
  "ProductEdge",
  "PageInfo",
  "ProductFacets",
  "FacetValue",
  "Recommendation",
  "OrderConnection",
  "OrderEdge",
  "OrderLine",
  "CartPayload",
  "CheckoutPayload",
  "OrderPayload",
  "RecordInteractionPayload",
  "UserError",
  "InventoryChange",
] as const;

const ProductStock = graphql(`
  fragment ProductStock on Product {
    id
    inventory
    inStock
  }
`);

function invalidateAll(cache: Cache, fieldName: string): void {
  for (const field of cache.inspectFields("Query")) {
    if (field.fieldName === fieldName) cache.invalidate("Query", field.fieldName, field.arguments);
  }
}

export function createCacheExchange() {
  return cacheExchange({
    keys: {
      ...Object.fromEntries(EMBEDDED.map((type) => [type, () => null])),
      Cart: () => "current",
      RecommendationSlate: (slate) => String(slate.eventId),
    },
    updates: {
      Mutation: {
        checkout(result, _args, cache) {
          const payload = (result as { checkout?: { order?: unknown } }).checkout;
          if (payload?.order) {
            // The server emptied the cart and placed an order: fetch both again.
            cache.invalidate("Query", "cart");
            invalidateAll(cache, "orders");
          }
        },
      },
      Subscription: {
        inventoryChanged(result, _args, cache) {
          const change = (result as InventoryChangedData).inventoryChanged;
          cache.writeFragment(ProductStock, {
            __typename: "Product",
            id: change.productId,
            inventory: change.inventory,
            inStock: change.inStock,
          });
        },
        recommendationsUpdated(result, args, cache) {
          // The fresh slate replaces the one the Recommendations query shows.
          const slate = (result as RecommendationsUpdatedData).recommendationsUpdated;
          cache.updateQuery(
            {
              query: RecommendationsQuery,
              variables: args as RecommendationsUpdatedSubscriptionVariables,
            },
            () => ({ recommendations: slate }),
          );
        },
        orderStatusChanged(result, _args, cache) {
          // A known order updates itself (same id); one placed elsewhere refreshes the list.
          const order = (result as OrderStatusChangedData).orderStatusChanged;
          const known = cache.resolve({ __typename: "Order", id: order.id }, "createdAt");
          if (known == null) invalidateAll(cache, "orders");
        },
      },
    },
  });
}
