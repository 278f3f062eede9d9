// The reference client (built, served by `vite preview`) in Debian's Chromium, against the
// API in production mode: trusted documents only, so everything the client does runs by the
// persisted ids of its manifest (it never sends a document, which the tests check).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { launch } from "./browser.mjs";
import { CONFIRM_ORDER, SET_INVENTORY, SHIP_ORDER } from "./operations.mjs";
import { CLIENT_URL, gql, openPage, recordTraffic, screenshot, subscribed } from "./support.mjs";

// Alex, so that nothing the GraphiQL tests do as the demo shopper shows up here.
const SHOPPER = "user_demo_alex";

/** The number in "N in stock" on a product's card(s). */
async function stockOf(card) {
  const text = await card.getByTestId("stock").first().innerText();
  return Number(/^(\d+) in stock$/.exec(text)?.[1] ?? Number.NaN);
}

describe("reference client", () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test("browses, searches and filters the catalog", async () => {
    const { page, problems, context } = await openPage(browser);
    const traffic = recordTraffic(page);
    await page.goto(`${CLIENT_URL}/?user=${SHOPPER}`);
    const catalog = page.getByRole("region", { name: "Catalog" });
    const count = catalog.getByTestId("result-count");
    await count.filter({ hasText: /^\d+ products$/ }).waitFor();
    const everything = parseInt(await count.innerText(), 10);

    await catalog.getByRole("searchbox", { name: "Search products" }).fill("trail");
    await count.filter({ hasNotText: `${everything} products` }).filter({ hasText: /^\d+ products$/ }).waitFor();
    const trail = parseInt(await count.innerText(), 10);
    assert.ok(trail > 0 && trail < everything);

    // Facets count within the search; picking one narrows the list to exactly that many.
    const facets = page.getByRole("navigation", { name: "Categories" });
    const sneakers = facets.getByRole("button", { name: /^Sneakers \d+$/ });
    const expected = parseInt((await sneakers.innerText()).replace("Sneakers", ""), 10);
    await sneakers.click();
    await count.filter({ hasText: new RegExp(`^${expected} products$`) }).waitFor();
    const metas = await catalog.locator(".card .meta").allInnerTexts();
    assert.ok(metas.length > 0 && metas.every((meta) => meta.endsWith("· Sneakers")), metas.join());
    assert.equal(await sneakers.getAttribute("aria-pressed"), "true");

    await catalog.scrollIntoViewIfNeeded();
    await screenshot(page, "client-catalog");
    assert.ok(traffic.operations.filter((name) => name === "Catalog").length >= 3, traffic.operations);
    assert.deepEqual(traffic.documents, [], "only persisted ids are sent");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("shopper journey: tick → live slate → cart → checkout → live stock and order status", async () => {
    const { page, problems, context } = await openPage(browser);
    const liveSlate = subscribed(page, "RecommendationsUpdated");
    const liveOrders = subscribed(page, "OrderStatusChanged");
    const liveStock = subscribed(page, "InventoryChanged");
    const traffic = recordTraffic(page);
    const { operations } = traffic;
    await page.goto(`${CLIENT_URL}/?user=${SHOPPER}`);

    // 1. A personalised slate, and the websocket subscriptions behind the live updates.
    const recommendations = page.getByTestId("recommendations");
    await recommendations.getByTestId("recommendation").first().waitFor();
    await Promise.all([liveSlate, liveOrders, liveStock]);
    await page.getByTestId("connection").and(page.locator("[data-state=live]")).waitFor();
    const firstSlate = await recommendations.getAttribute("data-event-id");
    assert.ok(firstSlate);
    await screenshot(page, "client-recommendations");

    // 2. Tick the first item: the interaction carries the slate's eventId, the model learns
    //    from it, and the server pushes a fresh slate -- no query is sent for it.
    const queriesBefore = operations.length;
    const first = recommendations.getByTestId("recommendation").first();
    await first.getByRole("button", { name: /^More like / }).click();
    await page.locator(`[data-testid=recommendations][data-source=live]:not([data-event-id="${firstSlate}"])`).waitFor();
    await recommendations.getByTestId("refreshed").waitFor();
    assert.deepEqual(operations.slice(queriesBefore), ["RecordInteraction"]);
    await screenshot(page, "client-recommendations-refreshed");

    // 3. Put the first recommended product into the cart, and show it in the catalog too.
    const productId = await recommendations.getByTestId("product").first().getAttribute("data-product-id");
    const pick = recommendations.locator(`[data-testid=product][data-product-id="${productId}"]`);
    const name = await pick.locator("h3").innerText();
    const stockBefore = await stockOf(pick);
    await pick.getByRole("button", { name: `Add ${name} to cart` }).click();
    const cart = page.getByTestId("cart");
    await cart.getByTestId("cart-count").filter({ hasText: /^1$/ }).waitFor();
    await cart.getByTestId("cart-line").filter({ hasText: name }).waitFor();
    await page.getByRole("searchbox", { name: "Search products" }).fill(name);
    const inCatalog = page
      .getByRole("region", { name: "Catalog" })
      .locator(`[data-testid=product][data-product-id="${productId}"]`);
    await inCatalog.waitFor();
    assert.equal(await stockOf(inCatalog), stockBefore);

    // 4. Check out. The stock shown drops live (inventoryChanged), the order appears.
    const beforeCheckout = operations.length;
    await cart.getByRole("button", { name: "Check out" }).click();
    await cart.getByTestId("checkout-notice").filter({ hasText: /^Order placed/ }).waitFor();
    await inCatalog.getByTestId("stock").filter({ hasText: `${stockBefore - 1} in stock` }).waitFor();
    assert.ok(!operations.slice(beforeCheckout).includes("Catalog"), "stock came from the subscription");
    const order = page.getByTestId("order").first();
    await order.getByTestId("order-status").filter({ hasText: "PENDING" }).waitFor();
    const orderId = await order.getAttribute("data-order-id");
    await cart.getByText("Your cart is empty.").waitFor();
    await screenshot(page, "client-checkout");

    // 5. An admin moves the order and restocks the product elsewhere: both arrive live.
    const beforeAdmin = operations.length;
    await gql("user_demo_admin", CONFIRM_ORDER, { id: orderId });
    const status = page.locator(`[data-order-id="${orderId}"]`).getByTestId("order-status");
    await status.filter({ hasText: "CONFIRMED" }).waitFor();
    await gql("user_demo_admin", SHIP_ORDER, { id: orderId });
    await status.filter({ hasText: "SHIPPED" }).waitFor();
    await gql("user_demo_admin", SET_INVENTORY, { id: productId, inventory: 42 });
    await inCatalog.getByTestId("stock").filter({ hasText: "42 in stock" }).waitFor();
    assert.deepEqual(operations.slice(beforeAdmin), [], "updates came over the websocket");
    await page.getByTestId("orders").scrollIntoViewIfNeeded();
    await screenshot(page, "client-order-status");

    assert.deepEqual(traffic.documents, [], "only persisted ids are sent");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
