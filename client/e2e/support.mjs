// Shared by the browser tests: where things run (set by run.mjs), API calls from the test
// itself (the "other tab": an admin, a second shopper), pages that may not leave localhost.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm run e2e\``);
  return value;
}

export const API_URL = required("E2E_API_URL");
export const CLIENT_URL = required("E2E_CLIENT_URL");
export const SCREENSHOTS = required("E2E_SCREENSHOTS");

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A session token for a demo user from the API's dev-only endpoint. */
export async function devToken(userId) {
  const response = await fetch(`${API_URL}/dev/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  if (!response.ok) throw new Error(`/dev/tokens: ${response.status} ${await response.text()}`);
  return (await response.json()).token;
}

/** Run an operation as `userId` (outside the browser); returns `data`, throws on errors. */
export async function gql(userId, query, variables = {}) {
  const response = await fetch(`${API_URL}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await devToken(userId)}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  for (const payload of Object.values(body.data)) {
    if (payload?.userErrors?.length) throw new Error(JSON.stringify(payload.userErrors));
  }
  return body.data;
}

/**
 * A page (not navigated yet, so that tests can listen first) in a fresh browser context that
 * may only talk to this machine: any request to
 * another host is aborted and recorded (GraphiQL and the client must work offline).
 * `problems` collects uncaught page errors, console errors and blocked requests.
 */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const problems = [];
  await context.route("**/*", (route) => {
    const target = new URL(route.request().url());
    if (target.protocol === "data:" || LOCAL_HOSTS.has(target.hostname)) return route.continue();
    problems.push(`request to another host: ${target.href}`);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("websocket", (socket) => {
    if (!LOCAL_HOSTS.has(new URL(socket.url()).hostname)) {
      problems.push(`websocket to another host: ${socket.url()}`);
    }
  });
  return { context, page, problems };
}

/**
 * Resolves once the page has sent a graphql-transport-ws `subscribe` for `field`: from then
 * on the server has the subscription (it handles a socket's messages in order), so an
 * event triggered afterwards cannot be missed.
 */
export function subscribed(page, field) {
  return new Promise((resolve) => {
    page.on("websocket", (socket) => {
      socket.on("framesent", (frame) => {
        const message = JSON.parse(String(frame.payload));
        if (message.type === "subscribe" && message.payload.query.includes(field)) resolve();
      });
    });
  });
}

/** GraphQL operations the page sends over HTTP, in order (`operationName`s). */
export function recordOperations(page) {
  const names = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url().endsWith("/graphql")) {
      names.push(JSON.parse(request.postData() ?? "{}").operationName ?? "(anonymous)");
    }
  });
  return names;
}

/** Save a screenshot under artifacts/screenshots/, once the images in view have loaded. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.waitForFunction(() =>
    Array.from(document.images)
      .filter((image) => {
        const box = image.getBoundingClientRect();
        return box.bottom > 0 && box.top < window.innerHeight;
      })
      .every((image) => image.complete && image.naturalWidth > 0),
  );
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
