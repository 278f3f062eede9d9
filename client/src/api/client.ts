import { persistedExchange } from "@urql/exchange-persisted";
import type { DocumentNode } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import { Client, fetchExchange, subscriptionExchange } from "urql";

import type { TokenSource } from "../auth/tokens";
import { GRAPHQL_URL, GRAPHQL_WS_URL } from "../config";
import { createCacheExchange } from "./cache";
import { ConnectionStore } from "./connection";

/**
 * The server closes a socket (4403) when the token it was opened with expires, and accepts
 * a fresh token in a `ping` payload to keep it open (web/websocket.py). Clerk tokens live
 * 60 s, so send one well within that.
 */
const REAUTH_INTERVAL_MS = 30_000;

/**
 * The hash GraphQL Code Generator put on every document of the app (codegen.ts), without
 * its `sha256:` prefix: the `sha256Hash` of an APQ-style request. The app never hashes at
 * run time and never sends a document: the API trusts only the manifest's documents.
 */
async function persistedHash(_query: string, document: DocumentNode): Promise<string> {
  const hash = (document as DocumentNode & { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!hash) throw new Error("this document is not in the persisted-documents manifest");
  return hash.replace(/^sha256:/, "");
}

export interface Api {
  client: Client;
  connection: ConnectionStore;
  dispose(): void;
}

/** An urql client for one signed-in user: HTTP for queries and mutations, graphql-ws for
 * subscriptions, the user's token on both. */
export function createApi(tokens: TokenSource): Api {
  const connection = new ConnectionStore();
  let reauth: ReturnType<typeof setInterval> | undefined;

  async function authorization(): Promise<string | null> {
    const token = await tokens.getToken();
    return token ? `Bearer ${token}` : null;
  }

  async function refreshSocketToken(socket: WebSocket): Promise<void> {
    const value = await authorization();
    if (value && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ping", payload: { authorization: value } }));
    }
  }

  const ws = createWsClient({
    url: GRAPHQL_WS_URL,
    // Called on every (re)connect, so a reconnect always presents a valid token.
    connectionParams: async () => {
      const value = await authorization();
      return value ? { authorization: value } : {};
    },
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(500 * 2 ** retries, 10_000) * (0.5 + Math.random())),
      ),
    shouldRetry: () => true,
    on: {
      connecting: () => connection.set("connecting"),
      connected: (socket) => {
        connection.set("live");
        clearInterval(reauth);
        reauth = setInterval(() => {
          void refreshSocketToken(socket as WebSocket);
        }, REAUTH_INTERVAL_MS);
      },
      closed: () => {
        clearInterval(reauth);
        connection.set("offline");
      },
    },
  });

  const client = new Client({
    url: GRAPHQL_URL,
    preferGetMethod: false,
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      const value = await authorization();
      if (value) headers.set("authorization", value);
      return fetch(input, { ...init, headers });
    },
    exchanges: [
      createCacheExchange(),
      // Only the hash goes out, for queries, mutations and subscriptions alike (the API's
      // trusted mode runs nothing else). Queries go over GET: stable, cacheable URLs.
      // Under `vite` (dev) an operation edited since the API loaded the manifest is not
      // known yet: there the exchange falls back to APQ (hash, then hash and document once),
      // which a dev API accepts. Builds never send a document.
      persistedExchange({
        enforcePersistedQueries: !import.meta.env.DEV,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: true,
        generateHash: persistedHash,
      }),
      fetchExchange,
      subscriptionExchange({
        // `request` carries `extensions.persistedQuery` and no query text.
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink),
          }),
        }),
      }),
    ],
  });

  return {
    client,
    connection,
    dispose() {
      clearInterval(reauth);
      void ws.dispose();
    },
  };
}
