// Every operation the client sends. GraphQL Code Generator reads these `graphql()` calls and
// types them against ../schema.graphql (src/gql/ is generated: `npm run codegen`).
// Fragments are spread by name; the generated documents carry their definitions.
import { graphql } from "../gql";

export const ProductFields = graphql(`
  fragment ProductFields on Product {
    id
    name
    brand
    category
    imageUrl
    price {
      amount
      currency
    }
    inventory
    inStock
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      id
      name
      isAdmin
    }
  }
`);

export const CatalogQuery = graphql(`
  query Catalog($first: Int!, $after: String, $filter: ProductFilter) {
    products(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...ProductFields
        }
      }
    }
    facets(filter: $filter) {
      categories {
        value
        count
      }
    }
  }
`);

export const SlateFields = graphql(`
  fragment SlateFields on RecommendationSlate {
    eventId
    modelVersion
    items {
      slot
      score
      probability
      product {
        ...ProductFields
      }
    }
  }
`);

export const RecommendationsQuery = graphql(`
  query Recommendations($first: Int!, $context: RecommendationContextInput) {
    recommendations(first: $first, context: $context) {
      ...SlateFields
    }
  }
`);

export const RecommendationsUpdatedSubscription = graphql(`
  subscription RecommendationsUpdated($first: Int!, $context: RecommendationContextInput) {
    recommendationsUpdated(first: $first, context: $context) {
      ...SlateFields
    }
  }
`);

export const RecordInteractionMutation = graphql(`
  mutation RecordInteraction($input: RecordInteractionInput!) {
    recordInteraction(input: $input) {
      interaction {
        id
        action
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const CartFields = graphql(`
  fragment CartFields on Cart {
    itemCount
    subtotal {
      amount
      currency
    }
    lines {
      quantity
      lineTotal {
        amount
        currency
      }
      product {
        ...ProductFields
      }
    }
  }
`);

export const CartQuery = graphql(`
  query Cart {
    cart {
      ...CartFields
    }
  }
`);

export const AddToCartMutation = graphql(`
  mutation AddToCart($productId: ID!, $quantity: Int!) {
    addToCart(productId: $productId, quantity: $quantity) {
      cart {
        ...CartFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateCartItemMutation = graphql(`
  mutation UpdateCartItem($productId: ID!, $quantity: Int!) {
    updateCartItem(productId: $productId, quantity: $quantity) {
      cart {
        ...CartFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const CheckoutMutation = graphql(`
  mutation Checkout($input: CheckoutInput!) {
    checkout(input: $input) {
      order {
        id
        status
        total {
          amount
          currency
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const OrdersQuery = graphql(`
  query Orders($first: Int!) {
    orders(first: $first) {
      edges {
        node {
          id
          status
          createdAt
          total {
            amount
            currency
          }
          items {
            productName
            quantity
          }
          user {
            id
            name
          }
        }
      }
    }
  }
`);

export const OrderStatusChangedSubscription = graphql(`
  subscription OrderStatusChanged {
    orderStatusChanged {
      id
      status
      updatedAt
    }
  }
`);

export const UpdateOrderStatusMutation = graphql(`
  mutation UpdateOrderStatus($id: ID!, $status: OrderStatus!) {
    updateOrderStatus(id: $id, status: $status) {
      order {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const InventoryChangedSubscription = graphql(`
  subscription InventoryChanged {
    inventoryChanged {
      productId
      inventory
      inStock
    }
  }
`);
