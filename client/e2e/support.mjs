// Shared by the browser tests: where things run (set by run.mjs), API calls from the test
// itself (the "other tab": an admin, a second shopper), pages that may not leave localhost.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { documentId } from "./operations.mjs";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm run e2e\``);
  return value;
}

/** The production-mode API the client uses (trusted documents only). */
export const API_URL = required("E2E_API_URL");
/** The dev server: GraphiQL, demo tokens (which the production-mode API trusts too). */
export const DEV_URL = required("E2E_DEV_URL");
export const CLIENT_URL = required("E2E_CLIENT_URL");
export const SCREENSHOTS = required("E2E_SCREENSHOTS");

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A session token for a demo user from the dev server's dev-only endpoint. */
export async function devToken(userId) {
  const response = await fetch(`${DEV_URL}/dev/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  if (!response.ok) throw new Error(`/dev/tokens: ${response.status} ${await response.text()}`);
  return (await response.json()).token;
}

async function post(url, userId, body) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await devToken(userId)}`,
    },
    body: JSON.stringify(body),
  });
  const result = await response.json();
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  for (const payload of Object.values(result.data)) {
    if (payload?.userErrors?.length) throw new Error(JSON.stringify(payload.userErrors));
  }
  return result.data;
}

/** Run one of e2e/operations.mjs's registered operations on the production-mode API as
 * `userId`, by its id; returns `data`, throws on errors. */
export function gql(userId, document, variables = {}) {
  return post(API_URL, userId, { documentId: documentId(document), variables });
}

/** Run any document on the dev server (GraphiQL's) as `userId`. */
export function devGql(userId, query, variables = {}) {
  return post(DEV_URL, userId, { query, variables });
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
 * Resolves once the page has sent a graphql-transport-ws `subscribe` for `name` (the
 * operation name of a persisted subscription, which carries no query text, or a field of
 * one sent in full, as GraphiQL does): from then on the server has the subscription (it
 * handles a socket's messages in order), so an event triggered afterwards cannot be missed.
 */
export function subscribed(page, name) {
  return new Promise((resolve) => {
    page.on("websocket", (socket) => {
      socket.on("framesent", (frame) => {
        const message = JSON.parse(String(frame.payload));
        if (message.type !== "subscribe") return;
        const { operationName, query } = message.payload;
        if (operationName === name || query?.includes(name)) resolve();
      });
    });
  });
}

/**
 * What the page sends to the API: `operations` lists the GraphQL operations it sends over
 * HTTP (GET and POST), in order, by `operationName`; `documents` collects any document text
 * it sends (over HTTP or the websocket) instead of a persisted id.
 */
export function recordTraffic(page) {
  const traffic = { operations: [], documents: [] };
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname !== "/graphql" || !["GET", "POST"].includes(request.method())) return;
    const body =
      request.method() === "GET"
        ? Object.fromEntries(url.searchParams)
        : JSON.parse(request.postData() ?? "{}");
    traffic.operations.push(body.operationName ?? "(anonymous)");
    if (body.query) traffic.documents.push(body.query);
  });
  page.on("websocket", (socket) => {
    socket.on("framesent", (frame) => {
      const message = JSON.parse(String(frame.payload));
      if (message.type === "subscribe" && message.payload.query) {
        traffic.documents.push(message.payload.query);
      }
    });
  });
  return traffic;
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
