// GraphiQL at GET /graphql, in Debian's Chromium, with every non-local request blocked.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { launch } from "./browser.mjs";
import { DEV_URL, devGql, openPage, screenshot, subscribed } from "./support.mjs";

const PRODUCT = "UHJvZHVjdDoy"; // product 2 of the demo catalog, also in the example variables

/** The text of a CodeMirror editor inside `selector`. */
function editorValue(page, selector) {
  return page.evaluate((s) => document.querySelector(`${s} .CodeMirror`).CodeMirror.getValue(), selector);
}

/** Run one of the named operations of the document (▶ asks which one). */
async function run(page, operationName) {
  await page.locator(".graphiql-execute-button").click();
  await page.getByRole("menuitem", { name: operationName, exact: true }).click();
}

/** The response pane's JSON once it contains `text`. */
async function responseWith(page, text) {
  const handle = await page.waitForFunction((t) => {
    const value = document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue();
    return value?.includes(t) ? value : null;
  }, text);
  return JSON.parse(await handle.jsonValue());
}

/** GraphiQL, ready: its editors are up and it has the schema. (Clicking ▶ earlier races
 * the re-render the schema causes, which can close the operation menu again.) */
async function openGraphiQL(browser, { beforeLoad } = {}) {
  const opened = await openPage(browser);
  const { page } = opened;
  beforeLoad?.(page);
  const schema = page.waitForResponse(
    (response) => response.request().postData()?.includes("IntrospectionQuery") ?? false,
  );
  await page.goto(`${DEV_URL}/graphql`);
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
  await schema;
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  return opened;
}

describe("GraphiQL", () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test("runs the example operations with the prefilled dev token, offline", async () => {
    const { page, problems, context } = await openGraphiQL(browser);

    const headers = JSON.parse(await editorValue(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)"));
    assert.match(headers.Authorization, /^Bearer ey/);
    const query = await editorValue(page, ".graphiql-query-editor");
    assert.match(query, /query Browse/);
    assert.match(query, /subscription WatchStock/);

    await run(page, "Me");
    const me = await responseWith(page, '"me"');
    assert.equal(me.data.me.name, "Demo Shopper"); // the token in the Headers tab was sent

    await run(page, "Browse");
    const browse = await responseWith(page, '"products"');
    assert.ok(browse.data.products.totalCount > 0);
    assert.ok(browse.data.products.edges.every(({ node }) => node.inventory > 0)); // inStock filter
    assert.ok(browse.data.facets.categories.length > 0);

    await screenshot(page, "graphiql-query");

    // The schema loaded (introspection): the docs explorer lists the root types.
    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    await page.locator(".graphiql-doc-explorer").getByText("Subscription", { exact: true }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("lists the persisted documents and opens one in the editor", async () => {
    const { page, problems, context } = await openGraphiQL(browser);
    await page.getByRole("button", { name: "Show Persisted documents" }).click();
    const panel = page.locator(".shopgraph-persisted");
    const catalog = panel.locator("li").filter({ hasText: /^query Catalog/ });
    await catalog.waitFor();
    assert.match(await catalog.getAttribute("data-document-id"), /^sha256:[0-9a-f]{64}$/);
    assert.match(await catalog.innerText(), /persisted-documents\.json/);
    await catalog.getByRole("button", { name: "Open in the editor" }).click();
    const query = await editorValue(page, ".graphiql-query-editor");
    assert.match(query, /^fragment ProductFields on Product \{/);
    assert.match(query, /query Catalog\(\$after: String, \$filter: ProductFilter, \$first: Int!\)/);
    await screenshot(page, "graphiql-persisted");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a subscription shows the stock change an admin makes", async () => {
    let ready;
    const { page, problems, context } = await openGraphiQL(browser, {
      beforeLoad: (p) => {
        ready = subscribed(p, "inventoryChanged");
      },
    });
    await run(page, "WatchStock");
    await ready;

    await devGql(
      "user_demo_admin",
      `mutation ($id: ID!) { setInventory(productId: $id, inventory: 37) { userErrors { code } } }`,
      { id: PRODUCT },
    );
    const event = await responseWith(page, '"inventory": 37');
    assert.deepEqual(event.data.inventoryChanged, { productId: PRODUCT, inventory: 37, inStock: true });
    await screenshot(page, "graphiql-subscription");

    await page.getByRole("button", { name: "Stop query" }).click();
    await page.getByRole("button", { name: "Execute query (Ctrl-Enter)" }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("signed-in subscriptions authenticate with the Headers tab token", async () => {
    let ready;
    const { page, problems, context } = await openGraphiQL(browser, {
      beforeLoad: (p) => {
        ready = subscribed(p, "orderStatusChanged");
      },
    });
    await run(page, "WatchMyOrders");
    await ready;

    // The demo shopper (the prefilled token's user) orders; an admin confirms the order.
    await devGql("user_demo_shopper", `mutation { addToCart(productId: "${PRODUCT}") { userErrors { code } } }`);
    const placed = await devGql(
      "user_demo_shopper",
      `mutation ($key: String!) { checkout(input: {idempotencyKey: $key}) { order { id } userErrors { code } } }`,
      { key: randomUUID() },
    );
    const orderId = placed.checkout.order.id;
    await devGql(
      "user_demo_admin",
      `mutation ($id: ID!) { updateOrderStatus(id: $id, status: CONFIRMED) { userErrors { code } } }`,
      { id: orderId },
    );
    const event = await responseWith(page, '"CONFIRMED"');
    assert.equal(event.data.orderStatusChanged.id, orderId);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
