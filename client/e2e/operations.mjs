// The operations the browser tests send themselves, outside the browser (an admin "in
// another tab"). The production-mode API runs trusted documents only, so run.mjs registers
// these with `shop documents add` (as a deployment registers its admin tools' documents),
// and support.mjs's `gql()` sends their ids.
import { createHash } from "node:crypto";

export const READY = "query E2EReady { __typename }";

export const CONFIRM_ORDER = `mutation ConfirmOrder($id: ID!) {
  updateOrderStatus(id: $id, status: CONFIRMED) { userErrors { code } }
}`;

export const SHIP_ORDER = `mutation ShipOrder($id: ID!) {
  updateOrderStatus(id: $id, status: SHIPPED) { userErrors { code } }
}`;

export const SET_INVENTORY = `mutation SetInventory($id: ID!, $inventory: Int!) {
  setInventory(productId: $id, inventory: $inventory) { userErrors { code } }
}`;

/** A document's id: GraphQL over HTTP's `sha256:<hex>`. */
export function documentId(document) {
  return `sha256:${createHash("sha256").update(document).digest("hex")}`;
}

/** The manifest run.mjs registers: id -> document, the format of graphql-codegen's. */
export function testManifest() {
  return Object.fromEntries(
    [READY, CONFIRM_ORDER, SHIP_ORDER, SET_INVENTORY].map((document) => [documentId(document), document]),
  );
}
